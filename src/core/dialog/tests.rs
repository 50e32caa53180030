use std::path::{Path, PathBuf};

use super::reading::pick;
use super::wording::{REQUIRED, SHIPPED};
use super::*;
use crate::core::policy::{Context, Policy};

/// A file as the shell would hand it over from a landlord's folder.
fn file(locale: &str, name: &str, text: &str) -> (PathBuf, String) {
    (
        Path::new("/srv/dialogs").join(locale).join(name),
        text.to_owned(),
    )
}

#[test]
fn the_shipped_dialogs_load_and_fill_every_placeholder() {
    let dialogs = Dialogs::shipped().expect("shipped dialogs");
    let locale = dialogs.locale(DEFAULT_LOCALE);
    for key in REQUIRED {
        assert!(locale.messages.contains_key(*key), "{key}");
    }
    assert!(locale.questions.iter().any(|q| q.id == "what_went_wrong"));
}

#[test]
fn a_broken_file_is_named_with_its_line_and_problem() {
    let err = Dialogs::with_files([file(
        "en-GB",
        "messages.toml",
        "[greeting]\ntext = \"Hello\n",
    )])
    .expect_err("broken")
    .to_string();
    assert!(
        err.contains("messages.toml") && err.contains("line 2"),
        "{err}"
    );

    let shipped = SHIPPED[0].2.replace("{landlord}", "{landlrod}");
    let err = Dialogs::with_files([file("en-GB", "messages.toml", &shipped)])
        .expect_err("placeholder")
        .to_string();
    assert!(err.contains("landlrod"), "{err}");

    let without = SHIPPED[0].2.replace("[too_long]", "[too_lng]");
    let err = Dialogs::with_files([file("en-GB", "messages.toml", &without)])
        .expect_err("missing")
        .to_string();
    assert!(err.contains("[too_long] is missing"), "{err}");
}

#[test]
fn a_landlord_can_reword_a_message_and_add_a_locale_without_code() {
    let reworded = SHIPPED[0].2.replace(
        "Tell me what has happened, in your own words.",
        "Dywedwch wrthym beth sydd wedi digwydd.",
    );
    let dialogs = Dialogs::with_files([
        file("cy-GB", "messages.toml", &reworded),
        file("cy-GB", "complaint.toml", SHIPPED[1].2),
    ])
    .expect("with Welsh");
    assert!(dialogs.locales().any(|l| l == "cy-GB"));
    assert!(
        dialogs
            .locale("cy-GB")
            .text("greeting")
            .text
            .contains("Dywedwch")
    );
    assert!(
        dialogs
            .locale("en-GB")
            .text("greeting")
            .text
            .contains("in your own words")
    );
}

#[test]
fn answers_are_matched_by_number_word_or_button() {
    let choices = vec![
        Choice {
            key: "complaint".to_owned(),
            label: "Make a complaint".to_owned(),
        },
        Choice {
            key: "service_request".to_owned(),
            label: "Just get it sorted".to_owned(),
        },
        Choice {
            key: "just_tell".to_owned(),
            label: "I only wanted to tell you".to_owned(),
        },
    ];
    let key = |s: &str| pick(&choices, &Input::Text(s.to_owned())).map(|c| c.key.as_str());
    assert_eq!(key("1"), Some("complaint"));
    assert_eq!(key("I want to complain"), Some("complaint"));
    assert_eq!(key("just sort it"), Some("service_request"));
    assert_eq!(key("3."), Some("just_tell"));
    assert_eq!(key("7"), None);
    assert_eq!(key("banana"), None);
    assert_eq!(
        pick(&choices, &Input::Choice("just_tell".to_owned())).map(|c| c.key.as_str()),
        Some("just_tell")
    );
}

