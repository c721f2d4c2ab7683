//! Times as people read them: "5 minutes ago", with the exact time on hover.
//!
//! "Now" is the app's clock ([`super::Options::clock`], the session layer's), so the pages
//! and the sessions' `last_seen` agree, and tests can move it.

use std::time::{Duration, SystemTime};

const MINUTE: u64 = 60;
const HOUR: u64 = 60 * MINUTE;
const DAY: u64 = 24 * HOUR;

/// How long before `now` `then` was: "just now" (under a minute, or in the future: clocks
/// of several servers drift), "1 minute ago" .. "59 minutes ago", "1 hour ago" ..
/// "23 hours ago", then "1 day ago", "2 days ago", ... Each unit is rounded down.
pub fn ago(then: SystemTime, now: SystemTime) -> String {
    let secs = now.duration_since(then).unwrap_or(Duration::ZERO).as_secs();
    let (n, unit) = match secs {
        s if s < MINUTE => return "just now".to_owned(),
        s if s < HOUR => (s / MINUTE, "minute"),
        s if s < DAY => (s / HOUR, "hour"),
        s => (s / DAY, "day"),
    };
    format!("{n} {unit}{} ago", if n == 1 { "" } else { "s" })
}

/// The exact time, for people: `2026-12-04 19:51:35 UTC`.
pub fn exact(t: SystemTime) -> String {
    let rfc3339 = humantime::format_rfc3339_seconds(t).to_string(); // 2026-12-04T19:51:35Z
    format!(
        "{} UTC",
        rfc3339.trim_end_matches('Z').replacen('T', " ", 1)
    )
}

/// `then` as a page shows it: `<time datetime="RFC 3339" title="exact">5 minutes ago</time>`
/// (the stylesheet keeps a `time` on one line).
pub fn element(then: SystemTime, now: SystemTime) -> String {
    format!(
        "<time datetime=\"{}\" title=\"{}\">{}</time>",
        humantime::format_rfc3339_seconds(then),
        exact(then),
        ago(then, now)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(secs: u64) -> SystemTime {
        SystemTime::UNIX_EPOCH + Duration::from_secs(1_796_413_895) + Duration::from_secs(secs)
    }

    #[test]
    fn each_unit_starts_at_its_boundary() {
        let then = at(0);
        let cases = [
            (0, "just now"),
            (59, "just now"),
            (60, "1 minute ago"),
            (119, "1 minute ago"),
            (120, "2 minutes ago"),
            (5 * MINUTE, "5 minutes ago"),
            (HOUR - 1, "59 minutes ago"),
            (HOUR, "1 hour ago"),
            (3 * HOUR + 59 * MINUTE, "3 hours ago"),
            (DAY - 1, "23 hours ago"),
            (DAY, "1 day ago"),
            (2 * DAY + 23 * HOUR, "2 days ago"),
            (40 * DAY, "40 days ago"),
        ];
        for (elapsed, expected) in cases {
            assert_eq!(ago(then, at(elapsed)), expected, "after {elapsed} s");
        }
    }

    #[test]
    fn a_time_in_the_future_is_just_now() {
        assert_eq!(ago(at(10 * MINUTE), at(0)), "just now");
    }

    #[test]
    fn the_element_has_the_machine_and_the_exact_time() {
        assert_eq!(
            element(at(0), at(5 * MINUTE)),
            "<time datetime=\"2026-12-04T19:51:35Z\" title=\"2026-12-04 19:51:35 UTC\">\
             5 minutes ago</time>"
        );
    }
}
