//! `intake`: the complaint intake bot for UK social-housing landlords, built on the Housing
//! Ombudsman's Complaint Handling Code.
//!
//! - `core`: the pure heart (calendar, policy engine, landlord profile); no I/O.
//! - `console`: the staff console (sign in, inbox, conversations, taking over).
//! - `config`: layered configuration (defaults, TOML file, `INTAKE_` environment); secrets
//!   only from the environment.
//! - `bench`: `intake bench`, the full pipeline measured against bare durable inserts.
//! - `channels`: Telegram, Discord, the web chat and the terminal, delivery of the outbox, and
//!   the alert sinks (chats, email, signed webhooks).
//! - `cli`: the `intake` command line.
//! - `logging`: `tracing` set up for humans or as JSON.
//! - `scheduler`: deadlines, idle claims, escalation, and when alerts go to their sinks.
//! - `secrets`: tokens kept out of error text, and secrets compared in constant time.
//! - `serve`: `intake serve`, the bot with its channels.
//! - `soak`: `intake soak`, residents through the web chat while the process is killed and
//!   restarted, then checks that nothing received was lost or doubled.
//! - `service`: the intake service: one inbound message, one transaction.
//! - `staff`: staff accounts, sessions, and what the console reads.
//! - `store`: the record in SQLite or PostgreSQL, one transaction per inbound message.
//! - `wording`: reads a landlord's dialog folder for the core's wording.

pub mod bench;
pub mod channels;
pub mod cli;
pub mod config;
pub mod console;
pub mod core;
pub mod logging;
pub mod scheduler;
pub mod secrets;
pub mod serve;
pub mod service;
pub mod soak;
pub mod staff;
pub mod store;
pub mod wording;