#[test]
fn only_a_confirmed_complaint_waits_for_a_reference_and_opens_under_it() {
    let dialogs = Dialogs::shipped().expect("dialogs");
    let profile = LandlordProfile::default();
    let calendar = profile.calendar();
    let policy = Policy::shipped().expect("policy");
    let env = Env {
        dialogs: &dialogs,
        locale: DEFAULT_LOCALE,
        profile: &profile,
        deadlines: Deadlines {
            calendar: &calendar,
            timescales: &profile.timescales,
        },
        now: "2026-11-23T10:00:00Z".parse().expect("now"),
        resume_after: chrono::Duration::hours(12),
        reach: crate::core::dialog::Reach::default(),
    };
    let says = |state: &State, text: &str| {
        let assessment = policy.assess(text, &Context::default());
        step(state, &assessment, &Input::Text(text.to_owned()), &env)
    };

    let listening = State::default();
    assert!(matches!(
        says(&listening, "Thank you for fixing the boiler"),
        Outcome::Done(_)
    ));

    let mut confirming = State {
        phase: Phase::Confirming,
        consent_at: Some(env.now),
        ..State::default()
    };
    for (id, answer) in [
        ("what_went_wrong", "No hot water for three weeks."),
        ("outcome", "Fix it and apologise."),
    ] {
        confirming.answers.insert(id.to_owned(), answer.to_owned());
    }
    let Outcome::OpensCase(opening) = says(&confirming, "yes") else {
        panic!("confirming a complaint opens a case");
    };
    let step = opening.open("C2026-00042".to_owned());
    assert!(
        step.replies
            .last()
            .is_some_and(|r| r.text.contains("C2026-00042")),
        "{:?}",
        step.replies
    );
    assert!(matches!(
        step.effects.last(),
        Some(Effect::OpenCase(case)) if case.reference == "C2026-00042"
            && case.answers["outcome"] == "Fix it and apologise."
    ));
    assert_eq!(step.state.phase, Phase::Listening);
    assert_eq!(
        step.state
            .cases
            .iter()
            .map(|c| c.reference.as_str())
            .collect::<Vec<_>>(),
        ["C2026-00042"]
    );
}

/// Words that promise the resident an action. A message saying any of them must declare what
/// it promises, so the promise test can hold every step to it.
const PROMISING: &[&str] = &[
    "passed",
    "will contact",
    "will reply",
    "will be in touch",
    "i have told",
    "has been told",
    "will send",
    "will deal",
    "will confirm",
    "will see it",
    "asked a member of staff",
    "will look into",
    "will review",
    "will answer",
    "will put",
    "will check",
    "will call",
    "marked this as urgent",
];

#[test]
fn every_sentence_that_promises_an_action_declares_it() {
    let dialogs = Dialogs::shipped().expect("dialogs");
    let locale = dialogs.locale(DEFAULT_LOCALE);
    // Sent by the scheduler or from staff actions, where the case itself is the record;
    // or fragments of a declared message.
    let outside_a_step = [
        "late_update",
        "exclusion_note",
        "staff_joined",
        "manager_told",
        "manager_not_reached",
        "reply_by_chat",
        "reply_by_email",
        "reply_by_phone",
        "reply_by_letter",
        // Read from a case already in the record.
        "status",
    ];
    for (key, template) in &locale.messages {
        let lower = template.text.to_lowercase();
        if let Some(word) = PROMISING.iter().find(|w| lower.contains(*w))
            && !outside_a_step.contains(&key.as_str())
        {
            assert!(
                template.promise.is_some(),
                "[{key}] says {word:?} but declares no promise"
            );
        }
    }
}

/// Everything residents said in the scripted conversations and the phrasing lists.
fn sayings() -> Vec<String> {
    let files = [
        include_str!("../../../tests/conversations/phrasings/person.txt"),
        include_str!("../../../tests/conversations/phrasings/privacy.txt"),
        include_str!("../../../tests/conversations/phrasings/questions.txt"),
        include_str!("../../../tests/conversations/phrasings/want_to_complain.txt"),
        include_str!("../../../tests/conversations/phrasings/yes_no.txt"),
        include_str!("../../../tests/conversations/phrasings/phones.txt"),
    ];
    let scripts = [
        include_str!("../../../tests/conversations/everything_else.txt"),
        include_str!("../../../tests/conversations/emergency_gas.txt"),
        include_str!("../../../tests/conversations/safety_during_a_complaint.txt"),
        include_str!("../../../tests/conversations/complaint_to_stage_two.txt"),
        include_str!("../../../tests/conversations/questions_privacy_and_oddities.txt"),
        include_str!("../../../tests/conversations/service_request_then_unhappy.txt"),
    ];
    let mut out: Vec<String> = files
        .iter()
        .flat_map(|f| f.lines())
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        .filter_map(|l| l.split_once('\t').map(|(_, t)| t.to_owned()))
        .collect();
    out.extend(
        scripts
            .iter()
            .flat_map(|s| s.lines())
            .filter_map(|l| l.strip_prefix("> ").map(str::to_owned)),
    );
    out.extend(
        [
            "yes",
            "no",
            "1",
            "2",
            "3",
            "4",
            "same",
            "new",
            "there is a strong smell of gas in my kitchen",
            "my partner hits me and I am scared to go home",
            "3rd of November, not the 10th",
            "still no hot water and you never do anything",
            // Odd input: letters whose lower case changes length, other scripts, emoji,
            // direction overrides, a number with nothing else, nothing at all.
            "hİ, my flat has damp",
            "HİYA",
            "\u{212A}eys lost, need new ones",
            "Mae'r to yn gollwng ers wythnosau a does neb wedi dod",
            "👋🏽😡🔥",
            "\u{202E}tnialpmoc",
            "07700 900123",
            "   ",
        ]
        .map(str::to_owned),
    );
    out.push("my boiler is broken again ".repeat(800));
    out
}

