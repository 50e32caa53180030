use std::collections::BTreeSet;

use super::*;
use crate::core::policy::Risk;

fn lines() -> Vec<Labelled> {
    parse_lines(
        include_str!("../../../../tests/corpus/complaints.jsonl"),
        "complaints.jsonl",
    )
    .expect("the corpus parses")
    .into_iter()
    .take(40)
    .collect()
}

#[test]
fn training_is_deterministic_and_the_seed_matters() {
    let base = Policy::shipped().expect("engine").with_model(None);
    let options = Options {
        bits: 10,
        epochs: 2,
        folds: 2,
        ..Options::default()
    };
    let a = train(&base, &lines(), &options, "a".into())
        .model
        .to_bytes();
    let b = train(&base, &lines(), &options, "a".into())
        .model
        .to_bytes();
    assert!(a == b, "same corpus and seed, same file");
    let other = Options { seed: 7, ..options };
    let c = train(&base, &lines(), &other, "a".into()).model.to_bytes();
    assert!(a != c);
}

#[test]
fn wilson_intervals_are_the_textbook_ones() {
    let (lo, hi) = wilson(8, 10);
    assert!(
        (lo - 0.490).abs() < 0.001 && (hi - 0.943).abs() < 0.001,
        "{lo} {hi}"
    );
    assert_eq!(wilson(0, 0), (0.0, 1.0));
}

#[test]
fn corrections_read_back_from_their_keys_and_junk_is_refused() {
    for c in Correction::all() {
        assert_eq!(Correction::from_key(&c.key()), Some(c), "{}", c.key());
        assert!(!c.describe().is_empty());
    }
    for junk in [
        "",
        "dissatisfied",
        "dissatisfied:yes",
        "intent:moan",
        "x:true",
        ":",
    ] {
        assert_eq!(Correction::from_key(junk), None, "{junk:?}");
    }
}

#[test]
fn a_corrected_message_labels_only_what_staff_corrected() {
    let assessed: BTreeSet<Risk> = [Risk::HealthSafety, Risk::Emergency].into();
    let line = corrected_example(
        "corrected-9".into(),
        "the smoke alarm keeps beeping".into(),
        CorpusContext {
            stage1_response_sent: true,
            ..CorpusContext::default()
        },
        &assessed,
        &[
            Correction::Dissatisfied(true),
            Correction::Risk(Risk::Emergency, false),
            Correction::Dissatisfied(false),
        ],
    );
    assert_eq!(
        line.expect.dissatisfied,
        Some(false),
        "the later correction wins"
    );
    assert_eq!(line.expect.risks, Some([Risk::HealthSafety].into()));
    assert_eq!(line.expect.intent, None);
    assert!(line.context().stage1_response_sent, "read as it was read");
    assert_eq!(line.expect.route, None);
    let back = parse_lines(&serde_json::to_string(&line).expect("json"), "x").expect("parses");
    assert_eq!(back, vec![line]);
}
