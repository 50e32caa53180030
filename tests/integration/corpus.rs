//! The labelled corpus (`tests/corpus/*.jsonl`, see `tests/corpus/LABELS.md`) against the
//! policy engine, and the engine against the messages it was never fitted on.
//!
//! - The shipped model is what `intake policy train` makes from the corpus today, byte for
//!   byte, and its cross-validated figures (each message assessed by a model that never saw
//!   it) meet the corpus floors.
//! - The blind set (`tests/corpus/blind/`, written from `LABELS.md` alone by authors who never
//!   saw the engine or the corpus, and never used to fit or choose anything) meets issue 10's
//!   targets, except the two not yet reached (see `BLIND`).
//! - The second blind set (`tests/corpus/blind2/`, written the same way by two more authors
//!   before the corpus grew to 8,837 messages) holds what was measured once (see `BLIND2`).
//! - The older held-out set is reported.

use std::path::Path;

use intake::core::policy::train::{self, Labelled, Options, Report};
use intake::core::policy::{Policy, Risk, learned};

fn load(folder: &str) -> Vec<Labelled> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join(folder);
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .expect("a corpus folder")
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "jsonl"))
        .collect();
    files.sort();
    let mut lines = Vec::new();
    let mut ids = std::collections::HashSet::new();
    for file in files {
        let text = std::fs::read_to_string(&file).expect("corpus file");
        for line in train::parse_lines(&text, &file.display().to_string()).expect("valid lines") {
            assert!(ids.insert(line.id.clone()), "duplicate id {}", line.id);
            lines.push(line);
        }
    }
    lines
}

fn print(name: &str, r: &Report) {
    println!("{name}:\n{}", r.figures());
    println!("{} messages with at least one field wrong:", r.misses.len());
    for m in &r.misses {
        println!("  {m}");
    }
}

/// The floors a report must meet; each failure named.
fn below(r: &Report, floors: &Floors) -> Vec<String> {
    let mut failures = Vec::new();
    let mut check = |name: &str, got: f64, floor: f64| {
        if got < floor {
            failures.push(format!("{name} {got:.3} < {floor}"));
        }
    };
    check(
        "dissatisfied recall",
        r.dissatisfied.recall(),
        floors.dissatisfied_recall,
    );
    check(
        "dissatisfied precision",
        r.dissatisfied.precision(),
        floors.dissatisfied_precision,
    );
    check(
        "emergency recall",
        r.risk(Risk::Emergency).recall(),
        floors.emergency_recall,
    );
    check(
        "emergency precision",
        r.risk(Risk::Emergency).precision(),
        floors.emergency_precision,
    );
    check(
        "safeguarding recall",
        r.risk(Risk::Safeguarding).recall(),
        floors.safeguarding_recall,
    );
    check(
        "health and safety recall",
        r.risk(Risk::HealthSafety).recall(),
        floors.health_safety_recall,
    );
    check("intent accuracy", r.intent_accuracy(), floors.intent);
    check("route accuracy", r.route_accuracy(), floors.route);
    failures
}

struct Floors {
    dissatisfied_recall: f64,
    dissatisfied_precision: f64,
    emergency_recall: f64,
    emergency_precision: f64,
    safeguarding_recall: f64,
    health_safety_recall: f64,
    intent: f64,
    route: f64,
}

/// The blind set's floors: issue 10's targets, except the two the engine has not yet reached
/// (measured once, at the end of the work, with model 928828c021e3: dissatisfied recall 0.903
/// and emergency recall 0.940 against targets of 0.95). Those two floors are what was measured,
/// so any fall fails. Its figures have been seen since, so the second blind set (below) is the
/// honest one now; with model 41e436031152 this set gives 0.921 and 0.955.
const BLIND: Floors = Floors {
    dissatisfied_recall: 0.90,
    dissatisfied_precision: 0.88,
    emergency_recall: 0.94,
    emergency_precision: 0.75,
    safeguarding_recall: 0.92,
    health_safety_recall: 0.85,
    intent: 0.85,
    route: 0.92,
};

/// The second blind set's floors (`tests/corpus/blind2/`, written on 2026-12-01 and committed
/// before the corpus grew to 8,837 messages and model 41e436031152 was fitted). Measured once,
/// at the end of that work: dissatisfied recall 0.845 and precision 0.949, emergency 0.925 and
/// 0.866, safeguarding recall 0.903, health and safety 0.870, intent 0.859, route 0.971 (the
/// engine before it, model 9683a423a3f1: 0.828 / 0.973, 0.895 / 0.902, 0.931, 0.899, 0.860,
/// 0.968). Issue 10's targets where reached, else what was measured, so any fall fails:
/// dissatisfied recall, emergency recall and safeguarding recall are short of 0.95, 0.95 and
/// 0.92, which is the work left on issue 10.
const BLIND2: Floors = Floors {
    dissatisfied_recall: 0.84,
    dissatisfied_precision: 0.88,
    emergency_recall: 0.92,
    emergency_precision: 0.75,
    safeguarding_recall: 0.90,
    health_safety_recall: 0.85,
    intent: 0.85,
    route: 0.92,
};

