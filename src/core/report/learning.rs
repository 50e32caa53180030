//! Learning from complaints for a period (Code section 9, and 8.1(c) and (d) of the annual
//! report): complaints with learning recorded, the service improvements agreed, completed and
//! overdue, the complaints taken to the Housing Ombudsman, its determinations and findings, and
//! the orders and recommendations it made, completed and left overdue.
//!
//! Counting: learning counts in the period (local day) it was recorded; an improvement counts
//! as agreed and completed on those dates; a referral on its date; a determination, its
//! findings and the orders and recommendations it made on the determination date; an order as
//! completed on its completion date. "Overdue" is read on the period's last day, or today if
//! the period has not ended: past its target (or due) date and not completed by then, whenever
//! it was agreed, because an overdue improvement from last year is still overdue.

use std::collections::BTreeSet;
use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;

use super::Period;
use crate::core::calendar::Calendar;

/// The Housing Ombudsman's findings on a complaint it determined, as its determinations name
/// them. A determination may make several (one per element of the complaint).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Finding {
    SevereMaladministration,
    Maladministration,
    ServiceFailure,
    NoMaladministration,
    /// Outside its jurisdiction, or not investigated.
    OutsideJurisdiction,
    /// A complaint-handling failure order (the Ombudsman's power under paragraph 49 of its
    /// scheme, for a landlord that did not follow the Code).
    ComplaintHandlingFailureOrder,
}

impl Finding {
    pub const ALL: [Finding; 6] = [
        Finding::SevereMaladministration,
        Finding::Maladministration,
        Finding::ServiceFailure,
        Finding::NoMaladministration,
        Finding::OutsideJurisdiction,
        Finding::ComplaintHandlingFailureOrder,
    ];

    pub fn key(self) -> &'static str {
        match self {
            Finding::SevereMaladministration => "severe_maladministration",
            Finding::Maladministration => "maladministration",
            Finding::ServiceFailure => "service_failure",
            Finding::NoMaladministration => "no_maladministration",
            Finding::OutsideJurisdiction => "outside_jurisdiction",
            Finding::ComplaintHandlingFailureOrder => "complaint_handling_failure_order",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Finding::SevereMaladministration => "Severe maladministration",
            Finding::Maladministration => "Maladministration",
            Finding::ServiceFailure => "Service failure",
            Finding::NoMaladministration => "No maladministration",
            Finding::OutsideJurisdiction => "Outside jurisdiction or not investigated",
            Finding::ComplaintHandlingFailureOrder => "Complaint-handling failure order",
        }
    }
}

impl FromStr for Finding {
    type Err = String;

    fn from_str(s: &str) -> Result<Finding, String> {
        Finding::ALL
            .into_iter()
            .find(|f| f.key() == s)
            .ok_or_else(|| format!("{s:?} is not one of the Ombudsman's findings"))
    }
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

/// What the Ombudsman told the landlord to do, or recommended it do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum OrderKind {
    Order,
    Recommendation,
}

impl OrderKind {
    pub fn key(self) -> &'static str {
        match self {
            OrderKind::Order => "order",
            OrderKind::Recommendation => "recommendation",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            OrderKind::Order => "Order",
            OrderKind::Recommendation => "Recommendation",
        }
    }
}

impl FromStr for OrderKind {
    type Err = String;

    fn from_str(s: &str) -> Result<OrderKind, String> {
        match s {
            "order" => Ok(OrderKind::Order),
            "recommendation" => Ok(OrderKind::Recommendation),
            other => Err(format!(
                "{other:?} is neither an order nor a recommendation"
            )),
        }
    }
}

/// Learning recorded on a complaint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LearningRecorded {
    pub reference: String,
    pub recorded_at: DateTime<Utc>,
}

/// A service improvement in the register.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImprovementFacts {
    pub title: String,
    pub agreed_on: NaiveDate,
    pub target_on: NaiveDate,
    pub completed_on: Option<NaiveDate>,
}

/// One order or recommendation of the Ombudsman.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OrderFacts {
    pub kind: OrderKind,
    pub due_on: NaiveDate,
    pub completed_on: Option<NaiveDate>,
}

/// A complaint taken to the Ombudsman.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OmbudsmanFacts {
    /// The landlord's own reference for the complaint.
    pub reference: String,
    pub referred_on: NaiveDate,
    pub determined_on: Option<NaiveDate>,
    pub findings: Vec<Finding>,
    pub orders: Vec<OrderFacts>,
}

