//! How the console words what the record keeps as keys and instants: times in the landlord's
//! time zone in plain English, labels for risk, intent, route, alert, event and case-field
//! keys, and consent as a sentence (issue 12: "readable everywhere").
//!
//! The functions are pure (`now` and the zone are passed in), so they are tested here; the
//! templates reach them through the filters [`add_filters`] registers.

use chrono::{DateTime, Datelike as _, NaiveDate, Utc};
use chrono_tz::Tz;
use minijinja::{Environment, Value};

/// An instant as staff read it: "Tue 1 Dec, 15:04" in `zone`, with the year when it is not
/// the current year there ("Mon 1 Dec 2025, 15:04").
pub(super) fn when(at: DateTime<Utc>, now: DateTime<Utc>, zone: Tz) -> String {
    let local = at.with_timezone(&zone);
    if local.year() == now.with_timezone(&zone).year() {
        local.format("%a %-d %b, %H:%M").to_string()
    } else {
        local.format("%a %-d %b %Y, %H:%M").to_string()
    }
}

/// A day as staff read it: "Tue 1 Dec", with the year when it is not the current year.
pub(super) fn day(date: NaiveDate, now: DateTime<Utc>, zone: Tz) -> String {
    if date.year() == now.with_timezone(&zone).year() {
        date.format("%a %-d %b").to_string()
    } else {
        date.format("%a %-d %b %Y").to_string()
    }
}

/// The full local time with its offset, for the precise ("2026-06-01T16:04:05+01:00").
pub(super) fn precise(at: DateTime<Utc>, zone: Tz) -> String {
    at.with_timezone(&zone)
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, false)
}

/// The `<time>` element for an instant: plain words, the machine-readable instant, and the
/// precise local time as its title.
pub(super) fn time_element(at: DateTime<Utc>, now: DateTime<Utc>, zone: Tz) -> String {
    format!(
        "<time datetime=\"{}\" title=\"{}\">{}</time>",
        at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        precise(at, zone),
        when(at, now, zone)
    )
}

/// Labels for the keys staff would otherwise read: risks and alert kinds, intents, routes,
/// case statuses, record events and the complaint's answers.
const LABELS: &[(&str, &str)] = &[
    // Risks and alert kinds.
    ("emergency", "Emergency"),
    ("health_safety", "Health and safety"),
    ("safeguarding", "Safeguarding"),
    ("vulnerability", "Vulnerability"),
    ("person_requested", "Asked for a person"),
    ("question", "Question for a person"),
    ("stage2_request", "Stage 2 request"),
    ("deadline_near", "Deadline near"),
    ("deadline_passed", "Deadline passed"),
    ("claim_idle", "Held but idle"),
    ("action_overdue", "Action overdue"),
    ("half_finished", "Complaint left half-finished"),
    ("email_unusable", "Email address unusable"),
    ("reply_another_way", "Reply another way"),
    ("contact_details", "Contact details given"),
    ("emergency_contact", "Emergency contact details"),
    ("definition_disputed", "Complaint definition disputed"),
    ("request_due", "Request due soon"),
    ("request_overdue", "Request overdue"),
    // Intents.
    ("complaint", "Complaint"),
    ("service_request", "Service request"),
    ("escalation", "Escalation"),
    ("compliment", "Compliment"),
    ("thanks", "Thanks"),
    ("comment", "Comment"),
    ("enquiry", "Enquiry"),
    ("report_other", "For another route"),
    ("other", "Other"),
    // Routes (2.5).
    ("complaints", "Complaints"),
    ("asb", "Anti-social behaviour team"),
    ("legal", "Legal (a claim or proceedings)"),
    ("insurance", "Insurance claim"),
    ("service_charge", "Service charge (tribunal)"),
    ("other_org", "Another organisation"),
    ("out_of_time", "Out of time"),
    ("already_decided", "Already decided"),
    // Case statuses.
    ("acknowledged", "Acknowledged"),
    ("responded", "Responded"),
    ("closed", "Closed"),
    ("excluded", "Not taken as a complaint"),
    // Record events.
    ("consent", "Consent"),
    ("offered", "Choice to complain offered"),
    ("offer_answered", "Choice to complain answered"),
    ("dissatisfaction", "Dissatisfaction logged"),
    ("open_case", "Complaint opened"),
    ("case_opened", "Complaint opened"),
    ("tracked_request", "Request logged"),
    ("safe_contact", "Safe contact"),
    ("join_case", "Joined to a complaint"),
    ("case_correction", "Correction to the definition"),
    ("other_route", "Another route suggested"),
    // Staff actions in the audit.
    ("stage1_response_sent", "Stage 1 response sent"),
    ("stage2_response_sent", "Stage 2 response sent"),
    ("acknowledge_alerts", "Acknowledged alerts together"),
    ("confirm_category", "Category confirmed"),
    // Tracked requests (UK GDPR; 5.10).
    ("access", "Copy of personal data (subject access)"),
    ("erasure", "Personal data deleted"),
    ("rectification", "Personal data corrected"),
    ("objection", "Stop using personal data"),
    ("interpreter", "Interpreter"),
    // Channels.
    ("web", "Web chat"),
    ("telegram", "Telegram"),
    ("discord", "Discord"),
    ("terminal", "Terminal"),
    // The complaint's answers.
    ("name", "Name"),
    ("for_whom", "On whose behalf"),
    ("representative", "Representative"),
    ("what_went_wrong", "What went wrong"),
    ("outcome", "Outcome wanted"),
    ("when", "When it happened"),
    ("support", "Support needs"),
    ("contact", "How to reply"),
    ("contact_detail", "Contact detail"),
    ("contact_times", "Good times to contact"),
    ("self", "For themselves"),
    ("someone_else", "For someone else"),
    ("chat", "In this chat"),
    ("email", "By email"),
    ("phone", "By phone"),
    ("letter", "By letter"),
];

