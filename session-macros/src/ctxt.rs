//! Collects every error found while parsing and checking, so the user fixes them in one pass.

use std::cell::RefCell;
use std::fmt::Display;

use quote::ToTokens;

/// An error collector threaded through parsing and checking.
///
/// Each error is recorded where it is found and parsing carries on; [`Ctxt::check`] turns the
/// collection into one combined [`syn::Error`] that expands to one `compile_error!` per error.
pub(crate) struct Ctxt {
    // `None` once `check` has consumed the errors; dropping an unchecked `Ctxt` is a bug.
    errors: RefCell<Option<Vec<syn::Error>>>,
}

impl Ctxt {
    /// An empty collector.
    pub(crate) fn new() -> Self {
        Ctxt {
            errors: RefCell::new(Some(Vec::new())),
        }
    }

    /// Records an error spanned on the user's tokens `obj`.
    pub(crate) fn error_spanned_by<A: ToTokens, T: Display>(&self, obj: A, msg: T) {
        self.syn_error(syn::Error::new_spanned(obj.into_token_stream(), msg));
    }

    /// Records an error that syn (or `parse_nested_meta`) produced.
    pub(crate) fn syn_error(&self, err: syn::Error) {
        self.errors
            .borrow_mut()
            .as_mut()
            .expect("Ctxt used after check")
            .push(err);
    }

    /// All recorded errors, combined into one, or `Ok` if there were none.
    pub(crate) fn check(self) -> syn::Result<()> {
        let errors = self.errors.borrow_mut().take().expect("Ctxt checked twice");
        let mut errors = errors.into_iter();
        let Some(mut combined) = errors.next() else {
            return Ok(());
        };
        for err in errors {
            combined.combine(err);
        }
        Err(combined)
    }
}

impl Drop for Ctxt {
    fn drop(&mut self) {
        if !std::thread::panicking() && self.errors.borrow().is_some() {
            panic!("forgot to check for errors");
        }
    }
}
