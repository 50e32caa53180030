//! The shared harness, one place for what more than one suite needs: the service on both
//! databases (`on_both`, `intake`), the real `intake serve` in its own process (`Bot`), a
//! resident of the web chat (`Resident`), staff accounts and the console as staff use it,
//! the fake platforms, a mail server, and `eventually`. Suites keep only what is theirs.

pub mod databases;
pub mod fake_discord;
pub mod fake_telegram;
pub mod resident;
pub mod serve;
pub mod smtp;
pub mod staff;
pub mod steps;

use std::time::Duration;

pub use databases::{
    at, count, intake, on_both, open_case, open_case_answered, postgres_url, staff_member,
};
pub use resident::Resident;
pub use serve::{Bot, client, eventually, free_port, sqlite_in};
pub use smtp::smtp_sink;
pub use staff::{PASSWORD, add_account, add_staff, link_staff};
pub use steps::{Said, TO_ACKNOWLEDGEMENT};

/// How long a test waits for the bot to answer or the record to change.
pub const WAIT: Duration = Duration::from_secs(20);
