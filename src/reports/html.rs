//! The document as HTML: the body the console's Reports page shows (with drill-down and CSV
//! links) and the same body as one self-contained file to save, share or print to A4 (its
//! stylesheet inline, nothing fetched). Templates escape everything; the charts are SVG the
//! report drew itself.

use std::sync::OnceLock;

use minijinja::Environment;
use serde::Serialize;

use super::Document;

/// The report's stylesheet, screen and print: inline in the saved file, served to the
/// console as `/console/static/report.css`.
pub const STYLESHEET: &str = include_str!("report.css");

/// Where the console's links lead: the report for this period (as its picker writes it).
#[derive(Debug, Clone, Serialize)]
pub struct Links {
    pub period: String,
}

fn templates() -> &'static Environment<'static> {
    static TEMPLATES: OnceLock<Environment<'static>> = OnceLock::new();
    TEMPLATES.get_or_init(|| {
        let mut env = Environment::new();
        for (name, source) in [
            ("body.html", include_str!("body.html")),
            ("document.html", include_str!("document.html")),
        ] {
            // The templates are part of the binary: a broken one is a bug the tests catch
            // (rendering it then fails with the template's name).
            if let Err(e) = env.add_template(name, source) {
                tracing::error!(template = name, error = %e, "a report template does not compile");
            }
        }
        env
    })
}

#[derive(Serialize)]
struct View<'a> {
    doc: &'a Document,
    period: String,
    produced: String,
    links: Option<&'a Links>,
}

/// The report's body: a heading with the landlord, the period and the day it was produced,
/// then each section's charts, tables, notes and rules. With `links`, each figure that names
/// its complaints links to their list, and each table to its CSV.
pub fn body(doc: &Document, links: Option<&Links>) -> Result<String, minijinja::Error> {
    let view = View {
        doc,
        period: doc.period.to_string(),
        produced: doc.produced_on.format("%-d %B %Y").to_string(),
        links,
    };
    templates()
        .get_template("body.html")?
        .render(minijinja::Value::from(minijinja::value::Serde(&view)))
}

/// The report as one HTML file, its stylesheet inline, with a footer on every printed page
/// naming the landlord, the period and the day it was produced.
pub fn standalone(doc: &Document) -> Result<String, minijinja::Error> {
    let footer = css_string(&format!(
        "{}: {}, {}. Produced {}.",
        doc.landlord,
        doc.title,
        doc.period.label,
        doc.produced_on.format("%-d %B %Y")
    ));
    templates()
        .get_template("document.html")?
        .render(minijinja::context! {
            doc => minijinja::Value::from(minijinja::value::Serde(doc)),
            stylesheet => STYLESHEET,
            footer,
            body => body(doc, None)?,
        })
}

/// Text as a CSS string literal that cannot end the string or the `<style>` element: quotes
/// and backslashes escaped, `<` and line breaks written as CSS escapes.
fn css_string(text: &str) -> String {
    let mut out = String::from("\"");
    for c in text.chars() {
        match c {
            '"' | '\\' => {
                out.push('\\');
                out.push(c);
            }
            '<' | '>' | '\n' | '\r' => out.push_str(&format!("\\{:x} ", u32::from(c))),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::css_string;

    #[test]
    fn a_footer_cannot_end_its_string_or_the_style_element() {
        assert_eq!(css_string("Ash & Oak"), "\"Ash & Oak\"");
        assert_eq!(
            css_string("a\"b\\</style>"),
            "\"a\\\"b\\\\\\3c /style\\3e \""
        );
    }
}
