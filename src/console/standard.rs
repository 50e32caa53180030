//! The standard messages staff can start a reply from: the shipped ones
//! (`src/console/standard_messages.toml`) or the landlord's own (`console.standard_messages`),
//! with placeholders the console fills in for the conversation's latest complaint.

use serde::Deserialize;

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
        let mut rest = m.text.as_str();
        while let Some(open) = rest.find('{') {
            let after = &rest[open + 1..];
            let Some(close) = after.find('}') else {
                break;
            };
            let name = &after[..close];
            if !STANDARD_PLACEHOLDERS.contains(&name) {
                return Err(format!(
                    "{file}: message {:?} uses {{{name}}}, which the console cannot fill in (it can fill {})",
                    m.name,
                    STANDARD_PLACEHOLDERS
                        .iter()
                        .map(|p| format!("{{{p}}}"))
                        .collect::<Vec<_>>()
                        .join(", ")
                ));
            }
            rest = &after[close + 1..];
        }
    }
    Ok(messages)
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
