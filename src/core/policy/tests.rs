use super::*;
use proptest::prelude::*;

fn assess(text: &str) -> Assessment {
    Policy::shipped()
        .expect("lexicon")
        .assess(text, &Context::default())
}

#[test]
fn sarcasm_is_dissatisfaction() {
    let a = assess("brilliant, another week with no hot water");
    assert!(a.dissatisfied);
    assert_eq!(a.intent, Intent::Complaint);
    assert!(a.has_risk(Risk::HealthSafety));
    assert!(a.provisions.contains("1.2") && a.provisions.contains("1.3"));
}

#[test]
fn not_complaining_just_asking_is_an_enquiry() {
    let a = assess("not complaining, just asking when the plumber is coming");
    assert!(!a.dissatisfied);
    assert_eq!(a.intent, Intent::Enquiry);
}

#[test]
fn a_gas_smell_is_an_emergency_and_reasons_quote_the_resident() {
    let a = assess("I can SMELL GAS in the kitchen");
    assert!(a.is_urgent());
    let r = a
        .reasons
        .iter()
        .find(|r| r.rule == "risk.emergency")
        .expect("reason");
    assert_eq!(r.words, vec!["SMELL GAS".to_owned()]);
}

#[test]
fn everyday_and_regional_wording_of_danger_is_recognised() {
    let a = assess("awright, the gas hob's been hissin an there's a pure honkin smell o gas");
    assert!(a.has_risk(Risk::Emergency), "{a:?}");
    let a = assess("my partner gets handy when he's had a drink");
    assert!(a.has_risk(Risk::Safeguarding), "{a:?}");
    let a = assess("the light switch came off the wall n theres wires hangin out of it");
    assert!(a.has_risk(Risk::Emergency), "{a:?}");
    // The words of a combination must share a sentence.
    let a = assess("The gas engineer came on Monday. The smell of fresh paint is lovely.");
    assert!(!a.has_risk(Risk::Emergency), "{a:?}");
    let a = assess("my son pushed the shopping trolley into the lift");
    assert!(!a.has_risk(Risk::Safeguarding), "{a:?}");
}

#[test]
fn neighbour_noise_and_the_landlord_ignoring_it_differ() {
    let a = assess("my neighbour plays loud music till 4am every night");
    assert!(!a.dissatisfied);
    assert_eq!((a.intent, a.route), (Intent::ReportOther, Route::Asb));
    let b = assess("ive reported the noise from next door 5 times and you have done nothing");
    assert!(b.dissatisfied);
    assert_eq!(b.route, Route::Complaints);
}

#[test]
fn context_turns_unhappiness_into_escalation() {
    let policy = Policy::shipped().expect("lexicon");
    let ctx = Context {
        stage1_response_sent: true,
        ..Context::default()
    };
    let a = policy.assess("still not fixed", &ctx);
    assert_eq!(a.intent, Intent::Escalation);
    assert!(a.provisions.contains("6.12"));
}

#[test]
fn a_disabled_route_is_never_suggested() {
    let mut routes = ExclusionRoutes::default();
    routes.asb.enabled = false;
    let policy = Policy::new(Lexicon::build(&[]).expect("lexicon"), routes);
    let a = policy.assess(
        "my neighbour plays loud music till 4am every night",
        &Context::default(),
    );
    assert_ne!(a.route, Route::Asb);
}

#[test]
fn another_language_is_recognised() {
    let a = assess("Dzień dobry, od trzech tygodni mam pleśń w sypialni i nikt nie przyszedł");
    assert_eq!(a.language, "pl");
    assert!(a.provisions.contains("5.10"));
    assert_eq!(assess("still no boiler").language, "en");
}

/// Characters residents' phones really produce, mixed in to reach the tricky paths.
fn phone_char() -> impl Strategy<Value = char> {
    prop_oneof![
        4 => any::<char>(),
        2 => prop::sample::select(vec![
            ' ', '.', '?', '!', ',', '\n', '\'', '’', '-', '\u{200b}', '\u{200d}', '\u{202e}',
            '\u{feff}', 'а', 'о', 'е', 'с', 'ο', 'ｃ', '😡', '👍', '🔥', '煤', '気', 'é', '\u{301}',
        ]),
        4 => prop::sample::select("abcdefghijklmnopqrstuvwxyz gas leak still no mould".chars().collect::<Vec<_>>()),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn assess_never_panics_on_arbitrary_unicode_up_to_64_kib(
        chars in prop::collection::vec(phone_char(), 0..16_384),
        open_service_request in any::<bool>(),
        stage1_response_sent in any::<bool>(),
    ) {
        let text: String = chars.into_iter().collect();
        let policy = Policy::shipped().expect("lexicon");
        let ctx = Context { open_service_request, stage1_response_sent, ..Context::default() };
        let a = policy.assess(&text, &ctx);
        // Every quoted word really is in the message.
        for r in &a.reasons {
            for w in &r.words {
                prop_assert!(w.len() < 3 || text.contains(w.as_str()) || r.rule.starts_with("language"));
            }
        }
    }
}

#[test]
fn an_oversized_message_is_assessed_on_its_first_64_kib() {
    let text = format!("{}I can smell gas", "é".repeat(40_000));
    let a = assess(&text);
    assert!(!a.has_risk(Risk::Emergency), "past the limit, not read");
    let text = format!("I can smell gas {}", "é".repeat(40_000));
    assert!(assess(&text).has_risk(Risk::Emergency));
}
