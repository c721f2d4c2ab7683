//! What to emit when the input has errors.
//!
//! Besides the errors themselves, a stub of everything the derive would have generated: the
//! handle, the trait impls (every role included) and an accessor for each field that could be
//! read. The user's code that uses the schema then still compiles, and the only errors shown
//! are the real ones. The stubs never run: `compile_error!` stops the build first.

use std::collections::HashSet;

use proc_macro2::TokenStream;
use quote::quote;
use syn::DeriveInput;

use crate::ast::{self, Input, option_inner};
use crate::attr::Role;
use crate::expand::{handle_struct, rt, schema_handle_impl};

/// The errors, plus a stub expansion for a non-generic input.
pub(crate) fn expand(
    node: &DeriveInput,
    input: Option<&Input>,
    errors: &syn::Error,
) -> TokenStream {
    let errors = errors.to_compile_error();
    if !node.generics.params.is_empty() {
        // A stub would need bounds on the parameters, and bring errors of its own.
        return errors;
    }
    let rt = rt();
    let schema = &node.ident;
    let vis = &node.vis;
    let handle = ast::handle_ident(schema);
    let handle_struct = handle_struct(schema, vis);
    let schema_handle_impl = schema_handle_impl(schema, &handle);
    let (consts, methods) = input.map(stub_items).unwrap_or_default();
    let user_id = input
        .and_then(|input| input.role_field(Role::UserId))
        .and_then(|field| option_inner(field.ty))
        .map_or_else(|| quote!(()), |id| quote!(#id));

    quote! {
        #errors

        #handle_struct

        const _: () = {
            #schema_handle_impl

            impl #rt::SessionSchema for #schema {
                type Handle = #handle;
                const KEYS: &'static [&'static ::core::primitive::str] = &[];
                const SUPERUSER_KEY: ::core::option::Option<
                    #rt::Key<Self, ::core::primitive::bool>,
                > = ::core::option::Option::None;
            }

            impl #rt::HasUserId for #schema {
                type UserId = #user_id;
            }

            impl #rt::HasStaff for #schema {
                const STAFF_KEY: #rt::Key<Self, ::core::primitive::bool> = #rt::Key::__stub();
            }

            impl #rt::HasSuperuser for #schema {
                const SUPERUSER: #rt::Key<Self, ::core::primitive::bool> = #rt::Key::__stub();
            }

            #[allow(dead_code, missing_docs)]
            impl #schema {
                #(#consts)*
            }

            #[allow(dead_code, missing_docs)]
            impl #handle {
                #(#methods)*
            }
        };
    }
}

/// Key constants and accessors for every field, each name emitted once, so that a name clash
/// among the fields reports only the derive's own error.
fn stub_items(input: &Input) -> (Vec<TokenStream>, Vec<TokenStream>) {
    let rt = rt();
    let vis = input.vis;
    let mut names = HashSet::new();
    let mut consts = Vec::new();
    let mut methods = Vec::new();
    for field in &input.fields {
        let ty = field.ty;
        if !field.is_user_id() {
            let constant = field.key_const();
            if names.insert(constant.to_string()) {
                consts.push(quote! {
                    #vis const #constant: #rt::Key<Self, #ty> = #rt::Key::__stub();
                });
            }
        }
        for (method, kind) in field.methods() {
            if !names.insert(method.to_string()) {
                continue;
            }
            let signature = match kind {
                ast::MethodKind::Getter | ast::MethodKind::Taker => quote!(#method(&self) -> #ty),
                ast::MethodKind::Setter => {
                    quote!(#method(&self, _: #ty) -> ::core::result::Result<(), #rt::SessionError>)
                }
                ast::MethodKind::Remover => {
                    quote!(#method(&self) -> ::core::result::Result<(), #rt::SessionError>)
                }
                ast::MethodKind::Updater => quote! {
                    #method(&self, _: impl ::core::ops::FnOnce(&mut #ty))
                        -> ::core::result::Result<(), #rt::SessionError>
                },
            };
            methods.push(quote! {
                #vis fn #signature {
                    ::core::unreachable!()
                }
            });
        }
    }
    (consts, methods)
}
