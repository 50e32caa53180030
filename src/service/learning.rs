//! Learning from complaints (Code section 9), the register of service improvements, the
//! Ombudsman's cases, and the annual self-assessment (appendix A): what staff type is checked
//! here, in words they can act on, before anything is written; a refusal writes nothing. The
//! period summary and the self-assessment are computed by the pure model in `core::report`
//! from what the store reads.

use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveTime, Utc};

use super::report::{ReportError, annual};
use crate::core::profile::LandlordProfile;
use crate::core::report::{
    Finding, GOVERNING_BODY, LearningInput, LearningSummary, OrderKind, Period, SelfAssessment,
    learning_summary, provision, self_assessment,
};
use crate::staff::StaffMember;
use crate::store::{
    AnswerChange, AnswerSaved, ImprovementFields, ImprovementId, OmbudsmanChanged, OmbudsmanFields,
    RegisterChanged, Store, StoreError,
};

/// The longest "what we learned" or "what we changed", and an improvement's description.
pub const LONGEST_LEARNING: usize = 4000;
/// The longest improvement title or owner.
pub const LONGEST_TITLE: usize = 200;
/// The longest Ombudsman reference (theirs look like 202412345).
pub const LONGEST_OMBUDSMAN_REFERENCE: usize = 40;
/// The longest order or recommendation.
pub const LONGEST_ORDER: usize = 2000;
/// The longest commentary on a provision, or the governing body's response.
pub const LONGEST_COMMENTARY: usize = 8000;
/// The most complaints one improvement can name.
const MOST_SOURCES: usize = 50;

/// Why a change was not made. Nothing was written.
#[derive(Debug, thiserror::Error)]
pub enum LearningError {
    /// What staff typed cannot be taken: the words say what to change.
    #[error("{0}")]
    Refused(String),
    /// The complaint, improvement or order does not exist.
    #[error("{0}")]
    NotFound(String),
    /// Someone else saved a newer version first.
    #[error("{0}")]
    Stale(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

fn refused(why: impl Into<String>) -> LearningError {
    LearningError::Refused(why.into())
}

/// `text` trimmed, refused when empty or longer than `longest` characters.
fn required<'a>(what: &str, text: &'a str, longest: usize) -> Result<&'a str, LearningError> {
    let text = text.trim();
    if text.is_empty() {
        return Err(refused(format!("{what} is empty; write it in")));
    }
    let length = text.chars().count();
    if length > longest {
        return Err(refused(format!(
            "{what} is {length} characters long; the most is {longest}"
        )));
    }
    Ok(text)
}

/// A day typed as YYYY-MM-DD.
fn day(what: &str, text: &str) -> Result<NaiveDate, LearningError> {
    let text = text.trim();
    if text.is_empty() {
        return Err(refused(format!("{what} is missing; give it as YYYY-MM-DD")));
    }
    let bad = || {
        refused(format!(
            "{what} {:?} is not a date; give it as YYYY-MM-DD, such as 2026-12-18",
            shorten(text)
        ))
    };
    let date: NaiveDate = text.parse().map_err(|_| bad())?;
    // Four-digit years only: the record compares dates as text, and a year past 9999 would
    // sort wrongly (and is a typo in any case).
    if !(1900..=9999).contains(&date.year()) {
        return Err(bad());
    }
    Ok(date)
}

/// A day that may be left empty.
fn optional_day(what: &str, text: &str) -> Result<Option<NaiveDate>, LearningError> {
    if text.trim().is_empty() {
        return Ok(None);
    }
    day(what, text).map(Some)
}

/// A day that has happened: today or before.
fn not_future(what: &str, day: NaiveDate, today: NaiveDate) -> Result<NaiveDate, LearningError> {
    if day > today {
        return Err(refused(format!(
            "{what} {day} is in the future; record it once it has happened"
        )));
    }
    Ok(day)
}

/// The first 40 characters of what was typed, for a refusal that quotes it.
fn shorten(text: &str) -> String {
    text.chars().take(40).collect()
}

/// Complaint references typed with commas or spaces between them, in capitals, each once.
pub fn references(text: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for reference in text.split(|c: char| c == ',' || c == ';' || c.is_whitespace()) {
        let reference = reference.trim().to_ascii_uppercase();
        if !reference.is_empty() && !out.contains(&reference) {
            out.push(reference);
        }
    }
    out
}

/// The landlord's today.
fn today(profile: &LandlordProfile, now: DateTime<Utc>) -> NaiveDate {
    profile.calendar().local_date(now)
}

