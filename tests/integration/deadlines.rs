//! The calendar against tables checked by hand, independently of the code: every bank
//! holiday in England and Wales from 2020 to 2030, and Code deadlines across Easter,
//! Christmas, the clock changes and the one-off holidays (`tests/fixtures/`).

use std::collections::BTreeSet;
use std::path::Path;

use chrono::{DateTime, Datelike, NaiveDate, Utc};
use intake::core::calendar::{Calendar, Deadlines, Timescales, bank_holidays};

fn fixture(name: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[test]
fn bank_holidays_match_the_published_dates_2020_to_2030() {
    let expected: BTreeSet<NaiveDate> = fixture("bank_holidays_england_wales.txt")
        .lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        .map(|l| l[..10].parse().unwrap_or_else(|e| panic!("{l}: {e}")))
        .collect();
    let computed: BTreeSet<NaiveDate> = (2020..=2030)
        .flat_map(bank_holidays)
        .map(|h| h.date)
        .collect();
    let missing: Vec<_> = expected.difference(&computed).collect();
    let extra: Vec<_> = computed.difference(&expected).collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "missing {missing:?}, extra {extra:?}"
    );
    assert_eq!(expected.len(), 91);
    assert!(
        expected
            .iter()
            .all(|d| d.weekday().number_from_monday() <= 5)
    );
}

#[test]
fn deadlines_match_the_hand_checked_table() {
    let calendar = Calendar::england_and_wales();
    let timescales = Timescales::default();
    let deadlines = Deadlines {
        calendar: &calendar,
        timescales: &timescales,
    };
    let table = fixture("deadlines.csv");
    let mut rows = 0;
    let mut wrong = Vec::new();
    for line in table.lines().skip(1).filter(|l| !l.trim().is_empty()) {
        let cols: Vec<&str> = line.split(',').collect();
        assert_eq!(cols.len(), 8, "{line}");
        let at: DateTime<Utc> = DateTime::parse_from_rfc3339(cols[0])
            .unwrap_or_else(|e| panic!("{line}: {e}"))
            .with_timezone(&Utc);
        let date =
            |i: usize| -> NaiveDate { cols[i].parse().unwrap_or_else(|e| panic!("{line}: {e}")) };
        let plan = deadlines.plan(at);
        let got = [
            plan.stage1.acknowledge_by,
            plan.stage1.respond_by,
            plan.stage1.latest_extended_respond_by,
            plan.stage2.acknowledge_by,
            plan.stage2.respond_by,
            plan.stage2.latest_extended_respond_by,
        ];
        let want = [date(1), date(2), date(3), date(4), date(5), date(6)];
        if got != want {
            wrong.push(format!("{} ({}): got {got:?}", cols[0], cols[7]));
        }
        // Each deadline counted from its own anchor gives the same dates.
        assert_eq!(deadlines.stage1_acknowledgement_due(at), want[0]);
        assert_eq!(deadlines.stage2_acknowledgement_due(at), want[3]);
        let ack_noon = want[0].and_hms_opt(12, 0, 0).expect("noon").and_utc();
        assert_eq!(deadlines.stage1_response_due(ack_noon), want[1]);
        assert_eq!(deadlines.extended(1, want[1], 10), Ok(want[2]));
        rows += 1;
    }
    assert!(rows >= 40, "only {rows} rows");
    assert!(
        wrong.is_empty(),
        "{} of {rows} rows differ:\n{}",
        wrong.len(),
        wrong.join("\n")
    );
}
