//! Files in the web chat over HTTP, on SQLite and PostgreSQL: a photo is kept with its message
//! and shown to staff only; anything too big, of the wrong kind, past the day's allowance or
//! without a session is refused with a clear message and writes nothing. Also the live
//! stream: a staff reply arrives labelled "staff", with the name, as the history labels it.

use std::time::Duration;

use base64::Engine as _;
use serde_json::Value;

use super::web::{listen, replies_until};
use crate::helpers::databases::Schema;
use crate::helpers::resident::session;
use crate::helpers::staff::{act, csrf_of, no_redirects, page, sign_in};
use crate::helpers::{Bot, PASSWORD, add_account, client, count, sqlite_in};

/// A real 1x1 PNG.
pub const PNG: &str = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg==";
/// What the chat says when a file is neither a photo nor a PDF.
pub const WRONG_KIND: &str =
    "We can only take photos (JPEG, PNG, GIF, WebP, HEIC) and PDF documents.";

pub fn png() -> Vec<u8> {
    base64::engine::general_purpose::STANDARD
        .decode(PNG)
        .expect("the test PNG")
}

const NAME: &str = "Sam Officer";
const EMAIL: &str = "sam@example.org";

/// Posts a file as the page does: the bytes, the name and an id in headers.
async fn upload(
    base: &str,
    cookie: Option<&str>,
    name: &str,
    id: &str,
    bytes: Vec<u8>,
) -> reqwest::Response {
    upload_with(base, cookie, name, id, bytes, &[]).await
}

/// The same with more headers (a caption).
async fn upload_with(
    base: &str,
    cookie: Option<&str>,
    name: &str,
    id: &str,
    bytes: Vec<u8>,
    headers: &[(&str, &str)],
) -> reqwest::Response {
    let mut request = client()
        .post(format!("{base}/chat/api/attachments"))
        .header("Content-Type", "application/octet-stream")
        .header("X-File-Name", name)
        .header("X-Message-Id", id)
        .timeout(Duration::from_secs(60))
        .body(bytes);
    if let Some(c) = cookie {
        request = request.header("Cookie", c);
    }
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    request.send().await.expect("upload")
}

/// A console path fetched as a browser would, signed in with `cookie` or not, without
/// following a redirect.
async fn fetch(base: &str, cookie: Option<&str>, path: &str) -> reqwest::Response {
    let mut request = no_redirects().get(format!("{base}{path}"));
    if let Some(c) = cookie {
        request = request.header("Cookie", c);
    }
    request.send().await.expect("get")
}

/// A response's header, or "" without it.
fn header(response: &reqwest::Response, name: &str) -> String {
    response
        .headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned()
}

/// The refusal's status and words.
async fn refusal(response: reqwest::Response) -> (u16, String) {
    let status = response.status().as_u16();
    let body: Value = response.json().await.expect("a JSON error");
    (status, body["error"].as_str().expect("words").to_owned())
}

