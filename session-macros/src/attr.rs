//! Parses the `#[session(...)]` attributes of one field.
//!
//! Only rules about a single attribute live here (a value of the wrong type, an empty
//! `rename`, a key given twice); rules that relate fields to each other live in `check.rs`.

use proc_macro2::TokenStream;
use quote::ToTokens;
use syn::meta::ParseNestedMeta;
use syn::{Expr, ExprLit, ExprPath, Lit, LitStr, Token};

use crate::ctxt::Ctxt;

/// The name of the attribute, as in `#[session(...)]`.
const ATTR: &str = "session";

/// The keys `#[session(...)]` accepts, for "did you mean" hints.
const KNOWN_KEYS: &[&str] = &[
    "user_id",
    "staff",
    "superuser",
    "flash",
    "privileged",
    "rename",
    "default",
];

/// The keys that take no value and are not roles: a field can have them besides a role.
const FLAGS: &[&str] = &["flash", "privileged"];

/// The special meaning a field can have.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Role {
    /// `#[session(user_id)]`: the logged-in user's id, `None` while anonymous.
    UserId,
    /// `#[session(staff)]`: the staff flag that `RequireStaff` checks.
    Staff,
    /// `#[session(superuser)]`: the superuser flag that `RequireSuperuser` checks.
    Superuser,
}

impl Role {
    /// All roles, in the order they are documented.
    pub(crate) const ALL: [Role; 3] = [Role::UserId, Role::Staff, Role::Superuser];

    /// The attribute key, as written in `#[session(...)]`.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Role::UserId => "user_id",
            Role::Staff => "staff",
            Role::Superuser => "superuser",
        }
    }

    fn from_path(path: &syn::Path) -> Option<Role> {
        Role::ALL
            .into_iter()
            .find(|role| path.is_ident(role.name()))
    }
}

/// A role attribute, with the user's tokens to point errors at.
pub(crate) struct RoleAttr {
    pub(crate) role: Role,
    pub(crate) path: syn::Path,
}

/// `#[session(default = "path")]`: the parsed path and the string it came from.
pub(crate) struct DefaultFn {
    pub(crate) path: ExprPath,
    pub(crate) lit: LitStr,
}

/// Everything `#[session(...)]` on the struct says about the schema.
#[derive(Default)]
pub(crate) struct ContainerAttrs {
    /// `#[session(strict)]`: a stored value that no longer decodes discards the session.
    pub(crate) strict: Option<syn::Path>,
}

/// Parses every `#[session(...)]` attribute on the struct itself, recording errors in `cx`.
pub(crate) fn get_container(cx: &Ctxt, attrs: &[syn::Attribute]) -> ContainerAttrs {
    let mut container = ContainerAttrs::default();
    for attr in attrs {
        if !attr.path().is_ident(ATTR) {
            continue;
        }
        let parsed = attr.parse_nested_meta(|meta| {
            let path = &meta.path;
            if path.is_ident("strict") {
                if !meta.input.is_empty() && !meta.input.peek(Token![,]) {
                    skip_value(&meta)?;
                    cx.error_spanned_by(
                        path,
                        "`strict` takes no value; write `#[session(strict)]`",
                    );
                } else if container.strict.is_some() {
                    cx.error_spanned_by(path, "duplicate `#[session(strict)]`; remove one");
                } else {
                    container.strict = Some(path.clone());
                }
                return Ok(());
            }
            skip_value(&meta)?;
            let written = tokens_to_string(path);
            let msg = if KNOWN_KEYS.contains(&written.as_str()) {
                format!(
                    "`{written}` goes on a field, not on the struct; move it to the field it \
                     describes"
                )
            } else {
                format!(
                    "unknown attribute `#[session({written})]` on the struct; the struct takes \
                     only `#[session(strict)]`, and the other attributes go on fields"
                )
            };
            cx.error_spanned_by(path, msg);
            Ok(())
        });
        if let Err(err) = parsed {
            cx.syn_error(err);
        }
    }
    container
}