/// The corpus across the folds (each message assessed by a model that never saw it): a little
/// under what was measured when the model was fitted, so a change to the corpus, features or
/// training that loses ground fails here, before anyone looks at the blind set.
/// (Model 41e436031152 on 8,837 messages: dissatisfied recall 0.862 and precision 0.877,
/// emergency 0.925 and 0.785, safeguarding recall 0.858, health and safety 0.868, intent 0.810,
/// route 0.948.)
const ACROSS_FOLDS: Floors = Floors {
    dissatisfied_recall: 0.85,
    dissatisfied_precision: 0.87,
    emergency_recall: 0.91,
    emergency_precision: 0.77,
    safeguarding_recall: 0.85,
    health_safety_recall: 0.86,
    intent: 0.80,
    route: 0.94,
};

#[test]
fn the_shipped_model_is_fitted_from_the_corpus_as_it_stands_and_meets_the_floors_across_folds() {
    let lines = load("tests/corpus");
    assert!(
        lines.len() >= 6000,
        "the corpus has {} lines; issue 10 asks for at least 6,000",
        lines.len()
    );
    let base = Policy::shipped().expect("shipped lexicon").with_model(None);
    let options = Options::default();
    let shipped = learned::Model::from_bytes(learned::SHIPPED).expect("shipped model");
    let trained = options.describe(lines.len(), "tests/corpus");
    let training = train::train(&base, &lines, &options, trained);
    print("the rules alone on the corpus", &training.rules);
    print(
        "rules and learned heads across the folds",
        &training.cross_validated,
    );
    assert!(
        training.model.to_bytes() == learned::SHIPPED,
        "src/core/policy/model.bin is not what the corpus makes now (shipped {}, fitted {}): run `cargo run --release -- policy train` and commit the model",
        shipped.version(),
        training.model.version()
    );
    let failures = below(&training.cross_validated, &ACROSS_FOLDS);
    assert!(
        failures.is_empty(),
        "below the floors across the folds: {}",
        failures.join("; ")
    );
}

/// Written from the label rules alone, before the learned layer, by authors who never saw the
/// engine or the corpus. Never used to fit or choose anything: only to report.
#[test]
fn the_blind_set_is_reported_and_holds_its_floors() {
    let lines = load("tests/corpus/blind");
    assert!(
        lines.len() >= 800,
        "the blind set has {} lines",
        lines.len()
    );
    let policy = Policy::shipped().expect("shipped engine");
    let r = train::evaluate(&policy, &lines);
    print("blind set, shipped engine", &r);
    print(
        "blind set, the rules alone",
        &train::evaluate(&policy.clone().with_model(None), &lines),
    );
    let failures = below(&r, &BLIND);
    assert!(
        failures.is_empty(),
        "below the floors on the blind set: {}",
        failures.join("; ")
    );
}

/// The second blind set: 860 messages by two more authors given only the label rules, committed
/// before the corpus and model it measures. Never used to fit or choose anything.
#[test]
fn the_second_blind_set_is_reported_and_holds_its_floors() {
    let lines = load("tests/corpus/blind2");
    assert!(
        lines.len() >= 800,
        "the second blind set has {} lines",
        lines.len()
    );
    let policy = Policy::shipped().expect("shipped engine");
    let r = train::evaluate(&policy, &lines);
    print("second blind set, shipped engine", &r);
    let failures = below(&r, &BLIND2);
    assert!(
        failures.is_empty(),
        "below the floors on the second blind set: {}",
        failures.join("; ")
    );
}

/// The held-out set was written after the rules were tuned, by someone who had not seen the
/// corpus or the lexicon; its figures say how the engine does on messages it has never met.
#[test]
fn held_out_messages_are_reported() {
    let lines = load("tests/corpus/holdout");
    assert!(
        lines.len() >= 150,
        "the held-out set has {} lines",
        lines.len()
    );
    let policy = Policy::shipped().expect("shipped engine");
    let r = train::evaluate(&policy, &lines);
    print("held-out set", &r);
    assert_eq!(r.lines, lines.len());
}
