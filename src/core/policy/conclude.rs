//! `Reading::conclude`: the rules' reading combined with the learned heads' scores, field by
//! field, as the model's decisions say (see `learned::Decisions`).

use super::rules::{Learned, Reading};
use super::{Assessment, Intent, Reason, Risk, Route, Signal, language, learned};

impl Reading<'_> {
    pub(super) fn conclude(mut self) -> Assessment {
        self.risks();
        self.learned_risks();
        if self.language != language::ENGLISH {
            // 5.10: an interpreter is a reasonable adjustment; the words cannot be read here.
            self.out.provisions.insert("5.10");
            self.out.reasons.push(Reason {
                rule: "language.not_english",
                provision: Some("5.10"),
                words: vec![self.language.to_owned()],
            });
            return self.out;
        }
        self.representative();
        self.learned_representative();
        let (reasons, provisions) = (self.out.reasons.len(), self.out.provisions.clone());
        let dissatisfied = self.dissatisfied();
        self.out.dissatisfied = dissatisfied;
        self.intent_and_route(dissatisfied);
        if let Some(l) = self.learned {
            // Dissatisfied: the rules' conclusion (after their routes) and the score, combined
            // as the model's decision says; a change reads the intent and route again.
            let rule = self.out.dissatisfied;
            let hint = learned::hints(self.hits.present)[0];
            // A request in so many words to take a complaint further is never doubted (6.11).
            let explicit = self.hits.has(Signal::Escalation);
            let decided = rule && explicit
                || l.decisions
                    .dissatisfied
                    .decide(rule, hint, l.scores.dissatisfied());
            if decided != rule {
                let words = if decided {
                    self.learned_words(learned::DISSATISFIED)
                } else {
                    self.out
                        .reasons
                        .iter()
                        .filter(|r| r.rule == "dissatisfied")
                        .flat_map(|r| r.words.clone())
                        .collect()
                };
                self.out.reasons.truncate(reasons);
                self.out.provisions = provisions;
                self.set(Intent::Other, Route::Complaints);
                if decided {
                    // 1.3: whenever a resident is unhappy, the choice to complain is offered.
                    self.out.provisions.extend(["1.2", "1.3"]);
                }
                self.out.reasons.push(Reason {
                    rule: if decided {
                        "learned.dissatisfied"
                    } else {
                        "learned.not_dissatisfied"
                    },
                    provision: decided.then_some("1.2"),
                    words,
                });
                self.out.dissatisfied = decided;
                let learned_reason = self.out.reasons.len() - 1;
                self.intent_and_route(decided);
                if self.out.dissatisfied != decided {
                    // A route's own rule settled it (a neighbour's noise is not about the
                    // landlord; a charge challenged is): the learned reason goes.
                    self.out.reasons.remove(learned_reason);
                    if !self.out.dissatisfied {
                        self.out.provisions.remove("1.3");
                        if !self.out.reasons.iter().any(|r| r.provision == Some("1.2")) {
                            self.out.provisions.remove("1.2");
                        }
                    }
                }
            }
            self.learned_route_and_intent(l);
        }
        // A date more than 12 months ago is always noted for staff, whatever the message was
        // read as (an escalation, a complaint joining an open one): it may date the matter.
        // Never a refusal (2.3).
        if self.out.route != Route::OutOfTime
            && !self
                .out
                .reasons
                .iter()
                .any(|r| r.rule == "note.more_than_12_months_ago")
            && self.out_of_time()
        {
            self.because(
                "note.more_than_12_months_ago",
                Some("2.3"),
                &[Signal::PastTime],
            );
        }
        self.out
    }

    /// The resident's words behind a learned head's score, strongest first.
    fn learned_words(&self, head: usize) -> Vec<String> {
        match self.learned {
            Some(Learned {
                model: Some(model),
                features,
                ..
            }) => model.top_words(features, self.norm, self.hits.message, head, 4),
            _ => Vec::new(),
        }
    }

    /// Drops the reasons whose rule starts with `prefix`, and the provisions only they gave.
    fn forget(&mut self, prefix: &str) -> Vec<String> {
        let mut words = Vec::new();
        let mut dropped = Vec::new();
        self.out.reasons.retain(|r| {
            let keep = !r.rule.starts_with(prefix);
            if !keep {
                words.extend(r.words.iter().cloned());
                dropped.extend(r.provision);
            }
            keep
        });
        for p in dropped {
            if !self.out.reasons.iter().any(|r| r.provision == Some(p)) {
                self.out.provisions.remove(p);
            }
        }
        words
    }

    /// Each risk: the rules' finding and the score, combined as the model's decision says.
    fn learned_risks(&mut self) {
        let Some(l) = self.learned else { return };
        for &risk in Risk::ALL {
            let rule = self.out.risks.contains(&risk);
            let hint = learned::hints(self.hits.present)[1 + risk as usize];
            let decided = l
                .decisions
                .risk(risk)
                .decide(rule, hint, l.scores.risk(risk));
            if decided == rule {
                continue;
            }
            let (found, doubted, provision) = match risk {
                Risk::Emergency => ("learned.risk.emergency", "learned.doubts.emergency", None),
                Risk::HealthSafety => (
                    "learned.risk.health_safety",
                    "learned.doubts.health_safety",
                    None,
                ),
                Risk::Safeguarding => (
                    "learned.risk.safeguarding",
                    "learned.doubts.safeguarding",
                    None,
                ),
                Risk::Vulnerability => (
                    "learned.risk.vulnerability",
                    "learned.doubts.vulnerability",
                    Some("6.1"),
                ),
            };
            if decided {
                self.out.risks.insert(risk);
                let words = self.learned_words(learned::RISKS + risk as usize);
                self.out.provisions.extend(provision);
                self.out.reasons.push(Reason {
                    rule: found,
                    provision,
                    words,
                });
            } else {
                self.out.risks.remove(&risk);
                let words = self.forget(&format!("risk.{risk}"));
                self.out.reasons.push(Reason {
                    rule: doubted,
                    provision: None,
                    words,
                });
            }
        }
    }

    /// Whether the writer acts for someone else: rules and score combined (1.3).
    fn learned_representative(&mut self) {
        let Some(l) = self.learned else { return };
        let rule = self.out.representative;
        let hint = learned::hints(self.hits.present)[5];
        let decided = l
            .decisions
            .representative
            .decide(rule, hint, l.scores.representative());
        if decided == rule {
            return;
        }
        self.out.representative = decided;
        if decided {
            let words = self.learned_words(learned::REPRESENTATIVE);
            self.out.provisions.insert("1.3");
            self.out.reasons.push(Reason {
                rule: "learned.representative",
                provision: Some("1.3"),
                words,
            });
        } else {
            let words = self.forget("representative");
            self.out.reasons.push(Reason {
                rule: "learned.doubts.representative",
                provision: None,
                words,
            });
        }
    }

    /// Route, then intent: the heads' choice replaces the rules' when it is likely enough,
    /// among the choices consistent with the other fields. What the case already fixes (1.5,
    /// 6.8, 6.10: unhappiness with an open request, an open complaint or a stage 1 response)
    /// stays the rules'.
    fn learned_route_and_intent(&mut self, l: Learned<'_>) {
        let dissatisfied = self.out.dissatisfied;
        let ctx = self.context;
        // What the case fixes is the rules' (1.5, 6.8, 6.10 to 6.12), and so is a request
        // in so many words to take a complaint further.
        if dissatisfied
            && (ctx.open_service_request || ctx.open_complaint || ctx.stage1_response_sent)
            || self.out.intent == Intent::Escalation
            || self.out.route == Route::AlreadyDecided
        {
            return;
        }
        let route = Route::ALL
            .iter()
            .copied()
            .filter(|r| *r == Route::Complaints || self.routes.enabled(*r))
            // 2.2, 2.3: out of time and already decided are about a complaint.
            .filter(|r| dissatisfied || !matches!(r, Route::OutOfTime | Route::AlreadyDecided))
            .max_by(|a, b| l.scores.route(*a).total_cmp(&l.scores.route(*b)));
        if let Some(route) = route
            && route != self.out.route
            && l.scores.route(route) >= l.decisions.route.over_rule
        {
            self.forget("route.");
            for p in ["2.1", "2.5"] {
                self.out.provisions.remove(p);
            }
            self.out.route = route;
            let provision = match route {
                Route::Legal | Route::AlreadyDecided => Some("2.2"),
                Route::OutOfTime => Some("2.3"),
                _ => None,
            };
            if route != Route::Complaints {
                self.suggestion_only();
                self.forget("intent.");
                self.out.intent = match route {
                    Route::OutOfTime | Route::AlreadyDecided => Intent::Complaint,
                    _ => Intent::ReportOther,
                };
            }
            let words = self.learned_words(learned::ROUTE + route as usize);
            self.out.provisions.extend(provision);
            self.out.reasons.push(Reason {
                rule: "learned.route",
                provision,
                words,
            });
        }
        if self.out.route != Route::Complaints {
            return;
        }
        let allowed: &[Intent] = if dissatisfied {
            &[
                Intent::Complaint,
                Intent::ServiceRequest,
                Intent::Escalation,
            ]
        } else {
            &[
                Intent::ServiceRequest,
                Intent::Compliment,
                Intent::Thanks,
                Intent::Comment,
                Intent::Enquiry,
                Intent::Other,
            ]
        };
        let Some(best) = allowed
            .iter()
            .copied()
            .max_by(|a, b| l.scores.intent(*a).total_cmp(&l.scores.intent(*b)))
        else {
            return;
        };
        let current_allowed = allowed.contains(&self.out.intent);
        if best == self.out.intent
            || current_allowed && l.scores.intent(best) < l.decisions.intent.over_rule
        {
            return;
        }
        self.forget("intent.");
        self.out.provisions.remove("6.12");
        self.out.intent = best;
        let provision = match best {
            Intent::Complaint => Some("1.2"),
            Intent::ServiceRequest => Some("1.4"),
            Intent::Escalation => Some("6.11"),
            _ => None,
        };
        if best == Intent::Escalation {
            // 6.12: no reasons are needed to go to stage 2.
            self.out.provisions.insert("6.12");
        }
        let words = self.learned_words(learned::INTENT + best as usize);
        self.out.provisions.extend(provision);
        self.out.reasons.push(Reason {
            rule: "learned.intent",
            provision,
            words,
        });
    }
}
