//! A conversation as a resident holds it, step by step, on any channel.

/// What the resident does at one step.
#[derive(Debug, Clone, Copy)]
pub enum Said {
    /// Types words.
    Text(&'static str),
    /// Presses the button with this label on the bot's last message.
    Press(&'static str),
}

/// One step of a conversation: what the resident does, and words the bot's answer contains.
pub struct Step {
    pub said: Said,
    pub expect: &'static str,
}

/// From an unhappy first message to the acknowledgement, using buttons where a resident would.
pub const TO_ACKNOWLEDGEMENT: &[Step] = &[
    Step {
        said: Said::Text("brilliant, another week with no hot water"),
        expect: "What would you like us to do?",
    },
    Step {
        said: Said::Press("Make a complaint"),
        expect: "Do you agree?",
    },
    Step {
        said: Said::Press("Yes, I agree"),
        expect: "What is your name",
    },
    Step {
        said: Said::Text("Sam Jones, 4 Rowan Close"),
        expect: "for yourself, or for someone else",
    },
    Step {
        said: Said::Press("For myself"),
        expect: "What would you like us to do",
    },
    Step {
        said: Said::Text("fix the boiler and an apology"),
        expect: "When did this happen",
    },
    Step {
        said: Said::Text("since last Monday"),
        expect: "support or changes",
    },
    Step {
        said: Said::Text("no"),
        expect: "How would you like us to reply?",
    },
    Step {
        said: Said::Press("Here in this chat"),
        expect: "Here is your complaint as I understand it",
    },
    Step {
        said: Said::Press("Yes, that's right"),
        expect: "Reference: C",
    },
];
