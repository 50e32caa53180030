//! `[limits]`: how fast the web chat and the console's sign-in take requests. Each limit is a
//! token bucket: `burst` at once, then `per_minute`. On PostgreSQL the buckets are shared by
//! every replica and survive a restart; on SQLite they are the one process's.

use serde::{Deserialize, Serialize};

use super::ConfigError;

/// A bucket: `burst` requests at once, then `per_minute`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rate {
    pub burst: f64,
    pub per_minute: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LimitsConfig {
    /// Messages and files one web chat session may send: more than anyone types, fewer than
    /// a script flooding the record.
    pub web_messages_burst: f64,
    pub web_messages_per_minute: f64,
    /// All sessions together: low enough that a flood cannot swamp the record or page
    /// managers all night.
    pub web_all_messages_burst: f64,
    pub web_all_messages_per_minute: f64,
    /// New chat sessions per client address: a household, or an office behind one address,
    /// opens a few; a script opening hundreds is refused.
    pub web_new_sessions_burst: f64,
    pub web_new_sessions_per_minute: f64,
    /// New chat sessions from everyone together.
    pub web_all_new_sessions_burst: f64,
    pub web_all_new_sessions_per_minute: f64,
    /// Console sign-in attempts per client address, before any password is hashed: an
    /// office behind one address signs in together at nine.
    pub sign_in_burst: f64,
    pub sign_in_per_minute: f64,
    /// Sign-in attempts per email from one address: keyed on both, so nobody can lock a
    /// member of staff out from elsewhere (issue 14, item 9).
    pub sign_in_email_burst: f64,
    pub sign_in_email_per_minute: f64,
}

impl Default for LimitsConfig {
    fn default() -> Self {
        LimitsConfig {
            web_messages_burst: 20.0,
            web_messages_per_minute: 30.0,
            web_all_messages_burst: 200.0,
            web_all_messages_per_minute: 3000.0,
            web_new_sessions_burst: 30.0,
            web_new_sessions_per_minute: 30.0,
            web_all_new_sessions_burst: 2000.0,
            web_all_new_sessions_per_minute: 12000.0,
            sign_in_burst: 20.0,
            sign_in_per_minute: 20.0,
            sign_in_email_burst: 5.0,
            sign_in_email_per_minute: 1.0,
        }
    }
}

impl LimitsConfig {
    pub fn web_messages(&self) -> Rate {
        rate(self.web_messages_burst, self.web_messages_per_minute)
    }

    pub fn web_all_messages(&self) -> Rate {
        rate(
            self.web_all_messages_burst,
            self.web_all_messages_per_minute,
        )
    }

    pub fn web_new_sessions(&self) -> Rate {
        rate(
            self.web_new_sessions_burst,
            self.web_new_sessions_per_minute,
        )
    }

    pub fn web_all_new_sessions(&self) -> Rate {
        rate(
            self.web_all_new_sessions_burst,
            self.web_all_new_sessions_per_minute,
        )
    }

    pub fn sign_in(&self) -> Rate {
        rate(self.sign_in_burst, self.sign_in_per_minute)
    }

    pub fn sign_in_email(&self) -> Rate {
        rate(self.sign_in_email_burst, self.sign_in_email_per_minute)
    }

    /// Every setting is a positive, finite number, and every burst lets at least one
    /// request through.
    pub fn check(&self) -> Result<(), ConfigError> {
        for (key, value) in self.settings() {
            let var = format!("INTAKE_LIMITS_{}", key.to_uppercase());
            let burst = key.ends_with("_burst");
            let fault = if !value.is_finite() || value <= 0.0 {
                Some("must be a positive number")
            } else if burst && value < 1.0 {
                Some("must be at least 1, or nothing would ever get through")
            } else {
                None
            };
            if let Some(fault) = fault {
                let what = if burst {
                    "requests at once"
                } else {
                    "requests a minute"
                };
                return Err(ConfigError::Limits(format!(
                    "limits.{key} ({var}) is {value}: it {fault} ({what})"
                )));
            }
        }
        Ok(())
    }

    fn settings(&self) -> [(&'static str, f64); 12] {
        [
            ("web_messages_burst", self.web_messages_burst),
            ("web_messages_per_minute", self.web_messages_per_minute),
            ("web_all_messages_burst", self.web_all_messages_burst),
            (
                "web_all_messages_per_minute",
                self.web_all_messages_per_minute,
            ),
            ("web_new_sessions_burst", self.web_new_sessions_burst),
            (
                "web_new_sessions_per_minute",
                self.web_new_sessions_per_minute,
            ),
            (
                "web_all_new_sessions_burst",
                self.web_all_new_sessions_burst,
            ),
            (
                "web_all_new_sessions_per_minute",
                self.web_all_new_sessions_per_minute,
            ),
            ("sign_in_burst", self.sign_in_burst),
            ("sign_in_per_minute", self.sign_in_per_minute),
            ("sign_in_email_burst", self.sign_in_email_burst),
            ("sign_in_email_per_minute", self.sign_in_email_per_minute),
        ]
    }
}

fn rate(burst: f64, per_minute: f64) -> Rate {
    Rate { burst, per_minute }
}

#[cfg(test)]
mod tests {
    use super::super::{Config, PLAIN_VARS};
    use super::*;

