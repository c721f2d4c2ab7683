//! How a feature outside the core takes part in a session's life without the core calling
//! it by name: it implements [`LoginHook`], and the layer registers it (see `layer.rs`).

use std::collections::BTreeMap;

use crate::store::StoreError;

/// Something the runtime keeps in a session beside the schema's fields (under a `__` key)
/// that must change when the user logs in, such as the CSRF token: a value seen before the
/// login must be useless after it.
pub(crate) trait LoginHook: Send + Sync + 'static {
    /// Changes the data a login carries into the new session (field name → JSON text).
    fn on_login(&self, data: &mut BTreeMap<String, String>) -> Result<(), StoreError>;
}
