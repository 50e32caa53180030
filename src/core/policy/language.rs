//! Recognising a message written in another language, so the conversation can offer an
//! interpreter (a reasonable adjustment, section 3 of the Code).

use std::sync::LazyLock;

use super::normalise::{Normalised, SENTENCE_BREAK, WordSet};

/// The languages most spoken in England after English (Census 2021), and Welsh. Telling apart
/// fewer languages is faster and makes fewer wild guesses on short messages.
static DETECTOR: LazyLock<whatlang::Detector> = LazyLock::new(|| {
    use whatlang::Lang::*;
    whatlang::Detector::with_allowlist(vec![
        Eng, Pol, Ron, Pan, Urd, Por, Spa, Ara, Ben, Guj, Ita, Lit, Tur, Fra, Cmn, Tam, Bul, Pes,
        Hin, Deu, Rus, Ukr, Lav, Heb, Amh, Cym, Hun, Ces, Slk, Ell, Tgl, Vie, Jpn, Kor, Tha, Nld,
        Srp, Hrv, Mal, Tel, Nep, Sin, Mar, Kat, Hye, Aze, Uzb, Bel, Yid,
    ])
});

/// English, as an ISO 639-1 code.
pub const ENGLISH: &str = "en";

/// The language of a message: English unless the evidence says otherwise. Short messages, and
/// messages that are mostly English words however misspelt, are English; otherwise the
/// message's own letters decide.
pub fn recognise(message: &str, norm: &Normalised, english: &WordSet) -> &'static str {
    let mut words = 0usize;
    let mut known = 0usize;
    for i in 0..norm.words.len() {
        let w = norm.word(i);
        if w == SENTENCE_BREAK || w.starts_with("emoji") || !w.chars().any(char::is_alphabetic) {
            continue;
        }
        words += 1;
        if english.contains(w) {
            known += 1;
        }
    }
    let letters = norm.latin_letters + norm.other_letters;
    if letters == 0 {
        return ENGLISH;
    }
    let mostly_other_script = norm.other_letters * 2 > letters;
    // A Latin-script message needs a few words before its language can be told; most
    // short replies ("ok", "ta", "asdfgh") are treated as English.
    let few_english = words >= 4 && known * 2 < words;
    if !mostly_other_script && !few_english {
        return ENGLISH;
    }
    // The first few hundred characters tell the language as well as the whole message does,
    // at a fraction of the cost.
    let sample = match message.char_indices().nth(160) {
        Some((end, _)) => &message[..end],
        None => message,
    };
    let Some(info) = DETECTOR.detect(sample) else {
        return if mostly_other_script { "und" } else { ENGLISH };
    };
    if info.lang() == whatlang::Lang::Eng {
        return ENGLISH;
    }
    // In a Latin script, trust the guess only when the detector is confident, or when hardly
    // any words are English.
    if !mostly_other_script && !info.is_reliable() && known * 4 >= words {
        return ENGLISH;
    }
    iso_639_1(info.lang())
}

/// The language's English name, for staff arranging an interpreter ("Polish"), from the code
/// `detect` gives.
pub fn language_name(code: &str) -> &'static str {
    whatlang::Lang::all()
        .iter()
        .find(|l| iso_639_1(**l) == code)
        .map_or("a language the bot did not recognise", |l| l.eng_name())
}

/// The two-letter code where there is one, else the three-letter code.
fn iso_639_1(lang: whatlang::Lang) -> &'static str {
    use whatlang::Lang::*;
    match lang {
        Eng => "en",
        Pol => "pl",
        Ron => "ro",
        Urd => "ur",
        Ara => "ar",
        Por => "pt",
        Spa => "es",
        Lit => "lt",
        Ben => "bn",
        Cym => "cy",
        Tur => "tr",
        Pes => "fa",
        Cmn => "zh",
        Ukr => "uk",
        Rus => "ru",
        Fra => "fr",
        Deu => "de",
        Ita => "it",
        Nld => "nl",
        Lav => "lv",
        Bul => "bg",
        Ces => "cs",
        Slk => "sk",
        Hun => "hu",
        Ell => "el",
        Hin => "hi",
        Pan => "pa",
        Guj => "gu",
        Tam => "ta",
        Tel => "te",
        Jpn => "ja",
        Kor => "ko",
        Vie => "vi",
        Tha => "th",
        Heb => "he",
        Amh => "am",
        Tgl => "tl",
        Ind => "id",
        Swe => "sv",
        Dan => "da",
        Nob => "nb",
        Fin => "fi",
        Hrv => "hr",
        Srp => "sr",
        Slv => "sl",
        Est => "et",
        Aka => "ak",
        Zul => "zu",
        Afr => "af",
        Epo => "eo",
        Yid => "yi",
        Bel => "be",
        Kat => "ka",
        Hye => "hy",
        Aze => "az",
        Uzb => "uz",
        Mar => "mr",
        Nep => "ne",
        Sin => "si",
        Mya => "my",
        Khm => "km",
        Jav => "jv",
        Kan => "kn",
        Mal => "ml",
        Ori => "or",
        Sna => "sn",
        Lat => "la",
        Mkd => "mk",
        Tuk => "tk",
        Cat => "ca",
    }
}
