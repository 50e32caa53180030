//! The ownership lines of issue 16, checked on every test run so they cannot blur again:
//! the store alone knows the schema, the core does no I/O, the module graph has no cycles, no
//! source file grows past what a reader can hold, and no function takes nine arguments.
//!
//! The module graph is read from the source itself (`crate::` and `super::` paths). A module
//! and the modules inside it may use each other (a parent re-exports its children, a child uses
//! its parent's types). Siblings may not depend on each other both ways, directly or round a
//! longer loop, at any depth: `channels` and `scheduler`, `core::policy` and `core::profile`.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// A file over this many lines is split by meaning (tests and data excepted).
const MOST_LINES: usize = 700;

/// What only `src/store/` may say: SQL, and the database crate.
const SCHEMA_WORDS: [&str; 6] = [
    "sqlx::",
    "SELECT ",
    "INSERT INTO",
    "DELETE FROM",
    "CREATE TABLE",
    "ALTER TABLE",
];

/// What `src/core/` may not use: the core is a function of its inputs.
const IO_CRATES: [&str; 5] = ["tokio", "sqlx", "reqwest", "std::fs", "std::net"];

struct Source {
    /// The module path of the file: `store::cases`, `core::policy`, `lib` for the crate root.
    module: Vec<String>,
    path: PathBuf,
    text: String,
}

fn sources() -> Vec<Source> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    let mut folders = vec![root.clone()];
    while let Some(folder) = folders.pop() {
        for entry in std::fs::read_dir(&folder).expect("read src") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                folders.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let relative = path.strip_prefix(&root).expect("under src");
                let mut module: Vec<String> = relative
                    .with_extension("")
                    .iter()
                    .map(|part| part.to_string_lossy().into_owned())
                    .collect();
                if module.last().is_some_and(|last| last == "mod") {
                    module.pop();
                }
                if module == ["lib"] || module == ["main"] {
                    module.clear();
                }
                let text = std::fs::read_to_string(&path).expect("read source");
                files.push(Source { module, path, text });
            }
        }
    }
    files.sort_by(|a, b| a.path.cmp(&b.path));
    files
}

/// The file's own lines without its unit tests and without comments, so that a doc comment may
/// mention `SELECT` and a test module may build a temporary folder.
fn code_lines(text: &str) -> Vec<&str> {
    let mut lines = Vec::new();
    for line in text.lines() {
        if line.trim_start() == "#[cfg(test)]" {
            break;
        }
        let trimmed = line.trim_start();
        if trimmed.starts_with("//") {
            continue;
        }
        lines.push(line);
    }
    lines
}

fn display(module: &[String]) -> String {
    if module.is_empty() {
        "crate".to_owned()
    } else {
        module.join("::")
    }
}

/// Every module a file names through a path, resolved to the longest known module.
fn dependencies(source: &Source, known: &BTreeSet<Vec<String>>) -> BTreeSet<Vec<String>> {
    let mut found = BTreeSet::new();
    for line in code_lines(&source.text) {
        for (start, _) in line
            .match_indices("crate::")
            .chain(line.match_indices("super::"))
        {
            let before = line[..start].chars().next_back();
            if before.is_some_and(|c| c.is_alphanumeric() || c == '_') {
                continue;
            }
            let rest = &line[start..];
            let path: Vec<&str> = rest
                .split(|c: char| !(c.is_alphanumeric() || c == '_' || c == ':'))
                .next()
                .unwrap_or("")
                .split("::")
                .filter(|part| !part.is_empty())
                .collect();
            let mut base: Vec<String> = Vec::new();
            let mut parts = path.iter().peekable();
            match parts.next() {
                Some(&"crate") => {}
                Some(&"super") => {
                    // A file's `super` is its parent module; each further `super` climbs one more.
                    base = source.module.clone();
                    base.pop();
                    while parts.peek() == Some(&&"super") {
                        parts.next();
                        base.pop();
                    }
                }
                _ => continue,
            }
            for part in parts {
                base.push((*part).to_owned());
            }
            while !base.is_empty() && !known.contains(&base) {
                base.pop();
            }
            if base != source.module {
                found.insert(base);
            }
        }
    }
    found
}

fn related(a: &[String], b: &[String]) -> bool {
    a.starts_with(b) || b.starts_with(a)
}

