//! The annual self-assessment against the Complaint Handling Code (appendix A; 8.1(a)): every
//! provision a landlord answers, whether it complies, the evidence, and its commentary; and
//! the governing body's response (8.2).
//!
//! The product can judge a few provisions from the record: the timescales of 6.2, 6.3, 6.11
//! and 6.14, from the year's handling figures and CH02. For those it fills in "complies" and the
//! evidence itself. The rest need a person: a manager answers them, and the answers are kept
//! with their versions by the store. The requirements below are summaries in our own words;
//! the Code's text is the Ombudsman's.

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::learning::Table;
use super::{Performance, Period, TsmReport};

/// The item under which the governing body's response to the annual report is kept (8.2).
pub const GOVERNING_BODY: &str = "governing_body";

/// What the record can judge of a provision.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Judged {
    /// A person answers it.
    ByPerson,
    /// Stage 1 acknowledged within 5 working days (6.2).
    Stage1Acknowledged,
    /// Stage 1 answered within 10 working days or an extension the Code allows (6.3, 6.4).
    Stage1Answered,
    /// Stage 2 acknowledged within 5 working days (6.11).
    Stage2Acknowledged,
    /// Stage 2 answered within 20 working days or an extension the Code allows (6.14, 6.15).
    Stage2Answered,
}

/// One provision of the Code as the self-assessment lists it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Provision {
    pub number: &'static str,
    pub section: &'static str,
    /// What it asks, in a sentence.
    pub requirement: &'static str,
    pub judged: Judged,
}

const fn p(
    number: &'static str,
    section: &'static str,
    requirement: &'static str,
    judged: Judged,
) -> Provision {
    Provision {
        number,
        section,
        requirement,
        judged,
    }
}

const S1: &str = "1. Definition of a complaint";
const S2: &str = "2. Exclusions";
const S3: &str = "3. Accessibility and awareness";
const S4: &str = "4. Complaint handling staff";
const S5: &str = "5. The complaint handling process";
const S6: &str = "6. Complaint stages";
const S7: &str = "7. Putting things right";
const S8: &str = "8. Self-assessment, reporting and compliance";
const S9: &str = "9. Scrutiny and oversight: continuous learning and improvement";

use Judged::ByPerson as P;

