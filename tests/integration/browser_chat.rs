//! The resident's web chat in a real browser the size of a phone (390 by 844): the message
//! list scrolls and the page does not, the newest line and its buttons stay in view, a photo
//! sent from the file input reaches the console, and a file too big or of the wrong kind gets
//! a clear error on the page and writes nothing.

use serde_json::Value;

use crate::browser::{Browser, ChromeDriver, WAIT};
use crate::channels::web_files::{WRONG_KIND, png};
use crate::helpers::{Bot, Said, TO_ACKNOWLEDGEMENT, add_account, count, eventually, sqlite_in};

const NAME: &str = "Robin Officer";
const EMAIL: &str = "robin@example.org";

/// Where the newest line and its buttons are, and whether the page itself scrolls.
const LAYOUT: &str = "
  var log = document.getElementById('log');
  var lines = log.querySelectorAll('.line:not(.typing)');
  var last = lines[lines.length - 1];
  var box = log.getBoundingClientRect();
  function onScreen(e) {
    var r = e.getBoundingClientRect();
    return r.top >= 0 && r.bottom <= window.innerHeight;
  }
  function inView(e) {
    var r = e.getBoundingClientRect();
    return onScreen(e) && r.top >= box.top - 1 && r.bottom <= box.bottom + 1;
  }
  var buttons = Array.prototype.slice.call(log.querySelectorAll('.choices button'));
  return {
    listScrolls: log.scrollHeight > log.clientHeight,
    lastText: last ? last.textContent : '',
    lastInView: !!last && inView(last),
    buttons: buttons.length,
    buttonsInView: buttons.every(inView),
    pageFits: document.scrollingElement.scrollHeight <= window.innerHeight,
    sendInView: onScreen(document.querySelector('#send button[type=submit]')),
    innerWidth: window.innerWidth
  };";

/// Waits until an element matching `css` contains `words`.
async fn shows(browser: &Browser, css: &str, words: &str) {
    browser
        .until(&format!("{words:?} in {css}"), async || {
            let shown = browser.texts(css).await.ok()?;
            shown.iter().any(|s| s.contains(words)).then_some(())
        })
        .await;
}

