use session_runtime::{Session, SessionError, SessionSchema};

#[derive(SessionSchema)]
pub struct Prefs {
    #[session(rename = "t", default = "default_theme")]
    pub theme: String,
    #[session(default = "defaults::page_size")]
    pub page_size: u32,
    #[session(default = "Self::default_lang")]
    pub lang: String,
    // Raw identifiers: stored as "type", accessors `r#type()`, `set_type()`, constant `TYPE`.
    pub r#type: u8,
    // A field named like the handle's private field.
    pub raw: bool,
}

impl Prefs {
    fn default_lang() -> String {
        "en".to_owned()
    }
}

fn default_theme() -> String {
    "dark".to_owned()
}

mod defaults {
    pub fn page_size() -> u32 {
        20
    }
}

async fn handler(session: Session<Prefs>) -> Result<(), SessionError> {
    let _: String = session.theme();
    session.set_type(2)?;
    let _: u8 = session.r#type();
    session.set_raw(true)?;
    let _: bool = session.raw();
    Ok(())
}

fn main() {
    let _ = handler;
    assert_eq!(Prefs::THEME.name(), "t");
    assert_eq!(Prefs::THEME.default_value(), "dark");
    assert_eq!(Prefs::PAGE_SIZE.default_value(), 20);
    assert_eq!(Prefs::LANG.default_value(), "en");
    assert_eq!(Prefs::TYPE.name(), "type");
    assert_eq!(
        <Prefs as SessionSchema>::KEYS,
        ["t", "page_size", "lang", "type", "raw"]
    );
}
