//! The monthly complaint handling summary for the governing body (Code 9.7: it receives
//! regular information on volumes, categories, outcomes and performance): a plain-text email
//! body any mail client shows, and the month's figures as CSV to attach. Both are made from the
//! document `intake report month` prints, so the email and the command can never disagree.

use chrono::NaiveDate;

use super::{Asked, Document, Figures, Row};
use crate::core::profile::LandlordProfile;
use crate::service::ReportError;
use crate::store::Store;

/// How many categories the email names; the attachment has them all.
const TOP_CATEGORIES: usize = 5;

/// A month's summary, ready to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MonthlySummary {
    /// "2026-11".
    pub month: String,
    /// "November 2026".
    pub label: String,
    pub subject: String,
    /// Plain text.
    pub body: String,
    /// The month's figures as `intake report month YYYY-MM --format csv` prints them.
    pub csv: String,
    /// The attachment's file name.
    pub file_name: String,
}

/// The summary of `month` (1 to 12) of `year`, from the record.
pub async fn monthly_summary(
    store: &Store,
    profile: &LandlordProfile,
    year: i32,
    month: u32,
) -> Result<MonthlySummary, ReportError> {
    let now = chrono::Utc::now();
    let figures = Figures::read(store, profile, Asked::Month(year, month), now).await?;
    // The day the figures are made, as the month report dates them.
    let today = profile.calendar().local_date(now);
    Ok(compose(&figures, &profile.name, today))
}

/// The summary of the month `figures` cover, for `landlord`, made on `produced_on`.
pub fn compose(figures: &Figures, landlord: &str, produced_on: NaiveDate) -> MonthlySummary {
    let document = Document::new(figures, landlord, produced_on);
    let period = &document.period;
    let month = period.first_day.format("%Y-%m").to_string();
    let mut body = format!(
        "{landlord}: complaint handling in {label}\n{period}\n\n\
         These are the month's complaint handling figures for the governing body (Complaint \
         Handling Code 9.7), as `intake report month {month}` gives them. Every figure, with the \
         counts behind it, is in the attached file {file}.\n",
        label = period.label,
        file = file_name(&month),
    );
    for table in document
        .tables()
        .filter(|t| t.key != "categories" && t.key != "months")
    {
        // The categories come before satisfaction, as the month report has them.
        if table.key == "satisfaction" {
            body.push('\n');
            body.push_str(&categories(document.table("categories")));
        }
        body.push_str(&format!("\n{}\n", heading(&table.title)));
        for row in &table.rows {
            body.push_str(&line(row));
        }
    }
    body.push_str(
        "\nDays are counted in the landlord's time zone. A complaint counts in the month it was \
         received (stage 2: asked for), a response in the month it was sent; complaints not \
         taken on are counted apart from the other figures.\n",
    );
    MonthlySummary {
        subject: format!(
            "{landlord}: complaint handling summary for {}",
            period.label
        ),
        label: period.label.clone(),
        csv: document.csv(),
        file_name: file_name(&month),
        month,
        body,
    }
}

/// The attachment's name: `complaint-handling-2026-11.csv`.
fn file_name(month: &str) -> String {
    format!("complaint-handling-{month}.csv")
}

/// A section's heading in the email.
fn heading(section: &str) -> String {
    match section {
        "Stage 1" => "Stage 1 complaints".to_owned(),
        "Stage 2" => "Stage 2 (escalated) complaints".to_owned(),
        "Escalation" => "Escalation".to_owned(),
        "Satisfaction" => "Residents' satisfaction with the handling".to_owned(),
        other => other.to_owned(),
    }
}

/// One figure: "  Received: 12", "  Responded within ...: 87.5% (7 of 8)".
fn line(row: &Row) -> String {
    let counts = match (row.numerator, row.denominator) {
        (Some(n), Some(d)) => format!(" ({n} of {d})"),
        (Some(n), None) => format!(" ({n})"),
        _ => String::new(),
    };
    format!("  {}: {}{counts}\n", row.measure, row.value)
}

/// The categories most complained about in the month, largest first (the landlord's order
/// among equals), with a heading.
fn categories(table: Option<&super::Table>) -> String {
    let mut named: Vec<(u64, &Row)> = table
        .map(|t| t.rows.as_slice())
        .unwrap_or_default()
        .iter()
        .filter_map(|r| r.value.parse::<u64>().ok().map(|n| (n, r)))
        .filter(|(n, _)| *n > 0)
        .collect();
    // A stable sort keeps the landlord's order among categories with as many complaints.
    named.sort_by_key(|(n, _)| std::cmp::Reverse(*n));
    let mut out = "Top categories (complaints received at stage 1)\n".to_owned();
    if named.is_empty() {
        out.push_str("  No complaints were received.\n");
    }
    for (_, row) in named.iter().take(TOP_CATEGORIES) {
        out.push_str(&line(row));
    }
    if named.len() > TOP_CATEGORIES {
        out.push_str(&format!(
            "  {} more categories are in the attached file.\n",
            named.len() - TOP_CATEGORIES
        ));
    }
    out
}