/// Every phase a conversation can be in, with what an earlier message left in the state.
fn states(now: chrono::DateTime<chrono::Utc>, questions: usize) -> Vec<State> {
    let case = |responded| CaseSummary {
        reference: "C2026-00001".to_owned(),
        stage: 1,
        received_on: now.date_naive(),
        acknowledged_on: now.date_naive(),
        due_on: now.date_naive(),
        responded,
        closed: false,
    };
    let base = State {
        heard: "the boiler has been broken for a week".to_owned(),
        received_at: Some(now),
        last_message_at: Some(now),
        ..State::default()
    };
    let mut out = vec![
        State::default(),
        State {
            cases: vec![case(false)],
            ..base.clone()
        },
        State {
            cases: vec![case(true)],
            ..base.clone()
        },
        State {
            open_service_request: true,
            contact: Some("Sam, 4 Rowan Close AN1 2BC, 07700 900123".to_owned()),
            ..base.clone()
        },
        State {
            cases: vec![case(false)],
            definition_revised: Some("C2026-00001".to_owned()),
            ..base.clone()
        },
        // A complaint closed while the conversation was busy: its feedback question waits.
        State {
            cases: vec![case(true)],
            feedback_pending: Some("C2026-00001".to_owned()),
            ..base.clone()
        },
    ];
    for phase in [
        Phase::Offered {
            open_request: false,
        },
        Phase::Offered { open_request: true },
        Phase::Relating {
            reference: "C2026-00001".to_owned(),
        },
        Phase::Consent,
        Phase::Confirming,
        Phase::Correcting,
        Phase::Contact {
            urgent: true,
            then_offer: true,
        },
        Phase::ContactCheck {
            urgent: false,
            then_offer: false,
        },
        Phase::SafeContact,
        Phase::Feedback {
            reference: "C2026-00001".to_owned(),
        },
        Phase::FeedbackComment {
            reference: "C2026-00001".to_owned(),
        },
    ] {
        out.push(State {
            phase,
            consent_at: Some(now),
            cases: vec![case(true)],
            contact: Some("Sam, 07700 900123".to_owned()),
            ..base.clone()
        });
    }
    for index in 0..questions {
        for how in ["phone", "email", "letter", "chat"] {
            let mut state = State {
                phase: Phase::Asking { index },
                consent_at: Some(now),
                ..base.clone()
            };
            state.answers.insert("contact".to_owned(), how.to_owned());
            state
                .answers
                .insert("for_whom".to_owned(), "someone_else".to_owned());
            out.push(state);
        }
    }
    out
}

