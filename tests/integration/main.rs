//! The one integration-test binary (so the heavy crates link once). Each module is a suite.

mod channels;
mod cli;
mod conversations;
mod corpus;
mod deadlines;
mod store;