#[test]
fn the_store_alone_knows_the_schema() {
    let mut outside = Vec::new();
    for source in sources() {
        if source.module.first().is_some_and(|m| m == "store") {
            continue;
        }
        for line in code_lines(&source.text) {
            if let Some(word) = SCHEMA_WORDS.iter().find(|word| line.contains(*word)) {
                outside.push(format!(
                    "{}: {word}: {}",
                    source.path.display(),
                    line.trim()
                ));
            }
        }
    }
    assert!(
        outside.is_empty(),
        "SQL outside src/store/:\n{}",
        outside.join("\n")
    );
}

#[test]
fn the_core_does_no_io() {
    let mut found = Vec::new();
    for source in sources() {
        if source.module.first().is_none_or(|m| m != "core") {
            continue;
        }
        for line in source.text.lines() {
            let trimmed = line.trim_start();
            if trimmed.starts_with("//") {
                continue;
            }
            for io in IO_CRATES {
                let used = line.match_indices(io).any(|(at, _)| {
                    let before = line[..at].chars().next_back();
                    let after = line[at + io.len()..].chars().next();
                    !before.is_some_and(|c| c.is_alphanumeric() || c == '_')
                        && !after.is_some_and(|c| c.is_alphanumeric() || c == '_')
                });
                if used {
                    found.push(format!("{}: {io}: {}", source.path.display(), line.trim()));
                }
            }
        }
    }
    assert!(found.is_empty(), "I/O in src/core/:\n{}", found.join("\n"));
}

#[test]
fn files_stay_small_enough_to_read() {
    let mut long = Vec::new();
    for source in sources() {
        let is_tests = source.module.last().is_some_and(|m| m == "tests");
        let lines = source.text.lines().count();
        if !is_tests && lines > MOST_LINES {
            long.push(format!("{}: {lines} lines", source.path.display()));
        }
        if source.text.contains("too_many_arguments") {
            long.push(format!(
                "{}: allows too_many_arguments",
                source.path.display()
            ));
        }
    }
    assert!(long.is_empty(), "split these:\n{}", long.join("\n"));
}

#[test]
fn the_module_graph_has_no_cycles() {
    let sources = sources();
    let known: BTreeSet<Vec<String>> = sources.iter().map(|s| s.module.clone()).collect();
    let deepest = known.iter().map(Vec::len).max().unwrap_or(0);
    let mut loops = Vec::new();
    // At each depth the modules are taken whole (at depth 1 `core` is everything under
    // src/core/), so a loop through a child and its parent's neighbour is still a loop.
    for depth in 1..=deepest {
        let mut graph: BTreeMap<Vec<String>, BTreeSet<Vec<String>>> = BTreeMap::new();
        for source in &sources {
            if source.module.len() < depth {
                continue;
            }
            let from = source.module[..depth].to_vec();
            let edges = graph.entry(from.clone()).or_default();
            for to in dependencies(source, &known) {
                if to.len() >= depth
                    && to[..depth] != from[..]
                    && to[..depth - 1] == from[..depth - 1]
                {
                    edges.insert(to[..depth].to_vec());
                }
            }
        }
        for (from, edges) in &graph {
            for to in edges {
                if from < to && reaches(&graph, to, from) {
                    loops.push(format!("{} ⇄ {}", display(from), display(to)));
                }
            }
        }
    }
    assert!(loops.is_empty(), "import cycles:\n{}", loops.join("\n"));
}

fn reaches(
    graph: &BTreeMap<Vec<String>, BTreeSet<Vec<String>>>,
    from: &[String],
    to: &[String],
) -> bool {
    let mut seen = BTreeSet::new();
    let mut stack = vec![from.to_vec()];
    while let Some(at) = stack.pop() {
        if at == to {
            return true;
        }
        if seen.insert(at.clone()) {
            stack.extend(graph.get(&at).into_iter().flatten().cloned());
        }
    }
    false
}

/// The graph this suite checks, printed for a reader (`cargo test architecture -- --nocapture`).
#[test]
fn print_the_module_graph() {
    let sources = sources();
    let known: BTreeSet<Vec<String>> = sources.iter().map(|s| s.module.clone()).collect();
    for source in &sources {
        let uses: Vec<String> = dependencies(source, &known)
            .iter()
            .filter(|to| !related(&source.module, to))
            .map(|m| display(m))
            .collect();
        println!("{} → {}", display(&source.module), uses.join(", "));
    }
}
