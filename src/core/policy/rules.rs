//! The rules: one message's hits read in order into an assessment (risks, who writes,
//! dissatisfaction, intent and route), each conclusion with its reason and Code provision.

use chrono::Datelike;

/// The reason naming an anti-social behaviour matter in a complaint about the landlord's
/// handling of it: the ASB team's route as well as the choice to complain.
pub const ASB_TOO: &str = "route.asb_too";

use super::hits::Hits;
use super::{
    Assessment, Context, Decisions, ExclusionRoutes, Intent, Model, Normalised, Reason, Risk,
    Route, Scores, Signal, learned,
};

/// The rules, applied in order to one message's hits.
pub(super) struct Reading<'a> {
    pub(super) hits: &'a Hits<'a>,
    pub(super) norm: &'a Normalised,
    pub(super) context: &'a Context,
    pub(super) routes: &'a ExclusionRoutes,
    pub(super) language: &'static str,
    pub(super) learned: Option<Learned<'a>>,
    pub(super) out: Assessment,
}

/// The learned heads' scores for the message and how they combine with the rules.
#[derive(Clone, Copy)]
pub(super) struct Learned<'a> {
    pub(super) scores: &'a Scores,
    pub(super) decisions: &'a Decisions,
    /// For naming the words behind a learned decision (absent while training chooses).
    pub(super) model: Option<&'a Model>,
    pub(super) features: &'a [learned::Feature],
}