/// Records what was learned from a complaint and what was changed (9.1, 9.2); the complaint's
/// conversation.
pub async fn record_learning(
    store: &Store,
    reference: &str,
    learned: &str,
    changed: &str,
    staff: &StaffMember,
    now: DateTime<Utc>,
) -> Result<crate::core::ids::ConversationId, LearningError> {
    let learned = required("What we learned", learned, LONGEST_LEARNING)?;
    let changed = required("What we changed", changed, LONGEST_LEARNING)?;
    store
        .record_learning(staff.id, reference, learned, changed, now)
        .await?
        .ok_or_else(|| no_complaint(reference))
}

fn no_complaint(reference: &str) -> LearningError {
    LearningError::NotFound(format!(
        "there is no complaint {:?} in the record",
        shorten(reference)
    ))
}

/// A service improvement as typed into the register's form.
#[derive(Debug, Clone, Copy, Default)]
pub struct ImprovementForm<'a> {
    pub title: &'a str,
    pub what_changed: &'a str,
    pub owner: &'a str,
    pub agreed_on: &'a str,
    pub target_on: &'a str,
    pub completed_on: &'a str,
    /// The complaints it came from, by reference, separated by commas or spaces.
    pub complaints: &'a str,
}

/// Adds an improvement to the register, or rewrites one (`id`); its id.
pub async fn save_improvement(
    store: &Store,
    profile: &LandlordProfile,
    id: Option<ImprovementId>,
    form: &ImprovementForm<'_>,
    staff: &StaffMember,
    now: DateTime<Utc>,
) -> Result<ImprovementId, LearningError> {
    let today = today(profile, now);
    let title = required("The title", form.title, LONGEST_TITLE)?;
    let what_changed = required("What changed", form.what_changed, LONGEST_LEARNING)?;
    let owner = required("The owner", form.owner, LONGEST_TITLE)?;
    let agreed_on = not_future(
        "The date agreed",
        day("The date agreed", form.agreed_on)?,
        today,
    )?;
    let target_on = day("The target date", form.target_on)?;
    if target_on < agreed_on {
        return Err(refused(format!(
            "the target date {target_on} is before the date agreed {agreed_on}"
        )));
    }
    let completed_on = match optional_day("The date completed", form.completed_on)? {
        Some(done) if done < agreed_on => {
            return Err(refused(format!(
                "the date completed {done} is before the date agreed {agreed_on}"
            )));
        }
        Some(done) => Some(not_future("The date completed", done, today)?),
        None => None,
    };
    let complaints = references(form.complaints);
    if complaints.is_empty() {
        return Err(refused(
            "name the complaints the improvement came from, by reference (such as C2026-00012)",
        ));
    }
    if complaints.len() > MOST_SOURCES {
        return Err(refused(format!(
            "{} complaints are named; the most is {MOST_SOURCES}",
            complaints.len()
        )));
    }
    let fields = ImprovementFields {
        title,
        what_changed,
        owner,
        agreed_on,
        target_on,
        completed_on,
        complaints: &complaints,
    };
    let changed = match id {
        None => store.add_improvement(staff.id, &fields, now).await?,
        Some(id) => store.edit_improvement(staff.id, id, &fields, now).await?,
    };
    match changed {
        RegisterChanged::Done(id) => Ok(id),
        RegisterChanged::NoSuchImprovement => Err(LearningError::NotFound(
            "there is no such improvement in the register".to_owned(),
        )),
        RegisterChanged::NoSuchComplaint(reference) => Err(refused(format!(
            "there is no complaint {:?} in the record; check the reference",
            shorten(&reference)
        ))),
    }
}

/// A complaint's Ombudsman case as typed into its form.
#[derive(Debug, Clone, Default)]
pub struct OmbudsmanForm<'a> {
    pub referred_on: &'a str,
    pub ombudsman_reference: &'a str,
    pub determined_on: &'a str,
    pub findings: Vec<Finding>,
}

