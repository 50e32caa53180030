//! What a stage response decided (issue 12; the reports of issue 13 count them): the outcome,
//! upheld, partly upheld or not upheld, and any compensation, in pounds and pence as staff
//! type it and in whole pence as the record keeps it (never a float: £0.10 + £0.20 must be
//! £0.30 in every total).

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// The outcome of a stage of a complaint, as the Housing Ombudsman and the annual report
/// (Code 8.1) name them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Upheld,
    PartlyUpheld,
    NotUpheld,
}

impl Outcome {
    pub const ALL: [Outcome; 3] = [Outcome::Upheld, Outcome::PartlyUpheld, Outcome::NotUpheld];

    /// The name in the record and in forms.
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Upheld => "upheld",
            Outcome::PartlyUpheld => "partly_upheld",
            Outcome::NotUpheld => "not_upheld",
        }
    }

    /// The words staff read.
    pub fn label(self) -> &'static str {
        match self {
            Outcome::Upheld => "Upheld",
            Outcome::PartlyUpheld => "Partly upheld",
            Outcome::NotUpheld => "Not upheld",
        }
    }

    /// The sentence the resident reads in the response.
    pub fn told(self) -> &'static str {
        match self {
            Outcome::Upheld => "We have upheld your complaint.",
            Outcome::PartlyUpheld => "We have upheld your complaint in part.",
            Outcome::NotUpheld => "We have not upheld your complaint.",
        }
    }
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A stored outcome name the record does not know.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0:?} is not an outcome (upheld, partly_upheld or not_upheld)")]
pub struct UnknownOutcome(pub String);

impl FromStr for Outcome {
    type Err = UnknownOutcome;

    fn from_str(s: &str) -> Result<Outcome, UnknownOutcome> {
        Outcome::ALL
            .into_iter()
            .find(|o| o.as_str() == s)
            .ok_or_else(|| UnknownOutcome(s.to_owned()))
    }
}

/// An amount of money in whole pence, never negative.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize,
)]
#[serde(transparent)]
pub struct Pence(pub u64);

/// The most compensation one stage may record: £1,000,000. Anything larger is a typing
/// slip, and it keeps every total far inside an `i64` in the record.
const MOST_PENCE: u64 = 100_000_000;

/// Why an amount typed by staff was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MoneyError {
    #[error("{0:?} is not an amount of money; write pounds and pence such as 50 or 12.50")]
    NotAnAmount(String),
    #[error("{0:?} is negative; compensation is an amount paid to the resident, 0 or more")]
    Negative(String),
    #[error("{0:?} has more than two decimal places; write pounds and pence such as 12.50")]
    TooPrecise(String),
    #[error("{0:?} is more than £1,000,000; check the amount")]
    TooLarge(String),
}

impl Pence {
    /// Pounds and pence as staff type them: "50", "50.00", "£12.5", "1,250.99", " 0 ";
    /// empty means none (0). Refused: negative amounts, more than two decimal places,
    /// anything but digits (with one point, thousands commas and a leading £).
    pub fn parse(typed: &str) -> Result<Pence, MoneyError> {
        let trimmed = typed.trim();
        if trimmed.is_empty() {
            return Ok(Pence(0));
        }
        if trimmed.starts_with('-') || trimmed.starts_with("£-") {
            return Err(MoneyError::Negative(trimmed.to_owned()));
        }
        let bare: String = trimmed
            .strip_prefix('£')
            .unwrap_or(trimmed)
            .trim()
            .chars()
            .filter(|c| *c != ',')
            .collect();
        let not_an_amount = || MoneyError::NotAnAmount(trimmed.to_owned());
        let (pounds, pence) = match bare.split_once('.') {
            Some((pounds, pence)) => (pounds, pence),
            None => (bare.as_str(), ""),
        };
        let digits = |s: &str| s.chars().all(|c| c.is_ascii_digit());
        if (pounds.is_empty() && pence.is_empty()) || !digits(pounds) || !digits(pence) {
            return Err(not_an_amount());
        }
        if pence.len() > 2 {
            return Err(MoneyError::TooPrecise(trimmed.to_owned()));
        }
        let too_large = || MoneyError::TooLarge(trimmed.to_owned());
        let pounds: u64 = if pounds.is_empty() {
            0
        } else {
            pounds.parse().map_err(|_| too_large())?
        };
        // "12.5" is twelve pounds fifty.
        let pence: u64 = format!("{pence:0<2}")
            .parse()
            .map_err(|_| not_an_amount())?;
        let total = pounds
            .checked_mul(100)
            .and_then(|p| p.checked_add(pence))
            .filter(|p| *p <= MOST_PENCE)
            .ok_or_else(too_large)?;
        Ok(Pence(total))
    }