/// The Code's provisions a landlord assesses itself against, in the Code's order.
// One provision a line, as appendix A lists them.
#[rustfmt::skip]
pub const PROVISIONS: &[Provision] = &[
    p("1.2", S1, "A complaint is defined as the Code defines it: any expression of dissatisfaction, however made, about the landlord's service, actions or inaction, its staff or anyone acting for it.", P),
    p("1.3", S1, "Residents need not say \"complaint\"; whenever one is dissatisfied they are offered the choice to complain, and a representative's complaint is handled the same way.", P),
    p("1.4", S1, "The policy tells a service request apart from a complaint, and service requests are recorded and monitored.", P),
    p("1.5", S1, "Dissatisfaction with how a service request is handled is a complaint, raised even while the request is open, and the request carries on.", P),
    p("1.6", S1, "Survey answers are not complaints, but people giving feedback are told how to complain.", P),
    p("2.1", S2, "Complaints are accepted unless there is a valid reason not to, the reason is evidenced, and each is considered on its merits.", P),
    p("2.2", S2, "The policy sets out fair and reasonable circumstances in which a matter is not taken on or escalated.", P),
    p("2.3", S2, "Complaints made within 12 months of the issue, or of the resident becoming aware of it, are accepted; older ones are considered with discretion.", P),
    p("2.4", S2, "A complaint not accepted is explained to the resident with the reasons and their right to take the decision to the Ombudsman.", P),
    p("2.5", S2, "No blanket exclusions: each complaint's circumstances are considered.", P),
    p("3.1", S3, "Complaining is easy, through several channels, with the Equality Act's duties considered.", P),
    p("3.2", S3, "Residents can complain in any way to any member of staff, and all staff know how to pass a complaint on.", P),
    p("3.3", S3, "High volumes of complaints are not seen as a bad sign in themselves.", P),
    p("3.4", S3, "The complaints policy is clear, accessible and published on the website, with the two stages and their timescales.", P),
    p("3.5", S3, "The policy says how it, the Ombudsman and the Code are publicised.", P),
    p("3.6", S3, "Residents may have a representative deal with the complaint and accompany them at meetings.", P),
    p("3.7", S3, "Residents are told of their right to go to the Ombudsman and how.", P),
    p("4.1", S4, "A person or team (the complaints officer) is responsible for complaint handling, liaison with the Ombudsman and reporting to the governing body.", P),
    p("4.2", S4, "The complaints officer can reach staff at every level and has the authority to resolve complaints promptly and fairly.", P),
    p("4.3", S4, "Complaint handling is a resourced core service with a learning culture, and staff are trained in it.", P),
    p("5.1", S5, "One complaints policy covers complaints under the Code, and residents are not treated differently for complaining.", P),
    p("5.2", S5, "No extra named stages such as \"stage 0\" or an informal complaint.", P),
    p("5.3", S5, "No more than two stages.", P),
    p("5.4", S5, "A third party handling complaints does so within the same two stages.", P),
    p("5.5", S5, "The landlord makes sure third parties handle complaints in line with the Code.", P),
    p("5.6", S5, "At each stage the landlord sets out its understanding of the complaint and the outcome sought (the complaint definition), asking the resident where unclear.", P),
    p("5.7", S5, "On acknowledgement the landlord is clear which parts it is and is not responsible for.", P),
    p("5.8", S5, "Handlers act on the merits, independently and with an open mind, give the resident a fair say, and keep the resident informed.", P),
    p("5.9", S5, "Where a response will be late, suitable intervals for keeping the resident informed are agreed.", P),
    p("5.10", S5, "Reasonable adjustments are made and recorded, with any disability disclosed, and kept under review.", P),
    p("5.11", S5, "Escalation through both stages is refused only for valid reasons, set out and in line with section 2.", P),
    p("5.12", S5, "A full record is kept of each complaint: the original complaint, the date received, all correspondence and supporting documents, and the outcome at each stage.", P),
    p("5.13", S5, "A complaint can be remedied at any stage, and staff are empowered to resolve it.", P),
    p("5.14", S5, "Unacceptable behaviour is managed by a policy; restrictions are evidenced and reviewed.", P),
    p("5.15", S5, "Restrictions on contact are proportionate and have regard to the Equality Act.", P),
    p("6.1", S6, "Complaints that can be answered early are told apart from those needing investigation, considering complexity and vulnerability.", P),
    p("6.2", S6, "Stage 1 complaints are acknowledged, defined and logged within 5 working days of being received.", Judged::Stage1Acknowledged),
    p("6.3", S6, "The stage 1 response is sent within 10 working days of the acknowledgement.", Judged::Stage1Answered),
    p("6.4", S6, "A stage 1 extension is decided on the complaint's complexity, explained to the resident, and no more than 10 working days without good reason.", P),
    p("6.5", S6, "A resident told of an extension is given the Ombudsman's contact details.", P),
    p("6.6", S6, "The stage 1 response is sent when the answer is known, not when every action is done; outstanding actions are tracked with updates.", P),
    p("6.7", S6, "The response addresses every point of the complaint definition with clear reasons.", P),
    p("6.8", S6, "Related issues raised before the stage 1 response join it; other new issues are logged as new complaints.", P),
    p("6.9", S6, "The stage 1 response confirms in writing the stage, definition, decision, reasons, remedy, outstanding actions and how to escalate.", P),
    p("6.10", S6, "A complaint not resolved to the resident's satisfaction at stage 1 goes to stage 2, the landlord's final response.", P),
    p("6.11", S6, "Stage 2 requests are acknowledged, defined and logged within 5 working days of the request.", Judged::Stage2Acknowledged),
    p("6.12", S6, "Residents need not give reasons for asking for stage 2.", P),
    p("6.13", S6, "The person considering stage 2 is not the person who considered stage 1.", P),
    p("6.14", S6, "The stage 2 response is sent within 20 working days of the stage 2 acknowledgement.", Judged::Stage2Answered),
    p("6.15", S6, "A stage 2 extension is explained to the resident and no more than 20 working days without good reason.", P),
    p("6.16", S6, "A resident told of a stage 2 extension is given the Ombudsman's contact details.", P),
    p("6.17", S6, "The stage 2 response is sent when the answer is known; outstanding actions are tracked with updates.", P),
    p("6.18", S6, "The stage 2 response addresses every point of the complaint definition with clear reasons.", P),
    p("6.19", S6, "The stage 2 response confirms in writing the stage, definition, decision, reasons, remedy, outstanding actions and how to go to the Ombudsman.", P),
    p("6.20", S6, "Stage 2 is the final response and involves the staff needed to make it.", P),
    p("7.1", S7, "Where something went wrong the landlord says so and sets out what it has done or will do to put it right.", P),
    p("7.2", S7, "A remedy reflects the impact of the fault on the resident.", P),
    p("7.3", S7, "A remedy says what will happen and by when, and is followed through.", P),
    p("7.4", S7, "The Ombudsman's remedies guidance is taken into account.", P),
    p("8.1", S8, "An annual complaints performance and service improvement report is produced, with the self-assessment, the performance analysis, the Ombudsman's findings of non-compliance and the improvements made.", P),
    p("8.2", S8, "The annual report goes to the governing body and is published on the website with the governing body's response.", P),
    p("8.3", S8, "A self-assessment is carried out after a significant restructure, merger or change of procedures.", P),
    p("8.4", S8, "The self-assessment is reviewed when the Ombudsman asks after an investigation.", P),
    p("8.5", S8, "If exceptional circumstances stop compliance, the Ombudsman and residents are told, with a timescale to return.", P),
    p("9.1", S9, "The landlord looks beyond each complaint for service improvements from its learning.", P),
    p("9.2", S9, "Complaints are used as intelligence to identify issues and change services for the better.", P),
    p("9.3", S9, "Wider learning and improvements are reported back to residents, staff and committees.", P),
    p("9.4", S9, "A suitably senior lead is accountable for complaint handling and looks for themes and systemic issues.", P),
    p("9.5", S9, "A member of the governing body is the Member Responsible for Complaints.", P),
    p("9.6", S9, "The Member Responsible for Complaints makes sure the governing body receives regular insight into complaint handling.", P),
    p("9.7", S9, "The governing body receives regular updates on volumes, categories, outcomes and performance, trends, the Ombudsman's investigations and orders, and the annual report.", P),
    p("9.8", S9, "Staff and third parties have a standard objective on complaint handling: collaborative, collectively responsible, professional.", P),
];

