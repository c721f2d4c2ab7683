//! Devices named for people: "Firefox on Linux" rather than a `User-Agent` string.
//!
//! A small mapping, not a parser: it looks for the tokens that the common browsers put in
//! their `User-Agent`, in an order that resolves the ones that borrow each other's names
//! (every Chromium-based browser says `Chrome/` and `Safari/`, Android says `Linux`, iOS
//! says `like Mac OS X`). Anything else is an "Unknown browser". The raw string is kept, as
//! the tooltip of the name ([`element`]).
//!
//! | browser | recognised by | | system | recognised by |
//! | --- | --- | --- | --- | --- |
//! | Edge | `Edg/`, `EdgA/`, `EdgiOS/`, `Edge/` | | ChromeOS | `CrOS` |
//! | Opera | `OPR/`, `OPT/`, `Opera` | | Android | `Android` |
//! | Firefox | `Firefox/`, `FxiOS/` | | iOS | `iPhone`, `iPad`, `iPod` |
//! | Chromium | `Chromium/` | | Windows | `Windows` |
//! | Chrome | `Chrome/`, `CriOS/` | | macOS | `Macintosh`, `Mac OS X` |
//! | Safari | `Safari/` | | Linux | `Linux`, `X11` |
//!
//! Each row is checked top to bottom; the first that matches names the browser (or system).

use super::layout::esc;

/// Browsers, by the tokens that identify them, most specific first.
const BROWSERS: &[(&str, &[&str])] = &[
    ("Edge", &["Edg/", "EdgA/", "EdgiOS/", "Edge/"]),
    ("Opera", &["OPR/", "OPT/", "Opera"]),
    ("Firefox", &["Firefox/", "FxiOS/"]),
    ("Chromium", &["Chromium/"]),
    ("Chrome", &["Chrome/", "CriOS/"]),
    ("Safari", &["Safari/"]),
];

/// Operating systems, by the tokens that identify them, most specific first.
const SYSTEMS: &[(&str, &[&str])] = &[
    ("ChromeOS", &["CrOS"]),
    ("Android", &["Android"]),
    ("iOS", &["iPhone", "iPad", "iPod"]),
    ("Windows", &["Windows"]),
    ("macOS", &["Macintosh", "Mac OS X"]),
    ("Linux", &["Linux", "X11"]),
];

fn first_match(user_agent: &str, table: &[(&'static str, &[&str])]) -> Option<&'static str> {
    table
        .iter()
        .find(|(_, tokens)| tokens.iter().any(|t| user_agent.contains(t)))
        .map(|(name, _)| *name)
}

/// The device's name for people: "Firefox on Linux", "Safari on iOS", "Chrome" (system not
/// recognised), "Unknown browser" or "Unknown browser on Linux".
pub fn name(user_agent: &str) -> String {
    let browser = first_match(user_agent, BROWSERS).unwrap_or("Unknown browser");
    match first_match(user_agent, SYSTEMS) {
        Some(system) => format!("{browser} on {system}"),
        None => browser.to_owned(),
    }
}

/// The device as a page shows it: its [`name`], with the raw `User-Agent` as the tooltip
/// (`title`), both escaped. A session without a `User-Agent` is an "Unknown device".
pub fn element(user_agent: Option<&str>) -> String {
    match user_agent {
        Some(ua) => format!(
            "<span class=\"device\" title=\"{}\">{}</span>",
            esc(ua),
            esc(&name(ua))
        ),
        None => "<span class=\"device\">Unknown device</span>".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn common_browsers_are_named() {
        let cases = [
            (
                "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0",
                "Firefox on Linux",
            ),
            (
                "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0",
                "Firefox on Windows",
            ),
            (
                "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) \
                 Chrome/131.0.0.0 Safari/537.36",
                "Chrome on Windows",
            ),
            (
                "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) \
                 Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0",
                "Edge on Windows",
            ),
            (
                "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, \
                 like Gecko) Version/18.1 Safari/605.1.15",
                "Safari on macOS",
            ),
            (
                "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 \
                 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1",
                "Safari on iOS",
            ),
            (
                "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 \
                 (KHTML, like Gecko) CriOS/131.0.6778.73 Mobile/15E148 Safari/604.1",
                "Chrome on iOS",
            ),
            (
                "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) \
                 Chrome/131.0.0.0 Mobile Safari/537.36",
                "Chrome on Android",
            ),
            (
                "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) \
                 Chrome/131.0.0.0 Safari/537.36 OPR/115.0.0.0",
                "Opera on Windows",
            ),
            (
                "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) \
                 Chromium/131.0.0.0 Chrome/131.0.0.0 Safari/537.36",
                "Chromium on Linux",
            ),
            (
                "Mozilla/5.0 (X11; CrOS x86_64 14541.0.0) AppleWebKit/537.36 (KHTML, like Gecko) \
                 Chrome/131.0.0.0 Safari/537.36",
                "Chrome on ChromeOS",
            ),
            // Headless Chromium, as the real-browser test drives it.
            (
                "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) \
                 HeadlessChrome/131.0.0.0 Safari/537.36",
                "Chrome on Linux",
            ),
        ];
        for (ua, expected) in cases {
            assert_eq!(name(ua), expected, "{ua}");
        }
    }

    #[test]
    fn what_is_not_recognised_says_so() {
        assert_eq!(name("curl/8.11.0"), "Unknown browser");
        assert_eq!(name(""), "Unknown browser");
        assert_eq!(name("SomeBot/1.0 (X11; Linux)"), "Unknown browser on Linux");
        assert_eq!(name("Firefox/133.0"), "Firefox");
    }

    #[test]
    fn the_raw_user_agent_is_the_escaped_tooltip() {
        assert_eq!(
            element(Some("Firefox/1 \"><script>")),
            "<span class=\"device\" title=\"Firefox/1 &quot;&gt;&lt;script&gt;\">Firefox</span>"
        );
        assert_eq!(
            element(None),
            "<span class=\"device\">Unknown device</span>"
        );
    }
}
