//! The record's identifiers, a complaint's stage and its status, as types: parsed once where
//! they come in (a row read from the database, a path in the console, a form) and typed
//! everywhere inside, so a staff id is never passed where a conversation id is meant, and a
//! stage the Code does not have (it has two, 6.2) is an error where it is read, not stage 1.
//!
//! Pure: no I/O. The store converts at its SQL boundary (binds the inner `i64`, `as_str()` or
//! `number()`); serialised, each is what it was as a bare value (`serde(transparent)`, the
//! status as its stored string, the stage as its number), so JSON that templates, the web chat
//! and the stored dialog state read keeps its shape.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

macro_rules! id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(
            Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize,
        )]
        #[serde(transparent)]
        pub struct $name(pub i64);

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }

        impl FromStr for $name {
            type Err = std::num::ParseIntError;

            fn from_str(s: &str) -> Result<$name, Self::Err> {
                s.parse().map($name)
            }
        }

        impl From<$name> for i64 {
            fn from(id: $name) -> i64 {
                id.0
            }
        }
    };
}

id!(
    /// A conversation with a resident on one channel.
    ConversationId
);
id!(
    /// A message, inbound or outbound.
    MessageId
);
id!(
    /// A member of staff.
    StaffId
);
id!(
    /// An alert raised to staff (a risk, an emergency, a complaint waiting).
    AlertId
);
id!(
    /// An outstanding action on a complaint (6.9, 6.19).
    ActionId
);
id!(
    /// A resident as staff know them across conversations and channels (issue 12): made
    /// and linked by staff, never by the bot.
    ResidentId
);

/// A complaint's stage: the Code has two (6.2), and a stage 2 response is the landlord's
/// final one.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Stage {
    One,
    Two,
}

/// A stage the Code does not have, as it was read.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("a complaint has stage 1 or 2, not stage {0}")]
pub struct UnknownStage(pub i64);

impl Stage {
    /// The stage as it is stored and shown: 1 or 2.
    pub fn number(self) -> u8 {
        match self {
            Stage::One => 1,
            Stage::Two => 2,
        }
    }
}

impl TryFrom<i64> for Stage {
    type Error = UnknownStage;

    fn try_from(n: i64) -> Result<Stage, UnknownStage> {
        match n {
            1 => Ok(Stage::One),
            2 => Ok(Stage::Two),
            other => Err(UnknownStage(other)),
        }
    }
}

impl From<Stage> for i64 {
    fn from(stage: Stage) -> i64 {
        i64::from(stage.number())
    }
}

impl From<Stage> for u8 {
    fn from(stage: Stage) -> u8 {
        stage.number()
    }
}

/// "1" or "2": the stage as the wording, the console and the events show it.
impl fmt::Display for Stage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.number().fmt(f)
    }
}

impl Serialize for Stage {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u8(self.number())
    }
}

impl<'de> Deserialize<'de> for Stage {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Stage, D::Error> {
        let n = i64::deserialize(d)?;
        Stage::try_from(n).map_err(serde::de::Error::custom)
    }
}

/// Where a complaint stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CaseStatus {
    /// Acknowledged and awaiting its stage's response: the only status with a deadline and a
    /// handler.
    Acknowledged,
    /// Its stage's response was sent (6.9, 6.19).
    Responded,
    /// Not taken on as a complaint, with the reasons given (2.4).
    Excluded,
    /// Closed after its final word (a response or an exclusion decision).
    Closed,
}

/// A status the record does not have, as it was read.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("a complaint's status is acknowledged, responded, excluded or closed, not {0:?}")]
pub struct UnknownStatus(pub String);

impl CaseStatus {
    /// The status exactly as it is stored.
    pub fn as_str(self) -> &'static str {
        match self {
            CaseStatus::Acknowledged => "acknowledged",
            CaseStatus::Responded => "responded",
            CaseStatus::Excluded => "excluded",
            CaseStatus::Closed => "closed",
        }
    }
}

impl FromStr for CaseStatus {
    type Err = UnknownStatus;

    fn from_str(s: &str) -> Result<CaseStatus, UnknownStatus> {
        match s {
            "acknowledged" => Ok(CaseStatus::Acknowledged),
            "responded" => Ok(CaseStatus::Responded),
            "excluded" => Ok(CaseStatus::Excluded),
            "closed" => Ok(CaseStatus::Closed),
            other => Err(UnknownStatus(other.to_owned())),
        }
    }
}

impl fmt::Display for CaseStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for CaseStatus {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for CaseStatus {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<CaseStatus, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_parse_display_and_serialise_as_bare_numbers() {
        let id: ConversationId = "42".parse().expect("valid");
        assert_eq!(id, ConversationId(42));
        assert_eq!(id.to_string(), "42");
        assert_eq!(serde_json::to_string(&id).expect("valid"), "42");
        assert_eq!(
            serde_json::from_str::<StaffId>("7").expect("valid"),
            StaffId(7)
        );
        assert!("abc".parse::<ConversationId>().is_err());
        assert!("".parse::<MessageId>().is_err());
    }

    #[test]
    fn a_stage_is_one_or_two_and_nothing_else() {
        assert_eq!(Stage::try_from(1), Ok(Stage::One));
        assert_eq!(Stage::try_from(2), Ok(Stage::Two));
        assert_eq!(Stage::try_from(3), Err(UnknownStage(3)));
        assert_eq!(Stage::try_from(0), Err(UnknownStage(0)));
        assert_eq!(Stage::Two.to_string(), "2");
        assert_eq!(i64::from(Stage::One), 1);
        assert_eq!(serde_json::to_string(&Stage::Two).expect("valid"), "2");
        assert_eq!(
            serde_json::from_str::<Stage>("1").expect("valid"),
            Stage::One
        );
        assert!(serde_json::from_str::<Stage>("3").is_err());
    }

    #[test]
    fn a_status_round_trips_through_its_stored_string() {
        for status in [
            CaseStatus::Acknowledged,
            CaseStatus::Responded,
            CaseStatus::Excluded,
            CaseStatus::Closed,
        ] {
            assert_eq!(status.as_str().parse(), Ok(status));
            assert_eq!(
                serde_json::to_string(&status).expect("valid"),
                format!("\"{}\"", status.as_str())
            );
        }
        assert_eq!(
            "open".parse::<CaseStatus>(),
            Err(UnknownStatus("open".to_owned()))
        );
    }
}