    fn load(pairs: &[(&str, &str)]) -> Result<Config, ConfigError> {
        Config::load(
            None,
            pairs
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned())),
        )
    }

    /// The defaults are the limits the web chat and the console had before they were settings.
    #[test]
    fn defaults_are_the_limits_in_force_before() {
        let limits = LimitsConfig::default();
        assert_eq!(limits.web_messages().burst, 20.0);
        assert_eq!(limits.web_messages().per_minute / 60.0, 0.5);
        assert_eq!(limits.web_all_messages().per_minute / 60.0, 50.0);
        assert_eq!(limits.web_new_sessions().burst, 30.0);
        assert_eq!(limits.web_all_new_sessions().per_minute / 60.0, 200.0);
        assert_eq!(limits.sign_in().per_minute, 20.0, "one every 3 seconds");
        assert_eq!(limits.sign_in_email().burst, 5.0);
        assert_eq!(limits.sign_in_email().per_minute, 1.0);
        limits.check().expect("the defaults are valid");
    }

    #[test]
    fn each_setting_has_its_variable_and_takes_numbers_from_it() {
        for (key, _) in LimitsConfig::default().settings() {
            let var = format!("INTAKE_LIMITS_{}", key.to_uppercase());
            assert!(
                PLAIN_VARS.contains(&(var.as_str(), &*format!("limits.{key}"))),
                "{var} is not read"
            );
        }
        let config = load(&[
            ("INTAKE_LIMITS_WEB_MESSAGES_BURST", "5"),
            ("INTAKE_LIMITS_SIGN_IN_EMAIL_PER_MINUTE", "0.5"),
        ])
        .expect("load");
        assert_eq!(config.limits.web_messages().burst, 5.0);
        assert_eq!(config.limits.sign_in_email().per_minute, 0.5);
        assert_eq!(
            config.limits.sign_in().burst,
            20.0,
            "the rest keep defaults"
        );
        config.validate().expect("valid");
    }

    #[test]
    fn a_file_sets_them_with_whole_numbers_or_fractions() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("intake.toml");
        std::fs::write(
            &path,
            "[limits]\nweb_new_sessions_burst = 3\nweb_new_sessions_per_minute = 1.5\n",
        )
        .expect("write");
        let config = Config::load(Some(&path), Vec::new()).expect("load");
        assert_eq!(
            config.limits.web_new_sessions(),
            Rate {
                burst: 3.0,
                per_minute: 1.5
            }
        );
        std::fs::write(&path, "[limits]\nweb_new_session_burst = 3\n").expect("write");
        let err = Config::load(Some(&path), Vec::new())
            .expect_err("a misspelt key")
            .to_string();
        assert!(err.contains("web_new_session_burst"), "{err}");
    }

    #[test]
    fn zero_negative_infinite_or_not_a_number_is_refused_naming_the_setting() {
        for (var, value, named) in [
            (
                "INTAKE_LIMITS_WEB_MESSAGES_PER_MINUTE",
                "0",
                "limits.web_messages_per_minute",
            ),
            ("INTAKE_LIMITS_SIGN_IN_BURST", "-2", "limits.sign_in_burst"),
            (
                "INTAKE_LIMITS_WEB_ALL_MESSAGES_BURST",
                "inf",
                "limits.web_all_messages_burst",
            ),
            (
                "INTAKE_LIMITS_WEB_NEW_SESSIONS_PER_MINUTE",
                "NaN",
                "limits.web_new_sessions_per_minute",
            ),
            (
                "INTAKE_LIMITS_SIGN_IN_EMAIL_BURST",
                "0.5",
                "limits.sign_in_email_burst",
            ),
        ] {
            let err = load(&[(var, value)])
                .expect("loads")
                .validate()
                .expect_err(value)
                .to_string();
            assert!(err.contains(named) && err.contains(var), "{err}");
        }
        let err = load(&[("INTAKE_LIMITS_SIGN_IN_BURST", "lots")])
            .expect_err("not a number")
            .to_string();
        assert!(err.contains("INTAKE_LIMITS_SIGN_IN_BURST"), "{err}");
    }
}
