//! Discord end to end: the real serenity client in `intake serve` against the fake Discord.

use std::time::Duration;

use super::settled;
use crate::helpers::fake_discord::{FakeDiscord, TOKEN};
use crate::helpers::{Bot, Said, TO_ACKNOWLEDGEMENT, WAIT, eventually, sqlite_in};

async fn answered(fake: &FakeDiscord, channel: u64, before: usize, expect: &str) {
    eventually(&format!("the bot to answer {expect:?}"), WAIT, async || {
        let sent = fake.sent_to(channel);
        sent[before.min(sent.len())..]
            .iter()
            .any(|s| s.text.contains(expect))
            .then_some(())
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_complaint_in_direct_messages_from_first_message_to_acknowledgement() {
    let dir = tempfile::tempdir().expect("tempdir");
    let fake = FakeDiscord::start().await;
    let database = sqlite_in(dir.path());
    let bot = Bot::start(
        &database,
        &dir.path().join("bot.log"),
        &[
            ("INTAKE_DISCORD_TOKEN", TOKEN.to_owned()),
            ("INTAKE_DISCORD_API_URL", fake.url.clone()),
        ],
    )
    .await;
    fake.wait_connected().await;
    let channel = 3001;

    for step in TO_ACKNOWLEDGEMENT {
        let before = fake.sent_to(channel).len();
        match step.said {
            Said::Text(text) => {
                fake.say(channel, text);
            }
            Said::Press(label) => fake.press(channel, label),
        }
        answered(&fake, channel, before, step.expect).await;
    }
    let sent = fake.sent_to(channel);
    let offer = sent
        .iter()
        .find(|s| s.text.contains("What would you like us to do?"))
        .expect("the offer");
    assert_eq!(offer.buttons.len(), 3, "choices are buttons: {offer:?}");
    let presses = TO_ACKNOWLEDGEMENT
        .iter()
        .filter(|s| matches!(s.said, Said::Press(_)))
        .count();
    assert_eq!(fake.acknowledged(), presses, "every press acknowledged");

    // A photo with no words, an edit, a 429 and a server channel.
    let before = fake.sent_to(channel).len();
    fake.photo(channel);
    answered(&fake, channel, before, "received your file").await;
    let before = fake.sent_to(channel).len();
    let said = fake.say(channel, "the boiler is making a noise");
    answered(&fake, channel, before, "").await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let before = fake.sent_to(channel).len();
    fake.edit(
        channel,
        said,
        "the boiler is making a noise and I can smell gas",
    );
    answered(&fake, channel, before, "0800 111 999").await;
    fake.refuse_next_sends(1);
    let before = fake.sent_to(channel).len();
    fake.say(channel, "what's happening with my complaint?");
    answered(&fake, channel, before, "is at stage 1").await;
    assert_eq!(fake.refused(), 1);

    let server_channel = 8080;
    fake.say_in_server(
        server_channel,
        "my flat is flooded and nobody is answering, I'm Sam at 4 Rowan Close",
    );
    fake.say_in_server(server_channel, "hello?");
    answered(&fake, server_channel, 0, "direct message").await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(fake.sent_to(server_channel).len(), 1, "invited once");

    let record = settled(&database, "discord", &channel.to_string()).await;
    assert_eq!(
        record.inbound.len(),
        TO_ACKNOWLEDGEMENT.len() + 4,
        "{record:#?}"
    );
    assert_eq!(record.cases.len(), 1);
    assert_eq!(record.consent_events, 1);
    assert_eq!(record.undelivered, 0);
    assert_eq!(record.outbound.len(), fake.sent_to(channel).len());
    let store = intake::store::Store::connect(&database)
        .await
        .expect("open");
    assert!(
        store
            .find_conversation("discord", &server_channel.to_string())
            .await
            .expect("query")
            .is_none(),
        "nothing is kept from a server channel"
    );
    assert!(!bot.log_text().contains(TOKEN), "the token was logged");
}