/// A key as staff read it: its label, or for a key not listed (a landlord's own, or one added
/// later) the key with spaces for underscores and a capital letter.
pub(super) fn label(key: &str) -> String {
    if let Some((_, words)) = LABELS.iter().find(|(k, _)| *k == key) {
        return (*words).to_owned();
    }
    let spaced = key.replace('_', " ");
    let mut chars = spaced.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// "3 health and safety alerts": how many alerts of a kind, in words.
pub(super) fn alert_count(count: usize, kind: &str) -> String {
    let what = label(kind);
    // Lower case inside a sentence, but not an initialism or a stage number.
    let what = if what.chars().nth(1).is_some_and(char::is_lowercase) {
        let mut chars = what.chars();
        chars
            .next()
            .map(|c| c.to_lowercase().chain(chars).collect())
            .unwrap_or_default()
    } else {
        what
    };
    if count == 1 {
        format!("1 {what} alert")
    } else {
        format!("{count} {what} alerts")
    }
}

/// A consent or privacy event of the record as one sentence: "Consent given to make a
/// complaint, wording 2026-11, Tue 1 Dec, 15:04".
pub(super) fn record_sentence(
    kind: &str,
    detail: &serde_json::Value,
    at: DateTime<Utc>,
    now: DateTime<Utc>,
    zone: Tz,
) -> String {
    let at = when(at, now, zone);
    match kind {
        "consent" => {
            let given = if detail["given"].as_bool().unwrap_or(false) {
                "Consent given to make a complaint"
            } else {
                "Consent refused: no complaint details asked"
            };
            match detail["wording_version"].as_str() {
                Some(version) => format!("{given}, wording {version}, {at}"),
                None => format!("{given}, {at}"),
            }
        }
        "tracked_request" => {
            let kind = detail["kind"].as_str().map_or_else(String::new, label);
            let due = detail["due_on"]
                .as_str()
                .and_then(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok())
                .map(|d| format!(", due {}", day(d, now, zone)))
                .unwrap_or_default();
            let by = if detail["logged_by"].is_null() {
                "asked for in the chat"
            } else {
                "logged by staff"
            };
            format!("Request: {kind}, {by}, {at}{due}")
        }
        other => format!("{}, {at}", label(other)),
    }
}

/// A URL query from its pairs, the empty ones left out ("channel=web&page=2").
pub(super) fn query_string(pairs: &[(&str, &str)]) -> String {
    let encode = |text: &str| {
        text.bytes()
            .map(|b| match b {
                b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                    char::from(b).to_string()
                }
                _ => format!("%{b:02X}"),
            })
            .collect::<String>()
    };
    pairs
        .iter()
        .filter(|(_, value)| !value.is_empty())
        .map(|(key, value)| format!("{}={}", encode(key), encode(value)))
        .collect::<Vec<_>>()
        .join("&")
}

