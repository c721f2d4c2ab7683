//! The derive input as the rest of the macro sees it, and the names it generates.
//!
//! Every generated name (`set_foo`, `FOO`, `AppSessionHandle`) comes from here, so `check.rs`
//! tests for clashes between exactly the names that `expand.rs` emits.

use quote::format_ident;
use syn::{Data, DeriveInput, Fields, GenericArgument, Generics, Ident, PathArguments, Type};

use crate::attr::{self, Attrs, ContainerAttrs, Role};
use crate::ctxt::Ctxt;

/// A struct with named fields that derives `SessionSchema`.
pub(crate) struct Input<'a> {
    pub(crate) ident: &'a Ident,
    pub(crate) vis: &'a syn::Visibility,
    pub(crate) generics: &'a Generics,
    pub(crate) attrs: ContainerAttrs,
    pub(crate) fields: Vec<Field<'a>>,
}

/// One field of the schema.
pub(crate) struct Field<'a> {
    pub(crate) ident: &'a Ident,
    pub(crate) ty: &'a Type,
    pub(crate) attrs: Attrs,
}

/// What a generated method does, for error messages.
#[derive(Clone, Copy)]
pub(crate) enum MethodKind {
    Getter,
    Setter,
    Remover,
    Updater,
    Taker,
}

impl MethodKind {
    fn describe(self) -> &'static str {
        match self {
            MethodKind::Getter => "getter",
            MethodKind::Setter => "setter",
            MethodKind::Remover => "remover",
            MethodKind::Updater => "updater",
            MethodKind::Taker => "taker",
        }
    }
}

impl<'a> Input<'a> {
    /// Reads a struct with named fields. Any other shape is recorded in `cx` and gives `None`.
    pub(crate) fn from_syn(cx: &Ctxt, node: &'a DeriveInput) -> Option<Self> {
        const NAMED: &str = "`#[derive(SessionSchema)]` needs a struct with named fields";
        let attrs = attr::get_container(cx, &node.attrs);
        let fields = match &node.data {
            Data::Struct(data) => match &data.fields {
                Fields::Named(fields) => fields,
                Fields::Unnamed(fields) => {
                    let msg = format!(
                        "{NAMED}; give each field a name, which is its key in the store: \
                         `struct {} {{ name: Type }}`",
                        node.ident
                    );
                    cx.error_spanned_by(fields, msg);
                    return None;
                }
                Fields::Unit => {
                    let msg = format!(
                        "{NAMED}; add one field per session value: `struct {} {{ name: Type }}`",
                        node.ident
                    );
                    cx.error_spanned_by(&node.ident, msg);
                    return None;
                }
            },
            Data::Enum(data) => {
                let msg = format!("{NAMED}, not an enum; write one field per session value");
                cx.error_spanned_by(data.enum_token, msg);
                return None;
            }
            Data::Union(data) => {
                let msg = format!("{NAMED}, not a union; write one field per session value");
                cx.error_spanned_by(data.union_token, msg);
                return None;
            }
        };
        let fields = fields
            .named
            .iter()
            .filter_map(|field| {
                Some(Field {
                    ident: field.ident.as_ref()?,
                    ty: &field.ty,
                    attrs: attr::get(cx, field),
                })
            })
            .collect();
        Some(Input {
            ident: &node.ident,
            vis: &node.vis,
            generics: &node.generics,
            attrs,
            fields,
        })
    }

    /// The generated handle type: `AppSessionHandle` for `AppSession`.
    pub(crate) fn handle_ident(&self) -> Ident {
        handle_ident(self.ident)
    }

    /// The field with `role`, if any (the first one, should there be several).
    pub(crate) fn role_field(&self, role: Role) -> Option<&Field<'a>> {
        self.fields.iter().find(|field| field.role() == Some(role))
    }

    /// The fields stored as keys: every field except the `user_id` one.
    pub(crate) fn data_fields(&self) -> impl Iterator<Item = &Field<'a>> {
        self.fields.iter().filter(|field| !field.is_user_id())
    }
}

