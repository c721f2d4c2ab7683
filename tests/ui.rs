//! Compile-fail and compile-pass cases of `#[derive(SessionSchema)]` and the guards.
//!
//! Bless new output with `TRYBUILD=overwrite cargo test -p typed-sessions-tests --test ui`,
//! then review the diff.

#[test]
fn ui() {
    let t = trybuild::TestCases::new();
    t.compile_fail("ui/fail/*.rs");
    t.pass("ui/pass/*.rs");
}
