//! The pure core: no I/O, no clocks, no async. Everything here is a function of its inputs
//! (`now` is passed in), so it is tested without a database or a network.
//!
//! - `category`: the landlord's complaint categories, and the one the engine suggests.
//! - `outcome`: what a stage response decided (upheld or not) and compensation in pence.
//! - `case`: stage responses, extensions and exclusion decisions as the Code requires them,
//!   and who may work on a complaint (6.13, its named handler).
//! - `calendar`: working days, bank holidays in England and Wales, the Code's deadlines.
//! - `ids`: the record's identifiers, a complaint's stage and status, typed.
//! - `dialog`: the resident's conversation, step by step, with its wording as data.
//! - `policy`: what a resident's message means under the Code, with reasons and provisions.
//! - `profile`: the landlord's profile and its validation against the Code.
//! - `report`: figures from the record: the regulator's complaint measures CH01 and CH02.
//! - `generated`: a seeded, deterministic year of complaints with known fates, for tests and
//!   `intake bench report`.
//! - `search`: what staff type in the console's search box, read into safe words; matches marked.

pub mod calendar;
pub mod case;
pub mod category;
pub mod dialog;
pub mod generated;
pub mod ids;
pub mod outcome;
pub mod policy;
pub mod profile;
pub mod report;
pub mod search;
