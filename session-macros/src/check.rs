//! The rules that relate fields to each other, one function per rule.
//!
//! Each function records its errors in the `Ctxt` and never stops early, so the user sees
//! every problem at once. Expansion runs only when all of them pass.

use std::collections::HashMap;

use crate::ast::{Field, Input, MethodKind, is_bool, is_option_or_vec, option_inner};
use crate::attr::Role;
use crate::ctxt::Ctxt;

/// Methods of `Session<S>` and the guards (and of the prelude's `Into` / `TryInto`), with the
/// type that has them: a getter with one of these names would be hidden behind them, since
/// method lookup tries the wrapper before its `Deref` target, the generated handle.
/// Keep in step with `session-runtime`'s `session.rs` and `extract/guard.rs`.
const RESERVED: &[(&str, &str)] = &[
    ("get", "Session"),
    ("set", "Session"),
    ("remove", "Session"),
    ("update", "Session"),
    ("login", "Session"),
    ("login_exclusive", "Session"),
    ("logout", "Session"),
    ("logout_others", "Session"),
    ("logout_everywhere", "Session"),
    ("list_sessions", "Session"),
    ("revoke_session", "Session"),
    ("authenticated_at", "Session"),
    ("rotate", "Session"),
    ("public_id", "Session"),
    ("current_user_id", "Session"),
    ("session", "Guard"),
    ("into_session", "Guard"),
    ("into", "Into"),
    ("try_into", "TryInto"),
];

/// Runs every rule.
pub(crate) fn check(cx: &Ctxt, input: &Input) {
    check_not_generic(cx, input);
    check_roles_unique(cx, input);
    check_user_id_is_option(cx, input);
    check_flags_are_bool(cx, input);
    check_flags_need_user_id(cx, input);
    check_user_id_attrs(cx, input);
    check_flag_defaults(cx, input);
    check_flash_not_on_roles(cx, input);
    check_flash_is_option_or_vec(cx, input);
    check_flash_without_default(cx, input);
    check_privileged_applies(cx, input);
    check_stored_keys_unique(cx, input);
    check_stored_keys_not_reserved(cx, input);
    check_method_names_unique(cx, input);
    check_key_consts_unique(cx, input);
    check_reserved_names(cx, input);
}

/// A schema has no generic parameters (for now): the handle, the key constants and the
/// trait impls are all generated for one concrete type.
fn check_not_generic(cx: &Ctxt, input: &Input) {
    if !input.generics.params.is_empty() {
        cx.error_spanned_by(
            input.generics,
            "a session schema cannot be generic; remove the parameters and use concrete field types",
        );
    }
}

/// Each role (`user_id`, `staff`, `superuser`) is on one field at most.
fn check_roles_unique(cx: &Ctxt, input: &Input) {
    for role in Role::ALL {
        let mut fields = input
            .fields
            .iter()
            .filter(|field| field.role() == Some(role));
        let Some(first) = fields.next() else { continue };
        for field in fields {
            if let Some(attr) = &field.attrs.role {
                let msg = format!(
                    "duplicate `#[session({role})]`: field `{first}` already has it; \
                     a schema has one at most",
                    role = role.name(),
                    first = first.name(),
                );
                cx.error_spanned_by(&attr.path, msg);
            }
        }
    }
}

/// The `user_id` field is an `Option<Id>`: `None` while anonymous, `Some(id)` once logged in.
fn check_user_id_is_option(cx: &Ctxt, input: &Input) {
    for field in input.fields.iter().filter(|field| field.is_user_id()) {
        if option_inner(field.ty).is_none() {
            let written = crate::attr::tokens_to_string(field.ty);
            let id = if written.contains(' ') {
                "YourIdType"
            } else {
                &written
            };
            let msg = format!(
                "the `#[session(user_id)]` field must be an `Option`, `None` while logged out; \
                 change its type to `Option<{id}>`"
            );
            cx.error_spanned_by(field.ty, msg);
        }
    }
}

/// `staff` and `superuser` fields are `bool`.
fn check_flags_are_bool(cx: &Ctxt, input: &Input) {
    for field in input.fields.iter().filter(|field| field.is_role_flag()) {
        if !is_bool(field.ty) {
            let role = field.role().map_or("", Role::name);
            let msg =
                format!("a `#[session({role})]` field must be a `bool`; change its type to `bool`");
            cx.error_spanned_by(field.ty, msg);
        }
    }
}