#[test]
fn no_step_promises_what_its_effects_do_not_make_happen() {
    let dialogs = Dialogs::shipped().expect("dialogs");
    let profile = LandlordProfile::default();
    let calendar = profile.calendar();
    let policy = Policy::shipped().expect("policy");
    let now = "2026-11-23T10:00:00Z".parse().expect("now");
    let questions = dialogs.locale(DEFAULT_LOCALE).questions.len();
    let states = states(now, questions);
    let mut steps = 0;
    for text in sayings() {
        let assessment = policy.assess(&text, &Context::default());
        let inputs = [
            Input::Text(text.clone()),
            Input::Choice(text.trim().to_lowercase().replace(' ', "_")),
        ];
        for reach in [
            Reach::default(),
            Reach {
                manager: true,
                email: true,
            },
        ] {
            let env = Env {
                dialogs: &dialogs,
                locale: DEFAULT_LOCALE,
                profile: &profile,
                deadlines: Deadlines {
                    calendar: &calendar,
                    timescales: &profile.timescales,
                },
                now,
                resume_after: chrono::Duration::hours(12),
                reach,
            };
            for state in &states {
                for input in &inputs {
                    let done = match step(state, &assessment, input, &env) {
                        Outcome::Done(done) => done,
                        Outcome::OpensCase(opening) => opening.open("C2026-00002".to_owned()),
                    };
                    steps += 1;
                    assert!(
                        done.unkept_promises().is_empty(),
                        "{text:?} in {:?} promised {:?} without the effect; replies {:?}, effects {:?}",
                        state.phase,
                        done.unkept_promises(),
                        done.replies.iter().map(|r| &r.text).collect::<Vec<_>>(),
                        done.effects
                    );
                    let said: String = done.replies.iter().map(|r| r.text.as_str()).collect();
                    assert!(
                        reach.manager || !said.contains("told a manager"),
                        "{text:?}: says a manager was told when no alert reaches one: {said}"
                    );
                    let offers_email = done
                        .replies
                        .iter()
                        .any(|r| r.choices.iter().any(|c| c.key == "email"));
                    assert!(
                        reach.email || !offers_email,
                        "{text:?}: offers replies by email with no way to send them"
                    );
                }
            }
        }
    }
    assert!(steps > 10_000, "only {steps} steps");
}

#[test]
fn the_promise_check_fails_a_step_that_promises_without_the_effect() {
    let dialogs = Dialogs::shipped().expect("dialogs");
    let locale = dialogs.locale(DEFAULT_LOCALE);
    let mut promised = Step {
        state: State::default(),
        replies: vec![locale.text("human"), locale.text("access")],
        effects: vec![Effect::Offered],
    };
    assert_eq!(
        promised.unkept_promises(),
        [Promise::Person, Promise::Request]
    );
    promised.effects.push(Effect::HandOver {
        why: HandOverWhy::Asked,
    });
    assert_eq!(promised.unkept_promises(), [Promise::Request]);
}

/// Reads a phrasing list: (label, words).
fn phrasings(text: &str) -> Vec<(&str, &str)> {
    text.lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        .filter_map(|l| l.split_once('\t'))
        .collect()
}

#[test]
fn everyday_yes_and_no_are_understood_and_anything_else_is_neither() {
    let mut wrong = Vec::new();
    for (label, words) in phrasings(include_str!(
        "../../../tests/conversations/phrasings/yes_no.txt"
    )) {
        let expected = match label {
            "yes" => Some(true),
            "no" => Some(false),
            _ => None,
        };
        if super::reading::yes_or_no(words) != expected {
            wrong.push(format!("{label}\t{words}"));
        }
    }
    assert!(wrong.is_empty(), "read wrongly:\n{}", wrong.join("\n"));
}

#[test]
fn plausible_uk_phone_numbers_are_taken_and_others_refused() {
    let mut wrong = Vec::new();
    for (label, words) in phrasings(include_str!(
        "../../../tests/conversations/phrasings/phones.txt"
    )) {
        let took = uk_phone(words);
        if took.is_ok() != (label == "valid") {
            wrong.push(format!("{label}\t{words}\t{took:?}"));
        }
    }
    assert!(wrong.is_empty(), "read wrongly:\n{}", wrong.join("\n"));
    assert_eq!(
        uk_phone("+44 (0)20 7946 0321").as_deref(),
        Ok("020 7946 0321")
    );
    assert_eq!(uk_phone("0044 7700900123").as_deref(), Ok("07700 900123"));
    assert_eq!(uk_phone("0161 496 0000").as_deref(), Ok("0161 496 0000"));
    assert_eq!(uk_phone("+1 555 123 4567"), Err(PhoneProblem::NotUk));
    // A flat number or office hours beside the number do not spoil it.
    assert_eq!(
        uk_phone("Flat 3 07700 900123").as_deref(),
        Ok("07700 900123")
    );
    assert_eq!(
        uk_phone("07700 900123 (9-5)").as_deref(),
        Ok("07700 900123")
    );
    assert_eq!(uk_phone("dunno"), Err(PhoneProblem::Missing));
}

