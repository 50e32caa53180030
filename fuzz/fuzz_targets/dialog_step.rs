//! The dialog on any conversation state and any input: a state stored by an older version
//! (or edited by hand), a button key no step offered, words in any script. A step never
//! panics, and whatever it leaves behind can be read back as the next state.
#![no_main]

use std::sync::LazyLock;

use intake::core::dialog::{Dialogs, Env, Input, Outcome, State, step};
use intake::core::policy::{Context, Policy};
use intake::core::profile::LandlordProfile;
use libfuzzer_sys::fuzz_target;

struct World {
    policy: Policy,
    dialogs: Dialogs,
    profile: LandlordProfile,
    calendar: intake::core::calendar::Calendar,
}

static WORLD: LazyLock<World> = LazyLock::new(|| {
    let profile = LandlordProfile::default();
    World {
        policy: Policy::shipped().expect("policy"),
        dialogs: Dialogs::shipped().expect("dialogs"),
        calendar: profile.calendar(),
        profile,
    }
});

fuzz_target!(|data: &[u8]| {
    // The first line is the stored state (JSON); the rest is what the resident did.
    let text = String::from_utf8_lossy(data);
    let (state, said) = text.split_once('\n').unwrap_or(("{}", &text));
    let Ok(state) = serde_json::from_str::<State>(state) else {
        return;
    };
    let input = match said.strip_prefix("press:") {
        Some(key) => Input::Choice(key.to_owned()),
        None => Input::Text(said.to_owned()),
    };
    let world = &*WORLD;
    let env = Env {
        dialogs: &world.dialogs,
        locale: "en-GB",
        profile: &world.profile,
        deadlines: intake::core::calendar::Deadlines {
            calendar: &world.calendar,
            timescales: &world.profile.timescales,
        },
        now: "2026-12-01T10:00:00Z".parse().expect("now"),
        resume_after: chrono::Duration::hours(12),
        reach: intake::core::dialog::Reach::default(),
    };
    let assessment = world.policy.assess(said, &Context::default());
    let next = match step(&state, &assessment, &input, &env) {
        Outcome::Done(next) => next,
        Outcome::OpensCase(opening) => opening.open("C2026-00001".to_owned()),
    };
    let stored = serde_json::to_string(&next.state).expect("the next state is stored as JSON");
    let _: State = serde_json::from_str(&stored).expect("and read back");
});
