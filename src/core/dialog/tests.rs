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
