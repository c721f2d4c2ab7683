//! What every request of one [`SessionLayer`](crate::SessionLayer) shares.

use std::sync::Arc;

use super::hooks::LoginHook;
use crate::auth_hash::AuthCheck;
use crate::config::ConfigInner;
use crate::remember::Remember;
use crate::store::DynStore;

/// What every request of one layer shares: the store, the configuration, the credential
/// check, remember me and the login hooks.
pub(crate) struct Shared {
    pub(crate) store: Arc<dyn DynStore>,
    pub(crate) config: Arc<ConfigInner>,
    pub(crate) auth: Option<Arc<dyn AuthCheck>>,
    pub(crate) remember: Option<Arc<Remember>>,
    pub(crate) login_hooks: Vec<Arc<dyn LoginHook>>,
}
