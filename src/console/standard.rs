//! The standard messages staff can start a reply from, with placeholders the console fills
//! in for the conversation's latest complaint. They are kept in the record and edited by
//! managers (`standard_editing`); the shipped file (`src/console/standard_messages.toml`) or
//! the landlord's own (`console.standard_messages`) seeds the record the first time, and is
//! what the reply box offers while the record has none.

use chrono::Utc;
use serde::Deserialize;

use super::{Console, Error};
use crate::core::profile::Contact;

/// A standard message staff can start a reply from.
#[derive(Debug, Clone, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct StandardMessage {
    pub name: String,
    pub text: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct StandardMessages {
    message: Vec<StandardMessage>,
}

/// The placeholders a standard message may use; the console fills them in for the case.
pub const STANDARD_PLACEHOLDERS: &[&str] = &[
    "landlord",
    "staff",
    "reference",
    "due",
    "ombudsman_phone",
    "ombudsman_website",
    "ombudsman_address",
];

/// The shipped standard messages (`src/console/standard_messages.toml`).
pub fn standard_messages() -> Vec<StandardMessage> {
    parse_standard_messages(
        "standard_messages.toml (shipped)",
        SHIPPED_STANDARD_MESSAGES,
    )
    .unwrap_or_default()
}

const SHIPPED_STANDARD_MESSAGES: &str = include_str!("standard_messages.toml");

/// The landlord's own standard messages (`console.standard_messages`), replacing the shipped
/// ones, or the shipped ones. A file that cannot be read, has no messages, or uses a
/// placeholder the console cannot fill is refused, naming the file and the message.
pub fn load_standard_messages(
    path: Option<&std::path::Path>,
) -> Result<Vec<StandardMessage>, String> {
    match path {
        None => parse_standard_messages(
            "standard_messages.toml (shipped)",
            SHIPPED_STANDARD_MESSAGES,
        ),
        Some(path) => {
            let shown = path.display().to_string();
            let text = std::fs::read_to_string(path)
                .map_err(|e| format!("console.standard_messages: cannot read {shown}: {e}"))?;
            parse_standard_messages(&shown, &text)
        }
    }
}

fn parse_standard_messages(file: &str, text: &str) -> Result<Vec<StandardMessage>, String> {
    let messages = toml::from_str::<StandardMessages>(text)
        .map_err(|e| format!("{file}: {e}"))?
        .message;
    if messages.is_empty() {
        return Err(format!("{file}: there are no [[message]] entries"));
    }
    for m in &messages {
        if m.name.trim().is_empty() || m.text.trim().is_empty() {
            return Err(format!("{file}: every message needs a name and a text"));
        }
        if let Some(unknown) = unknown_placeholder(&m.text) {
            return Err(format!(
                "{file}: message {:?} uses {{{unknown}}}, {}",
                m.name,
                cannot_fill()
            ));
        }
    }
    Ok(messages)
}

/// The first placeholder in `text` the console cannot fill in, if any.
fn unknown_placeholder(text: &str) -> Option<&str> {
    let mut rest = text;
    while let Some(open) = rest.find('{') {
        let after = &rest[open + 1..];
        let close = after.find('}')?;
        let name = &after[..close];
        if !STANDARD_PLACEHOLDERS.contains(&name) {
            return Some(name);
        }
        rest = &after[close + 1..];
    }
    None
}

fn cannot_fill() -> String {
    format!(
        "which the console cannot fill in (it can fill {})",
        STANDARD_PLACEHOLDERS
            .iter()
            .map(|p| format!("{{{p}}}"))
            .collect::<Vec<_>>()
            .join(", ")
    )
}

/// The longest standard message a manager may save, as long as the longest reply staff may
/// send (before its placeholders are filled in).
pub(super) const LONGEST_STANDARD_TEXT: usize = 4000;
/// The longest name, so the reply box's picker stays readable.
pub(super) const LONGEST_STANDARD_NAME: usize = 80;

/// Why a standard message typed in the console cannot be saved: the same checks as the file
/// loader's, and a length limit.
pub(super) fn check_typed(name: &str, text: &str) -> Result<(), String> {
    if name.trim().is_empty() {
        return Err("give the message a name, so staff can find it in the reply box".into());
    }
    if text.trim().is_empty() {
        return Err("the text is empty".into());
    }
    let name_length = name.trim().chars().count();
    if name_length > LONGEST_STANDARD_NAME {
        return Err(format!(
            "the name is {name_length} characters long; it can be at most {LONGEST_STANDARD_NAME}"
        ));
    }
    let length = text.chars().count();
    if length > LONGEST_STANDARD_TEXT {
        return Err(format!(
            "the text is {length} characters long; a standard message can be at most {} characters",
            thousands(LONGEST_STANDARD_TEXT)
        ));
    }
    if let Some(unknown) = unknown_placeholder(text) {
        return Err(format!("the text uses {{{unknown}}}, {}", cannot_fill()));
    }
    Ok(())
}