impl Field<'_> {
    pub(crate) fn role(&self) -> Option<Role> {
        self.attrs.role.as_ref().map(|attr| attr.role)
    }

    pub(crate) fn is_user_id(&self) -> bool {
        self.role() == Some(Role::UserId)
    }

    /// Whether the field is a role flag (`staff`, `superuser`).
    pub(crate) fn is_role_flag(&self) -> bool {
        matches!(self.role(), Some(Role::Staff | Role::Superuser))
    }

    /// Whether changing the field changes privileges: a role flag, or a field marked
    /// `#[session(privileged)]`.
    pub(crate) fn is_privileged(&self) -> bool {
        self.is_role_flag() || self.attrs.privileged.is_some()
    }

    /// Whether the field is read once (`#[session(flash)]`).
    pub(crate) fn is_flash(&self) -> bool {
        self.attrs.flash.is_some()
    }

    /// The field's name without any `r#`.
    pub(crate) fn name(&self) -> String {
        unraw(self.ident)
    }

    /// The key the field is stored under: its name, or its `rename`.
    pub(crate) fn stored_name(&self) -> String {
        match &self.attrs.rename {
            Some(lit) => lit.value(),
            None => self.name(),
        }
    }

    /// The typed key constant: `CART` for `cart`.
    pub(crate) fn key_const(&self) -> Ident {
        Ident::new(&self.name().to_uppercase(), self.ident.span())
    }

    /// The getter, named like the field itself.
    pub(crate) fn getter(&self) -> Ident {
        self.ident.clone()
    }

    pub(crate) fn setter(&self) -> Ident {
        format_ident!("set_{}", self.ident, span = self.ident.span())
    }

    pub(crate) fn remover(&self) -> Ident {
        format_ident!("remove_{}", self.ident, span = self.ident.span())
    }

    pub(crate) fn updater(&self) -> Ident {
        format_ident!("update_{}", self.ident, span = self.ident.span())
    }

    /// The read-once accessor of a flash field: `take_notice` for `notice`.
    pub(crate) fn taker(&self) -> Ident {
        format_ident!("take_{}", self.ident, span = self.ident.span())
    }

    /// "the setter of field `cart`", for error messages.
    pub(crate) fn describe_method(&self, kind: MethodKind) -> String {
        match kind {
            MethodKind::Getter => format!("the getter of field `{}`", self.name()),
            _ if self.is_user_id() => format!(
                "the refused {} of the `#[session(user_id)]` field `{}`",
                kind.describe(),
                self.name(),
            ),
            _ => format!("the {} of field `{}`", kind.describe(), self.name()),
        }
    }

    /// Every method the handle gets for this field, with `take_NAME` for a flash field. The
    /// `user_id` field's setter, remover and updater are hidden and refused at compile time,
    /// pointing to `login` and `logout`.
    pub(crate) fn methods(&self) -> Vec<(Ident, MethodKind)> {
        let mut methods = vec![
            (self.getter(), MethodKind::Getter),
            (self.setter(), MethodKind::Setter),
            (self.remover(), MethodKind::Remover),
            (self.updater(), MethodKind::Updater),
        ];
        if self.is_flash() {
            methods.push((self.taker(), MethodKind::Taker));
        }
        methods
    }
}

/// The generated handle type for the schema `ident`.
pub(crate) fn handle_ident(ident: &Ident) -> Ident {
    format_ident!("{}Handle", ident, span = ident.span())
}

/// `name` for both `name` and `r#name`.
pub(crate) fn unraw(ident: &Ident) -> String {
    let name = ident.to_string();
    match name.strip_prefix("r#") {
        Some(name) => name.to_owned(),
        None => name,
    }
}

/// `T` for a type written `Option<T>` (or `std::option::Option<T>`), else `None`.
pub(crate) fn option_inner(ty: &Type) -> Option<&Type> {
    generic_inner(ty, "Option")
}

/// Whether a type is written `Option<T>` or `Vec<T>` (with any path before the name).
pub(crate) fn is_option_or_vec(ty: &Type) -> bool {
    generic_inner(ty, "Option").is_some() || generic_inner(ty, "Vec").is_some()
}

/// `T` for a type written `NAME<T>`, with any plain path before `NAME`, else `None`.
fn generic_inner<'a>(ty: &'a Type, name: &str) -> Option<&'a Type> {
    let Type::Path(path) = ungroup(ty) else {
        return None;
    };
    let segments = &path.path.segments;
    let last = segments.last()?;
    let plain_prefix = segments
        .iter()
        .take(segments.len() - 1)
        .all(|segment| segment.arguments.is_none());
    if path.qself.is_some() || !plain_prefix || last.ident != name {
        return None;
    }
    let PathArguments::AngleBracketed(args) = &last.arguments else {
        return None;
    };
    match args.args.iter().collect::<Vec<_>>().as_slice() {
        [GenericArgument::Type(inner)] => Some(inner),
        _ => None,
    }
}

/// Whether a type is written `bool` (or `core::primitive::bool`).
pub(crate) fn is_bool(ty: &Type) -> bool {
    let Type::Path(path) = ungroup(ty) else {
        return false;
    };
    let segments: Vec<String> = path
        .path
        .segments
        .iter()
        .map(|segment| match segment.arguments {
            PathArguments::None => segment.ident.to_string(),
            _ => String::new(),
        })
        .collect();
    let segments: Vec<&str> = segments.iter().map(String::as_str).collect();
    path.qself.is_none()
        && matches!(
            segments.as_slice(),
            ["bool"] | ["std" | "core", "primitive", "bool"]
        )
}

/// Looks through invisible groups (from `macro_rules!`) and parentheses.
fn ungroup(mut ty: &Type) -> &Type {
    loop {
        match ty {
            Type::Group(group) => ty = &group.elem,
            Type::Paren(paren) => ty = &paren.elem,
            _ => return ty,
        }
    }
}