/// Registers the filters the templates use: `when` (an instant as a `<time>` element),
/// `day` (a YYYY-MM-DD date in words, as a `<time>` element), `label` (a key as words) and `alerts` (a count of a
/// kind of alert, given as `[count, kind]`).
pub(super) fn add_filters(templates: &mut Environment<'static>, zone: Tz) {
    templates.add_filter("when", move |value: String| -> Value {
        match DateTime::parse_from_rfc3339(&value) {
            Ok(at) => Value::from_safe_string(time_element(at.to_utc(), Utc::now(), zone)),
            Err(_) => Value::from(value),
        }
    });
    templates.add_filter("day", move |value: String| -> Value {
        match NaiveDate::parse_from_str(&value, "%Y-%m-%d") {
            Ok(date) => Value::from_safe_string(format!(
                "<time datetime=\"{date}\">{}</time>",
                day(date, Utc::now(), zone)
            )),
            Err(_) => Value::from(value),
        }
    });
    templates.add_filter("label", |value: String| label(&value));
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono_tz::Europe::London;

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).expect("a time").to_utc()
    }

    const NOW: &str = "2026-07-15T12:00:00Z";

    #[test]
    fn winter_times_are_utc_and_summer_times_an_hour_ahead() {
        let now = at(NOW);
        assert_eq!(
            when(at("2026-12-01T15:04:00Z"), now, London),
            "Tue 1 Dec, 15:04"
        );
        assert_eq!(
            when(at("2026-06-01T15:04:00Z"), now, London),
            "Mon 1 Jun, 16:04"
        );
    }

    #[test]
    fn the_clocks_change_at_one_in_the_morning_utc() {
        let now = at(NOW);
        // BST began at 01:00 UTC on Sunday 29 March 2026.
        assert_eq!(
            when(at("2026-03-29T00:59:00Z"), now, London),
            "Sun 29 Mar, 00:59"
        );
        assert_eq!(
            when(at("2026-03-29T01:00:00Z"), now, London),
            "Sun 29 Mar, 02:00"
        );
        // GMT came back at 01:00 UTC on Sunday 25 October 2026: 01:30 is seen twice.
        assert_eq!(
            when(at("2026-10-25T00:30:00Z"), now, London),
            "Sun 25 Oct, 01:30"
        );
        assert_eq!(
            when(at("2026-10-25T01:30:00Z"), now, London),
            "Sun 25 Oct, 01:30"
        );
        assert_eq!(
            precise(at("2026-10-25T00:30:00Z"), London),
            "2026-10-25T01:30:00+01:00"
        );
        assert_eq!(
            precise(at("2026-10-25T01:30:00Z"), London),
            "2026-10-25T01:30:00+00:00"
        );
    }

    #[test]
    fn another_year_shows_the_year_and_the_new_year_is_local() {
        let now = at(NOW);
        assert_eq!(
            when(at("2025-12-01T15:04:00Z"), now, London),
            "Mon 1 Dec 2025, 15:04"
        );
        // 23:30 UTC on 31 December is still that year in London (GMT), so it needs the year
        // only when "now" is in the new one.
        let new_year = at("2027-01-01T00:10:00Z");
        assert_eq!(
            when(at("2026-12-31T23:30:00Z"), new_year, London),
            "Thu 31 Dec 2026, 23:30"
        );
        let date = NaiveDate::from_ymd_opt(2027, 1, 4).expect("a date");
        assert_eq!(day(date, now, London), "Mon 4 Jan 2027");
        assert_eq!(day(date, new_year, London), "Mon 4 Jan");
    }

    #[test]
    fn the_time_element_carries_the_instant_and_the_precise_local_time() {
        assert_eq!(
            time_element(at("2026-06-01T15:04:05.250Z"), at(NOW), London),
            "<time datetime=\"2026-06-01T15:04:05Z\" title=\"2026-06-01T16:04:05+01:00\">Mon 1 Jun, 16:04</time>"
        );
    }

    #[test]
    fn keys_become_labels_and_unknown_keys_words() {
        assert_eq!(label("health_safety"), "Health and safety");
        assert_eq!(label("contact_detail"), "Contact detail");
        assert_eq!(label("for_whom"), "On whose behalf");
        assert_eq!(label("service_request"), "Service request");
        assert_eq!(label("asb"), "Anti-social behaviour team");
        assert_eq!(label("pets_allowed"), "Pets allowed");
        assert_eq!(label(""), "");
        assert_eq!(
            alert_count(3, "health_safety"),
            "3 health and safety alerts"
        );
        assert_eq!(alert_count(1, "emergency"), "1 emergency alert");
        assert_eq!(alert_count(2, "stage2_request"), "2 stage 2 request alerts");
    }

    #[test]
    fn a_query_keeps_its_filter_and_encodes_it() {
        assert_eq!(
            query_string(&[
                ("status", "mine"),
                ("risk", ""),
                ("q", "a&b c/é"),
                ("page", "2")
            ]),
            "status=mine&q=a%26b%20c%2F%C3%A9&page=2"
        );
    }

    #[test]
    fn consent_is_a_sentence_with_its_wording_and_time() {
        let now = at(NOW);
        let given =
            serde_json::json!({"effect": "consent", "given": true, "wording_version": "2026-11"});
        assert_eq!(
            record_sentence("consent", &given, at("2026-12-01T15:04:00Z"), now, London),
            "Consent given to make a complaint, wording 2026-11, Tue 1 Dec, 15:04"
        );
        let refused = serde_json::json!({"given": false, "wording_version": "2026-11"});
        assert!(
            record_sentence("consent", &refused, at("2026-12-01T15:04:00Z"), now, London)
                .starts_with("Consent refused")
        );
        let request = serde_json::json!({"kind": "access", "due_on": "2026-08-15"});
        assert_eq!(
            record_sentence(
                "tracked_request",
                &request,
                at("2026-07-15T09:00:00Z"),
                now,
                London
            ),
            "Request: Copy of personal data (subject access), asked for in the chat, Wed 15 Jul, 10:00, due Sat 15 Aug"
        );
    }
}
