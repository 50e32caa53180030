//! What the resident's words mean to the dialog, whatever the policy engine made of them: a
//! request for a person, a command, a request about their data, the answer to a choice.

use super::types::{Choice, Input, RequestKind};

/// The resident's words as the dialog reads them: lower case, letters and digits only, with
/// the text-speak people use for "you" and "please" spelt out.
pub(super) fn words(text: &str) -> Vec<String> {
    text.to_lowercase()
        .split(|c: char| !(c.is_alphanumeric() || c == '\''))
        .map(|w| w.trim_matches('\'').replace('\'', ""))
        .filter(|w| !w.is_empty())
        .map(|w| match w.as_str() {
            "u" => "you".to_owned(),
            "ur" => "your".to_owned(),
            "pls" | "plz" | "plse" => "please".to_owned(),
            "sum1" => "someone".to_owned(),
            "some1" => "someone".to_owned(),
            _ => w,
        })
        .collect()
}

/// Who a resident asks for when they want a person: a strong word is always a person
/// ("manager", "human"); "someone" is a person only when asked to talk or get in touch
/// ("I need someone to fix it" is a repair, not a request for a person).
const PERSON: &[&str] = &[
    "person",
    "human",
    "humans",
    "manager",
    "supervisor",
    "boss",
    "agent",
    "advisor",
    "adviser",
    "operator",
    "officer",
    "caseworker",
    "staff",
    "people",
];
const SOMEONE: &[&str] = &["someone", "somebody", "anyone", "anybody"];

/// Phrases that ask to talk, or to be put through or called, followed by who with.
const TALK: &[&[&str]] = &[
    &["speak"],
    &["talk"],
    &["chat", "with"],
    &["discuss"],
    &["put", "me", "through"],
    &["put", "in", "touch"],
    &["transfer", "me"],
    &["connect", "me"],
    &["pass", "me"],
    &["get", "me"],
    &["give", "me"],
    &["phone", "call"],
    &["call", "from"],
];

/// Phrases asking to be called or contacted; enough on their own, unless refused ("don't
/// contact me").
const CALL_ME: &[&[&str]] = &[
    &["ring", "me"],
    &["phone", "me"],
    &["telephone", "me"],
    &["contact", "me"],
    &["call", "me", "back"],
    &["someone", "call", "me"],
    &["somebody", "call", "me"],
    &["you", "call", "me"],
    &["staff", "call", "me"],
    &["please", "call", "me"],
];

/// Phrases that ask whether anyone is there, or say the resident wants no machine.
const NOT_A_BOT: &[&[&str]] = &[
    &["real", "person"],
    &["actual", "person"],
    &["live", "person"],
    &["real", "human"],
    &["actual", "human"],
    &["human", "being"],
    &["anybody", "real"],
    &["anyone", "real"],
    &["anyone", "there"],
    &["anybody", "there"],
    &["anyone", "actually"],
    &["anyone", "reading"],
    &["anyone", "listening"],
    &["are", "you", "a", "robot"],
    &["are", "you", "a", "bot"],
    &["are", "you", "a", "computer"],
    &["are", "you", "a", "machine"],
    &["are", "you", "real"],
    &["are", "you", "human"],
    &["are", "you", "even"],
    &["is", "this", "a", "bot"],
    &["is", "this", "a", "robot"],
    &["is", "this", "a", "computer"],
    &["is", "this", "a", "machine"],
    &["is", "this", "automated"],
    &["is", "this", "a", "real"],
    &["to", "a", "bot"],
    &["to", "a", "robot"],
    &["to", "a", "machine"],
    &["into", "a", "machine"],
    &["to", "a", "computer"],
    &["not", "a", "computer"],
    &["not", "a", "bot"],
    &["not", "a", "robot"],
    &["a", "chatbot"],
    &["no", "more", "bots"],
    &["customer", "service"],
    &["customer", "services"],
    &["member", "of", "staff"],
    &["member", "of", "your", "staff"],
    &["someone", "in", "charge"],
    &["is", "there", "a", "person"],
];

