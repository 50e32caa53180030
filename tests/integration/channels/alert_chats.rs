//! Alerts in managers' chats: an urgent alert reaches a Telegram chat and a Discord channel
//! with an Acknowledge button. A press from someone who is not linked to a manager's account
//! (or is linked to an agent's) changes nothing; once a manager links their account with
//! `intake staff link`, their press acknowledges the alert, audited, and the chat is told.

use sqlx::Row;

use crate::helpers::fake_discord::{self, FakeDiscord};
use crate::helpers::fake_telegram::{self, FakeTelegram};
use crate::helpers::{Bot, WAIT, add_account, eventually, link_staff, sqlite_in};

const TELEGRAM_MANAGERS: i64 = -1_001_234_567_890;
const DISCORD_MANAGERS: u64 = 7777;
const GUILD: u64 = 42;

/// The alert's acknowledged-by staff id and whether the audit holds its acknowledgement.
async fn acknowledged_by(database: &str, alert: i64) -> (Option<i64>, i64) {
    let store = intake::store::Store::connect(database)
        .await
        .expect("store");
    let by: Option<i64> = sqlx::query("SELECT acknowledged_by FROM alerts WHERE id = $1")
        .bind(alert)
        .fetch_one(store.pool_for_tests())
        .await
        .expect("alert")
        .try_get("acknowledged_by")
        .expect("column");
    let audited: i64 = sqlx::query(
        "SELECT COUNT(*) AS n FROM audit WHERE action = 'acknowledge_alert' AND detail LIKE $1",
    )
    .bind(format!("%\"alert\":{alert}%"))
    .fetch_one(store.pool_for_tests())
    .await
    .expect("audit")
    .try_get("n")
    .expect("n");
    (by, audited)
}

/// The alert id an Acknowledge button carries.
fn alert_id(data: &str) -> i64 {
    data.strip_prefix("ack:")
        .and_then(|n| n.parse().ok())
        .expect("the button carries the alert's id")
}

