//! What roles that do not see support needs are shown instead (Code 5.10): complaints
//! officers and managers see what residents disclose about support needs and disabilities;
//! agents see that something was recorded, not what.

use super::cases::{CaseRow, case_rows};
use crate::core::ids::{ConversationId, MessageId};
use crate::core::policy::Risk;
use crate::core::policy::train::Correction;
use crate::staff;
use crate::store::{Store, StoreError};

/// Shown instead of support needs to roles that do not need them.
pub(super) const RESTRICTED: &str =
    "(support needs recorded; shown to complaints officers and managers)";

/// Hides the support needs and disclosed disabilities in cases from roles that do not need
/// them (5.10); returns the resident's words that were hidden, to hide them elsewhere too.
pub(super) fn restrict_cases<'a>(cases: impl IntoIterator<Item = &'a mut CaseRow>) -> Vec<String> {
    let mut disclosed = Vec::new();
    for case in cases {
        if let Some(answers) = case.answers.as_object_mut()
            && let Some(support) = answers.get("support")
        {
            if let Some(text) = support.as_str().filter(|t| t.trim().len() > 3) {
                disclosed.push(text.trim().to_lowercase());
            }
            answers.insert("support".to_owned(), serde_json::json!(RESTRICTED));
        }
    }
    disclosed
}

/// Hides, from roles that do not need them (5.10), transcript lines that disclose a support
/// need or disability: any resident line the engine read as one (in whatever words: "as I
/// said I am deaf"), and any line repeating a disclosed support answer or such a line (the
/// bot's read-back, its reflection).
pub(super) fn restrict_lines(disclosed: &[String], lines: &mut [staff::StaffLine]) {
    let mut disclosed = disclosed.to_vec();
    for line in lines.iter() {
        if line_discloses(line) {
            let text = line.text.trim().to_lowercase();
            if text.len() > 3 {
                disclosed.push(text);
            }
        }
    }
    for line in lines {
        let text = line.text.to_lowercase();
        if line_discloses(line) || disclosed.iter().any(|d| text.contains(d.as_str())) {
            line.text = RESTRICTED.to_owned();
            line.attachments.clear();
            line.assessment = None;
            line.corrections.clear();
        }
        // Whether someone thought a line did or did not disclose a support need is itself
        // about support needs.
        line.corrections.retain(|c| !c.contains("vulnerability"));
    }
}

/// Whether a line discloses a vulnerability as the engine or staff read it. Fails safe: the
/// learned layer doubting the rules' finding, or a correction saying it does, restricts it.
pub(super) fn line_discloses(line: &staff::StaffLine) -> bool {
    let vulnerable = Correction::Risk(Risk::Vulnerability, true).describe();
    discloses_vulnerability(line.assessment.as_ref())
        || line.assessment.as_ref().is_some_and(|a| {
            a["reasons"].as_array().is_some_and(|rs| {
                rs.iter().any(|r| {
                    r["rule"] == "learned.doubts.vulnerability"
                        || r["rule"] == crate::service::SAFE_CONTACT_RULE
                })
            })
        })
        || line.corrections.iter().any(|c| c.ends_with(&vulnerable))
}

/// Whether the engine read a message as disclosing a vulnerability.
fn discloses_vulnerability(assessment: Option<&serde_json::Value>) -> bool {
    assessment.is_some_and(|a| {
        a["risks"]
            .as_array()
            .is_some_and(|risks| risks.iter().any(|r| r == "vulnerability"))
    })
}

/// Open alerts as a role that does not see support needs is shown them: a vulnerability
/// alert, a resident's answer about when it is safe to contact them, or the contact details
/// given after an emergency (in the resident's own words, which may say "I'm deaf, text
/// only"), says what it is, not what was written (5.10).
pub(super) fn restrict_alerts(alerts: &mut [staff::OpenAlert]) {
    for alert in alerts.iter_mut().filter(|a| {
        matches!(
            a.kind.as_str(),
            "vulnerability" | "safe_contact" | "emergency_contact"
        )
    }) {
        alert.detail = RESTRICTED.to_owned();
    }
}

/// Gives each line the corrections staff made to its assessment, as "Name: what was wrong".
pub(super) fn with_corrections(
    lines: &mut [staff::StaffLine],
    corrections: &[(MessageId, String)],
) {
    for line in lines {
        line.corrections = corrections
            .iter()
            .filter(|(m, _)| *m == line.id)
            .map(|(_, c)| c.clone())
            .collect();
    }
}

/// A conversation's lines after `after` as a role that does not see support needs is shown
/// them (5.10): with the corrections staff made (a line a caseworker marked as disclosing a
/// vulnerability stays hidden, as on the page), then restricted. For the live page and the
/// files a line carries, so neither shows what the page hides.
pub(super) async fn restricted_lines(
    store: &Store,
    conversation: ConversationId,
    after: MessageId,
) -> Result<Vec<staff::StaffLine>, StoreError> {
    let mut lines = staff::lines(store, conversation, after).await?;
    with_corrections(&mut lines, &staff::corrections(store, conversation).await?);
    let mut cases = case_rows(staff::cases(store, conversation).await?)?;
    let disclosed = restrict_cases(&mut cases);
    restrict_lines(&disclosed, &mut lines);
    Ok(lines)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn alerts_carrying_what_a_resident_disclosed_say_only_what_they_are() {
        let alert = |kind: &str, detail: &str| staff::OpenAlert {
            id: crate::core::ids::AlertId(1),
            conversation: ConversationId(1),
            kind: kind.to_owned(),
            urgent: true,
            level: 0,
            detail: detail.to_owned(),
            at: chrono::Utc::now(),
        };
        let mut alerts = vec![
            alert(
                "emergency_contact",
                "Flat 2, I'm deaf so text only, 07700 900123",
            ),
            alert("vulnerability", "registered blind"),
            alert("safe_contact", ""),
            alert("emergency", "gas"),
        ];
        restrict_alerts(&mut alerts);
        let details: Vec<&str> = alerts.iter().map(|a| a.detail.as_str()).collect();
        assert_eq!(details, [RESTRICTED, RESTRICTED, RESTRICTED, "gas"]);
    }
}
