//! Compile-fail and compile-pass cases of `#[derive(SessionSchema)]` and the guards.
//!
//! Bless new output with `TRYBUILD=overwrite cargo test --test ui`, then review the diff.

#[test]
fn ui() {
    let t = trybuild::TestCases::new();
    t.compile_fail("tests/ui/fail/*.rs");
    t.pass("tests/ui/pass/*.rs");
}
