use super::*;

fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

/// Issue 14: cookies are Secure unless the service listens on loopback only; an explicit
/// setting wins.
#[test]
fn cookies_are_secure_unless_listening_on_loopback() {
    let load = |pairs: &[(&str, &str)]| Config::load(None, env(pairs)).expect("config");
    assert!(!load(&[]).secure_cookies(), "127.0.0.1 by default");
    assert!(load(&[("INTAKE_LISTEN", "0.0.0.0:8080")]).secure_cookies());
    assert!(load(&[("INTAKE_LISTEN", "[::]:8080")]).secure_cookies());
    assert!(
        !load(&[
            ("INTAKE_LISTEN", "0.0.0.0:8080"),
            ("INTAKE_WEB_SECURE_COOKIES", "false")
        ])
        .secure_cookies()
    );
    assert!(load(&[("INTAKE_WEB_SECURE_COOKIES", "true")]).secure_cookies());
}

#[test]
fn defaults_then_file_then_environment() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("intake.toml");
    std::fs::write(
        &path,
        "listen = \"127.0.0.1:9000\"\n[landlord]\nname = \"Riverside Homes\"\nhomes = 4200\n",
    )
    .expect("write");
    let config = Config::load(
        Some(&path),
        env(&[
            ("INTAKE_LISTEN", "127.0.0.1:9100"),
            ("INTAKE_TELEGRAM_TOKEN", "123:abc"),
            ("HOME", "/root"),
        ]),
    )
    .expect("load");
    assert_eq!(config.listen, "127.0.0.1:9100".parse().expect("addr"));
    assert_eq!(config.landlord.name, "Riverside Homes");
    assert_eq!(config.landlord.homes, 4200);
    assert_eq!(config.database_url, "sqlite://data/intake.db");
    assert_eq!(
        config.secrets.telegram_token.as_ref().map(Secret::expose),
        Some("123:abc")
    );
    config.validate().expect("valid");
}

#[test]
fn secrets_never_show() {
    let config =
        Config::load(None, env(&[("INTAKE_DISCORD_TOKEN", "very-secret-value")])).expect("load");
    let shown = config.to_display_toml();
    assert!(!shown.contains("very-secret-value"), "{shown}");
    assert!(shown.contains("INTAKE_DISCORD_TOKEN: set"));
    assert!(!format!("{config:?}").contains("very-secret-value"));
}

#[test]
fn the_example_file_shows_every_key_with_its_default() {
    let example = include_str!("../../deploy/intake.example.toml");
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("example.toml");
    std::fs::write(&path, example).expect("write");
    let loaded = Config::load(Some(&path), env(&[])).expect("example loads");
    assert_eq!(
        loaded,
        Config::default(),
        "the example must show the defaults"
    );
    // Optional keys have no default to show; each is documented, commented out.
    for key in [
        "dialogs_dir",
        "webhook_url",
        "api_url",
        "lexicon",
        "standard_messages",
        "secure_cookies",
        "max_connections",
        "header_timeout_seconds",
        "trusted_proxies",
    ] {
        assert!(
            example.contains(&format!("# {key} = ")),
            "{key} is not documented"
        );
    }
    for (var, _) in PLAIN_VARS.iter().chain(SECRET_VARS) {
        assert!(example.contains(var), "{var} is not documented");
    }
}

#[test]
fn database_passwords_are_redacted() {
    let config = Config::load(
        None,
        env(&[(
            "INTAKE_DATABASE_URL",
            "postgres://intake:hunter2@db.internal:5432/intake",
        )]),
    )
    .expect("load");
    assert_eq!(
        config.redacted_database_url(),
        "postgres://intake:[redacted]@db.internal:5432/intake"
    );
    assert!(!config.to_display_toml().contains("hunter2"));
    assert_eq!(
        redact_url_password("sqlite://data/intake.db"),
        "sqlite://data/intake.db"
    );
}

#[test]
fn a_secret_in_the_file_is_refused_with_the_variable_to_use() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("intake.toml");
    std::fs::write(&path, "[telegram]\ntoken = \"123:abc\"\n").expect("write");
    let err = Config::load(Some(&path), env(&[]))
        .expect_err("secret")
        .to_string();
    assert!(
        err.contains("telegram.token") && err.contains("INTAKE_TELEGRAM_TOKEN"),
        "{err}"
    );
}

#[test]
fn a_timescale_beyond_the_code_is_refused_naming_key_and_provision() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("intake.toml");
    std::fs::write(&path, "[landlord.timescales]\nstage1_acknowledgement = 7\n").expect("write");
    let config = Config::load(Some(&path), env(&[])).expect("load");
    let err = config.validate().expect_err("too long").to_string();
    assert!(
        err.contains("timescales.stage1_acknowledgement") && err.contains("6.2"),
        "{err}"
    );
}

#[test]
fn mistakes_are_named() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("intake.toml");
    std::fs::write(&path, "[landlord]\nnmae = \"x\"\n").expect("write");
    let err = Config::load(Some(&path), env(&[]))
        .expect_err("unknown")
        .to_string();
    assert!(err.contains("nmae"), "{err}");
    let err = Config::load(None, env(&[("INTAKE_LISTEN", "not an address")]))
        .expect_err("bad env")
        .to_string();
    assert!(err.contains("INTAKE_LISTEN"), "{err}");
    let config = Config::load(None, env(&[("INTAKE_DATABASE_URL", "mysql://x")])).expect("load");
    assert!(config.validate().is_err());
}