/// Records a complaint's referral to the Ombudsman and, once made, its determination and
/// findings; the complaint's conversation.
pub async fn record_ombudsman_case(
    store: &Store,
    profile: &LandlordProfile,
    reference: &str,
    form: &OmbudsmanForm<'_>,
    staff: &StaffMember,
    now: DateTime<Utc>,
) -> Result<crate::core::ids::ConversationId, LearningError> {
    let today = today(profile, now);
    let referred_on = not_future(
        "The date referred",
        day("The date referred", form.referred_on)?,
        today,
    )?;
    let ombudsman_reference = required(
        "The Ombudsman's reference",
        form.ombudsman_reference,
        LONGEST_OMBUDSMAN_REFERENCE,
    )?;
    let determined_on = match optional_day("The determination date", form.determined_on)? {
        Some(d) if d < referred_on => {
            return Err(refused(format!(
                "the determination date {d} is before the date referred {referred_on}"
            )));
        }
        Some(d) => Some(not_future("The determination date", d, today)?),
        None => None,
    };
    match (determined_on, form.findings.is_empty()) {
        (None, false) => {
            return Err(refused(
                "findings come with a determination; give the determination date too",
            ));
        }
        (Some(_), true) => {
            return Err(refused(
                "a determination has findings; tick each one the Ombudsman made",
            ));
        }
        _ => {}
    }
    let fields = OmbudsmanFields {
        referred_on,
        ombudsman_reference,
        determined_on,
        findings: &form.findings,
    };
    let changed = store
        .record_ombudsman_case(staff.id, reference, &fields, now)
        .await?;
    ombudsman_done(changed, reference)
}

fn ombudsman_done(
    changed: OmbudsmanChanged,
    reference: &str,
) -> Result<crate::core::ids::ConversationId, LearningError> {
    match changed {
        OmbudsmanChanged::Done(conversation) => Ok(conversation),
        OmbudsmanChanged::NoSuchComplaint => Err(no_complaint(reference)),
        OmbudsmanChanged::NotReferred => Err(refused(
            "record the referral to the Ombudsman before its orders",
        )),
        OmbudsmanChanged::NotDetermined => Err(refused(
            "orders and recommendations come with a determination; record the determination date first (and it stays while there are orders)",
        )),
        OmbudsmanChanged::NoSuchOrder => Err(LearningError::NotFound(
            "there is no such order or recommendation".to_owned(),
        )),
        OmbudsmanChanged::AlreadyCompleted => Err(refused(
            "that order or recommendation is already recorded as completed",
        )),
    }
}

/// Adds an order or recommendation of the Ombudsman to a determined complaint.
pub async fn add_ombudsman_order(
    store: &Store,
    reference: &str,
    kind: &str,
    description: &str,
    due_on: &str,
    staff: &StaffMember,
    now: DateTime<Utc>,
) -> Result<crate::core::ids::ConversationId, LearningError> {
    let kind: OrderKind = kind
        .parse()
        .map_err(|why: String| refused(format!("{why}; choose one")))?;
    let description = required("The order or recommendation", description, LONGEST_ORDER)?;
    let due_on = day("The due date", due_on)?;
    let changed = store
        .add_ombudsman_order(staff.id, reference, kind, description, due_on, now)
        .await?;
    ombudsman_done(changed, reference)
}

/// Records an order or recommendation as completed on the day given.
pub async fn complete_ombudsman_order(
    store: &Store,
    profile: &LandlordProfile,
    id: i64,
    completed_on: &str,
    staff: &StaffMember,
    now: DateTime<Utc>,
) -> Result<crate::core::ids::ConversationId, LearningError> {
    let completed_on = not_future(
        "The date completed",
        day("The date completed", completed_on)?,
        today(profile, now),
    )?;
    match store.ombudsman_order_determined_on(id).await? {
        None => {
            return Err(LearningError::NotFound(
                "there is no such order or recommendation".to_owned(),
            ));
        }
        Some(Some(determined)) if completed_on < determined => {
            return Err(refused(format!(
                "the date completed {completed_on} is before the determination {determined}"
            )));
        }
        Some(_) => {}
    }
    let changed = store
        .complete_ombudsman_order(staff.id, id, completed_on, now)
        .await?;
    ombudsman_done(changed, "")
}

/// Learning from complaints for `period`: learning recorded, improvements agreed, completed
/// and overdue, Ombudsman referrals, determinations, findings and orders.
pub async fn learning(
    store: &Store,
    profile: &LandlordProfile,
    period: &Period,
    now: DateTime<Utc>,
) -> Result<LearningSummary, ReportError> {
    let calendar = profile.calendar();
    // A day wider each side than the period, as UTC moments: a local day in British Summer
    // Time starts at 23:00 UTC the day before. The summary decides by local day.
    let from = period.first_day.and_time(NaiveTime::MIN).and_utc() - Duration::days(1);
    let to = period.last_day.and_time(NaiveTime::MIN).and_utc() + Duration::days(2);
    let (learning, improvements) = store.learning_facts(from, to).await?;
    let ombudsman = store.ombudsman_facts().await?;
    Ok(learning_summary(&LearningInput {
        period,
        calendar: &calendar,
        today: calendar.local_date(now),
        learning: &learning,
        improvements: &improvements,
        ombudsman: &ombudsman,
    }))
}

