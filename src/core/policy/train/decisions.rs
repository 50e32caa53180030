//! Choosing how the heads combine with the rules, field by field, on scores from models that
//! never saw the message (the cross-validation's out-of-fold scores).

use crate::core::policy::learned::{Binary, Choice, Decisions, Scores};
use crate::core::policy::{Assessment, Policy, Risk};

use super::{Counts, Expect, Labelled};

/// The least precision, across the cross-validation, each binary decision must keep while it
/// finds as many as it can. Each is a little above issue 10's precision target where there is
/// one (dissatisfied 0.88, emergency 0.75). A safeguarding concern missed costs more than a
/// manager's look at one that was not, so its floor is lowest; a flood of false emergencies
/// teaches staff to ignore them, so that floor stays high.
pub const PRECISION_FLOORS: [(&str, f64); 6] = [
    ("dissatisfied", 0.88),
    ("emergency", 0.78),
    ("health_safety", 0.75),
    ("safeguarding", 0.65),
    ("vulnerability", 0.75),
    ("representative", 0.85),
];

/// The binary decision that finds the most while keeping `floor` precision (else the best F1),
/// over (expected, rules' finding, hint, score) for each message.
fn best_binary(cases: &[(bool, bool, bool, f32)], floor: f64, keep_rule: bool) -> Binary {
    if !cases.iter().any(|c| c.0) {
        // Nothing to learn from: the rules alone.
        return Binary::RULES;
    }
    const WITH_RULE: [f32; 9] = [0.0, 0.02, 0.05, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5];
    // A rule finding of an urgent risk is doubted only when the heads are all but certain it
    // is wrong: a manager's look costs less than a missed emergency.
    let with_rules: &[f32] = if keep_rule {
        &WITH_RULE[..3]
    } else {
        &WITH_RULE
    };
    let grid: Vec<f32> = (4..=39).map(|s| s as f32 * 0.025).chain([2.0]).collect();
    let mut best: Option<(Binary, Counts)> = None;
    let better = |c: &Counts, b: &Counts| {
        let (cm, bm) = (c.precision() >= floor, b.precision() >= floor);
        match (cm, bm) {
            (true, false) => true,
            (false, true) => false,
            (true, true) => (c.recall(), c.precision()) > (b.recall(), b.precision()),
            (false, false) => c.f(1.0) > b.f(1.0),
        }
    };
    for &with_rule in with_rules {
        for &with_hint in &grid {
            for &alone in grid.iter().filter(|a| **a >= with_hint) {
                let d = Binary {
                    with_rule,
                    with_hint,
                    alone,
                };
                let mut c = Counts::default();
                for &(expected, rule, hint, score) in cases {
                    c.add(expected, d.decide(rule, hint, score));
                }
                if best.as_ref().is_none_or(|(_, b)| better(&c, b)) {
                    best = Some((d, c));
                }
            }
        }
    }
    best.map_or(Binary::RULES, |(d, _)| d)
}

/// Each field's decision: the binary fields by `best_binary`, then route and intent by
/// accuracy.
pub(super) fn choose(
    base: &Policy,
    lines: &[Labelled],
    rules: &[Assessment],
    hints: &[[bool; 6]],
    oof: &[Scores],
) -> Decisions {
    let mut decisions = Decisions::RULES;
    let floor = |name: &str| {
        PRECISION_FLOORS
            .iter()
            .find(|(n, _)| *n == name)
            .map_or(0.9, |(_, f)| *f)
    };
    type Case = (bool, bool, bool, f32);
    type Get<'a> = &'a dyn Fn(&Labelled, &Assessment, &[bool; 6], &Scores) -> Option<Case>;
    let cases = |get: Get<'_>| {
        lines
            .iter()
            .zip(rules)
            .zip(hints)
            .zip(oof)
            .filter_map(|(((l, a), h), s)| get(l, a, h, s))
            .collect::<Vec<_>>()
    };
    decisions.dissatisfied = best_binary(
        &cases(&|l, a, h, s| {
            l.expect
                .dissatisfied
                .map(|d| (d, a.dissatisfied, h[0], s.dissatisfied()))
        }),
        floor("dissatisfied"),
        false,
    );
    for risk in Risk::ALL {
        *decisions.risk_mut(*risk) = best_binary(
            &cases(&|l, a, h, s| {
                l.expect.risks.as_ref().map(|r| {
                    (
                        r.contains(risk),
                        a.has_risk(*risk),
                        h[1 + *risk as usize],
                        s.risk(*risk),
                    )
                })
            }),
            floor(risk.as_str()),
            matches!(risk, Risk::Emergency | Risk::Safeguarding),
        );
    }
    decisions.representative = best_binary(
        &cases(&|l, a, h, s| {
            l.expect
                .representative
                .map(|r| (r, a.representative, h[5], s.representative()))
        }),
        floor("representative"),
        false,
    );

    // Route, then intent: the threshold with the best accuracy across the folds.
    let grid: Vec<f32> = (6..=19).map(|s| s as f32 * 0.05).chain([2.0]).collect();
    let accuracy = |d: &Decisions, field: fn(&Expect, &Assessment) -> Option<bool>| {
        let mut ok = 0usize;
        for (l, s) in lines.iter().zip(oof) {
            let a = base.assess_scored(&l.text, &l.context(), Some(s), d);
            ok += usize::from(field(&l.expect, &a) == Some(true));
        }
        ok
    };
    let mut best = (0usize, Choice::RULES);
    for &t in &grid {
        let d = Decisions {
            route: Choice { over_rule: t },
            ..decisions
        };
        let ok = accuracy(&d, |e, a| e.route.map(|r| r == a.route));
        if ok > best.0 {
            best = (ok, d.route);
        }
    }
    decisions.route = best.1;
    let mut best = (0usize, Choice::RULES);
    for &t in &grid {
        let d = Decisions {
            intent: Choice { over_rule: t },
            ..decisions
        };
        let ok = accuracy(&d, |e, a| e.intent.map(|i| i == a.intent));
        if ok > best.0 {
            best = (ok, d.intent);
        }
    }
    decisions.intent = best.1;
    decisions
}
