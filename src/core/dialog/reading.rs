//! What the resident's words mean to the dialog, whatever the policy engine made of them: a
//! request for a person, a command, a request about their data, the answer to a choice.

use super::types::{Choice, Input, RequestKind};

/// Words that ask for a person, whatever else is going on.
pub(super) fn asks_for_person(text: &str) -> bool {
    let t = text.trim().to_lowercase();
    let t = t.trim_matches(|c: char| !c.is_alphanumeric());
    matches!(
        t,
        "person" | "human" | "staff" | "agent" | "real person" | "speak to someone" | "/human"
    ) || t.contains("speak to a person")
        || t.contains("talk to a person")
        || t.contains("real person")
        || t.contains("speak to someone")
        || t.contains("talk to someone")
        || t.contains("speak to a human")
}

/// The resident's own word for a command, typed or as a slash command.
pub(super) fn command(text: &str) -> Option<&'static str> {
    let t = text.trim().to_lowercase();
    let t = t
        .trim_start_matches('/')
        .trim_matches(|c: char| c == '.' || c == '!' || c == '?');
    if let Some(kind) = privacy_request(t) {
        return Some(kind.as_str());
    }
    Some(match t {
        "complaint" | "complain" | "make a complaint" | "i want to make a complaint" => "complain",
        "status" | "update" | "any update" => "status",
        "start" | "hi" | "hello" | "help" => "start",
        _ => return None,
    })
}

/// Requests about the resident's data (consent and privacy: see [`crate::code`]), in the words people use.
fn privacy_request(t: &str) -> Option<RequestKind> {
    let has = |words: &[&str]| words.iter().any(|w| t.contains(w));
    if t == "stop" || has(&["withdraw my consent", "withdraw consent", "stop using my"]) {
        return Some(RequestKind::Objection);
    }
    if t == "forget me"
        || has(&[
            "delete my data",
            "delete my information",
            "delete my details",
            "erase my",
            "remove my data",
            "remove my details",
            "right to be forgotten",
        ])
    {
        return Some(RequestKind::Erasure);
    }
    if t == "privacy"
        || has(&[
            "what information do you hold",
            "what information you hold",
            "what data do you hold",
            "what do you hold about me",
            "what you hold about me",
            "subject access",
            "copy of my data",
            "see my data",
            "information you have on me",
        ])
    {
        return Some(RequestKind::Access);
    }
    None
}

/// Matches an answer to a choice: the key, the label, its number, or yes/no words.
pub(super) fn pick<'c>(choices: &'c [Choice], input: &Input) -> Option<&'c Choice> {
    let raw = match input {
        Input::Choice(key) => return choices.iter().find(|c| c.key == *key),
        Input::Text(t) => t.trim().to_lowercase(),
        _ => return None,
    };
    let answer = raw.trim_matches(|c: char| !c.is_alphanumeric());
    if let Ok(n) = answer.parse::<usize>() {
        return n.checked_sub(1).and_then(|i| choices.get(i));
    }
    let yes = matches!(
        answer,
        "yes"
            | "y"
            | "yeah"
            | "yep"
            | "ok"
            | "okay"
            | "agree"
            | "i agree"
            | "sure"
            | "correct"
            | "right"
            | "thats right"
    );
    let no = matches!(answer, "no" | "n" | "nope" | "nah" | "dont" | "wrong");
    choices.iter().find(|c| {
        c.key == answer
            || c.label.to_lowercase() == answer
            || (yes && c.key == "yes")
            || (no && c.key == "no")
            || (c.key == "complaint" && answer.contains("complain"))
            || (c.key == "service_request"
                && (answer.contains("sort")
                    || answer.contains("fix")
                    || answer.contains("service request")))
            || (c.key == "just_tell"
                && (answer.contains("just tell")
                    || answer.contains("only wanted")
                    || answer.contains("carry on")
                    || answer.starts_with("no ")
                    || no))
            || (c.key == "email" && answer.contains("email"))
            || (c.key == "phone" && (answer.contains("phone") || answer.contains("call")))
            || (c.key == "letter" && (answer.contains("letter") || answer.contains("post")))
            || (c.key == "chat" && (answer.contains("chat") || answer.contains("here")))
            || (c.key == "self" && (answer.contains("myself") || answer == "me"))
            || (c.key == "someone_else"
                && (answer.contains("someone")
                    || answer.contains("else")
                    || answer.contains("behalf")))
    })
}

/// Whether an enquiry asks about the resident's complaint.
pub(super) fn mentions_complaint(text: &str) -> bool {
    let t = text.to_lowercase();
    t.contains("complaint")
        || t.contains("happening")
        || t.contains("update")
        || t.contains("status")
}
