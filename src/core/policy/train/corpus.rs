//! Labelled messages in the corpus format, and the engine's figures on them.

use std::collections::BTreeSet;
use std::fmt::Write as _;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::core::policy::{Assessment, Context, Intent, Policy, Risk, Route};

/// One labelled message, in the corpus format (`tests/corpus/LABELS.md`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Labelled {
    pub id: String,
    pub text: String,
    #[serde(default, skip_serializing_if = "CorpusContext::is_empty")]
    pub context: CorpusContext,
    pub expect: Expect,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub why: String,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CorpusContext {
    pub open_service_request: bool,
    pub open_complaint: bool,
    pub stage1_response_sent: bool,
}

impl CorpusContext {
    fn is_empty(&self) -> bool {
        *self == CorpusContext::default()
    }

    /// What was known of the case, without the day.
    pub fn of(context: &Context) -> CorpusContext {
        CorpusContext {
            open_service_request: context.open_service_request,
            open_complaint: context.open_complaint,
            stage1_response_sent: context.stage1_response_sent,
        }
    }
}

/// The expected assessment; a field left out is not scored.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Expect {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dissatisfied: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub intent: Option<Intent>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub route: Option<Route>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub risks: Option<BTreeSet<Risk>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub representative: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub language: Option<String>,
}

/// The corpus is judged as of a fixed day, so "in 2019" means the same thing every year.
pub fn corpus_day() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, 23).expect("a valid date")
}

impl Labelled {
    pub fn context(&self) -> Context {
        Context {
            open_service_request: self.context.open_service_request,
            open_complaint: self.context.open_complaint,
            stage1_response_sent: self.context.stage1_response_sent,
            today: Some(corpus_day()),
        }
    }
}

/// Reads labelled lines (JSON lines; blank lines skipped). `source` names the file in errors.
pub fn parse_lines(text: &str, source: &str) -> Result<Vec<Labelled>, String> {
    let mut out = Vec::new();
    for (n, raw) in text.lines().enumerate() {
        if raw.trim().is_empty() {
            continue;
        }
        let line: Labelled =
            serde_json::from_str(raw).map_err(|e| format!("{source}:{}: {e}", n + 1))?;
        out.push(line);
    }
    Ok(out)
}

/// Counts for one yes/no field.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    pub tp: usize,
    pub fp: usize,
    pub fn_: usize,
    pub tn: usize,
}

impl Counts {
    pub fn add(&mut self, expected: bool, got: bool) {
        match (expected, got) {
            (true, true) => self.tp += 1,
            (false, true) => self.fp += 1,
            (true, false) => self.fn_ += 1,
            (false, false) => self.tn += 1,
        }
    }
    pub fn precision(&self) -> f64 {
        ratio(self.tp, self.tp + self.fp)
    }
    pub fn recall(&self) -> f64 {
        ratio(self.tp, self.tp + self.fn_)
    }
    pub fn f(&self, beta: f64) -> f64 {
        let (p, r) = (self.precision(), self.recall());
        let b2 = beta * beta;
        if p + r == 0.0 {
            0.0
        } else {
            (1.0 + b2) * p * r / (b2 * p + r)
        }
    }
}

fn ratio(a: usize, b: usize) -> f64 {
    if b == 0 { 1.0 } else { a as f64 / b as f64 }
}

/// The Wilson score interval for `k` successes in `n`, at 95%.
pub fn wilson(k: usize, n: usize) -> (f64, f64) {
    if n == 0 {
        return (0.0, 1.0);
    }
    let z = 1.959_964_f64;
    let (k, n) = (k as f64, n as f64);
    let p = k / n;
    let centre = (p + z * z / (2.0 * n)) / (1.0 + z * z / n);
    let half = z / (1.0 + z * z / n) * (p * (1.0 - p) / n + z * z / (4.0 * n * n)).sqrt();
    ((centre - half).max(0.0), (centre + half).min(1.0))
}