/// What the summary is computed from.
#[derive(Debug, Clone, Copy)]
pub struct LearningInput<'a> {
    pub period: &'a Period,
    pub calendar: &'a Calendar,
    /// Today, in the landlord's zone: "overdue" is never read in the future.
    pub today: NaiveDate,
    pub learning: &'a [LearningRecorded],
    pub improvements: &'a [ImprovementFacts],
    pub ombudsman: &'a [OmbudsmanFacts],
}

/// Learning from complaints for one period.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LearningSummary {
    pub period: Period,
    /// The day "overdue" was read on.
    pub as_of: NaiveDate,
    /// Complaints whose learning was recorded in the period, by reference.
    pub learning_recorded: Vec<String>,
    /// Improvements agreed, completed, and overdue on `as_of`, by title.
    pub improvements_agreed: Vec<String>,
    pub improvements_completed: Vec<String>,
    pub improvements_overdue: Vec<String>,
    /// Complaints referred to the Ombudsman in the period, and determined by it.
    pub referrals: Vec<String>,
    pub determinations: Vec<String>,
    /// The findings of the determinations in the period: complaints per kind, every kind
    /// listed (a kind with none is a figure too).
    pub findings: Vec<FindingCount>,
    pub orders: OrderCounts,
    pub recommendations: OrderCounts,
}

/// The complaints with one kind of finding.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FindingCount {
    pub finding: Finding,
    pub label: &'static str,
    pub complaints: Vec<String>,
}

/// Orders (or recommendations): made by determinations in the period, completed in it, and
/// overdue on the summary's `as_of` day.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct OrderCounts {
    pub made: u64,
    pub completed: u64,
    pub overdue: u64,
}

/// A table as the annual report prints, writes as CSV and renders it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Table {
    pub title: String,
    pub columns: Vec<String>,
    pub rows: Vec<Vec<String>>,
}

/// The summary of learning from complaints for `input.period`.
pub fn learning_summary(input: &LearningInput<'_>) -> LearningSummary {
    let period = input.period;
    let as_of = input.today.min(period.last_day);
    let in_period = |day: NaiveDate| period.contains_day(day);
    let overdue = |due: NaiveDate, completed: Option<NaiveDate>| {
        due < as_of && completed.is_none_or(|done| done > as_of)
    };
    let learning_recorded: BTreeSet<String> = input
        .learning
        .iter()
        .filter(|l| period.contains(input.calendar, l.recorded_at))
        .map(|l| l.reference.clone())
        .collect();
    let titles = |keep: &dyn Fn(&ImprovementFacts) -> bool| -> Vec<String> {
        input
            .improvements
            .iter()
            .filter(|i| keep(i))
            .map(|i| i.title.clone())
            .collect()
    };
    let improvements_agreed = titles(&|i| in_period(i.agreed_on));
    let improvements_completed = titles(&|i| i.completed_on.is_some_and(in_period));
    let improvements_overdue =
        titles(&|i| i.agreed_on <= as_of && overdue(i.target_on, i.completed_on));
    let references = |keep: &dyn Fn(&OmbudsmanFacts) -> bool| -> Vec<String> {
        let set: BTreeSet<String> = input
            .ombudsman
            .iter()
            .filter(|o| keep(o))
            .map(|o| o.reference.clone())
            .collect();
        set.into_iter().collect()
    };
    let determined_in_period = |o: &OmbudsmanFacts| o.determined_on.is_some_and(in_period);
    let referrals = references(&|o| in_period(o.referred_on));
    let determinations = references(&determined_in_period);
    let findings = Finding::ALL
        .into_iter()
        .map(|finding| FindingCount {
            finding,
            label: finding.label(),
            complaints: references(&|o| determined_in_period(o) && o.findings.contains(&finding)),
        })
        .collect();
    let count = |kind: OrderKind| {
        let mut counts = OrderCounts::default();
        for case in input.ombudsman {
            for order in case.orders.iter().filter(|o| o.kind == kind) {
                if determined_in_period(case) {
                    counts.made += 1;
                }
                if order.completed_on.is_some_and(in_period) {
                    counts.completed += 1;
                }
                let made_by_then = case.determined_on.is_some_and(|d| d <= as_of);
                if made_by_then && overdue(order.due_on, order.completed_on) {
                    counts.overdue += 1;
                }
            }
        }
        counts
    };
    LearningSummary {
        period: period.clone(),
        as_of,
        learning_recorded: learning_recorded.into_iter().collect(),
        improvements_agreed,
        improvements_completed,
        improvements_overdue,
        referrals,
        determinations,
        findings,
        orders: count(OrderKind::Order),
        recommendations: count(OrderKind::Recommendation),
    }
}

