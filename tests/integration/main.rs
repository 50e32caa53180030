//! The one integration-test binary (so the heavy crates link once). Each module is a suite.

mod browser;
mod channels;
mod cli;
mod console;
mod conversations;
mod corpus;
mod deadlines;
mod delivery;
mod hardening;
mod scheduler;
mod store;