/// `staff` and `superuser` need a `user_id` field: roles belong to logged-in users.
fn check_flags_need_user_id(cx: &Ctxt, input: &Input) {
    if input.role_field(Role::UserId).is_some() {
        return;
    }
    for field in &input.fields {
        if let Some(attr) = field.attrs.role.as_ref().filter(|_| field.is_role_flag()) {
            let msg = format!(
                "`#[session({})]` needs a `#[session(user_id)]` field, since roles belong to \
                 logged-in users; add `#[session(user_id)] user_id: Option<YourIdType>`",
                attr.role.name(),
            );
            cx.error_spanned_by(&attr.path, msg);
        }
    }
}

/// The `user_id` field takes neither `rename` nor `default`: the runtime stores the user id
/// itself (it is not one of the schema's keys) and it is `None` until login.
fn check_user_id_attrs(cx: &Ctxt, input: &Input) {
    for field in input.fields.iter().filter(|field| field.is_user_id()) {
        if let Some(lit) = &field.attrs.rename {
            cx.error_spanned_by(
                lit,
                "`rename` does not apply to the `#[session(user_id)]` field, which the runtime \
                 stores itself; remove it",
            );
        }
        if let Some(default) = &field.attrs.default {
            cx.error_spanned_by(
                &default.lit,
                "`default` does not apply to the `#[session(user_id)]` field, which is `None` \
                 until login; remove it",
            );
        }
    }
}

/// `staff` and `superuser` fields default to `false`, so that no session holds a privilege
/// it was not given.
fn check_flag_defaults(cx: &Ctxt, input: &Input) {
    for field in input.fields.iter().filter(|field| field.is_role_flag()) {
        if let (Some(default), Some(role)) = (&field.attrs.default, field.role()) {
            let msg = format!(
                "a `#[session({})]` field defaults to `false`, so that no session gets a \
                 privilege by default; remove `default = ...`",
                role.name(),
            );
            cx.error_spanned_by(&default.lit, msg);
        }
    }
}

/// A flash is an ordinary field of its own: not the user id, which changes only through
/// login and logout, and not a role flag, which must not vanish when read.
fn check_flash_not_on_roles(cx: &Ctxt, input: &Input) {
    for field in &input.fields {
        let (Some(flash), Some(role)) = (&field.attrs.flash, field.role()) else {
            continue;
        };
        let msg = match role {
            Role::UserId => "`flash` does not apply to the `#[session(user_id)]` field, which \
                             changes only through `login` and `logout`; put `#[session(flash)]` \
                             on a field of its own, such as `notice: Option<String>`"
                .to_owned(),
            Role::Staff | Role::Superuser => format!(
                "a `#[session({})]` field cannot be a flash, since a role must not vanish once \
                 read; put `#[session(flash)]` on a field of its own, such as \
                 `notice: Option<String>`",
                role.name(),
            ),
        };
        cx.error_spanned_by(flash, msg);
    }
}

/// A flash field is an `Option<T>` or a `Vec<T>`: once taken it reads as `None` or empty,
/// which is what "read once" means. (A flash on a role is reported by
/// `check_flash_not_on_roles` alone.)
fn check_flash_is_option_or_vec(cx: &Ctxt, input: &Input) {
    for field in input.fields.iter().filter(|field| field.is_flash()) {
        if field.role().is_none() && !is_option_or_vec(field.ty) {
            let written = crate::attr::tokens_to_string(field.ty)
                .replace(" < ", "<")
                .replace(" >", ">");
            let msg = format!(
                "a `#[session(flash)]` field must be an `Option` or a `Vec`, which is empty once \
                 taken; change its type to `Option<{written}>` (one message) or `Vec<{written}>` \
                 (several)"
            );
            cx.error_spanned_by(field.ty, msg);
        }
    }
}

/// A flash field has no `default`: once taken it must read as empty, not as some default
/// message shown on every page.
fn check_flash_without_default(cx: &Ctxt, input: &Input) {
    for field in input.fields.iter().filter(|field| field.is_flash()) {
        if let Some(default) = &field.attrs.default {
            cx.error_spanned_by(
                &default.lit,
                "a `#[session(flash)]` field is empty once taken, so it has no default; \
                 remove `default = ...`",
            );
        }
    }
}

