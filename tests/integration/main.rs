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
mod learning;
mod limits;
mod operations;
mod outcomes;
mod report_documents;
mod report_pdf;
mod report_sections;
mod reports;
mod reports_generated;
mod requests;
mod residents;
mod scheduler;
mod self_assessment;
mod staff_accounts;
mod standard_messages;
mod store;
mod summary;