/// 4000 as "4,000".
fn thousands(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, d) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(d);
    }
    out
}

/// The standard messages the reply box offers: the record's current versions, not retired.
/// The first time, the file seeds the record (once, whichever replica comes first); while the
/// record has no messages at all, the file's are offered.
pub(super) async fn in_picker(console: &Console) -> Result<Vec<StandardMessage>, Error> {
    seed_once(console).await?;
    let stored = console.store().standard_messages(true).await?;
    if stored.is_empty() {
        return Ok(console.standard.to_vec());
    }
    Ok(stored
        .into_iter()
        .filter(|m| m.retired_at.is_none())
        .map(|m| StandardMessage {
            name: m.name,
            text: m.text,
        })
        .collect())
}

/// Seeds the record from the file the first time the console reads the messages.
pub(super) async fn seed_once(console: &Console) -> Result<(), Error> {
    let file: Vec<(String, String)> = console
        .standard
        .iter()
        .map(|m| (m.name.clone(), m.text.clone()))
        .collect();
    if console
        .store()
        .seed_standard_messages(&file, Utc::now())
        .await?
    {
        tracing::info!(
            messages = file.len(),
            "the standard messages were copied into the record; managers edit them in the console from now on"
        );
    }
    Ok(())
}

/// What the placeholders of a standard message are filled in with.
pub(super) struct Fill<'a> {
    pub landlord: &'a str,
    /// The member of staff replying.
    pub staff: &'a str,
    /// The latest complaint's reference and response date, when there is one.
    pub reference: Option<&'a str>,
    pub due: Option<&'a str>,
    pub ombudsman: &'a Contact,
}

/// The standard messages filled in for a conversation's latest complaint.
pub(super) fn fill_in(messages: &[StandardMessage], fill: &Fill<'_>) -> Vec<StandardMessage> {
    let o = fill.ombudsman;
    messages
        .iter()
        .map(|m| StandardMessage {
            name: m.name.clone(),
            text: m
                .text
                .replace("{landlord}", fill.landlord)
                .replace("{staff}", fill.staff)
                .replace(
                    "{reference}",
                    fill.reference.unwrap_or("(no reference yet)"),
                )
                .replace("{due}", fill.due.unwrap_or("(no date yet)"))
                .replace("{ombudsman_phone}", &o.phone)
                .replace("{ombudsman_website}", &o.website)
                .replace("{ombudsman_address}", &o.address),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_landlords_standard_messages_replace_the_shipped_ones_and_are_checked() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("messages.toml");
        std::fs::write(
            &path,
            "[[message]]\nname = \"Welsh greeting\"\ntext = \"Shwmae, {staff} o {landlord} sydd yma.\"\n",
        )
        .expect("write");
        let own = load_standard_messages(Some(&path)).expect("loads");
        assert_eq!(own.len(), 1);
        assert_eq!(own[0].name, "Welsh greeting");
        std::fs::write(
            &path,
            "[[message]]\nname = \"Bad\"\ntext = \"Dear {tenant_name}\"\n",
        )
        .expect("write");
        let refused = load_standard_messages(Some(&path)).expect_err("refused");
        assert!(
            refused.contains("{tenant_name}") && refused.contains("\"Bad\""),
            "{refused}"
        );
        std::fs::write(&path, "").expect("write");
        assert!(load_standard_messages(Some(&path)).is_err(), "no messages");
        assert!(load_standard_messages(Some(&dir.path().join("missing.toml"))).is_err());
    }

    #[test]
    fn a_typed_standard_message_is_checked_as_the_file_is_with_a_length_limit() {
        assert_eq!(
            check_typed("Hello", "Hello from {landlord}, {staff}."),
            Ok(())
        );
        let unknown = check_typed("Hello", "Dear {tenant_name}").expect_err("refused");
        assert!(
            unknown.contains("{tenant_name}") && unknown.contains("{ombudsman_phone}"),
            "{unknown}"
        );
        assert!(check_typed("Hello", "  ").is_err());
        assert!(check_typed(" ", "Hello").is_err());
        assert_eq!(check_typed("Long", &"a".repeat(4000)), Ok(()));
        let long = check_typed("Long", &"a".repeat(4001)).expect_err("too long");
        assert!(long.contains("4001") && long.contains("4,000"), "{long}");
        assert!(check_typed(&"n".repeat(81), "Hello").is_err());
        // An unclosed brace is text, as the file loader has always read it.
        assert_eq!(check_typed("Brace", "Hello {landlord"), Ok(()));
    }

    #[test]
    fn the_shipped_standard_messages_load() {
        let messages = standard_messages();
        assert!(messages.len() >= 5);
        assert!(
            messages
                .iter()
                .any(|m| m.text.contains("{ombudsman_phone}"))
        );
    }
}
