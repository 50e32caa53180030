use super::*;

fn small() -> Model {
    let bits = 8;
    let weights: Vec<f32> = (0..(1usize << bits) * HEADS)
        .map(|i| ((i * 7919) % 255) as f32 / 100.0 - 1.27)
        .collect();
    Model::quantise(
        bits,
        [0.1; HEADS],
        &weights,
        Decisions::RULES,
        "test".into(),
    )
}

#[test]
fn a_model_file_reads_back_as_written_and_names_its_version() {
    let model = small();
    let bytes = model.to_bytes();
    let again = Model::from_bytes(&bytes).expect("reads back");
    assert_eq!(again, model);
    assert_eq!(again.version().len(), 12);
    // The version covers the decisions too.
    let other = model.clone().with_decisions(Decisions {
        emergency: Binary {
            with_rule: 0.1,
            with_hint: 0.5,
            alone: 0.9,
        },
        ..Decisions::RULES
    });
    assert_ne!(other.version(), model.version());
}

#[test]
fn a_damaged_or_foreign_file_is_refused_with_a_reason() {
    let bytes = small().to_bytes();
    let mut flipped = bytes.clone();
    let last = flipped.len() - 1;
    flipped[last] ^= 1;
    assert!(matches!(
        Model::from_bytes(&flipped),
        Err(ModelError::Version { .. })
    ));
    assert!(matches!(
        Model::from_bytes(&bytes[..bytes.len() - 5]),
        Err(ModelError::Size { .. })
    ));
    assert!(matches!(
        Model::from_bytes(b"GIF89a\n\x00\x01"),
        Err(ModelError::NotAModel)
    ));
    assert!(matches!(Model::from_bytes(b""), Err(ModelError::NotAModel)));
    let text = String::from_utf8_lossy(
        &bytes[..bytes
            .iter()
            .position(|&b| b == b'\n')
            .expect("a header line")],
    )
    .replace("\"format\":1", "\"format\":9");
    let mut future = text.into_bytes();
    future.push(b'\n');
    assert!(matches!(
        Model::from_bytes(&future),
        Err(ModelError::Header(m)) if m.contains("format 9")
    ));
}

#[test]
fn a_binary_decision_keeps_rule_findings_above_one_score_and_adds_its_own_above_others() {
    let d = Binary {
        with_rule: 0.2,
        with_hint: 0.5,
        alone: 0.8,
    };
    assert!(d.decide(true, false, 0.3));
    assert!(
        !d.decide(true, true, 0.1),
        "a rule finding the heads doubt strongly"
    );
    assert!(
        !d.decide(false, false, 0.6),
        "no words of the family, not sure enough"
    );
    assert!(
        d.decide(false, true, 0.6),
        "words of the family and the heads agree"
    );
    assert!(d.decide(false, false, 0.85), "the heads alone, when sure");
    assert!(Binary::RULES.decide(true, false, 0.0));
    assert!(!Binary::RULES.decide(false, true, 1.0));
}

#[test]
fn the_shipped_model_loads() {
    let model = Model::from_bytes(SHIPPED).expect("the shipped model");
    assert!(
        model.header().trained.contains("tests/corpus"),
        "{:?}",
        model.header().trained
    );
}
