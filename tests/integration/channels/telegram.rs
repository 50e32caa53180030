//! Telegram end to end: the real teloxide client in `intake serve` against the fake Bot API.

use std::time::Duration;

use futures::FutureExt as _;

use super::settled;
use crate::helpers::fake_telegram::{FakeTelegram, TOKEN};
use crate::helpers::{Bot, Said, TO_ACKNOWLEDGEMENT, WAIT, client, eventually, sqlite_in};

fn polling(fake: &FakeTelegram) -> Vec<(&'static str, String)> {
    vec![
        ("INTAKE_TELEGRAM_TOKEN", TOKEN.to_owned()),
        ("INTAKE_TELEGRAM_API_URL", fake.url.clone()),
    ]
}

/// Does what the step says, then waits until the bot has answered with the expected words;
/// returns how many messages the bot had sent the chat by then.
async fn take_step(fake: &FakeTelegram, chat: i64, said: Said, expect: &str) -> usize {
    let before = fake.sent_to(chat).len();
    match said {
        Said::Text(text) => fake.say(chat, text).await,
        Said::Press(label) => fake.press(chat, label).await,
    };
    answered(fake, chat, before, expect).await
}

async fn answered(fake: &FakeTelegram, chat: i64, before: usize, expect: &str) -> usize {
    let so_far = || {
        fake.sent_to(chat)
            .iter()
            .skip(before)
            .map(|s| s.text.clone())
            .collect::<Vec<_>>()
    };
    let what = format!("the bot to answer {expect:?}");
    let waited = tokio::time::timeout(
        WAIT + Duration::from_secs(1),
        eventually(&what, WAIT, async || {
            let sent = fake.sent_to(chat);
            sent[before.min(sent.len())..]
                .iter()
                .any(|s| s.text.contains(expect))
                .then_some(sent.len())
        }),
    );
    match std::panic::AssertUnwindSafe(waited).catch_unwind().await {
        Ok(Ok(n)) => n,
        _ => panic!(
            "timed out waiting for {what}; the bot said: {:#?}",
            so_far()
        ),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_complaint_by_long_polling_from_first_message_to_acknowledgement() {
    let dir = tempfile::tempdir().expect("tempdir");
    let fake = FakeTelegram::start().await;
    let database = sqlite_in(dir.path());
    let bot = Bot::start(&database, &dir.path().join("bot.log"), &polling(&fake)).await;
    let chat = 4001;
    for step in TO_ACKNOWLEDGEMENT {
        take_step(&fake, chat, step.said, step.expect).await;
    }
    // Choices were inline keyboards, and every press was answered (the spinner stops).
    let _ = settled(&database, "telegram", &chat.to_string()).await;
    let sent = fake.sent_to(chat);
    let offer = sent
        .iter()
        .find(|s| s.text.contains("What would you like us to do?"))
        .expect("the offer");
    assert_eq!(
        offer
            .buttons
            .iter()
            .map(|(_, d)| d.as_str())
            .collect::<Vec<_>>(),
        ["complaint", "service_request", "just_tell"]
    );
    let presses = TO_ACKNOWLEDGEMENT
        .iter()
        .filter(|s| matches!(s.said, Said::Press(_)))
        .count();
    eventually("every button press answered", WAIT, async || {
        (fake.callback_answers() >= presses).then_some(())
    })
    .await;
    assert_eq!(
        fake.commands(),
        [
            "start", "help", "complain", "status", "human", "privacy", "stop"
        ]
    );
    let acknowledgement = &sent
        .iter()
        .find(|s| s.text.contains("Reference: C"))
        .expect("acknowledgement")
        .text;
    assert!(
        acknowledgement.contains("Housing Ombudsman"),
        "{acknowledgement}"
    );

    // The record: every message once, pressed buttons kept as their labels, every reply
    // delivered, one complaint at stage 1, consent recorded.
    let record = settled(&database, "telegram", &chat.to_string()).await;
    assert_eq!(
        record.inbound.len(),
        TO_ACKNOWLEDGEMENT.len(),
        "{record:#?}"
    );
    assert!(
        record
            .inbound
            .iter()
            .any(|(_, body)| body == "Make a complaint")
    );
    assert_eq!(record.outbound.len(), sent.len(), "{record:#?}");
    assert_eq!(record.undelivered, 0);
    assert_eq!(record.cases.len(), 1);
    assert_eq!(record.cases[0].1, 1);
    assert!(acknowledgement.contains(&record.cases[0].0));
    assert_eq!(record.consent_events, 1);
    // The token never reaches the log.
    assert!(!bot.log_text().contains(TOKEN), "the bot token was logged");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn photos_stickers_edits_groups_and_429_through_telegram() {
    let dir = tempfile::tempdir().expect("tempdir");
    let fake = FakeTelegram::start().await;
    let database = sqlite_in(dir.path());
    let _bot = Bot::start(&database, &dir.path().join("bot.log"), &polling(&fake)).await;
    let chat = 4002;

    // A damp photo with words: the file is kept and the words are read.
    let before = fake.sent_to(chat).len();
    fake.photo(
        chat,
        Some("black mould all over the bedroom wall, third time I've reported it"),
    )
    .await;
    answered(&fake, chat, before, "received your file").await;
    // A sticker: a helpful reply, and kept.
    let before = fake.sent_to(chat).len();
    fake.sticker(chat).await;
    answered(&fake, chat, before, "can't open that kind of message").await;

    // An edit is recorded as a new version; a gas leak in it still gets the numbers at once.
    let before = fake.sent_to(chat).len();
    fake.say(chat, "the boiler is making a noise").await;
    let message_id = fake.last_resident_message();
    eventually("the message to be answered", WAIT, async || {
        (fake.sent_to(chat).len() > before).then_some(())
    })
    .await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let before = fake.sent_to(chat).len();
    fake.edit(
        chat,
        message_id,
        "the boiler is making a noise and I can smell gas",
    )
    .await;
    answered(&fake, chat, before, "0800 111 999").await;
    // Correcting a typo in that message does not raise the alarm again.
    let before = fake.sent_to(chat).len();
    fake.edit(
        chat,
        message_id,
        "the boiler is making a noise and I can smell gas!!",
    )
    .await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(
        fake.sent_to(chat).len(),
        before,
        "no second alarm for a typo fix"
    );

    // Replies refused with 429 are sent after retry_after, in order, none lost.
    fake.refuse_next_sends(2);
    let before = fake.sent_to(chat).len();
    fake.say(chat, "what's happening with my complaint?").await;
    answered(&fake, chat, before, "can't find a complaint").await;
    assert_eq!(fake.refused(), 2);

    // In a group: one short invitation to write privately, and nothing recorded.
    let group = -100_555;
    fake.say_in_group(
        group,
        "my neighbour at number 4 is dealing drugs, my name is Sam Jones",
    )
    .await;
    fake.say_in_group(group, "hello?").await;
    eventually("the group invitation", WAIT, async || {
        (!fake.sent_to(group).is_empty()).then_some(())
    })
    .await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let invitations = fake.sent_to(group);
    assert_eq!(invitations.len(), 1, "{invitations:?}");
    assert!(invitations[0].text.contains("direct message"));

    let record = settled(&database, "telegram", &chat.to_string()).await;
    let store = intake::store::Store::connect(&database)
        .await
        .expect("open");
    assert!(
        store
            .find_conversation("telegram", &group.to_string())
            .await
            .expect("query")
            .is_none(),
        "nothing is kept from a group"
    );
    let photo =
        sqlx::query("SELECT attachments FROM messages WHERE attachments LIKE '%damp-photo-large%'")
            .fetch_all(store.pool_for_tests())
            .await
            .expect("query");
    assert_eq!(
        photo.len(),
        1,
        "the largest photo size is kept by its file id"
    );
    assert!(
        record
            .inbound
            .iter()
            .any(|(_, b)| b.starts_with("[sticker"))
    );
    let versions: Vec<_> = record
        .inbound
        .iter()
        .filter(|(id, _)| {
            id.as_deref()
                .is_some_and(|id| id.starts_with(&format!("{chat}:{message_id}")))
        })
        .collect();
    assert_eq!(
        versions.len(),
        3,
        "the original and two edits: {versions:?}"
    );
    assert!(
        versions[0].1.ends_with("noise")
            && versions[1].1.contains("smell gas")
            && versions[2].1.ends_with("gas!!")
    );
    assert_eq!(record.undelivered, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn by_webhook_with_its_secret_and_refusing_requests_without_it() {
    let dir = tempfile::tempdir().expect("tempdir");
    let fake = FakeTelegram::start().await;
    let database = sqlite_in(dir.path());
    let mut env = polling(&fake);
    env.push(("INTAKE_TELEGRAM_MODE", "webhook".to_owned()));
    env.push((
        "INTAKE_TELEGRAM_WEBHOOK_URL",
        "{base}/telegram/webhook".to_owned(),
    ));
    env.push((
        "INTAKE_TELEGRAM_WEBHOOK_SECRET",
        "s3cret-webhook-token".to_owned(),
    ));
    let bot = Bot::start(&database, &dir.path().join("bot.log"), &env).await;
    let (url, secret) = fake.webhook().expect("the bot registered its webhook");
    assert_eq!(url, format!("{}/telegram/webhook", bot.base));
    assert_eq!(secret, "s3cret-webhook-token");

    // Without the secret, or with a wrong one: 401, and nothing recorded.
    let client = client();
    let update = r#"{"update_id": 900, "message": {"message_id": 1, "date": 1700000000,
        "chat": {"id": 4100, "type": "private", "first_name": "Mallory"},
        "from": {"id": 4100, "is_bot": false, "first_name": "Mallory"}, "text": "hello"}}"#;
    for secret in [None, Some("wrong")] {
        let mut request = client
            .post(&url)
            .header("Content-Type", "application/json")
            .body(update);
        if let Some(s) = secret {
            request = request.header("X-Telegram-Bot-Api-Secret-Token", s);
        }
        let response = request.send().await.expect("post");
        assert_eq!(response.status(), 401);
    }
    // Malformed: 400.
    let response = client
        .post(&url)
        .header("X-Telegram-Bot-Api-Secret-Token", "s3cret-webhook-token")
        .body("{not json")
        .send()
        .await
        .expect("post");
    assert_eq!(response.status(), 400);
    let store = intake::store::Store::connect(&database)
        .await
        .expect("open");
    assert!(
        store
            .find_conversation("telegram", "4100")
            .await
            .expect("q")
            .is_none()
    );

    let chat = 4003;
    for step in TO_ACKNOWLEDGEMENT {
        take_step(&fake, chat, step.said, step.expect).await;
    }
    let record = settled(&database, "telegram", &chat.to_string()).await;
    assert_eq!(record.inbound.len(), TO_ACKNOWLEDGEMENT.len());
    assert_eq!(record.cases.len(), 1);
    assert_eq!(record.undelivered, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_mid_conversation_and_restarted_nothing_lost_nothing_twice() {
    let dir = tempfile::tempdir().expect("tempdir");
    let fake = FakeTelegram::start().await;
    let database = sqlite_in(dir.path());
    let log = dir.path().join("bot.log");
    let mut bot = Bot::start(&database, &log, &polling(&fake)).await;
    let chat = 4004;
    let (first, rest) = TO_ACKNOWLEDGEMENT.split_at(4);
    for step in first {
        take_step(&fake, chat, step.said, step.expect).await;
    }
    // The worst moment: the next message is committed and answered, but the bot dies before
    // its next getUpdates call tells Telegram the update was handled.
    fake.hold_polls(true);
    let (crash_step, rest) = rest.split_first().expect("steps");
    let before = fake.sent_to(chat).len();
    let update = match crash_step.said {
        Said::Text(text) => fake.say(chat, text).await,
        Said::Press(label) => fake.press(chat, label).await,
    };
    answered(&fake, chat, before, crash_step.expect).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    bot.kill();
    fake.hold_polls(false);

    // Restarted on the same record: Telegram hands the update over again...
    let _bot = Bot::start(&database, &log, &polling(&fake)).await;
    eventually("the update handed over again", WAIT, async || {
        (fake.handed_over(update) >= 2).then_some(())
    })
    .await;
    // ...and the conversation carries on from where it was.
    for step in rest {
        take_step(&fake, chat, step.said, step.expect).await;
    }
    let record = settled(&database, "telegram", &chat.to_string()).await;
    assert_eq!(
        record.inbound.len(),
        TO_ACKNOWLEDGEMENT.len(),
        "recorded once: {record:#?}"
    );
    let sent = fake.sent_to(chat);
    let answers = sent[before..]
        .iter()
        .filter(|s| s.text.contains(crash_step.expect))
        .count();
    assert_eq!(answers, 1, "answered once");
    assert_eq!(
        sent.len(),
        record.outbound.len(),
        "every recorded reply sent exactly once: {:#?}",
        sent.iter().map(|s| &s.text).collect::<Vec<_>>()
    );
    assert_eq!(record.cases.len(), 1);
    assert_eq!(record.undelivered, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_before_it_could_record_a_message_the_message_is_not_lost() {
    let dir = tempfile::tempdir().expect("tempdir");
    let fake = FakeTelegram::start().await;
    let database = sqlite_in(dir.path());
    let log = dir.path().join("bot.log");
    let mut bot = Bot::start(&database, &log, &polling(&fake)).await;
    let chat = 4005;
    let first = &TO_ACKNOWLEDGEMENT[0];
    take_step(&fake, chat, first.said, first.expect).await;
    // Killed while the bot is down, messages wait at Telegram; nothing is lost.
    bot.kill();
    let before = fake.sent_to(chat).len();
    fake.press(chat, "Make a complaint").await;
    let _bot = Bot::start(&database, &log, &polling(&fake)).await;
    answered(&fake, chat, before, "Do you agree?").await;
    let record = settled(&database, "telegram", &chat.to_string()).await;
    assert_eq!(record.inbound.len(), 2);
    assert_eq!(record.undelivered, 0);
}
