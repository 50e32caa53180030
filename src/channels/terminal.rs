//! The terminal channel (`intake chat`): talk to the bot in a terminal, through the same
//! service and record as the real channels. With standard input from a file or pipe, each
//! line is one resident message.

use std::io::{IsTerminal as _, Write};

use anyhow::Context as _;
use chrono::Utc;
use tokio::io::AsyncBufReadExt;

use crate::core::dialog::{Input, Reply};
use crate::service::Intake;
use crate::store::Inbound;

/// The channel name in the record.
pub const CHANNEL: &str = "terminal";

/// The terminal channel: one line in, the bot's replies out, delivered from the outbox.
/// `name` is who the resident is: two runs with the same name continue the same
/// conversation; `landlord` is the name the greeting gives the bot.
pub async fn chat(intake: Intake, landlord: &str, name: String) -> anyhow::Result<()> {
    let interactive = std::io::stdin().is_terminal();
    if interactive {
        eprintln!(
            "You are talking to the {landlord} bot as {name:?}. Type a message and press Enter; Ctrl-D ends."
        );
    }
    let mut lines = tokio::io::BufReader::new(tokio::io::stdin()).lines();
    let mut out = std::io::stdout().lock();
    loop {
        if interactive {
            write!(out, "> ")?;
            out.flush()?;
        }
        let Some(line) = lines.next_line().await.context("reading standard input")? else {
            break;
        };
        let inbound = Inbound {
            channel: CHANNEL.to_owned(),
            chat: name.clone(),
            platform_message_id: None,
            body: line.clone(),
            attachments: Vec::new(),
            at: Utc::now(),
        };
        intake.handle(&inbound, &Input::Text(line)).await?;
        for item in intake.store().due_outbox(Utc::now(), 1000).await? {
            if item.channel != CHANNEL || item.chat != name {
                continue;
            }
            let reply: Reply = serde_json::from_str(&item.payload)?;
            writeln!(out, "{}", render_numbered(&reply))?;
            intake.store().mark_sent(item.id, Utc::now()).await?;
        }
        out.flush()?;
    }
    Ok(())
}

/// A reply as plain text, its choices as numbered options (for channels without buttons).
pub fn render_numbered(reply: &Reply) -> String {
    let mut text = reply.text.clone();
    for (i, c) in reply.choices.iter().enumerate() {
        text.push_str(&format!("\n  {}. {}", i + 1, c.label));
    }
    text.push('\n');
    text
}