impl Reading<'_> {
    pub(super) fn because(
        &mut self,
        rule: &'static str,
        provision: Option<&'static str>,
        signals: &[Signal],
    ) {
        let mut words: Vec<String> = Vec::new();
        for s in signals {
            for w in self.hits.words(*s) {
                if !words.contains(&w) {
                    words.push(w);
                }
            }
        }
        if let Some(p) = provision {
            self.out.provisions.insert(p);
        }
        self.out.reasons.push(Reason {
            rule,
            provision,
            words,
        });
    }

    pub(super) fn risks(&mut self) {
        use Signal as S;
        let h = self.hits;
        for (signal, risk, rule, provision, inside) in [
            (S::Emergency, Risk::Emergency, "risk.emergency", None, None),
            (
                S::HealthSafety,
                Risk::HealthSafety,
                "risk.health_safety",
                None,
                Some(S::Emergency),
            ),
            (
                S::Safeguarding,
                Risk::Safeguarding,
                "risk.safeguarding",
                None,
                None,
            ),
            (
                S::Vulnerability,
                Risk::Vulnerability,
                "risk.vulnerability",
                Some("6.1"),
                None,
            ),
        ] {
            if h.has(signal) && h.current(signal, inside) {
                self.out.risks.insert(risk);
                self.because(rule, provision, &[signal]);
            }
        }
        // A baby or young children in a hazard (LABELS.md, 6.1).
        if !self.out.risks.contains(&Risk::Vulnerability)
            && h.has(S::Children)
            && (self.out.risks.contains(&Risk::HealthSafety)
                || self.out.risks.contains(&Risk::Emergency))
        {
            self.out.risks.insert(Risk::Vulnerability);
            self.because(
                "risk.vulnerability.children_in_hazard",
                Some("6.1"),
                &[S::Children],
            );
        }
        if !self.out.risks.contains(&Risk::Vulnerability)
            && let Some(age) = self.great_age()
        {
            self.out.risks.insert(Risk::Vulnerability);
            self.out.provisions.insert("6.1");
            self.out.reasons.push(Reason {
                rule: "risk.vulnerability.age",
                provision: Some("6.1"),
                words: vec![age],
            });
        }
    }

    /// How long something has gone on, in the resident's numbers: "for 6 weeks", "been 3
    /// months", "in 2 months". Each hints at a failure, as a weak word does.
    fn durations(&self) -> usize {
        let n = self.norm;
        (1..n.words.len().saturating_sub(1))
            .filter(|&i| {
                let number = n.word(i);
                let count = match number {
                    "a" | "one" => Some(1),
                    "two" => Some(2),
                    "three" | "few" | "several" => Some(3),
                    "four" => Some(4),
                    "five" => Some(5),
                    "six" => Some(6),
                    _ => number.parse::<u32>().ok(),
                };
                // A first report often says "for 5 days"; weeks and months are a wait.
                let long = match (count, n.word(i + 1)) {
                    (Some(c), "days") => c >= 10,
                    (Some(c), "weeks" | "wks") => c >= 2,
                    (Some(c), "month" | "months" | "mths" | "years") => c >= 1,
                    _ => false,
                };
                long && matches!(
                    n.word(i - 1),
                    "for" | "been" | "in" | "over" | "nearly" | "almost" | "took"
                )
            })
            .count()
    }

    /// An age of 75 or more given for someone ("she's 91", "my mum (87)", "aged 80").
    fn great_age(&self) -> Option<String> {
        let n = self.norm;
        (0..n.words.len()).find_map(|i| {
            let age: u32 = n.word(i).parse().ok()?;
            if !(75..=110).contains(&age) {
                return None;
            }
            let before = if i > 0 { n.word(i - 1) } else { "" };
            let after = if i + 1 < n.words.len() {
                n.word(i + 1)
            } else {
                ""
            };
            let person = matches!(
                before,
                "im" | "hes"
                    | "shes"
                    | "is"
                    | "aged"
                    | "age"
                    | "mum"
                    | "dad"
                    | "nan"
                    | "gran"
                    | "mother"
                    | "father"
                    | "grandad"
                    | "grandma"
                    | "grandmother"
                    | "grandfather"
                    | "nana"
                    | "husband"
                    | "wife"
                    | "uncle"
                    | "aunt"
            ) || matches!(after, "year" | "years" | "yr" | "yrs" | "yo");
            person.then(|| n.word(i).to_owned())
        })
    }

    pub(super) fn representative(&mut self) {
        use Signal as S;
        let h = self.hits;
        let role = h.has(S::RepresentativeRole);
        let relation = h.has(S::RepresentativeRelation) && h.has(S::RepresentativeLink);
        if role || relation {
            self.out.representative = true;
            // 1.3: a complaint made by a representative is handled the same way.
            self.because(
                "representative",
                Some("1.3"),
                &[
                    S::RepresentativeRole,
                    S::RepresentativeRelation,
                    S::RepresentativeLink,
                ],
            );
        }
    }

    /// Whether the message is unhappy with the landlord, its staff or its contractors (1.2).
    pub(super) fn dissatisfied(&mut self) -> bool {
        use Signal as S;
        let h = self.hits;
        let ctx = self.context;
        let in_case = ctx.open_service_request || ctx.open_complaint || ctx.stage1_response_sent;
        let complaint_word = h.has(S::ComplaintWord);
        // An angry emoji alone says little without a case to be angry about.
        let negative = h
            .of(S::NegativeJudgement)
            .filter(|n| in_case || n.words(h.message).chars().any(char::is_alphanumeric))
            .count();
        let weak = h.count(S::WeakFailure) + self.durations();
        let hazard = h.has(S::Fault) || h.has(S::HealthSafety) || h.has(S::Emergency);
        let asks = (0..self.norm.questions.len()).any(|s| self.norm.is_question(s as u16));
        let failure =
            h.count(S::Failure) > 0 || weak >= 2 || weak >= 1 && (hazard || in_case && !asks);
        let sarcasm = h.has(S::Sarcasm) && (failure || weak > 0 || negative > 0 || hazard);
        let escalation =
            h.has(S::Escalation) || ctx.stage1_response_sent && (negative > 0 || failure);

        if !(complaint_word || negative > 0 || failure || sarcasm || escalation) {
            return false;
        }
        // "Not complaining, just asking when": the resident's own word counts unless the
        // message is plainly unhappy regardless.
        if h.has(S::ComplaintNegated) && negative == 0 && h.count(S::Failure) < 2 {
            self.because("dissatisfied.declined", Some("1.2"), &[S::ComplaintNegated]);
            return false;
        }
        // Displeasure aimed only at a neighbour, the council or another organisation is not a
        // complaint about the landlord; the landlord's handling of it is.
        let about_others =
            h.has(S::ThirdParty) || h.has(S::Asb) || h.has(S::OtherOrg) || h.has(S::Agency);
        let landlord_failure = failure && h.has(S::LandlordParty)
            || complaint_word
            || escalation
            || sarcasm
            || h.has(S::Blame);
        // A leak from the flat above is still the landlord's to fix.
        if about_others && !landlord_failure && !(failure && hazard) {
            self.because(
                "dissatisfied.about_others",
                Some("1.2"),
                &[S::ThirdParty, S::Asb, S::OtherOrg],
            );
            return false;
        }
        self.because(
            "dissatisfied",
            Some("1.2"),
            &[
                S::ComplaintWord,
                S::NegativeJudgement,
                S::Failure,
                S::WeakFailure,
                S::Sarcasm,
                S::Escalation,
            ],
        );
        // 1.3: whenever a resident is unhappy, the choice to complain is offered.
        self.out.provisions.insert("1.3");
        true
    }

    pub(super) fn intent_and_route(&mut self, dissatisfied: bool) {
        use Signal as S;
        let h = self.hits;
        let ctx = *self.context;

        // Escalation of an existing complaint (6.10 to 6.12), or the same matter again after
        // the end of the process (2.2).
        if dissatisfied && h.has(S::AlreadyDecided) {
            self.set(Intent::Complaint, Route::AlreadyDecided);
            self.because("route.already_decided", Some("2.2"), &[S::AlreadyDecided]);
            self.suggestion_only();
            return;
        }
        if dissatisfied && (h.has(S::Escalation) || ctx.stage1_response_sent) {
            self.set(Intent::Escalation, Route::Complaints);
            let provision = if h.has(S::Escalation) { "6.11" } else { "6.10" };
            self.because(
                "intent.escalation",
                Some(provision),
                &[S::Escalation, S::ResponseRef],
            );
            // 6.12: no reasons are needed to go to stage 2.
            self.out.provisions.insert("6.12");
            return;
        }

        // Other routes: suggestions for staff (2.5), never decisions.
        let landlord_handling = h.has(S::Failure) && h.has(S::LandlordParty)
            || h.has(S::ComplaintWord)
            || dissatisfied && h.has(S::NegativeJudgement) && h.has(S::LandlordParty);
        if h.has(S::LegalFiled) {
            self.set(Intent::ReportOther, Route::Legal);
            self.because("route.legal_proceedings", Some("2.2"), &[S::LegalFiled]);
            self.suggestion_only();
            return;
        }
        if self.routes.enabled(Route::Insurance)
            && (h.has(S::Injury) || h.has(S::BelongingsDamage))
            && h.has(S::ClaimMoney)
        {
            // Blaming the landlord for the injury or damage is dissatisfaction too.
            if !dissatisfied && (h.has(S::Blame) || h.has(S::Failure)) {
                self.out.dissatisfied = true;
                self.because("dissatisfied.blames_landlord", Some("1.2"), &[S::Blame]);
            }
            self.set(Intent::ReportOther, Route::Insurance);
            self.because(
                "route.insurance_claim",
                None,
                &[S::Injury, S::BelongingsDamage, S::ClaimMoney],
            );
            self.suggestion_only();
            return;
        }
        if self.routes.enabled(Route::ServiceCharge)
            && h.has(S::ServiceCharge)
            && h.has(S::ChargeLevel)
            && !h.has(S::NotDelivered)
        {
            // Challenging the level of a charge is unhappiness with the landlord's charges.
            self.out.dissatisfied = true;
            self.set(Intent::ReportOther, Route::ServiceCharge);
            self.because(
                "route.service_charge_level",
                None,
                &[S::ServiceCharge, S::ChargeLevel],
            );
            self.suggestion_only();
            return;
        }
        // Praise with nothing to act on is a compliment, whatever else it mentions ("the ASB
        // team sorted the problem with next door").
        if !dissatisfied && self.compliment() && !h.has(S::ActionRequest) && !h.has(S::Fault) {
            self.because("intent.compliment", None, &[S::Praise]);
            self.set(Intent::Compliment, Route::Complaints);
            return;
        }
        let asb = h.has(S::Asb) || h.has(S::Nuisance) && h.has(S::ThirdParty);
        let safeguarding_only = h.has(S::Safeguarding) && !dissatisfied && !h.has(S::ActionRequest);
        if safeguarding_only && h.has(S::Agency) && !h.has(S::Asb) {
            self.set(Intent::ReportOther, Route::OtherOrg);
            self.because("route.other_organisation", None, &[S::OtherOrg]);
            self.suggestion_only();
            return;
        }
        if self.routes.enabled(Route::Asb) && asb && !landlord_handling {
            // Unhappiness with a neighbour is not dissatisfaction with the landlord.
            self.out.dissatisfied = false;
            self.set(Intent::ReportOther, Route::Asb);
            self.because("route.asb", None, &[S::Asb, S::Nuisance, S::ThirdParty]);
            self.suggestion_only();
            return;
        }
        if self.routes.enabled(Route::Asb) && asb && landlord_handling {
            // Unhappy with how the landlord handles a neighbour matter ("you never do
            // anything"): a complaint, and the matter is still one for the ASB team, so the
            // dialog gives both.
            self.because(ASB_TOO, None, &[S::Asb, S::Nuisance, S::ThirdParty]);
        }
        if safeguarding_only {
            // A disclosure: staff are alerted; there is nothing to route. A question in it
            // ("who do I tell?") is answered as an enquiry.
            let asks = (0..self.norm.questions.len()).any(|s| self.norm.is_question(s as u16))
                || h.has(S::AskHow);
            let intent = if asks { Intent::Enquiry } else { Intent::Other };
            self.set(intent, Route::Complaints);
            return;
        }
        let agency_matter = h.has(S::Agency)
            && !(h.has(S::Fault) || h.has(S::HealthSafety) || h.has(S::ActionRequest));
        if self.routes.enabled(Route::OtherOrg)
            && (h.has(S::OtherOrg) || agency_matter)
            && !landlord_handling
            && !h.has(S::ActionRequest)
        {
            // Unhappiness with another organisation is not dissatisfaction with the landlord.
            self.out.dissatisfied = false;
            self.set(Intent::ReportOther, Route::OtherOrg);
            self.because("route.other_organisation", None, &[S::OtherOrg]);
            self.suggestion_only();
            return;
        }

        if dissatisfied {
            // 2.3: more than 12 months ago and over; never a refusal, a note for staff.
            let route = if self.out_of_time() {
                self.because("route.out_of_time", Some("2.3"), &[S::PastTime]);
                self.suggestion_only();
                Route::OutOfTime
            } else {
                Route::Complaints
            };
            let intent = if ctx.open_service_request {
                // 1.5: unhappy with an open service request: offer a complaint while the
                // request carries on.
                self.because("intent.complaint_while_request_open", Some("1.5"), &[]);
                Intent::Complaint
            } else if ctx.open_complaint {
                // 6.8: a related issue raised before the stage 1 response joins the complaint.
                self.because("intent.joins_open_complaint", Some("6.8"), &[]);
                Intent::Complaint
            } else if h.has(S::ActionRequest)
                && !h.has(S::ComplaintWord)
                && h.count(S::NegativeJudgement) <= 1
                && !self.long_grievance()
            {
                self.because("intent.service_request", Some("1.4"), &[S::ActionRequest]);
                Intent::ServiceRequest
            } else {
                self.because("intent.complaint", Some("1.2"), &[S::ComplaintWord]);
                Intent::Complaint
            };
            self.set(intent, route);
            return;
        }

        let asks = (0..self.norm.questions.len()).any(|s| self.norm.is_question(s as u16))
            || h.has(S::AskHow);
        let question = asks || h.has(S::Question);
        let substance = asks
            || h.has(S::Fault)
            || h.has(S::ComplaintNegated)
            || h.has(S::ActionRequest)
            || h.has(S::EnquiryTopic)
            || h.has(S::AskHow)
            || h.has(S::Emergency)
            || h.has(S::HealthSafety)
            || h.has(S::Praise)
            || h.has(S::Thanks)
            || h.has(S::Suggestion);
        let intent = if h.has(S::Greeting) && !substance || self.norm.words.is_empty() {
            Intent::Other
        } else if h.has(S::Suggestion) && !h.has(S::Emergency) {
            self.because("intent.comment", None, &[S::Suggestion]);
            Intent::Comment
        } else if self.compliment() {
            self.because("intent.compliment", None, &[S::Praise]);
            Intent::Compliment
        } else if h.has(S::AskHow) && !h.has(S::Emergency) {
            self.because("intent.enquiry", None, &[S::AskHow]);
            Intent::Enquiry
        } else if h.has(S::ActionRequest) || h.has(S::Emergency) && !asks {
            self.because(
                "intent.service_request",
                Some("1.4"),
                &[S::ActionRequest, S::Fault],
            );
            Intent::ServiceRequest
        } else if h.has(S::Thanks) && !question {
            self.because("intent.thanks", None, &[S::Thanks]);
            Intent::Thanks
        } else if h.has(S::ComplaintNegated) && !question {
            self.because("intent.comment", None, &[S::ComplaintNegated]);
            Intent::Comment
        } else if question || h.has(S::EnquiryTopic) {
            self.because("intent.enquiry", None, &[S::Question, S::EnquiryTopic]);
            Intent::Enquiry
        } else if h.has(S::Fault) || h.has(S::HealthSafety) {
            self.because("intent.service_request", Some("1.4"), &[S::Fault]);
            Intent::ServiceRequest
        } else {
            Intent::Other
        };
        self.set(intent, Route::Complaints);
        // Not a complaint in itself, but it may date one ("it was back in 2019"): a note for
        // staff, never a refusal (2.3).
        if self.out_of_time() {
            self.because("note.more_than_12_months_ago", Some("2.3"), &[S::PastTime]);
        }
    }

    /// A long message setting out several failures is a complaint, whatever it also asks for.
    fn long_grievance(&self) -> bool {
        let h = self.hits;
        self.norm.words.len() > 80
            && h.count(Signal::Failure) + h.count(Signal::NegativeJudgement) >= 3
    }

    /// Unsolicited praise that is not sarcasm.
    fn compliment(&self) -> bool {
        let h = self.hits;
        let sarcastic = h.has(Signal::Sarcasm)
            && (h.has(Signal::Failure)
                || h.has(Signal::NegativeJudgement)
                || h.has(Signal::WeakFailure));
        h.has(Signal::Praise) && !sarcastic && self.praise_is_particular()
    }

    /// Praise says something particular (a person, a job done well), not only "thanks".
    fn praise_is_particular(&self) -> bool {
        let h = self.hits;
        let praise = h.count(Signal::Praise);
        let words = self.norm.words.len();
        // "great thanks bye", "lovely ta", "perfect thank you": a closing, not a compliment.
        !(h.has(Signal::Thanks) && praise <= 1 && words <= 7)
    }

    /// The issue happened, and ended, more than 12 months ago (2.3).
    pub(super) fn out_of_time(&self) -> bool {
        use Signal as S;
        let h = self.hits;
        if h.has(S::Ongoing) {
            return false;
        }
        if h.has(S::PastTime) {
            return true;
        }
        // A year named in the message, two or more years before today.
        let Some(today) = self.context.today else {
            return false;
        };
        (0..self.norm.words.len()).any(|i| {
            let w = self.norm.word(i);
            w.len() == 4
                && w.parse::<i32>()
                    .is_ok_and(|y| (1990..=today.year() - 2).contains(&y))
        })
    }

    pub(super) fn set(&mut self, intent: Intent, route: Route) {
        self.out.intent = intent;
        self.out.route = route;
    }

    /// 2.1, 2.5: each complaint on its own merits; a route is a suggestion a person confirms.
    pub(super) fn suggestion_only(&mut self) {
        self.out.provisions.insert("2.1");
        self.out.provisions.insert("2.5");
    }
}