/// Words that ask for a person, in the everyday ways residents say it, whatever else is going
/// on: "can I speak to an actual person", "is anyone reading this", "ring me", "human please".
pub(super) fn asks_for_person(text: &str) -> bool {
    let w = words(text);
    let w: Vec<&str> = w.iter().map(String::as_str).collect();
    if matches!(
        w.as_slice(),
        ["person" | "human" | "staff" | "agent" | "operator" | "manager" | "someone"]
            | [
                "person" | "human" | "staff" | "agent" | "operator" | "manager",
                "please"
            ]
            | ["human", "please", ..]
    ) {
        return true;
    }
    let at = |i: usize, phrase: &[&str]| w.get(i..i + phrase.len()) == Some(phrase);
    let find =
        |phrase: &[&str]| -> Vec<usize> { (0..w.len()).filter(|&i| at(i, phrase)).collect() };
    let refused = |i: usize| {
        i >= 1 && matches!(w[i - 1], "dont" | "not" | "never" | "stop")
            || i >= 2 && w[i - 2..i] == ["do", "not"]
    };
    let person = |word: &str| PERSON.contains(&word) && word != "people";
    // "human rights", "the people next door" are not requests for a person.
    let asked_for = |i: usize| {
        let word = w[i];
        (person(word) && w.get(i + 1) != Some(&"rights")) || SOMEONE.contains(&word)
    };
    for phrase in TALK {
        for i in find(phrase) {
            let after = i + phrase.len();
            if (after..(after + 7).min(w.len())).any(asked_for) {
                return true;
            }
        }
    }
    // "someone I can talk to", "a person there I can speak to".
    for i in 0..w.len() {
        if asked_for(i)
            && w[i + 1..(i + 5).min(w.len())]
                .iter()
                .any(|x| matches!(*x, "speak" | "talk"))
        {
            return true;
        }
    }
    // "I want a supervisor", "need my housing officer", "human please".
    for i in 0..w.len() {
        if matches!(w[i], "want" | "need" | "prefer" | "like" | "get")
            && (i + 1..(i + 4).min(w.len())).any(|j| person(w[j]))
        {
            return true;
        }
        if person(w[i]) && matches!(w.get(i + 1), Some(&"please" | &"now")) {
            return true;
        }
    }
    CALL_ME
        .iter()
        .any(|p| find(p).into_iter().any(|i| !refused(i)))
        || NOT_A_BOT.iter().any(|p| !find(p).is_empty())
}

