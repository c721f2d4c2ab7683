// The handle, the key constants and the accessors take the schema's visibility.
#![deny(warnings)]

mod sessions {
    use session_runtime::SessionSchema;

    #[derive(SessionSchema)]
    pub(crate) struct CrateSession {
        pub(crate) cart: Vec<u64>,
    }

    pub mod nested {
        use session_runtime::SessionSchema;

        #[derive(SessionSchema)]
        pub(in crate::sessions) struct NestedSession {
            #[deprecated = "kept to read old sessions"]
            pub(in crate::sessions) legacy: Option<String>,
        }
    }

    fn use_handle(handle: &nested::NestedSessionHandle) -> Option<String> {
        handle.legacy()
    }

    pub(crate) fn legacy_key() -> &'static str {
        let _ = use_handle;
        nested::NestedSession::LEGACY.name()
    }
}

use session_runtime::Session;

async fn handler(session: Session<sessions::CrateSession>) -> Vec<u64> {
    session.cart()
}

fn main() {
    let _ = handler;
    assert_eq!(sessions::CrateSession::CART.name(), "cart");
    assert_eq!(sessions::legacy_key(), "legacy");
}