/// The provision with this number.
pub fn provision(number: &str) -> Option<&'static Provision> {
    PROVISIONS.iter().find(|p| p.number == number)
}

/// What a manager last wrote for one item of a year's self-assessment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Answer {
    /// A provision number, or [`GOVERNING_BODY`].
    pub item: String,
    /// Whether the landlord complies, for a provision a person judges.
    pub complies: Option<bool>,
    pub commentary: String,
    pub version: i64,
    pub by: String,
    pub at: DateTime<Utc>,
}

/// The product's own judgement of a provision, from the record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FromRecord {
    pub complies: bool,
    pub evidence: String,
}

/// One provision of the self-assessment as it stands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Assessed {
    pub provision: Provision,
    /// Filled in from the record, for the provisions it can judge and a year with something
    /// to judge from.
    pub from_record: Option<FromRecord>,
    /// What the evidence from the record cannot show, when a provision the record usually
    /// judges had nothing to judge from this year.
    pub not_judged: Option<String>,
    /// The manager's answer, if any.
    pub answer: Option<Answer>,
}

impl Assessed {
    /// Whether the landlord complies: the record's judgement, else the manager's answer.
    pub fn complies(&self) -> Option<bool> {
        match &self.from_record {
            Some(judged) => Some(judged.complies),
            None => self.answer.as_ref().and_then(|a| a.complies),
        }
    }

    /// Whether a person answers "complies" for this provision this year.
    pub fn for_a_person(&self) -> bool {
        self.from_record.is_none()
    }
}

/// A year's self-assessment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SelfAssessment {
    pub period: Period,
    pub provisions: Vec<Assessed>,
    pub governing_body: Option<Answer>,
}

/// The self-assessment for the period of `handling` (a financial year): the provisions the
/// record judges filled in from `handling` and `tsm`, and `answers` given by managers.
pub fn self_assessment(
    handling: &Performance,
    tsm: &TsmReport,
    answers: &[Answer],
) -> SelfAssessment {
    let answer = |item: &str| answers.iter().find(|a| a.item == item).cloned();
    let provisions = PROVISIONS
        .iter()
        .map(|p| {
            let judged = judge(p.judged, handling, tsm);
            let (from_record, not_judged) = match judged {
                Some(Ok(judged)) => (Some(judged), None),
                Some(Err(why)) => (None, Some(why)),
                None => (None, None),
            };
            Assessed {
                provision: *p,
                from_record,
                not_judged,
                answer: answer(p.number),
            }
        })
        .collect();
    SelfAssessment {
        period: handling.period.clone(),
        provisions,
        governing_body: answer(GOVERNING_BODY),
    }
}