/// Everything `#[session(...)]` says about one field.
#[derive(Default)]
pub(crate) struct Attrs {
    pub(crate) role: Option<RoleAttr>,
    pub(crate) rename: Option<LitStr>,
    pub(crate) default: Option<DefaultFn>,
    /// `#[session(flash)]`: read once, through the generated `take_NAME()`.
    pub(crate) flash: Option<syn::Path>,
    /// `#[session(privileged)]`: a change rotates the token, as for `staff`.
    pub(crate) privileged: Option<syn::Path>,
}

impl Attrs {
    /// The slot of a flag key (`flash`, `privileged`).
    fn flag_mut(&mut self, key: &str) -> &mut Option<syn::Path> {
        if key == "flash" {
            &mut self.flash
        } else {
            &mut self.privileged
        }
    }
}

/// Parses every `#[session(...)]` attribute of `field`, recording errors in `cx`.
pub(crate) fn get(cx: &Ctxt, field: &syn::Field) -> Attrs {
    let mut attrs = Attrs::default();
    for attr in &field.attrs {
        if !attr.path().is_ident(ATTR) {
            continue;
        }
        if let Err(err) = attr.parse_nested_meta(|meta| parse_key(cx, &mut attrs, &meta)) {
            cx.syn_error(err);
        }
    }
    attrs
}

/// Parses one `key` or `key = value` inside `#[session(...)]`.
fn parse_key(cx: &Ctxt, attrs: &mut Attrs, meta: &ParseNestedMeta) -> syn::Result<()> {
    let path = &meta.path;
    if let Some(role) = Role::from_path(path) {
        if !meta.input.is_empty() && !meta.input.peek(Token![,]) {
            skip_value(meta)?;
            cx.error_spanned_by(
                path,
                format_args!("`{0}` takes no value; write `#[session({0})]`", role.name()),
            );
        } else if let Some(prev) = &attrs.role {
            let msg = if prev.role == role {
                format!(
                    "duplicate `#[session({})]` on this field; remove one",
                    role.name()
                )
            } else {
                format!(
                    "a field has one role at most and this one is already `{}`; \
                     move `#[session({})]` to a field of its own",
                    prev.role.name(),
                    role.name(),
                )
            };
            cx.error_spanned_by(path, msg);
        } else {
            attrs.role = Some(RoleAttr {
                role,
                path: path.clone(),
            });
        }
    } else if let Some(key) = FLAGS.iter().copied().find(|key| path.is_ident(key)) {
        if !meta.input.is_empty() && !meta.input.peek(Token![,]) {
            skip_value(meta)?;
            cx.error_spanned_by(
                path,
                format_args!("`{key}` takes no value; write `#[session({key})]`"),
            );
        } else if attrs.flag_mut(key).is_some() {
            cx.error_spanned_by(
                path,
                format_args!("duplicate `#[session({key})]` on this field; remove one"),
            );
        } else {
            *attrs.flag_mut(key) = Some(path.clone());
        }
    } else if path.is_ident("rename") {
        let example = |name: &str| format!("`#[session(rename = \"{name}\")]`");
        let Some(lit) = string_value(cx, meta, "rename", example)? else {
            return Ok(());
        };
        if lit.value().is_empty() {
            cx.error_spanned_by(
                &lit,
                "the stored key cannot be empty; write a name such as `#[session(rename = \"c\")]`",
            );
        } else if attrs.rename.is_some() {
            cx.error_spanned_by(path, "duplicate `rename` on this field; keep one");
        } else {
            attrs.rename = Some(lit);
        }
    } else if path.is_ident("default") {
        let example = |name: &str| format!("`#[session(default = \"{name}\")]`");
        let Some(lit) = string_value(cx, meta, "default", example)? else {
            return Ok(());
        };
        match lit.parse::<ExprPath>() {
            Err(_) => cx.error_spanned_by(
                &lit,
                "`default` must name a function `fn() -> T`, \
                 as in `#[session(default = \"default_theme\")]`",
            ),
            Ok(_) if attrs.default.is_some() => {
                cx.error_spanned_by(path, "duplicate `default` on this field; keep one");
            }
            Ok(fn_path) => {
                attrs.default = Some(DefaultFn { path: fn_path, lit });
            }
        }
    } else if path.is_ident("strict") {
        skip_value(meta)?;
        cx.error_spanned_by(
            path,
            "`strict` applies to the whole schema; put `#[session(strict)]` on the struct",
        );
    } else {
        skip_value(meta)?;
        let written = tokens_to_string(path);
        let msg = match suggest(&written) {
            Some(known) => {
                format!("unknown attribute `#[session({written})]`; did you mean `{known}`?")
            }
            None => format!(
                "unknown attribute `#[session({written})]`; expected `user_id`, `staff`, \
                 `superuser`, `flash`, `privileged`, `rename = \"...\"` or `default = \"...\"`"
            ),
        };
        cx.error_spanned_by(path, msg);
    }
    Ok(())
}