#[test]
fn emails_and_postcodes_are_checked() {
    assert_eq!(
        email("it's sam.jones@example.org thanks").as_deref(),
        Some("sam.jones@example.org")
    );
    assert_eq!(email("sam@localhost"), None);
    assert_eq!(email("sam at example dot org"), None);
    for good in [
        "4 Rowan Close, Anytown AN1 2BC",
        "flat 2 m1 1ae",
        "SW1A1AA",
        "CF10 3NQ",
    ] {
        assert!(has_postcode(good), "{good}");
    }
    for bad in [
        "4 Rowan Close, Anytown",
        "flat 12",
        "07700 900123",
        "ABC 123",
    ] {
        assert!(!has_postcode(bad), "{bad}");
    }
}

#[test]
fn a_resident_who_says_they_want_to_complain_is_not_offered_the_choice_again() {
    let mut wrong = Vec::new();
    for (label, words) in phrasings(include_str!(
        "../../../tests/conversations/phrasings/want_to_complain.txt"
    )) {
        if super::reading::says_complain(words) != (label == "complain") {
            wrong.push(format!("{label}\t{words}"));
        }
    }
    assert!(wrong.is_empty(), "read wrongly:\n{}", wrong.join("\n"));
}

#[test]
fn the_gist_leaves_out_greetings_and_keeps_what_is_wrong() {
    use super::gist::gist;
    assert_eq!(
        gist("hi, my boiler has broken again", &[], 160),
        "my boiler has broken again"
    );
    assert_eq!(
        gist(
            "Good morning. Sorry to bother you. The damp in the bedroom is back and my son's asthma is worse. Thanks",
            &["damp".to_owned()],
            160
        ),
        "The damp in the bedroom is back and my son's asthma is worse"
    );
    assert!(gist(&"word ".repeat(100), &[], 40).ends_with('…'));
    // Letters whose lower case is ASCII, and other scripts, are cut only between characters.
    for odd in [
        "hİ the damp is back",
        "HİYA",
        "\u{212A}eys lost",
        "hi",
        "Hi!",
        "Привіт, тече дах",
        "👋 hi, leak",
    ] {
        let _ = gist(odd, &["damp".to_owned()], 10);
        assert_eq!(super::gist::strip_greeting("hİ x"), "hİ x");
    }
}

#[test]
fn everyday_requests_for_a_person_are_heard_and_complaints_are_not_taken_for_them() {
    use super::reading::asks_for_person;
    let mut wrong = Vec::new();
    for (label, words) in phrasings(include_str!(
        "../../../tests/conversations/phrasings/person.txt"
    )) {
        if !asks_for_person(words) {
            wrong.push(format!("{label}\t{words}"));
        }
    }
    // Unhappy residents and everyday answers that ask for no one.
    for (label, words) in phrasings(include_str!(
        "../../../tests/conversations/phrasings/want_to_complain.txt"
    ))
    .into_iter()
    .chain(phrasings(include_str!(
        "../../../tests/conversations/phrasings/yes_no.txt"
    ))) {
        if asks_for_person(words) {
            wrong.push(format!("taken for a person: {label}\t{words}"));
        }
    }
    assert!(wrong.is_empty(), "read wrongly:\n{}", wrong.join("\n"));
}

#[test]
fn requests_about_personal_data_are_told_apart_by_kind() {
    let mut wrong = Vec::new();
    for (label, words) in phrasings(include_str!(
        "../../../tests/conversations/phrasings/privacy.txt"
    )) {
        let read = super::reading::command(words).and_then(RequestKind::parse);
        if read.map_or("none", RequestKind::as_str) != label {
            wrong.push(format!("{label}\t{words}\t{read:?}"));
        }
    }
    for (label, words) in phrasings(include_str!(
        "../../../tests/conversations/phrasings/questions.txt"
    ))
    .into_iter()
    .chain(phrasings(include_str!(
        "../../../tests/conversations/phrasings/want_to_complain.txt"
    ))) {
        if let Some(kind) = super::reading::command(words).and_then(RequestKind::parse) {
            wrong.push(format!("taken for {kind:?}: {label}\t{words}"));
        }
    }
    assert!(wrong.is_empty(), "read wrongly:\n{}", wrong.join("\n"));
}