async fn files_are_checked_kept_and_served_to_staff_only(database: &str, dir: &std::path::Path) {
    let bot = Bot::start(database, &dir.join("bot.log"), &[]).await;
    add_account(database, NAME, EMAIL, "complaints_officer");
    let cookie = session(&bot.base).await;

    // Refused, with words the page shows, and nothing written.
    let (status, words) = refusal(upload(&bot.base, None, "damp.png", "a", png()).await).await;
    assert_eq!(status, 401, "{words}");
    let mut huge = png();
    huge.resize(10 * 1024 * 1024 + 1, 0);
    let (status, words) =
        refusal(upload(&bot.base, Some(&cookie), "huge.png", "b", huge).await).await;
    assert_eq!((status, words.contains("too big")), (413, true), "{words}");
    let html = b"<!doctype html><script>alert(document.cookie)</script>".to_vec();
    let svg = b"<svg xmlns=\"http://www.w3.org/2000/svg\" onload=\"alert(1)\"/>".to_vec();
    for (name, bytes) in [("mould.jpg", html), ("wall.jpg", svg)] {
        let (status, words) =
            refusal(upload(&bot.base, Some(&cookie), name, name, bytes).await).await;
        assert_eq!((status, words.as_str()), (415, WRONG_KIND), "{name}");
    }
    assert_eq!(count(database, "attachments").await, 0);
    assert_eq!(count(database, "messages").await, 0, "nothing half-written");

    // A photo: kept with its message, answered by the bot, and a retry is recorded once.
    for (status, what) in [(202, "received"), (200, "a retry is already received")] {
        let response = upload(
            &bot.base,
            Some(&cookie),
            "damp%20wall.png",
            "photo-1",
            png(),
        )
        .await;
        assert_eq!(response.status(), status, "{what}");
    }
    assert_eq!(count(database, "attachments").await, 1);
    assert_eq!(
        count(
            database,
            "attachments a JOIN messages m ON m.id = a.message_id \
             WHERE m.direction = 'in' AND a.name = 'damp wall.png' \
             AND a.content_type = 'image/png' AND a.size = 70"
        )
        .await,
        1,
        "the file is on the resident's message, with the type read from its bytes"
    );
    let resident = crate::helpers::Resident::in_session(&bot.base, &cookie);
    resident.hears(0, "bot", "received your file").await;
    let history = resident.history().await;
    assert_eq!(
        history[0]["attachments"],
        serde_json::json!(["damp wall.png"])
    );
    let token: String = {
        let store = intake::store::Store::connect(database).await.expect("open");
        let conversation = store
            .conversation_files(intake::core::ids::ConversationId(1))
            .await
            .expect("files");
        conversation[0].token.clone()
    };
    assert!(
        !history.iter().any(|l| l.to_string().contains(&token)),
        "the resident's chat names the file, and never gives its address"
    );

    // Staff see it on the conversation page and fetch it, with headers that keep it inert.
    let staff = sign_in(&bot.base, EMAIL, PASSWORD).await.expect("sign in");
    let (status, html) = page(&bot.base, &staff, "/console/conversations/1").await;
    assert_eq!(status, 200);
    assert!(
        html.contains(&format!(
            "<img class=\"thumb\" src=\"/console/files/{token}\""
        )),
        "a thumbnail on the conversation page"
    );
    let file = fetch(&bot.base, Some(&staff), &format!("/console/files/{token}")).await;
    assert_eq!(file.status(), 200);
    assert_eq!(header(&file, "content-type"), "image/png");
    assert_eq!(header(&file, "x-content-type-options"), "nosniff");
    assert_eq!(header(&file, "content-security-policy"), "sandbox");
    assert!(header(&file, "content-disposition").starts_with("inline;"));
    assert_eq!(file.bytes().await.expect("bytes").to_vec(), png());

    // Nobody else: anonymous is sent to sign in; an unknown token is not found.
    let anonymous = fetch(&bot.base, None, &format!("/console/files/{token}")).await;
    assert_eq!(anonymous.status(), 303);
    assert_eq!(header(&anonymous, "location"), "/console/login");
    for missing in ["0123456789abcdef0123456789abcdef", "not-a-token"] {
        let (status, _) = page(&bot.base, &staff, &format!("/console/files/{missing}")).await;
        assert_eq!(status, 404, "{missing}");
    }

    // A PDF is a download, never shown in the console's origin.
    let pdf = b"%PDF-1.4\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF\n".to_vec();
    let response = upload(&bot.base, Some(&cookie), "letter.pdf", "pdf-1", pdf).await;
    assert_eq!(response.status(), 202);
    let (_, html) = page(&bot.base, &staff, "/console/conversations/1").await;
    let at = html.find(">letter.pdf</a>").expect("a link to the PDF");
    let href = &html[html[..at].rfind("href=\"").expect("href") + 6..at - 1];
    let file = fetch(&bot.base, Some(&staff), href).await;
    assert_eq!(header(&file, "content-type"), "application/pdf");
    assert!(header(&file, "content-disposition").starts_with("attachment;"));

    // Twenty files a day: the next is refused with the reason, and not written.
    for n in 2..20 {
        loop {
            let response = upload(&bot.base, Some(&cookie), "p.png", &format!("p{n}"), png()).await;
            if response.status() == 429 {
                // The per-session allowance (shared with messages), not the day's.
                let (_, words) = refusal(response).await;
                assert!(words.contains("very quickly"), "{words}");
                tokio::time::sleep(Duration::from_millis(2100)).await;
                continue;
            }
            assert_eq!(response.status(), 202, "file {n}");
            break;
        }
    }
    assert_eq!(count(database, "attachments").await, 20);
    let messages = count(database, "messages").await;
    // Past the burst of the per-session allowance, so the refusal is the day's.
    tokio::time::sleep(Duration::from_millis(2500)).await;
    let (status, words) =
        refusal(upload(&bot.base, Some(&cookie), "p.png", "p21", png()).await).await;
    assert_eq!(
        (status, words.contains("20 files today")),
        (429, true),
        "{words}"
    );
    assert_eq!(count(database, "attachments").await, 20);
    assert_eq!(count(database, "messages").await, messages);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn files_are_checked_kept_and_served_to_staff_only_on_both_databases() {
    let dir = tempfile::tempdir().expect("tempdir");
    files_are_checked_kept_and_served_to_staff_only(&sqlite_in(dir.path()), dir.path()).await;
    let pg = Schema::create().await;
    let dir = tempfile::tempdir().expect("tempdir");
    files_are_checked_kept_and_served_to_staff_only(&pg.url(), dir.path()).await;
    pg.drop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_staff_reply_arrives_on_the_live_stream_labelled_staff() {
    let dir = tempfile::tempdir().expect("tempdir");
    let database = sqlite_in(dir.path());
    let bot = Bot::start(&database, &dir.path().join("bot.log"), &[]).await;
    add_account(&database, NAME, EMAIL, "complaints_officer");
    let cookie = session(&bot.base).await;
    let mut events = listen(&bot.base, &cookie).await;
    let resident = crate::helpers::Resident::in_session(&bot.base, &cookie);
    resident.say("my kitchen ceiling is leaking again").await;
    let first = replies_until(&mut events, "").await;
    assert_eq!(first[0]["from"], "bot");

    let staff = sign_in(&bot.base, EMAIL, PASSWORD).await.expect("sign in");
    let (_, html) = page(&bot.base, &staff, "/console/conversations/1").await;
    let csrf = csrf_of(&html);
    let path = "/console/conversations/1";
    assert_eq!(
        act(
            &bot.base,
            &staff,
            &format!("{path}/claim"),
            &[("csrf", &csrf)]
        )
        .await,
        303
    );
    let reply = "Hello, Sam here: a roofer can come on Thursday.";
    let sent = act(
        &bot.base,
        &staff,
        &format!("{path}/reply"),
        &[("csrf", &csrf), ("text", reply)],
    )
    .await;
    assert_eq!(sent, 303);
    let live = replies_until(&mut events, reply).await;
    let line = live.last().expect("the reply");
    assert_eq!(line["from"], "staff", "{line}");
    assert_eq!(line["name"], NAME, "{line}");
    // The history says the same of the same line.
    let history = resident.history().await;
    let kept = history
        .iter()
        .find(|l| l["id"] == line["id"])
        .expect("the reply in the history");
    assert_eq!(
        (&kept["from"], &kept["name"]),
        (&line["from"], &line["name"])
    );
}

#[test]
fn a_file_is_written_with_its_message_and_erased_with_the_conversation() {
    use intake::core::dialog::Input;
    use intake::store::{Attachment, Inbound, Upload};
    crate::helpers::on_both(|store| async move {
        let service = crate::helpers::intake(store.clone());
        let now = crate::helpers::at("2026-12-02T10:00:00Z");
        let upload = Upload::new("damp.png".to_owned(), "image/png", png());
        let sha256 = upload.sha256.clone();
        let photo = Inbound {
            channel: "web".to_owned(),
            chat: "resident-1".to_owned(),
            platform_message_id: Some("resident-1:photo".to_owned()),
            body: String::new(),
            attachments: vec![upload.attachment()],
            at: now,
        };
        let staged = upload.stage();
        let handled = service
            .handle(&photo, &Input::Attachment)
            .await
            .expect("handled");
        drop(staged);
        assert!(handled.replies[0].text.contains("received your file"));

        // An upload abandoned before its message was written (the phone lost signal, the
        // handler went): the message is refused rather than recorded without its file, so
        // the page's retry with the same id records both.
        let lost = Upload::new("mould.png".to_owned(), "image/png", png());
        let abandoned = Inbound {
            platform_message_id: Some("resident-1:lost".to_owned()),
            attachments: vec![lost.attachment()],
            ..photo.clone()
        };
        drop(lost.clone().stage());
        let refused = service.handle(&abandoned, &Input::Attachment).await;
        assert!(
            matches!(refused, Err(intake::store::StoreError::UploadGone)),
            "{refused:?}"
        );
        let retry = lost.stage();
        let again = service
            .handle(&abandoned, &Input::Attachment)
            .await
            .expect("the retry is recorded");
        drop(retry);
        assert!(
            !again.duplicate,
            "the refused message was not half-recorded"
        );
        let conversation = handled.conversation;
        let files = store.conversation_files(conversation).await.expect("files");
        assert_eq!(files.len(), 2, "the photo and the retried upload");
        assert_eq!(
            (files[0].size, files[0].sha256.as_str()),
            (70, sha256.as_str())
        );
        let kept = store
            .file(&files[0].token)
            .await
            .expect("read")
            .expect("kept");
        assert_eq!(kept.bytes, png());

        // A file a platform names (Telegram's file id, not staged here) is only named on its
        // message.
        let named = Inbound {
            channel: "telegram".to_owned(),
            platform_message_id: Some("resident-1:named".to_owned()),
            attachments: vec![Attachment {
                kind: "photo".to_owned(),
                platform_file_id: "AgADBAADq6cxG".to_owned(),
                name: None,
                size: Some(70),
            }],
            ..photo.clone()
        };
        let on_telegram = service
            .handle(&named, &Input::Attachment)
            .await
            .expect("handled");
        assert!(
            store
                .conversation_files(on_telegram.conversation)
                .await
                .expect("files")
                .is_empty()
        );
        assert_eq!(
            store
                .conversation_files(conversation)
                .await
                .expect("files")
                .len(),
            2
        );

        // The retention purge takes the file with the conversation's personal data.
        let mut record = store.begin().await.expect("begin");
        record.erase_conversation(conversation, &[], now);
        record.commit().await.expect("erase");
        assert!(
            store
                .conversation_files(conversation)
                .await
                .expect("files")
                .is_empty()
        );
        assert!(store.file(&files[0].token).await.expect("read").is_none());
    });
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_file_with_words_disclosing_a_disability_is_kept_from_roles_that_do_not_see_them() {
    let dir = tempfile::tempdir().expect("tempdir");
    let database = sqlite_in(dir.path());
    let bot = Bot::start(&database, &dir.path().join("bot.log"), &[]).await;
    add_account(&database, NAME, EMAIL, "complaints_officer");
    add_account(&database, "Ash Agent", "ash@example.org", "agent");
    let cookie = session(&bot.base).await;
    // The caption is read as the message's words (percent-encoded, as the page sends it).
    let caption =
        "as%20I%20said%20I%20am%20deaf%20and%20registered%20blind%2C%20this%20is%20the%20damp";
    let response = upload_with(
        &bot.base,
        Some(&cookie),
        "bedroom.png",
        "p1",
        png(),
        &[("X-Caption", caption)],
    )
    .await;
    assert_eq!(response.status(), 202);
    let resident = crate::helpers::Resident::in_session(&bot.base, &cookie);
    resident.hears(0, "bot", "received your file").await;
    let store = intake::store::Store::connect(&database)
        .await
        .expect("open");
    let files = store
        .conversation_files(intake::core::ids::ConversationId(1))
        .await
        .expect("files");
    let path = format!("/console/files/{}", files[0].token);

    // Support needs are for complaints officers and managers (5.10): the agent sees neither
    // the words nor the file, and cannot fetch it by its address.
    let agent = sign_in(&bot.base, "ash@example.org", PASSWORD)
        .await
        .expect("sign in");
    let (_, html) = page(&bot.base, &agent, "/console/conversations/1").await;
    assert!(
        !html.contains(&files[0].token),
        "the agent's page shows no file"
    );
    assert!(!html.contains("registered blind"));
    assert_eq!(fetch(&bot.base, Some(&agent), &path).await.status(), 403);
    let officer = sign_in(&bot.base, EMAIL, PASSWORD).await.expect("sign in");
    let (_, html) = page(&bot.base, &officer, "/console/conversations/1").await;
    assert!(
        html.contains(&files[0].token),
        "the officer's page shows the file"
    );
    assert_eq!(fetch(&bot.base, Some(&officer), &path).await.status(), 200);

    // A photo whose words the engine did not read as a disclosure, which a caseworker then
    // marks as one: the agent can no longer fetch it either (the page's corrections hold for
    // files too).
    let response = upload_with(
        &bot.base,
        Some(&cookie),
        "hallway.png",
        "p2",
        png(),
        &[("X-Caption", "the%20hallway%20too")],
    )
    .await;
    assert_eq!(response.status(), 202);
    resident.hears(1, "bot", "received your file").await;
    let files = store
        .conversation_files(intake::core::ids::ConversationId(1))
        .await
        .expect("files");
    let hallway = files
        .iter()
        .find(|f| f.name == "hallway.png")
        .expect("the second file");
    let path = format!("/console/files/{}", hallway.token);
    assert_eq!(fetch(&bot.base, Some(&agent), &path).await.status(), 200);
    let marker = store
        .staff_id_by_email(EMAIL)
        .await
        .expect("read")
        .expect("the officer");
    let mut record = store.begin().await.expect("begin");
    record.correction(
        hallway.message_id,
        marker,
        &intake::core::policy::train::Correction::Risk(
            intake::core::policy::Risk::Vulnerability,
            true,
        ),
        chrono::Utc::now(),
    );
    record.commit().await.expect("commit");
    assert_eq!(fetch(&bot.base, Some(&agent), &path).await.status(), 403);
}
