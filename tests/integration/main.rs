//! The one integration-test binary (so the heavy crates link once). Each module is a suite,
//! but `helpers`: the harness the suites share.

mod architecture;
mod backups;
mod browser;
mod browser_chat;
mod channels;
mod cli;
mod console;
mod console_readable;
mod console_search;
mod conversations;
mod corpus;
mod deadlines;
mod delivery;
mod hardening;
mod helpers;
mod limits;
mod operations;
mod outcomes;
mod reports;
mod reports_generated;
mod requests;
mod residents;
mod scheduler;
mod staff_accounts;
mod standard_messages;
mod store;
