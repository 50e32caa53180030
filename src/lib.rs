//! `intake`: the complaint intake bot for UK social-housing landlords, built on the Housing
//! Ombudsman's Complaint Handling Code. Residents write on Telegram, Discord or the landlord's
//! web chat; the bot offers the choice to complain whenever they are unhappy, takes the
//! complaint with their consent, acknowledges it with a reference and working-day dates, and
//! tells them how to escalate. Staff take over from a web console; managers are alerted.
//!
//! # The way a message travels
//!
//! 1. **A channel** ([`channels`]: `telegram`, `discord`, `web`) turns a platform update into an
//!    [`Inbound`](store::Inbound) and hands it to the writer. Channels only translate.
//! 2. **The writer** ([`service`]) takes inbound messages in small groups, and for each opens one
//!    transaction on the record ([`store::Record`]): nothing a resident says is acknowledged
//!    ("received", a 202) before it is committed.
//! 3. **The policy engine** ([`core::policy`]) reads the words: dissatisfied or not (1.2), what
//!    the resident wants, risks (emergency, health and safety, safeguarding, vulnerability), a
//!    route other than complaints (2.5), each with its reasons and provisions.
//! 4. **The dialog** ([`core::dialog`]) is a pure function of the conversation's state, the
//!    assessment and the input: the replies to send and the effects to record (a case opened,
//!    an alert, a consent). Its wording is data ([`wording`] reads a landlord's own).
//! 5. **The record** ([`store`]) keeps the message, the assessment, the new state, the effects
//!    and the replies as outbox rows, all in that one transaction. The store is the only module
//!    that knows the schema, on SQLite (the default) or PostgreSQL.
//! 6. **The outbox** is delivered after the commit by the same channel: claimed, sent, marked
//!    sent, or kept with its reason and tried again. A reply is never lost, nor sent twice.
//!
//! Then the people:
//!
//! - **Staff** ([`staff`], [`console`]) sign in, see the inbox, take a conversation over, reply,
//!   hand back, and do the case work the Code asks of them (stage responses, extensions,
//!   exclusions, the 6.13 handler rule), each action in one transaction with its audit line.
//! - **The scheduler** ([`scheduler`]) watches the clock: deadlines at risk, late responses told
//!   to residents (5.9), idle claims released, unacknowledged alerts escalated, records erased
//!   when their retention ends; alerts reach managers through the sinks in
//!   [`channels::alerts`] (chats, email, signed webhooks).
//!
//! [`code`] lists each Code provision the product enforces with the function that enforces it.
//! [`reports`] makes the report figures into documents (tables, charts, HTML, CSV) that the
//! command line and the console share.
//! The binary's commands are in [`cli`]; `intake serve` ([`serve`]) runs it all; [`config`] is
//! layered (defaults, a TOML file, `INTAKE_` variables; secrets only from the environment);
//! [`bench`](mod@bench) and [`soak`] measure the whole pipeline and check nothing is lost across restarts;
//! [`secrets`] keeps tokens out of error text and compares secrets in constant time.

pub mod bench;
pub mod channels;
pub mod cli;
pub mod code;
pub mod config;
pub mod console;
pub mod core;
pub mod logging;
pub mod reports;
pub mod scheduler;
pub mod secrets;
pub mod serve;
pub mod service;
pub mod soak;
pub mod staff;
pub mod store;
pub mod telemetry;
pub mod wording;
