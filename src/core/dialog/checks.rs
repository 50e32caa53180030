//! The checks on what a resident gives to be reached: a UK phone number, an email address, a
//! postal address with its postcode. Each says what was wrong, so the bot can say why.

/// Why a phone number was not taken.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PhoneProblem {
    /// No number in the words.
    Missing,
    /// A number from another country.
    NotUk,
    /// Too few or too many digits, or a range no one can be called on.
    NotValid,
}

/// A UK phone number in the resident's words, in the usual spacing ("07700 900123",
/// "0161 496 0000", "020 7946 0000"), or why not. Accepts +44, 0044 and (0), spaces,
/// hyphens, dots and brackets, and a number inside a sentence ("ring me on 07700 900987").
pub fn uk_phone(text: &str) -> Result<String, PhoneProblem> {
    // Runs of digits and the characters people write between them, split into the groups
    // they typed ("Flat 3 07700 900123" is "3", "07700", "900123"). The number is the first
    // stretch of neighbouring groups that makes a valid one, so a flat number or "(9-5)"
    // beside it does not spoil it.
    let mut runs: Vec<Vec<String>> = Vec::new();
    let mut run = String::new();
    for c in text.chars().chain(std::iter::once('x')) {
        if c.is_ascii_digit() || matches!(c, '+' | ' ' | '-' | '.' | '(' | ')') {
            run.push(c);
        } else {
            let groups: Vec<String> = run
                .split_whitespace()
                .map(str::to_owned)
                .filter(|g| g.chars().any(|c| c.is_ascii_digit()))
                .collect();
            if !groups.is_empty() {
                runs.push(groups);
            }
            run.clear();
        }
    }
    // Without a valid one, the problem with the longest candidate is the one to explain.
    let mut worst: Option<(usize, PhoneProblem)> = None;
    for groups in &runs {
        for start in 0..groups.len() {
            for end in start + 1..=groups.len() {
                let candidate = groups[start..end].concat();
                // Only a short group before it (a flat or house number) and only a bracketed
                // one after it ("(9-5)"): more digits around a number mean it was mistyped.
                let digits = |g: &String| g.chars().filter(char::is_ascii_digit).count();
                let apart = (start == 0 || digits(&groups[start - 1]) <= 3)
                    && (end == groups.len() || groups[end].starts_with('('));
                match national(&candidate) {
                    Ok(number) if apart => return Ok(number),
                    Ok(_) => {
                        worst = Some((usize::MAX, PhoneProblem::NotValid));
                    }
                    Err(problem) => {
                        let digits = candidate.chars().filter(char::is_ascii_digit).count();
                        if worst.is_none_or(|(d, _)| digits > d) {
                            worst = Some((digits, problem));
                        }
                    }
                }
            }
        }
    }
    Err(worst.map_or(PhoneProblem::Missing, |(_, problem)| problem))
}

/// One candidate (groups joined, no spaces) as a UK number in the usual spacing, or why not.
fn national(candidate: &str) -> Result<String, PhoneProblem> {
    let compact: String = candidate
        .replace("(0)", "")
        .chars()
        .filter(|c| c.is_ascii_digit() || *c == '+')
        .collect();
    if compact.chars().filter(char::is_ascii_digit).count() < 6 {
        return Err(PhoneProblem::Missing);
    }
    let national = if let Some(rest) = compact.strip_prefix("+44") {
        format!("0{}", rest.trim_start_matches('0'))
    } else if let Some(rest) = compact.strip_prefix("0044") {
        format!("0{}", rest.trim_start_matches('0'))
    } else if compact.starts_with('+') || compact.starts_with("00") {
        return Err(PhoneProblem::NotUk);
    } else {
        compact
    };
    if national.contains('+') || !national.starts_with('0') {
        return Err(PhoneProblem::NotValid);
    }
    let d = national.as_bytes();
    let ok = match (d.len(), d.get(1)) {
        (11, Some(b'1' | b'2' | b'3' | b'7' | b'8')) => true,
        // A few small exchanges (016977) have ten digits.
        (10, Some(b'1')) => true,
        _ => false,
    };
    if !ok {
        return Err(PhoneProblem::NotValid);
    }
    let (a, b) = match (d[1], d[2], d[3]) {
        (b'2', ..) => (3, 7),
        (b'1', b'1', _) | (b'1', _, b'1') => (4, 7),
        (b'1', ..) if d.len() == 10 => (5, 10),
        (b'1', ..) => (5, 11),
        (b'3' | b'8', ..) => (4, 7),
        _ => (5, 11),
    };
    Ok(if b == 11 || b == 10 {
        format!("{} {}", &national[..a], &national[a..])
    } else {
        format!("{} {} {}", &national[..a], &national[a..b], &national[b..])
    })
}

/// An email address in the resident's words, if there is a plausible one.
pub fn email(text: &str) -> Option<String> {
    text.split_whitespace()
        .map(|w| {
            w.trim_matches(|c: char| matches!(c, '.' | ',' | ';' | ':' | '<' | '>' | '(' | ')'))
        })
        .find(|w| {
            let Some((local, domain)) = w.split_once('@') else {
                return false;
            };
            !local.is_empty()
                && !domain.contains('@')
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
                && domain.split('.').all(|part| {
                    !part.is_empty() && part.chars().all(|c| c.is_alphanumeric() || c == '-')
                })
        })
        .map(str::to_owned)
}

/// Whether the words hold a UK postcode ("M1 1AE", "sw1a1aa", "CF10 3NQ").
pub fn has_postcode(text: &str) -> bool {
    let tokens: Vec<String> = text
        .split(|c: char| c.is_whitespace() || c == ',')
        .map(|t| {
            t.trim_matches(|c: char| !c.is_ascii_alphanumeric())
                .to_uppercase()
        })
        .filter(|t| !t.is_empty())
        .collect();
    (0..tokens.len()).any(|i| {
        postcode(&tokens[i])
            || tokens
                .get(i + 1)
                .is_some_and(|next| postcode(&format!("{}{next}", tokens[i])))
    })
}

/// A postcode without its space: outward A9, A99, AA9, AA99, A9A or AA9A; inward 9AA.
fn postcode(s: &str) -> bool {
    let c: Vec<char> = s.chars().collect();
    if !(5..=7).contains(&c.len()) || !c.iter().all(char::is_ascii_alphanumeric) {
        return false;
    }
    let (outward, inward) = c.split_at(c.len() - 3);
    let letters = outward
        .iter()
        .take_while(|c| c.is_ascii_alphabetic())
        .count();
    (1..=2).contains(&letters)
        && (1..=2).contains(&(outward.len() - letters))
        && outward[letters].is_ascii_digit()
        && inward[0].is_ascii_digit()
        && inward[1..].iter().all(char::is_ascii_alphabetic)
}