/// The engine's figures on a set of labelled messages.
#[derive(Debug, Clone, Default)]
pub struct Report {
    pub lines: usize,
    pub dissatisfied: Counts,
    pub risks: [Counts; 4],
    pub representative: Counts,
    pub intent: (usize, usize),
    pub route: (usize, usize),
    pub language: (usize, usize),
    /// One line per message with a field wrong: id, what was wrong, the text.
    pub misses: Vec<String>,
}

impl Report {
    pub fn risk(&self, risk: Risk) -> &Counts {
        &self.risks[risk as usize]
    }
    pub fn intent_accuracy(&self) -> f64 {
        ratio(self.intent.0, self.intent.1)
    }
    pub fn route_accuracy(&self) -> f64 {
        ratio(self.route.0, self.route.1)
    }

    /// Adds one message's assessment against its labels.
    pub fn add(&mut self, line: &Labelled, a: &Assessment) {
        self.lines += 1;
        let e = &line.expect;
        let mut wrong: Vec<String> = Vec::new();
        if let Some(d) = e.dissatisfied {
            self.dissatisfied.add(d, a.dissatisfied);
            if d != a.dissatisfied {
                wrong.push(format!("dissatisfied {d}≠{}", a.dissatisfied));
            }
        }
        if let Some(i) = e.intent {
            self.intent.1 += 1;
            if i == a.intent {
                self.intent.0 += 1;
            } else {
                wrong.push(format!("intent {i}≠{}", a.intent));
            }
        }
        if let Some(r) = e.route {
            self.route.1 += 1;
            if r == a.route {
                self.route.0 += 1;
            } else {
                wrong.push(format!("route {r}≠{}", a.route));
            }
        }
        if let Some(expected) = &e.risks {
            for risk in Risk::ALL {
                let (exp, got) = (expected.contains(risk), a.has_risk(*risk));
                self.risks[*risk as usize].add(exp, got);
                if exp != got {
                    wrong.push(format!("{}{risk}", if exp { "-" } else { "+" }));
                }
            }
        }
        if let Some(r) = e.representative {
            self.representative.add(r, a.representative);
            if r != a.representative {
                wrong.push(format!("representative {r}≠{}", a.representative));
            }
        }
        if let Some(l) = &e.language {
            self.language.1 += 1;
            if l == a.language {
                self.language.0 += 1;
            } else {
                wrong.push(format!("language {l}≠{}", a.language));
            }
        }
        if !wrong.is_empty() {
            let text: String = line.text.chars().take(110).collect();
            self.misses.push(format!(
                "{:8} {:50} | {} ({})",
                line.id,
                wrong.join(", "),
                text.replace('\n', " "),
                line.why
            ));
        }
    }

    /// Per-field figures, with 95% intervals.
    pub fn figures(&self) -> String {
        let mut out = String::new();
        let binary = |out: &mut String, name: &str, c: &Counts| {
            let (pl, ph) = wilson(c.tp, c.tp + c.fp);
            let (rl, rh) = wilson(c.tp, c.tp + c.fn_);
            let _ = writeln!(
                out,
                "{name:15} precision {:.3} [{pl:.2}-{ph:.2}]  recall {:.3} [{rl:.2}-{rh:.2}]  (tp {} fp {} fn {} tn {})",
                c.precision(),
                c.recall(),
                c.tp,
                c.fp,
                c.fn_,
                c.tn
            );
        };
        let _ = writeln!(out, "{} messages", self.lines);
        binary(&mut out, "dissatisfied", &self.dissatisfied);
        for risk in Risk::ALL {
            binary(&mut out, risk.as_str(), self.risk(*risk));
        }
        binary(&mut out, "representative", &self.representative);
        for (name, (ok, n)) in [
            ("intent", self.intent),
            ("route", self.route),
            ("language", self.language),
        ] {
            let (l, h) = wilson(ok, n);
            let _ = writeln!(
                out,
                "{name:15} accuracy {:.3} [{l:.2}-{h:.2}]  ({ok}/{n})",
                ratio(ok, n)
            );
        }
        out
    }
}

/// Scores `policy` on `lines`.
pub fn evaluate(policy: &Policy, lines: &[Labelled]) -> Report {
    let mut report = Report::default();
    for line in lines {
        report.add(line, &policy.assess(&line.text, &line.context()));
    }
    report
}
