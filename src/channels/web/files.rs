//! What a resident's file is, read from its bytes: a photo (JPEG, PNG, GIF, WebP, HEIC/HEIF)
//! or a PDF. The name and the type the browser gives are never trusted: a web page or an SVG
//! renamed `.jpg` is refused, and what is kept is served to staff with the type read here,
//! never as HTML. Word and OpenDocument files are left out: both are zip archives, and telling
//! them from any other zip (or a zip bomb) needs more than their first bytes.

/// The types a resident may send, as the refusal says them.
pub const ACCEPTED: &str =
    "We can only take photos (JPEG, PNG, GIF, WebP, HEIC) and PDF documents.";

/// The content type of `bytes`, read from their magic numbers, or `None` if they are not one
/// of the accepted kinds.
pub fn content_type(bytes: &[u8]) -> Option<&'static str> {
    let starts = |magic: &[u8]| bytes.starts_with(magic);
    if starts(&[0xFF, 0xD8, 0xFF]) {
        Some("image/jpeg")
    } else if starts(b"\x89PNG\r\n\x1a\n") {
        Some("image/png")
    } else if starts(b"GIF87a") || starts(b"GIF89a") {
        Some("image/gif")
    } else if starts(b"RIFF") && bytes.get(8..12) == Some(&b"WEBP"[..]) {
        Some("image/webp")
    } else if starts(b"%PDF-") {
        Some("application/pdf")
    } else if bytes.get(4..8) == Some(&b"ftyp"[..]) {
        // ISO base media: the major brand says HEIC (HEVC-coded) or plain HEIF. Other
        // brands (MP4 video, AVIF) are not taken.
        match bytes.get(8..12)? {
            b"heic" | b"heix" | b"hevc" | b"hevx" | b"heim" | b"heis" | b"hevm" | b"hevs" => {
                Some("image/heic")
            }
            b"mif1" | b"msf1" => Some("image/heif"),
            _ => None,
        }
    } else {
        None
    }
}

/// Whether staff's browsers show this type inline (as a thumbnail); anything else is a
/// download. HEIC is an image most browsers cannot draw, so it is a download too.
pub fn shown_inline(content_type: &str) -> bool {
    matches!(
        content_type,
        "image/jpeg" | "image/png" | "image/gif" | "image/webp"
    )
}

/// Characters that change how a name is shown without being seen: zero-width ones and the
/// direction overrides.
fn invisible(c: char) -> bool {
    matches!(c, '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{FEFF}')
}

/// The longest file name kept, in characters.
const LONGEST_NAME: usize = 120;

/// The name the resident gave, made safe to keep and show: no folders, no control or
/// direction-changing characters (which can disguise `exe.jpg` as `gpj.exe`), trimmed and
/// shortened (keeping the extension); "file" if nothing is left.
pub fn clean_name(given: &str) -> String {
    let base = given.rsplit(['/', '\\']).next().unwrap_or_default();
    let kept: String = base
        .chars()
        .filter(|&c| !c.is_control() && !invisible(c))
        .collect();
    let kept = kept.trim().trim_start_matches('.').trim();
    if kept.is_empty() {
        return "file".to_owned();
    }
    if kept.chars().count() <= LONGEST_NAME {
        return kept.to_owned();
    }
    let extension: String = match kept.rsplit_once('.') {
        Some((_, ext)) if ext.chars().count() <= 8 => format!(".{ext}"),
        _ => String::new(),
    };
    let stem: String = kept
        .chars()
        .take(LONGEST_NAME - extension.chars().count())
        .collect();
    format!("{}{extension}", stem.trim_end())
}

/// A size in words a resident or member of staff reads: "812 bytes", "14 KB", "2.3 MB".
pub fn size_in_words(bytes: u64) -> String {
    const KB: u64 = 1024;
    const MB: u64 = 1024 * 1024;
    if bytes < KB {
        format!("{bytes} bytes")
    } else if bytes < MB {
        format!("{} KB", bytes.div_ceil(KB))
    } else {
        format!("{:.1} MB", bytes as f64 / MB as f64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn photos_and_pdfs_are_known_by_their_bytes() {
        let cases: &[(&[u8], Option<&str>)] = &[
            (b"\xFF\xD8\xFF\xE0\x00\x10JFIF", Some("image/jpeg")),
            (b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR", Some("image/png")),
            (b"GIF89a\x01\x00", Some("image/gif")),
            (b"RIFF\x24\x00\x00\x00WEBPVP8 ", Some("image/webp")),
            (b"%PDF-1.7\n", Some("application/pdf")),
            (b"\0\0\0\x18ftypheic\0\0\0\0", Some("image/heic")),
            (b"\0\0\0\x18ftypmif1\0\0\0\0", Some("image/heif")),
            // Not taken, whatever they are called.
            (b"\0\0\0\x18ftypisom\0\0\0\0", None),
            (b"\0\0\0\x18ftypavif\0\0\0\0", None),
            (b"RIFF\x24\x00\x00\x00WAVEfmt ", None),
            (b"<!doctype html><script>alert(1)</script>", None),
            (b"<svg xmlns=\"http://www.w3.org/2000/svg\"/>", None),
            (b"PK\x03\x04", None),
            (b"", None),
            (b"\xFF\xD8", None),
        ];
        for (bytes, expected) in cases {
            assert_eq!(content_type(bytes), *expected, "{bytes:?}");
        }
        assert!(shown_inline("image/png"));
        assert!(!shown_inline("image/heic"));
        assert!(!shown_inline("application/pdf"));
    }

    #[test]
    fn names_lose_folders_and_hidden_characters() {
        assert_eq!(clean_name("C:\\Users\\me\\damp wall.jpg"), "damp wall.jpg");
        assert_eq!(clean_name("../../etc/passwd"), "passwd");
        assert_eq!(clean_name("photo\u{202E}gpj.exe"), "photogpj.exe");
        assert_eq!(clean_name("a\nb\u{0}.png"), "ab.png");
        assert_eq!(clean_name("  ...  "), "file");
        assert_eq!(clean_name(""), "file");
        assert_eq!(clean_name("mould ñ café.heic"), "mould ñ café.heic");
        let long = format!("{}.pdf", "x".repeat(300));
        let cleaned = clean_name(&long);
        assert_eq!(cleaned.chars().count(), LONGEST_NAME);
        assert!(cleaned.ends_with("x.pdf"));
    }

    #[test]
    fn sizes_read_as_words() {
        assert_eq!(size_in_words(812), "812 bytes");
        assert_eq!(size_in_words(14 * 1024), "14 KB");
        assert_eq!(size_in_words(10 * 1024 * 1024), "10.0 MB");
    }
}