/// `privileged` goes on an ordinary field: the user id rotates the token through login and
/// logout anyway, `staff` and `superuser` are privileged already, and a privileged flash
/// would rotate the token on every page that shows it.
fn check_privileged_applies(cx: &Ctxt, input: &Input) {
    for field in &input.fields {
        let Some(privileged) = &field.attrs.privileged else {
            continue;
        };
        let msg = match field.role() {
            Some(Role::UserId) => "`privileged` does not apply to the `#[session(user_id)]` \
                                   field: `login` and `logout` always give a new token; \
                                   remove it"
                .to_owned(),
            Some(role @ (Role::Staff | Role::Superuser)) => format!(
                "a `#[session({})]` field is privileged already: changing it rotates the \
                 token; remove `#[session(privileged)]`",
                role.name(),
            ),
            None if field.is_flash() => "a `#[session(flash)]` field cannot be `privileged`: \
                                         taking the message would rotate the token on every \
                                         page that shows it; remove one of them"
                .to_owned(),
            None => continue,
        };
        cx.error_spanned_by(privileged, msg);
    }
}

/// Two fields are never stored under the same key (after `rename`).
fn check_stored_keys_unique(cx: &Ctxt, input: &Input) {
    let mut seen: HashMap<String, &Field> = HashMap::new();
    for field in input.data_fields() {
        let key = field.stored_name();
        if let Some(first) = seen.get(&key) {
            let msg = format!(
                "stored key \"{key}\" is already used by field `{}`; give this field another \
                 name with `#[session(rename = \"...\")]`",
                first.name(),
            );
            match &field.attrs.rename {
                Some(lit) => cx.error_spanned_by(lit, msg),
                None => cx.error_spanned_by(field.ident, msg),
            }
        } else {
            seen.insert(key, field);
        }
    }
}

/// No stored key starts with `__`: the runtime keeps its own values in the session under
/// such keys, and never drops them as stale.
fn check_stored_keys_not_reserved(cx: &Ctxt, input: &Input) {
    for field in input.data_fields() {
        let key = field.stored_name();
        if key.starts_with("__") {
            let msg = format!(
                "stored key \"{key}\" starts with `__`, which is reserved for the runtime's own \
                 values; choose another name with `#[session(rename = \"...\")]`"
            );
            match &field.attrs.rename {
                Some(lit) => cx.error_spanned_by(lit, msg),
                None => cx.error_spanned_by(field.ident, msg),
            }
        }
    }
}

/// No two fields generate a handle method of the same name (`set_x` next to `x`, or
/// `take_x` of a flash next to a field `take_x`), counting the refused setter, remover and
/// updater of the `user_id` field.
fn check_method_names_unique(cx: &Ctxt, input: &Input) {
    let mut seen: HashMap<String, (&Field, MethodKind)> = HashMap::new();
    for field in &input.fields {
        for (method, kind) in field.methods() {
            let name = method.to_string();
            if let Some(&(first, first_kind)) = seen.get(&name) {
                let msg = format!(
                    "`{name}()` would be both {} and {}; rename one of the fields \
                     (`#[session(rename = \"...\")]` keeps its stored key)",
                    first.describe_method(first_kind),
                    field.describe_method(kind),
                );
                cx.error_spanned_by(field.ident, msg);
                break;
            }
            seen.insert(name, (field, kind));
        }
    }
}

/// No two fields map to the same key constant (`foo` and `FOO` both give `FOO`).
fn check_key_consts_unique(cx: &Ctxt, input: &Input) {
    let mut seen: HashMap<String, &Field> = HashMap::new();
    for field in input.data_fields() {
        let constant = field.key_const().to_string();
        if let Some(first) = seen.get(&constant) {
            let msg = format!(
                "fields `{}` and `{}` would both get the key constant `{}::{constant}`; \
                 rename one of them",
                first.name(),
                field.name(),
                input.ident,
            );
            cx.error_spanned_by(field.ident, msg);
        } else {
            seen.insert(constant, field);
        }
    }
}

/// No getter is named like a method of `Session<S>` or the guards, which would hide it. The
/// guards' `user_id()` returns the logged-in id, so with a `user_id` role on some field, no
/// other field is named `user_id`.
fn check_reserved_names(cx: &Ctxt, input: &Input) {
    let has_user_id = input.role_field(Role::UserId).is_some();
    for field in &input.fields {
        let name = field.name();
        let owner = match RESERVED.iter().find(|(method, _)| *method == name) {
            Some((_, owner)) => owner,
            None if name == "user_id" && has_user_id && !field.is_user_id() => "RequireAuth",
            None => continue,
        };
        let msg = format!(
            "a field named `{name}` would be hidden by `{owner}::{name}`; rename the field \
             (`#[session(rename = \"{name}\")]` keeps its stored key)"
        );
        cx.error_spanned_by(field.ident, msg);
    }
}