/// The record's judgement of a provision: None for one a person judges; an error saying why
/// when there was nothing to judge from.
fn judge(
    judged: Judged,
    handling: &Performance,
    tsm: &TsmReport,
) -> Option<Result<FromRecord, String>> {
    let plural = |n: usize, one: &str, many: &str| {
        if n == 1 {
            format!("1 {one}")
        } else {
            format!("{n} {many}")
        }
    };
    let acknowledged = |stage: &super::StagePerformance, n: u8, provision: &str| {
        let figure = &stage.acknowledged_on_time;
        if figure.denominator == 0 {
            return Err(format!(
                "No stage {n} complaints were received in the year, so the record shows nothing for {provision}."
            ));
        }
        let mut evidence = format!(
            "{provision}: {} of {} stage {n} {} acknowledged within 5 working days ({}).",
            figure.numerator,
            figure.denominator,
            if figure.denominator == 1 {
                "complaint"
            } else {
                "complaints"
            },
            figure.published()
        );
        if !stage.not_acknowledged.is_empty() {
            evidence.push_str(&format!(
                " {} no acknowledgement recorded: {}.",
                plural(stage.not_acknowledged.len(), "has", "have"),
                stage.not_acknowledged.join(", ")
            ));
        }
        Ok(FromRecord {
            complies: figure.numerator == figure.denominator,
            evidence,
        })
    };
    let answered = |stage: &super::StagePerformance,
                    n: u8,
                    days: u8,
                    provision: &str,
                    ch02: &super::Figure| {
        let responded = stage.responded.len();
        if responded == 0 {
            return Err(format!(
                "No stage {n} responses were sent in the year, so the record shows nothing for {provision}."
            ));
        }
        let on_time = stage.on_time.numerator as usize;
        let within = stage.within_extension.len();
        let mut evidence = format!(
            "{provision}: {} of {responded} stage {n} {} sent within {days} working days or an extension the Code allows ({on_time} within {days} working days, {within} within an extension); CH02 stage {n}: {}.",
            on_time + within,
            if responded == 1 {
                "response"
            } else {
                "responses"
            },
            ch02.published()
        );
        if !stage.late.is_empty() {
            evidence.push_str(&format!(" Late: {}.", stage.late.join(", ")));
        }
        Ok(FromRecord {
            complies: stage.late.is_empty(),
            evidence,
        })
    };
    match judged {
        Judged::ByPerson => None,
        Judged::Stage1Acknowledged => Some(acknowledged(&handling.stage1, 1, "6.2")),
        Judged::Stage2Acknowledged => Some(acknowledged(&handling.stage2, 2, "6.11")),
        Judged::Stage1Answered => Some(answered(
            &handling.stage1,
            1,
            10,
            "6.3",
            &tsm.ch02.stage1.on_time,
        )),
        Judged::Stage2Answered => Some(answered(
            &handling.stage2,
            2,
            20,
            "6.14",
            &tsm.ch02.stage2.on_time,
        )),
    }
}

impl SelfAssessment {
    /// The self-assessment as plain tables: the provisions (as appendix A lays them out),
    /// then the governing body's response.
    pub fn tables(&self) -> Vec<Table> {
        let rows = self
            .provisions
            .iter()
            .map(|a| {
                let complies = match a.complies() {
                    Some(true) => "Yes",
                    Some(false) => "No",
                    None => "Not answered yet",
                };
                let evidence = match (&a.from_record, &a.not_judged) {
                    (Some(judged), _) => format!("From the record. {}", judged.evidence),
                    (None, Some(why)) => format!("{why} A person answers it."),
                    (None, None) => "A person answers it.".to_owned(),
                };
                let commentary = a
                    .answer
                    .as_ref()
                    .map(|answer| answer.commentary.clone())
                    .unwrap_or_default();
                vec![
                    a.provision.number.to_owned(),
                    a.provision.requirement.to_owned(),
                    complies.to_owned(),
                    evidence,
                    commentary,
                ]
            })
            .collect();
        let response = match &self.governing_body {
            Some(answer) => vec![vec![
                answer.commentary.clone(),
                answer.by.clone(),
                answer.at.format("%Y-%m-%d").to_string(),
            ]],
            None => vec![vec![
                "Not recorded yet.".to_owned(),
                String::new(),
                String::new(),
            ]],
        };
        vec![
            Table {
                title: format!(
                    "Self-assessment against the Complaint Handling Code, {}",
                    self.period.label
                ),
                columns: [
                    "Provision",
                    "Requirement",
                    "Complies",
                    "Evidence",
                    "Commentary",
                ]
                .map(str::to_owned)
                .to_vec(),
                rows,
            },
            Table {
                title: format!("The governing body's response, {}", self.period.label),
                columns: ["Response", "Recorded by", "On"]
                    .map(str::to_owned)
                    .to_vec(),
                rows: response,
            },
        ]
    }
}

#[cfg(test)]
#[path = "assessment_tests.rs"]
mod tests;