impl LearningSummary {
    /// The summary as plain tables: the figures, then the findings by kind, then the
    /// improvements and complaints behind the figures.
    pub fn tables(&self) -> Vec<Table> {
        let n = |v: &Vec<String>| v.len().to_string();
        let figures = vec![
            row([
                "Complaints with learning recorded",
                &n(&self.learning_recorded),
            ]),
            row(["Service improvements agreed", &n(&self.improvements_agreed)]),
            row([
                "Service improvements completed",
                &n(&self.improvements_completed),
            ]),
            row([
                &format!("Service improvements overdue on {}", self.as_of),
                &n(&self.improvements_overdue),
            ]),
            row(["Complaints referred to the Ombudsman", &n(&self.referrals)]),
            row([
                "Complaints determined by the Ombudsman",
                &n(&self.determinations),
            ]),
            row(["Orders made", &self.orders.made.to_string()]),
            row(["Orders completed", &self.orders.completed.to_string()]),
            row([
                &format!("Orders overdue on {}", self.as_of),
                &self.orders.overdue.to_string(),
            ]),
            row([
                "Recommendations made",
                &self.recommendations.made.to_string(),
            ]),
            row([
                "Recommendations completed",
                &self.recommendations.completed.to_string(),
            ]),
            row([
                &format!("Recommendations overdue on {}", self.as_of),
                &self.recommendations.overdue.to_string(),
            ]),
        ];
        let findings = self
            .findings
            .iter()
            .map(|f| {
                row([
                    f.label,
                    &f.complaints.len().to_string(),
                    &f.complaints.join(" "),
                ])
            })
            .collect();
        let listed = |what: &str, items: &Vec<String>| row([what, &items.join("; ")]);
        let lists = vec![
            listed("Learning recorded", &self.learning_recorded),
            listed("Improvements agreed", &self.improvements_agreed),
            listed("Improvements completed", &self.improvements_completed),
            listed("Improvements overdue", &self.improvements_overdue),
            listed("Referred to the Ombudsman", &self.referrals),
            listed("Determined by the Ombudsman", &self.determinations),
        ];
        vec![
            Table {
                title: format!("Learning from complaints, {}", self.period.label),
                columns: columns(["Measure", "Value"]),
                rows: figures,
            },
            Table {
                title: format!("Ombudsman findings, {}", self.period.label),
                columns: columns(["Finding", "Complaints", "References"]),
                rows: findings,
            },
            Table {
                title: format!("Behind the figures, {}", self.period.label),
                columns: columns(["Measure", "Improvements or complaints"]),
                rows: lists,
            },
        ]
    }
}

fn row<const N: usize>(cells: [&str; N]) -> Vec<String> {
    cells.iter().map(|c| (*c).to_owned()).collect()
}

fn columns<const N: usize>(names: [&str; N]) -> Vec<String> {
    row(names)
}

impl Table {
    /// The table as RFC 4180 CSV (every field quoted, quotes doubled), headed by its columns.
    pub fn csv(&self) -> String {
        let field = |s: &String| super::csv_field(s);
        let mut out = String::new();
        for line in std::iter::once(&self.columns).chain(&self.rows) {
            out.push_str(&line.iter().map(field).collect::<Vec<_>>().join(","));
            out.push_str("\r\n");
        }
        out
    }

    /// The table for a terminal: its title, then one line per row with the cells padded to
    /// the widest in each column.
    pub fn text(&self) -> String {
        let mut widths: Vec<usize> = self.columns.iter().map(|c| c.chars().count()).collect();
        for r in &self.rows {
            for (w, cell) in widths.iter_mut().zip(r) {
                *w = (*w).max(cell.chars().count());
            }
        }
        let line = |cells: &Vec<String>| {
            let padded: Vec<String> = cells
                .iter()
                .zip(&widths)
                .map(|(c, w)| format!("{c:<width$}", width = *w))
                .collect();
            padded.join("  ").trim_end().to_owned()
        };
        let mut out = format!("{}\n{}\n", self.title, line(&self.columns));
        for r in &self.rows {
            out.push_str(&line(r));
            out.push('\n');
        }
        out
    }
}

#[cfg(test)]
#[path = "learning_tests.rs"]
mod tests;