    pub fn is_zero(self) -> bool {
        self.0 == 0
    }
}

impl fmt::Display for Pence {
    /// "£1,250.00".
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let pounds = (self.0 / 100).to_string();
        let mut grouped = String::with_capacity(pounds.len() + pounds.len() / 3);
        for (i, digit) in pounds.chars().enumerate() {
            if i > 0 && (pounds.len() - i).is_multiple_of(3) {
                grouped.push(',');
            }
            grouped.push(digit);
        }
        write!(f, "£{grouped}.{:02}", self.0 % 100)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pounds_and_pence_are_read_as_staff_type_them() {
        for (typed, pence) in [
            ("", 0),
            ("  ", 0),
            ("0", 0),
            ("50", 5_000),
            ("50.00", 5_000),
            ("£50", 5_000),
            ("£ 12.5", 1_250),
            ("12.05", 1_205),
            (".99", 99),
            ("7.", 700),
            ("1,250.99", 125_099),
            ("1000000", 100_000_000),
        ] {
            assert_eq!(Pence::parse(typed), Ok(Pence(pence)), "{typed:?}");
        }
    }

    #[test]
    fn amounts_that_cannot_be_meant_are_refused_saying_why() {
        assert!(matches!(Pence::parse("-5"), Err(MoneyError::Negative(_))));
        assert!(matches!(Pence::parse("£-5"), Err(MoneyError::Negative(_))));
        assert!(matches!(
            Pence::parse("12.345"),
            Err(MoneyError::TooPrecise(_))
        ));
        for typed in ["fifty", "12.3.4", ".", "£", "1e3", "12,50p", "0x10", "+5"] {
            assert!(
                matches!(Pence::parse(typed), Err(MoneyError::NotAnAmount(_))),
                "{typed:?}"
            );
        }
        assert!(matches!(
            Pence::parse("1000000.01"),
            Err(MoneyError::TooLarge(_))
        ));
        assert!(matches!(
            Pence::parse("99999999999999999999999"),
            Err(MoneyError::TooLarge(_))
        ));
        let why = Pence::parse("12.345").expect_err("refused").to_string();
        assert!(why.contains("two decimal places"), "{why}");
    }

    #[test]
    fn amounts_are_shown_in_pounds_with_thousands_grouped() {
        assert_eq!(Pence(0).to_string(), "£0.00");
        assert_eq!(Pence(5).to_string(), "£0.05");
        assert_eq!(Pence(125_099).to_string(), "£1,250.99");
        assert_eq!(Pence(100_000_000).to_string(), "£1,000,000.00");
        // What is shown reads back as the same amount.
        for pence in [0, 1, 99, 100, 12_345, 99_999_999] {
            assert_eq!(
                Pence::parse(&Pence(pence).to_string()),
                Ok(Pence(pence)),
                "{pence}"
            );
        }
    }

    #[test]
    fn outcomes_have_one_name_each_way() {
        for outcome in Outcome::ALL {
            assert_eq!(outcome.as_str().parse(), Ok(outcome));
        }
        assert!("upheld?".parse::<Outcome>().is_err());
    }
}