fn config(dir: &std::path::Path, kind: &str, to: &str) -> String {
    let path = dir.join("intake.toml");
    std::fs::write(
        &path,
        format!(
            "[[alerts.sinks]]\nname = \"managers\"\nkind = \"{kind}\"\nto = \"{to}\"\nalerts = [\"emergency\", \"safeguarding\"]\n"
        ),
    )
    .expect("config");
    path.display().to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_urgent_alert_in_the_managers_telegram_chat_is_acknowledged_by_a_linked_manager() {
    let dir = tempfile::tempdir().expect("tempdir");
    let fake = FakeTelegram::start().await;
    let database = sqlite_in(dir.path());
    let bot = Bot::start(
        &database,
        &dir.path().join("bot.log"),
        &[
            ("INTAKE_TELEGRAM_TOKEN", fake_telegram::TOKEN.to_owned()),
            ("INTAKE_TELEGRAM_API_URL", fake.url.clone()),
            (
                "INTAKE_CONFIG",
                config(dir.path(), "telegram", &TELEGRAM_MANAGERS.to_string()),
            ),
        ],
    )
    .await;
    add_account(&database, "Mo Manager", "mo@example.org", "manager");
    add_account(&database, "Bea Agent", "bea@example.org", "agent");

    fake.say(4101, "I can smell gas in the kitchen").await;
    let alert = eventually("the alert in the managers' chat", WAIT, async || {
        fake.sent_to(TELEGRAM_MANAGERS).into_iter().find_map(|s| {
            s.buttons
                .iter()
                .find(|(label, _)| label == "Acknowledge")
                .map(|(_, data)| (s.text.clone(), data.clone()))
        })
    })
    .await;
    assert!(
        alert.0.contains("URGENT") && alert.0.contains("emergency"),
        "{}",
        alert.0
    );
    let id = alert_id(&alert.1);

    // Someone in the chat who is not linked: nothing changes, and they are told why.
    fake.press_as(TELEGRAM_MANAGERS, "supergroup", 555, "Acknowledge")
        .await;
    eventually("the press answered", WAIT, async || {
        fake.callback_answer_texts()
            .iter()
            .any(|t| t.contains("Only a manager"))
            .then_some(())
    })
    .await;
    assert_eq!(acknowledged_by(&database, id).await, (None, 0));
    // An agent's account linked: still not a manager.
    assert_eq!(
        link_staff(&database, "bea@example.org", "--telegram", "556"),
        0
    );
    fake.press_as(TELEGRAM_MANAGERS, "supergroup", 556, "Acknowledge")
        .await;
    eventually("the agent's press answered", WAIT, async || {
        (fake
            .callback_answer_texts()
            .iter()
            .filter(|t| t.contains("Only a manager"))
            .count()
            == 2)
            .then_some(())
    })
    .await;
    assert_eq!(acknowledged_by(&database, id).await, (None, 0));

    // The manager links their account and presses: acknowledged, audited, the chat told.
    assert_ne!(
        link_staff(&database, "nobody@example.org", "--telegram", "557"),
        0,
        "linking an account that does not exist fails"
    );
    assert_eq!(
        link_staff(&database, "mo@example.org", "--telegram", "555"),
        0
    );
    fake.press_as(TELEGRAM_MANAGERS, "supergroup", 555, "Acknowledge")
        .await;
    eventually("the chat told who acknowledged", WAIT, async || {
        fake.sent_to(TELEGRAM_MANAGERS)
            .iter()
            .any(|s| s.text == format!("Alert {id} acknowledged by Mo Manager."))
            .then_some(())
    })
    .await;
    let (by, audited) = acknowledged_by(&database, id).await;
    assert!(by.is_some(), "acknowledged");
    assert_eq!(audited, 1);
    fake.press_as(TELEGRAM_MANAGERS, "supergroup", 555, "Acknowledge")
        .await;
    eventually("a second press answered", WAIT, async || {
        fake.callback_answer_texts()
            .iter()
            .any(|t| t.contains("already acknowledged"))
            .then_some(())
    })
    .await;
    assert_eq!(acknowledged_by(&database, id).await.1, 1, "audited once");
    // Talk in the managers' chat gets no invitation to write privately.
    fake.say_in_group(TELEGRAM_MANAGERS, "on it").await;
    // Updates are handled in order: once the resident's next message is answered, the
    // managers' one before it has been too.
    let before = fake.sent_to(4101).len();
    fake.say(4101, "thank you").await;
    eventually("the resident answered", WAIT, async || {
        (fake.sent_to(4101).len() > before).then_some(())
    })
    .await;
    assert!(
        !fake
            .sent_to(TELEGRAM_MANAGERS)
            .iter()
            .any(|s| s.text.contains("one to one")),
        "no invitation to write privately in the managers' chat"
    );
    assert!(!bot.log_text().contains(fake_telegram::TOKEN));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_urgent_alert_in_the_managers_discord_channel_is_acknowledged_by_a_linked_manager() {
    let dir = tempfile::tempdir().expect("tempdir");
    let fake = FakeDiscord::start().await;
    let database = sqlite_in(dir.path());
    let _bot = Bot::start(
        &database,
        &dir.path().join("bot.log"),
        &[
            ("INTAKE_DISCORD_TOKEN", fake_discord::TOKEN.to_owned()),
            ("INTAKE_DISCORD_API_URL", fake.url.clone()),
            (
                "INTAKE_CONFIG",
                config(dir.path(), "discord", &DISCORD_MANAGERS.to_string()),
            ),
        ],
    )
    .await;
    fake.wait_connected().await;
    add_account(&database, "Mo Manager", "mo@example.org", "manager");

    fake.say(3101, "he hit me again");
    let alert = eventually("the alert in the managers' channel", WAIT, async || {
        fake.sent_to(DISCORD_MANAGERS).into_iter().find_map(|s| {
            s.buttons
                .iter()
                .find(|(label, _)| label == "Acknowledge")
                .map(|(_, custom)| (s.text.clone(), custom.clone()))
        })
    })
    .await;
    assert!(alert.0.contains("safeguarding"), "{}", alert.0);
    let id = alert_id(&alert.1);

    fake.press_as(DISCORD_MANAGERS, 888, Some(GUILD), "Acknowledge");
    eventually("the press refused, to the presser only", WAIT, async || {
        fake.answers()
            .iter()
            .any(|(text, private)| *private && text.contains("Only a manager"))
            .then_some(())
    })
    .await;
    assert!(
        !fake
            .sent_to(DISCORD_MANAGERS)
            .iter()
            .any(|s| s.text.contains("Only a manager")),
        "a refusal is not posted in the channel"
    );
    assert_eq!(acknowledged_by(&database, id).await, (None, 0));
    // Talk in the managers' channel gets no invitation to a direct message.
    fake.say_in_server(DISCORD_MANAGERS, "on it");
    assert_eq!(
        link_staff(&database, "mo@example.org", "--discord", "888"),
        0
    );
    fake.press_as(DISCORD_MANAGERS, 888, Some(GUILD), "Acknowledge");
    eventually("the channel told who acknowledged", WAIT, async || {
        fake.sent_to(DISCORD_MANAGERS)
            .iter()
            .any(|s| s.text == format!("Alert {id} acknowledged by Mo Manager."))
            .then_some(())
    })
    .await;
    let (by, audited) = acknowledged_by(&database, id).await;
    assert!(by.is_some());
    assert_eq!(audited, 1);
    assert!(
        !fake
            .sent_to(DISCORD_MANAGERS)
            .iter()
            .any(|s| s.text.contains("one to one")),
        "no invitation to a direct message in the managers' channel"
    );
}