/// Whether the resident asked a question (which the bot may not be able to answer).
pub(super) fn is_question(text: &str) -> bool {
    let t = text.trim();
    if t.ends_with('?') {
        return true;
    }
    let w = words(t);
    matches!(
        w.first().map(String::as_str),
        Some(
            "who"
                | "what"
                | "whats"
                | "wat"
                | "when"
                | "whens"
                | "where"
                | "why"
                | "how"
                | "which"
                | "can"
                | "could"
                | "do"
                | "does"
                | "did"
                | "is"
                | "are"
                | "am"
                | "will"
                | "has"
                | "have"
                | "should"
                | "would"
        )
    )
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

/// Requests about the resident's personal data (UK GDPR arts. 15 to 21), in the words people
/// use: each kind is its verbs together with a word for the data held about them ("delete all
/// the data you hold about me", "my name is spelt wrong on your records"), so a repair that
/// went wrong or rubbish to remove is not taken for one.
fn privacy_request(t: &str) -> Option<RequestKind> {
    let w = words(t);
    let joined = format!(" {} ", w.join(" "));
    let has = |phrases: &[&str]| phrases.iter().any(|p| joined.contains(&format!(" {p} ")));
    let data = has(&[
        "data",
        "information",
        "info",
        "details",
        "file",
        "record",
        "records",
        "everything",
        "system",
        "hold",
        "held",
        "keep",
        "keeps",
        "stored",
        "account",
        "phone number",
        "email address",
        "date of birth",
        "surname",
        "name",
        "national insurance",
    ]);
    let mine = has(&[
        "on me",
        "about me",
        "about him",
        "about her",
        "my",
        "her",
        "his",
        "for me",
    ]);
    // "Delete" asked for, not "they deleted my details" told as what went wrong.
    let erase = has(&["delete", "erase", "erasure", "remove", "wipe", "get rid of"])
        || has(&["deleted", "removed", "erased"]) && has(&["want", "like", "please", "can you"]);
    if t == "forget me"
        || has(&["right to erasure", "right to be forgotten", "be forgotten"])
        || erase && data && mine
    {
        return Some(RequestKind::Erasure);
    }
    if t == "stop"
        || has(&[
            "withdraw my consent",
            "withdraw consent",
            "no longer consent",
            "object to you",
            "object to the",
        ])
        || has(&[
            "stop using",
            "dont share",
            "do not share",
            "not want her details shared",
            "not want his details shared",
            "not want my details shared",
            "stop passing",
            "stop sharing",
            "do not use my",
            "dont use my",
            "not used for",
            "used for marketing",
            "giving my details",
            "passing my",
            "sharing my",
        ]) && data
    {
        return Some(RequestKind::Objection);
    }
    // Their own details held wrongly ("my date of birth is wrong on your system"), not a
    // record of a repair that is wrong.
    let personal = has(&[
        "my name",
        "my date of birth",
        "my details",
        "my phone number",
        "my number",
        "my email",
        "my address",
        "my surname",
        "my file",
        "my record",
        "my records",
        "my tenancy record",
        "my information",
        "my data",
        "her record",
        "his record",
        "her details",
        "his details",
        "national insurance",
        "you have for me",
        "listed as",
    ]);
    if personal
        && has(&[
            "record",
            "records",
            "system",
            "file",
            "details",
            "listed",
            "you have for me",
            "got my",
        ])
        && has(&[
            "wrong",
            "incorrect",
            "inaccurate",
            "not accurate",
            "out of date",
            "correct it",
            "correct her",
            "correct his",
            "correct my",
            "amend",
            "update my",
            "change it",
            "changing",
            "fix them",
            "put right",
            "sort it",
            "is old",
        ])
    {
        return Some(RequestKind::Rectification);
    }
    if t == "privacy"
        || has(&[
            "subject access",
            "sar",
            "what do you hold",
            "what you hold about me",
        ])
        || has(&[
            "copy",
            "see",
            "what",
            "send me everything",
            "everything youve got",
        ]) && data
            && has(&[
                "on me",
                "about me",
                "about him",
                "about her",
                "my file",
                "my data",
                "my personal",
                "my information",
                "my details",
                "my record",
                "my records",
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
    let said = yes_or_no(&raw);
    let yes = said == Some(true);
    let no = said == Some(false);
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

/// An everyday yes or no ("yeah fine", "ok go on", "no thanks", "nah I'd rather not", 👍),
/// or None when the words are neither (a question, "maybe", something else entirely).
pub(super) fn yes_or_no(text: &str) -> Option<bool> {
    let t = text.trim();
    match t {
        "👍" | "👌" | "✅" => return Some(true),
        "👎" | "❌" => return Some(false),
        _ => {}
    }
    if is_question(t) {
        return None;
    }
    let w = words(t);
    let joined = format!(" {} ", w.join(" "));
    let has = |phrases: &[&str]| phrases.iter().any(|p| joined.contains(&format!(" {p} ")));
    // "No problem, go ahead" agrees.
    if has(&["no problem", "no worries", "no bother"]) {
        return Some(true);
    }
    if has(&[
        "dont agree",
        "do not agree",
        "doesnt agree",
        "does not agree",
        "do not consent",
        "dont consent",
        "disagree",
        "not happy",
        "rather not",
        "prefer you didnt",
        "prefer not",
        "not really",
        "dont want",
        "do not want",
        "dont do",
        "not at the moment",
        "certainly not",
        "absolutely not",
        "not happening",
        "leave it",
        "no chance",
        "wrong",
        "not right",
        "isnt right",
    ]) {
        return Some(false);
    }
    let first = w.first().map(String::as_str).unwrap_or("");
    if matches!(first, "no" | "n" | "nah" | "nope" | "na" | "never" | "nay") {
        return Some(false);
    }
    if matches!(
        first,
        "yes"
            | "y"
            | "yeah"
            | "yea"
            | "yep"
            | "yup"
            | "yh"
            | "ya"
            | "yas"
            | "aye"
            | "ok"
            | "okay"
            | "okey"
            | "k"
            | "kk"
            | "sure"
            | "fine"
            | "alright"
            | "allright"
            | "agreed"
            | "agree"
            | "absolutely"
            | "definitely"
            | "correct"
            | "right"
            | "thats"
            | "go"
            | "sounds"
            | "please"
    ) || has(&[
        "i agree",
        "go ahead",
        "go on",
        "happy for you",
        "happy with that",
        "fine with me",
        "fine by me",
        "thats fine",
        "that is fine",
        "of course",
        "go for it",
        "sounds good",
        "thats right",
        "that is right",
        "she agrees",
        "he agrees",
        "they agree",
    ]) {
        return Some(true);
    }
    None
}

/// Whether the resident says in so many words that they want to complain ("I want to
/// complain about YOU", "this is a formal complaint"): they go straight to the complaint; the
/// offer (1.3) is for those who have not said what they want.
pub(super) fn says_complain(text: &str) -> bool {
    let w = words(text);
    let joined = format!(" {} ", w.join(" "));
    let has = |phrases: &[&str]| phrases.iter().any(|p| joined.contains(&format!(" {p} ")));
    let complains = w.iter().any(|x| {
        matches!(
            x.as_str(),
            "complain" | "complaint" | "complaining" | "complainin"
        )
    });
    // Asking to take a complaint further is a complaint in so many words.
    if complains && has(&["escalate", "stage 2", "stage two", "stage 1", "stage one"]) {
        return true;
    }
    if !complains
        || has(&[
            "not complaining",
            "not a complaint",
            "not making a complaint",
            "dont want to complain",
            "do not want to complain",
            "dont want to make a complaint",
            "not want to complain",
            "no complaint",
            "my complaint",
            "the complaint",
            "your complaint",
            "complaints team",
            "complaint was",
            "complained",
        ])
    {
        return false;
    }
    true
}