/// The bot's lines on the page.
const BOT: &str = "#log .line.bot:not(.typing)";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_web_chat_on_a_phone_keeps_the_newest_line_in_view_and_takes_a_photo() {
    let dir = tempfile::tempdir().expect("tempdir");
    let driver = ChromeDriver::start(dir.path()).await;
    let database = sqlite_in(dir.path());
    let bot = Bot::start(&database, &dir.path().join("bot.log"), &[]).await;
    add_account(&database, NAME, EMAIL, "complaints_officer");

    let browser = Browser::open(&driver, dir.path()).await;
    let sized = browser.phone(390, 844).await;
    browser.must("size the window as a phone", sized).await;
    let opened = browser.go(&format!("{}/chat", bot.base)).await;
    browser.must("open the chat page", opened).await;
    // The greeting comes with the emergency numbers before anything is typed.
    browser
        .until("the greeting with the emergency numbers", async || {
            let intro = browser.texts("#log .intro").await.ok()?;
            intro
                .iter()
                .any(|t| t.contains("0800 111 999") && t.contains("999"))
                .then_some(())
        })
        .await;

    // A conversation long enough that the list must scroll, ending on a question with
    // buttons.
    for step in &TO_ACKNOWLEDGEMENT[..4] {
        match step.said {
            Said::Text(text) => {
                let typed = browser.find_and_type("#message", text).await;
                browser.must("type a message", typed).await;
                let sent = browser.find_and_click("#send button[type=submit]").await;
                browser.must("press Send", sent).await;
            }
            Said::Press(label) => {
                let button = browser
                    .until(&format!("the button {label:?}"), async || {
                        for b in browser.find_all("#log .choices button").await.ok()? {
                            if browser.text(&b).await.ok()? == label {
                                return Some(b);
                            }
                        }
                        None
                    })
                    .await;
                let pressed = browser.click(&button).await;
                browser.must("press a button", pressed).await;
            }
        }
        shows(&browser, BOT, step.expect).await;
    }
    let layout = browser
        .until("the buttons of the last question", async || {
            let layout = browser.execute(LAYOUT).await.ok()?;
            (layout["buttons"].as_u64() > Some(0)).then_some(layout)
        })
        .await;
    let check = |layout: &Value, what: &str| {
        assert_eq!(layout[what], Value::Bool(true), "{what}: {layout:#}");
    };
    assert_eq!(layout["innerWidth"], 390, "{layout:#}");
    for what in [
        "listScrolls",
        "lastInView",
        "buttonsInView",
        "pageFits",
        "sendInView",
    ] {
        check(&layout, what);
    }
    assert!(
        layout["lastText"]
            .as_str()
            .is_some_and(|t| t.contains(TO_ACKNOWLEDGEMENT[3].expect)),
        "the newest line is the bot's question: {layout:#}"
    );

    // A photo from the file input: on the resident's line, answered, and kept.
    let photo = dir.path().join("damp wall.png");
    std::fs::write(&photo, png()).expect("write the photo");
    let chosen = browser
        .find_and_type("#file", &photo.display().to_string())
        .await;
    browser.must("choose the photo", chosen).await;
    shows(&browser, BOT, "received your file").await;
    let mine = browser.texts("#log .line.resident").await;
    let mine = browser.must("read the resident's lines", mine).await;
    assert!(
        mine.iter().any(|l| l.contains("damp wall.png")),
        "the file's name on the resident's line: {mine:?}"
    );
    // Every line of the resident's is marked sent: none still says "Sending…".
    browser
        .until("the resident's lines to be sent", async || {
            let states = browser.texts("#log .line.resident .state").await.ok()?;
            states.iter().all(|s| !s.contains("Sending")).then_some(())
        })
        .await;
    let layout = browser.execute(LAYOUT).await;
    let layout = browser.must("read the layout", layout).await;
    check(&layout, "lastInView");
    check(&layout, "pageFits");
    assert_eq!(count(&database, "attachments").await, 1);

    // Too big, and a web page calling itself a photo: refused on the page, nothing written.
    eventually("every reply to be delivered", WAIT, async || {
        (count(&database, "outbox WHERE sent_at IS NULL").await == 0).then_some(())
    })
    .await;
    let inbound = count(&database, "messages WHERE direction = 'in'").await;
    let huge = dir.path().join("huge.png");
    let mut bytes = png();
    bytes.resize(10 * 1024 * 1024 + 1, 0);
    std::fs::write(&huge, bytes).expect("write the big file");
    let chosen = browser
        .find_and_type("#file", &huge.display().to_string())
        .await;
    browser.must("choose the big file", chosen).await;
    shows(&browser, "#status", "too big to send here (10 MB at most)").await;
    let disguised = dir.path().join("mould.png");
    std::fs::write(&disguised, "<!doctype html><script>alert(1)</script>").expect("write");
    let chosen = browser
        .find_and_type("#file", &disguised.display().to_string())
        .await;
    browser.must("choose the disguised file", chosen).await;
    shows(&browser, "#status", WRONG_KIND).await;
    assert_eq!(count(&database, "attachments").await, 1, "no file written");
    assert_eq!(
        count(&database, "messages WHERE direction = 'in'").await,
        inbound,
        "no message written"
    );

    // Staff see the photo in the console: the image loads (once in view: it loads lazily).
    browser.sign_in(&bot.base, EMAIL).await;
    let opened = browser
        .go(&format!("{}/console/conversations/1", bot.base))
        .await;
    browser.must("open the conversation", opened).await;
    browser
        .until("the photo to load in the console", async || {
            let width = browser
                .execute(
                    "var i = document.querySelector('#transcript img.thumb'); \
                     if (!i) { return 0; } i.scrollIntoView(); \
                     return i.complete ? i.naturalWidth : 0;",
                )
                .await
                .ok()?;
            (width.as_u64() > Some(0)).then_some(())
        })
        .await;
    browser.close().await;
}