/// The held-out phrasings (`tests/conversations/phrasings-blind/`), written after the
/// recognisers were built by someone who saw neither them nor the lists above, and never tuned
/// on: measured once and reported, and held to floors so a change cannot quietly lose ground.
#[test]
fn held_out_phrasings_are_read_as_well_as_when_first_measured() {
    use super::reading::{asks_for_person, command, yes_or_no};
    let blind = |text: &'static str| phrasings(text);
    let person = blind(include_str!(
        "../../../tests/conversations/phrasings-blind/person.txt"
    ));
    let privacy = blind(include_str!(
        "../../../tests/conversations/phrasings-blind/privacy.txt"
    ));
    let yes_no = blind(include_str!(
        "../../../tests/conversations/phrasings-blind/yes_no.txt"
    ));
    let score = |rows: &[(&str, &str)], right: &dyn Fn(&str, &str) -> bool| {
        let wrong: Vec<String> = rows
            .iter()
            .filter(|(label, words)| !right(label, words))
            .map(|(label, words)| format!("{label}\t{words}"))
            .collect();
        (rows.len() - wrong.len(), rows.len(), wrong)
    };
    let asked = score(&person, &|label, words| {
        asks_for_person(words) == (label == "person")
    });
    let kinds = score(&privacy, &|label, words| {
        let read = command(words).and_then(RequestKind::parse);
        read.map_or("none", RequestKind::as_str) == label
    });
    let answers = score(&yes_no, &|label, words| {
        yes_or_no(words)
            == match label {
                "yes" => Some(true),
                "no" => Some(false),
                _ => None,
            }
    });
    // First measured on 2026-12-01: 59 of 65, 37 of 50, 33 of 40. Privacy fell to 35 of 50
    // when the recogniser stopped taking "your system says the repair was done but that's
    // wrong" or "they deleted my details" for requests (a false promise to the resident is
    // worse than a request staff log themselves from the console); the floor is that figure.
    for (name, (right, of, wrong), floor) in [
        ("person", &asked, 59),
        ("privacy", &kinds, 35),
        ("yes/no", &answers, 33),
    ] {
        println!(
            "{name}: {right} of {of} right; wrong:\n{}",
            wrong.join("\n")
        );
        assert!(
            *right >= floor,
            "{name}: {right} of {of}, below the {floor} first measured"
        );
    }
}

#[test]
fn a_safe_contact_question_left_pending_is_asked_once_nothing_else_is_and_answered_while_held() {
    let dialogs = Dialogs::shipped().expect("dialogs");
    let profile = LandlordProfile::default();
    let calendar = profile.calendar();
    let policy = Policy::shipped().expect("policy");
    let now = "2026-11-23T10:00:00Z".parse().expect("now");
    let env = Env {
        dialogs: &dialogs,
        locale: DEFAULT_LOCALE,
        profile: &profile,
        deadlines: Deadlines {
            calendar: &calendar,
            timescales: &profile.timescales,
        },
        now,
        resume_after: chrono::Duration::hours(12),
        reach: Reach::default(),
    };
    // Raised during a complaint question, pending until the complaint is done.
    let pending = State {
        safe_contact_pending: true,
        last_message_at: Some(now),
        ..State::default()
    };
    let text = "thank you";
    let assessment = policy.assess(text, &Context::default());
    let Outcome::Done(done) = step(&pending, &assessment, &Input::Text(text.to_owned()), &env)
    else {
        panic!("no case is opened by thanks");
    };
    assert_eq!(done.state.phase, Phase::SafeContact);
    assert!(!done.state.safe_contact_pending);
    assert!(
        done.replies
            .iter()
            .any(|r| r.text.contains("safe for us to get in touch"))
    );

    // Staff took the conversation over before the resident answered: the answer is still
    // recorded as the answer, and the conversation listens again after.
    let words = "text only, never call, he checks my phone";
    let read = policy.assess(words, &Context::default());
    let (after, replies, effects) = held(&done.state, &read, words, &env);
    assert_eq!(after.phase, Phase::Listening);
    assert_eq!(after.safe_contact_at, Some(now));
    assert!(replies.is_empty(), "{replies:?}");
    assert!(matches!(&effects[..], [Effect::SafeContact { text }] if text == words));
    let thanks = policy.assess("thanks", &Context::default());
    let (same, replies, none) = held(&after, &thanks, "thanks", &env);
    assert_eq!((same, replies.len(), none.len()), (after, 0, 0));
}