/// Reads the string of `key = "..."`. A missing or non-string value is recorded in `cx` and
/// gives `None`, so the rest of the attribute is still parsed.
fn string_value(
    cx: &Ctxt,
    meta: &ParseNestedMeta,
    key: &str,
    example: impl Fn(&str) -> String,
) -> syn::Result<Option<LitStr>> {
    if !meta.input.peek(Token![=]) {
        skip_value(meta)?;
        cx.error_spanned_by(
            &meta.path,
            format_args!("`{key}` needs a value: {}", example(placeholder(key))),
        );
        return Ok(None);
    }
    let expr: Expr = meta.value()?.parse()?;
    match expr {
        Expr::Lit(ExprLit {
            lit: Lit::Str(lit), ..
        }) => Ok(Some(lit)),
        // `rename = c` or `default = my_fn`: the user forgot the quotes.
        Expr::Path(path) => {
            let quoted = example(&tokens_to_string(&path));
            cx.error_spanned_by(path, format_args!("`{key}` takes a string: {quoted}"));
            Ok(None)
        }
        other => {
            let msg = format!("`{key}` takes a string: {}", example(placeholder(key)));
            cx.error_spanned_by(other, msg);
            Ok(None)
        }
    }
}

/// What to show in place of a value the user did not write.
fn placeholder(key: &str) -> &'static str {
    if key == "default" {
        "path::to::default_fn"
    } else {
        "key"
    }
}

/// Consumes whatever follows an unusable key (`= value` or `(...)`), so parsing can go on.
fn skip_value(meta: &ParseNestedMeta) -> syn::Result<()> {
    if meta.input.peek(Token![=]) {
        meta.value()?.parse::<Expr>()?;
    } else if meta.input.peek(syn::token::Paren) {
        let content;
        syn::parenthesized!(content in meta.input);
        content.parse::<TokenStream>()?;
    }
    Ok(())
}

/// The known key the user most likely meant, if any.
fn suggest(written: &str) -> Option<&'static str> {
    let contained = KNOWN_KEYS
        .iter()
        .find(|known| written.contains(*known) || (written.len() > 2 && known.contains(written)));
    contained.copied().or_else(|| {
        KNOWN_KEYS
            .iter()
            .map(|known| (edit_distance(written, known), *known))
            .filter(|(distance, known)| *distance <= known.len() / 3)
            .min()
            .map(|(_, known)| known)
    })
}

/// The Levenshtein distance between two strings.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let replace = diagonal + usize::from(ca != *cb);
            diagonal = row[j + 1];
            row[j + 1] = replace.min(row[j] + 1).min(diagonal + 1);
        }
    }
    row[b.len()]
}

/// The user's tokens as they would write them (`a::b`, not `a :: b`).
pub(crate) fn tokens_to_string(tokens: impl ToTokens) -> String {
    tokens.to_token_stream().to_string().replace(" :: ", "::")
}