/// The self-assessment for the financial year starting 1 April `year`: the provisions the
/// record judges from the year's figures, and the managers' answers.
pub async fn self_assessment_for(
    store: &Store,
    profile: &LandlordProfile,
    year: i32,
) -> Result<SelfAssessment, ReportError> {
    let (handling, tsm) = annual(store, profile, year).await?;
    let answers = store.self_assessment_answers(year).await?;
    Ok(self_assessment(&handling, &tsm, &answers))
}

/// One item of the self-assessment as a manager saves it.
#[derive(Debug, Clone, Copy)]
pub struct AnswerForm<'a> {
    pub year: i32,
    /// A provision number, or the governing body's response.
    pub item: &'a str,
    /// The version the editor started from (0 for a first answer).
    pub based_on: i64,
    /// "yes", "no", or empty when not answered.
    pub complies: &'a str,
    pub commentary: &'a str,
}

/// Saves a new version of an item of a year's self-assessment; its version number, or None
/// when nothing had changed.
pub async fn save_answer(
    store: &Store,
    form: &AnswerForm<'_>,
    staff: &StaffMember,
    now: DateTime<Utc>,
) -> Result<Option<i64>, LearningError> {
    Period::financial_year(form.year).map_err(|e| refused(e.to_string()))?;
    let governing_body = form.item == GOVERNING_BODY;
    if !governing_body && provision(form.item).is_none() {
        return Err(LearningError::NotFound(format!(
            "{:?} is not a provision of the Code",
            shorten(form.item)
        )));
    }
    let complies = match form.complies.trim() {
        "" => None,
        "yes" => Some(true),
        "no" => Some(false),
        other => {
            return Err(refused(format!(
                "\"complies\" must be yes, no or not answered, not {:?}",
                shorten(other)
            )));
        }
    };
    if governing_body && complies.is_some() {
        return Err(refused(
            "the governing body's response has no yes or no; write the response",
        ));
    }
    let commentary = form.commentary.trim();
    let length = commentary.chars().count();
    if length > LONGEST_COMMENTARY {
        return Err(refused(format!(
            "the text is {length} characters long; the most is {LONGEST_COMMENTARY}"
        )));
    }
    if commentary.is_empty() && (governing_body || complies.is_none()) {
        return Err(refused(if governing_body {
            "the governing body's response is empty; write it in"
        } else {
            "nothing to save: answer yes or no, or write a commentary"
        }));
    }
    let saved = store
        .save_self_assessment(
            staff.id,
            &AnswerChange {
                year: form.year,
                item: form.item,
                based_on: form.based_on,
                complies,
                commentary,
            },
            now,
        )
        .await?;
    match saved {
        AnswerSaved::Saved(version) => Ok(Some(version)),
        AnswerSaved::Unchanged => Ok(None),
        AnswerSaved::Stale { current } => Err(LearningError::Stale(format!(
            "someone else saved version {current} of {} while you were editing; nothing was saved. Reload the page to see their version, then make your change again",
            if governing_body {
                "the governing body's response".to_owned()
            } else {
                format!("provision {}", form.item)
            }
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_are_split_capitalised_and_kept_once() {
        assert_eq!(
            references(" c2026-00001, C2026-00002;C2026-00001\nC2026-00003 "),
            vec!["C2026-00001", "C2026-00002", "C2026-00003"]
        );
        assert!(references(" , ").is_empty());
    }

    #[test]
    fn a_date_must_be_written_yyyy_mm_dd() {
        assert_eq!(
            day("The target date", "2026-12-18").ok(),
            NaiveDate::from_ymd_opt(2026, 12, 18)
        );
        let refusal = day("The target date", "next Tuesday")
            .expect_err("refused")
            .to_string();
        assert!(
            refusal.contains("\"next Tuesday\" is not a date"),
            "{refusal}"
        );
        assert!(day("The target date", "2026-02-30").is_err());
        assert!(day("The target date", " ").is_err());
    }

    #[test]
    fn text_must_be_given_and_not_too_long() {
        assert_eq!(required("The title", "  Fix  ", 10).ok(), Some("Fix"));
        assert!(required("The title", "   ", 10).is_err());
        let long = "x".repeat(11);
        let refusal = required("The title", &long, 10)
            .expect_err("refused")
            .to_string();
        assert_eq!(refusal, "The title is 11 characters long; the most is 10");
    }
}
