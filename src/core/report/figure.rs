//! A published figure: a ratio to one decimal place with the counts behind it, or the reason it
//! cannot be measured (never 0 or NaN for a measure with nothing to measure).

use std::fmt;

use serde::Serialize;

/// What a figure's ratio is scaled to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Unit {
    /// Complaints per 1,000 homes (CH01).
    PerThousandHomes,
    /// A percentage (CH02).
    Percent,
}

impl Unit {
    fn multiplier(self) -> u128 {
        match self {
            Unit::PerThousandHomes => 1000,
            Unit::Percent => 100,
        }
    }
}

/// A non-negative number to one decimal place, held as tenths so it prints exactly.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct OneDecimal {
    pub tenths: u64,
}

impl fmt::Display for OneDecimal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.tenths / 10, self.tenths % 10)
    }
}

/// The value of a figure, or why there is none.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Value {
    Measured(OneDecimal),
    /// Nothing to measure (no homes, no responses): the sentence says why.
    NotMeasurable(String),
}

/// One published figure with what it was computed from, so a report can drill down to the
/// complaints behind it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Figure {
    pub unit: Unit,
    pub numerator: u64,
    pub denominator: u64,
    pub value: Value,
    /// The references of the complaints counted in the numerator, in reference order.
    pub complaints: Vec<String>,
}

impl Figure {
    /// `numerator / denominator` scaled to `unit`, or not measurable for the reason given
    /// when the denominator is 0.
    pub fn ratio(unit: Unit, mut complaints: Vec<String>, denominator: u64, none: &str) -> Figure {
        complaints.sort();
        let numerator = complaints.len() as u64;
        let value = match scaled_tenths(numerator, denominator, unit) {
            Some(tenths) => Value::Measured(OneDecimal { tenths }),
            None => Value::NotMeasurable(none.to_owned()),
        };
        Figure {
            unit,
            numerator,
            denominator,
            value,
            complaints,
        }
    }

    /// The value as landlords publish it: "12.3" per 1,000 homes or "87.5%", or the reason
    /// there is none.
    pub fn published(&self) -> String {
        match (&self.value, self.unit) {
            (Value::Measured(v), Unit::PerThousandHomes) => v.to_string(),
            (Value::Measured(v), Unit::Percent) => format!("{v}%"),
            (Value::NotMeasurable(why), _) => format!("not measurable: {why}"),
        }
    }
}

/// The ratio in tenths, rounded to the nearest tenth with halves rounded up (away from zero,
/// as every figure here is positive), in exact integer arithmetic so 12.25 is 12.3 and never
/// 12.2 through a floating-point error. None when the denominator is 0.
pub fn scaled_tenths(numerator: u64, denominator: u64, unit: Unit) -> Option<u64> {
    if denominator == 0 {
        return None;
    }
    let scaled = u128::from(numerator) * unit.multiplier() * 10;
    let d = u128::from(denominator);
    let (quotient, remainder) = (scaled / d, scaled % d);
    let rounded = if remainder * 2 >= d {
        quotient + 1
    } else {
        quotient
    };
    u64::try_from(rounded).ok()
}
