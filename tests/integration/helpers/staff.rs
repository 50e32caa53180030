//! Staff: accounts made with the `intake staff` commands, and the console over HTTP as a
//! member of staff's browser uses it (sign-in form, session cookie, form tokens).

use std::io::Write as _;
use std::process::{Command, Stdio};
use std::time::Duration;

/// Every test account's password.
pub const PASSWORD: &str = "correct horse battery staple";

/// An HTTP client that never goes through a proxy and does not follow redirects, so a test
/// sees the console's 303s.
pub fn no_redirects() -> reqwest::Client {
    reqwest::Client::builder()
        .no_proxy()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(30))
        .build()
        .expect("client")
}

/// `intake staff add`, the password on standard input; returns the exit code and stderr.
pub fn add_staff(
    database: &str,
    name: &str,
    email: &str,
    role: &str,
    password: &str,
) -> (i32, String) {
    let mut child = staff_command(
        database,
        &["add", "--name", name, "--email", email, "--role", role],
    )
    .stdin(Stdio::piped())
    .stdout(Stdio::piped())
    .stderr(Stdio::piped())
    .spawn()
    .expect("intake staff add");
    // A refused account (a bad role) exits before reading the password: the pipe may close
    // under the write, which is not a failure of this helper.
    let _ = writeln!(child.stdin.take().expect("stdin"), "{password}");
    let out = child.wait_with_output().expect("wait");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// `intake staff ARGS` on the record at `database`, in an otherwise empty environment.
fn staff_command(database: &str, args: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_intake"));
    command
        .arg("staff")
        .args(args)
        .env_clear()
        .env("INTAKE_DATABASE_URL", database);
    command
}

/// An account made with `intake staff add` and the test password; the test fails if it is
/// refused.
pub fn add_account(database: &str, name: &str, email: &str, role: &str) {
    let (code, stderr) = add_staff(database, name, email, role, PASSWORD);
    assert_eq!(code, 0, "intake staff add failed:\n{stderr}");
}

/// `intake staff link --email EMAIL FLAG ID`; returns the exit code.
pub fn link_staff(database: &str, email: &str, flag: &str, id: &str) -> i32 {
    staff_command(database, &["link", "--email", email, flag, id])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .expect("intake staff link")
        .code()
        .unwrap_or(-1)
}

/// The cookie `name` a response sets, whole (`name=value; attributes`).
pub fn cookie_named(response: &reqwest::Response, name: &str) -> Option<String> {
    response
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with(&format!("{name}=")))
        .map(str::to_owned)
}

/// Opens the sign-in page as a browser does: its form token and the cookie it must match.
pub async fn login_form(client: &reqwest::Client, base: &str) -> (String, String) {
    let page = client
        .get(format!("{base}/console/login"))
        .send()
        .await
        .expect("sign-in page");
    let cookie = cookie_named(&page, "intake_login").expect("a sign-in form cookie");
    for attribute in ["HttpOnly", "SameSite=Strict", "Path=/console/login"] {
        assert!(cookie.contains(attribute), "{cookie}");
    }
    let cookie = cookie.split(';').next().unwrap_or_default().to_owned();
    let html = page.text().await.expect("html");
    (csrf_of(&html), cookie)
}

/// Fills in and posts the sign-in form from `client`, as a browser does; the answer.
pub async fn post_sign_in(
    client: &reqwest::Client,
    base: &str,
    email: &str,
    password: &str,
) -> reqwest::Response {
    let (csrf, form_cookie) = login_form(client, base).await;
    client
        .post(format!("{base}/console/login"))
        .header("Cookie", form_cookie)
        .form(&[("email", email), ("password", password), ("csrf", &csrf)])
        .send()
        .await
        .expect("login")
}

/// Signs in; returns the console cookie (`name=value`).
pub async fn sign_in(base: &str, email: &str, password: &str) -> Result<String, u16> {
    let response = post_sign_in(&no_redirects(), base, email, password).await;
    if response.status() != 303 {
        return Err(response.status().as_u16());
    }
    let cookie = cookie_named(&response, "intake_staff").expect("a session cookie");
    for attribute in ["HttpOnly", "SameSite=Lax", "Path=/console"] {
        assert!(cookie.contains(attribute), "{cookie}");
    }
    Ok(cookie.split(';').next().unwrap_or_default().to_owned())
}

/// A console page as the member of staff with `cookie` sees it: its status and HTML.
pub async fn page(base: &str, cookie: &str, path: &str) -> (u16, String) {
    let response = no_redirects()
        .get(format!("{base}{path}"))
        .header("Cookie", cookie)
        .send()
        .await
        .expect("get");
    (
        response.status().as_u16(),
        response.text().await.expect("body"),
    )
}

/// The form token in a console page.
pub fn csrf_of(html: &str) -> String {
    let at = html.find("name=\"csrf\" value=\"").expect("a form token") + 19;
    html[at..at + 64].to_owned()
}

/// Posts a console form as the member of staff with `cookie`; the status.
pub async fn act(base: &str, cookie: &str, path: &str, form: &[(&str, &str)]) -> u16 {
    no_redirects()
        .post(format!("{base}{path}"))
        .header("Cookie", cookie)
        .form(form)
        .send()
        .await
        .expect("post")
        .status()
        .as_u16()
}

/// Posts a console form as the member of staff with `cookie`; the status and the words
/// shown (a refusal says why).
pub async fn refusal(base: &str, cookie: &str, path: &str, form: &[(&str, &str)]) -> (u16, String) {
    let response = no_redirects()
        .post(format!("{base}{path}"))
        .header("Cookie", cookie)
        .form(form)
        .send()
        .await
        .expect("post");
    (
        response.status().as_u16(),
        response.text().await.expect("text"),
    )
}

/// The console over HTTP on a port of its own, in this process, over `service`: for suites
/// that build the record through the service and then act as staff would.
pub async fn console_in_process(service: intake::service::Intake) -> String {
    let console = intake::console::Console::new(
        service,
        intake::channels::Wakers::default(),
        false,
        intake::console::standard_messages(),
        tokio_util::sync::CancellationToken::new(),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("address"));
    tokio::spawn(async move {
        axum::serve(
            listener,
            console
                .router()
                .into_make_service_with_connect_info::<std::net::SocketAddr>(),
        )
        .await
        .expect("serve");
    });
    base
}
