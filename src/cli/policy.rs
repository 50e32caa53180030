//! `intake policy train` and `intake policy evaluate`: fitting the learned layer on a labelled
//! corpus, and scoring the engine on any labelled messages, so a landlord can test it on their
//! own residents' words before trusting it.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use anyhow::Context as _;
use clap::Subcommand;

use crate::config::Config;
use crate::core::policy::train::{self, Labelled, Options, Report};
use crate::core::policy::{Model, Policy};

#[derive(Debug, Subcommand)]
pub enum PolicyCommand {
    /// Fit the learned heads on a labelled corpus (every *.jsonl in DIR, see
    /// tests/corpus/LABELS.md), choose how they combine with the rules by cross-validation,
    /// print the figures and write the model. The same corpus and seed give the same file.
    Train {
        /// The labelled corpus folder.
        #[arg(long, value_name = "DIR", default_value = "tests/corpus")]
        corpus: PathBuf,
        /// Where to write the model: by default the shipped model's source file, or with
        /// --with-corrections the configured policy.model (so the landlord's model is installed
        /// for the next start).
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
        #[arg(long, default_value_t = Options::default().seed)]
        seed: u64,
        /// 2^bits rows of weights.
        #[arg(long, default_value_t = Options::default().bits)]
        bits: u32,
        #[arg(long, default_value_t = Options::default().epochs)]
        epochs: u32,
        /// Write every corpus message the cross-validation got a field wrong on to FILE: where
        /// to look for labels to check or wordings to add.
        #[arg(long, value_name = "FILE")]
        misses: Option<PathBuf>,
        /// AdaGrad's step size (for experiments).
        #[arg(long, default_value_t = Options::default().rate, hide = true)]
        rate: f32,
        /// The L2 penalty (for experiments).
        #[arg(long, default_value_t = Options::default().l2, hide = true)]
        l2: f32,
        /// Add the corrections staff made in the console (from the configured database) to the
        /// corpus, and install the model at policy.model only if it is no worse than the engine
        /// in use on the blind set: no more wrong decisions across the headline fields, and no
        /// blind-set emergency or safeguarding concern the engine in use finds is missed.
        #[arg(long)]
        with_corrections: bool,
        /// The blind set the corrected model must be no worse on.
        #[arg(long, value_name = "DIR", default_value = "tests/corpus/blind")]
        blind: PathBuf,
    },
    /// Score the engine on labelled JSON-lines files (the corpus format): per-field precision
    /// and recall with 95% intervals.
    Evaluate {
        /// Labelled files, or folders of *.jsonl files.
        #[arg(required = true, value_name = "FILE")]
        files: Vec<PathBuf>,
        /// Score this model instead of the configured one.
        #[arg(long, value_name = "FILE")]
        model: Option<PathBuf>,
        /// Score the rules alone, without the learned layer.
        #[arg(long)]
        rules_only: bool,
        /// Also print every message with a field wrong.
        #[arg(long)]
        misses: bool,
    },
}

pub fn run(config: &Config, action: PolicyCommand) -> anyhow::Result<ExitCode> {
    match action {
        PolicyCommand::Train {
            corpus,
            out,
            seed,
            bits,
            epochs,
            rate,
            l2,
            with_corrections,
            blind,
            misses,
        } => {
            if !(8..=22).contains(&bits) {
                anyhow::bail!("--bits {bits}: choose 8 to 22");
            }
            let out = match (out, with_corrections) {
                (Some(out), _) => out,
                (None, false) => PathBuf::from("src/core/policy/model.bin"),
                (None, true) => config.policy.model.clone().context(
                    "--with-corrections writes the landlord's model to policy.model (INTAKE_POLICY_MODEL); set it, or give --out FILE",
                )?,
            };
            let mut lines = read_labelled(std::slice::from_ref(&corpus))?;
            let blind_lines = if with_corrections {
                let blind_lines =
                    read_labelled(std::slice::from_ref(&blind)).with_context(|| {
                        format!(
                            "--with-corrections needs the blind set to compare on ({})",
                            blind.display()
                        )
                    })?;
                let corrected = corrected_lines(config)?;
                println!(
                    "Messages corrected by staff: {}, added to the {} of the corpus.",
                    corrected.len(),
                    lines.len()
                );
                lines.extend(corrected);
                Some(blind_lines)
            } else {
                None
            };
            let options = Options {
                seed,
                bits,
                epochs,
                rate,
                l2,
                ..Options::default()
            };
            let base = config.policy()?.with_model(None);
            let started = Instant::now();
            let trained = options.describe(lines.len(), &corpus.display().to_string());
            let training = train::train(&base, &lines, &options, trained);
            println!(
                "The rules alone on the corpus:\n{}",
                training.rules.figures()
            );
            println!(
                "Rules and learned heads, cross-validated ({} folds):\n{}",
                options.folds,
                training.cross_validated.figures()
            );
            if let Some(path) = &misses {
                std::fs::write(path, training.cross_validated.misses.join("\n"))
                    .with_context(|| format!("writing {}", path.display()))?;
            }
            println!(
                "Decisions: {}",
                serde_json::to_string(training.model.decisions())?
            );
            if let Some(blind_lines) = blind_lines {
                let current = config.policy()?;
                let fitted = current
                    .clone()
                    .with_model(Some(training.model.clone().into()));
                let before = train::evaluate(&current, &blind_lines);
                let after = train::evaluate(&fitted, &blind_lines);
                print_report(&current, &before, false);
                print_report(&fitted, &after, false);
                if let Some(why) = worse(&before, &after)
                    .or_else(|| missed_urgent(&current, &fitted, &blind_lines))
                {
                    println!("Not written: the corrected model is worse on the blind set ({why}).");
                    return Ok(ExitCode::FAILURE);
                }
            }
            // Written beside, then renamed over: a bot starting meanwhile reads the old model
            // or the new one, never half of one.
            let partial = out.with_extension("partial");
            if let Err(e) = std::fs::write(&partial, training.model.to_bytes())
                .and_then(|()| std::fs::rename(&partial, &out))
            {
                // A full disk leaves no half-written file behind; the model in use is untouched.
                let _ = std::fs::remove_file(&partial);
                return Err(e).with_context(|| format!("writing {}", out.display()));
            }
            println!(
                "Model {} written to {} in {:.1} s.",
                training.model.version(),
                out.display(),
                started.elapsed().as_secs_f64()
            );
            Ok(ExitCode::SUCCESS)
        }
        PolicyCommand::Evaluate {
            files,
            model,
            rules_only,
            misses,
        } => {
            let lines = read_labelled(&files)?;
            let mut policy = config.policy()?;
            if let Some(path) = model {
                policy = policy.with_model(Some(read_model(&path)?.into()));
            }
            if rules_only {
                policy = policy.with_model(None);
            }
            let report = train::evaluate(&policy, &lines);
            print_report(&policy, &report, misses);
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// The landlord's corrections from the configured database, as labelled lines.
fn corrected_lines(config: &Config) -> anyhow::Result<Vec<Labelled>> {
    config.validate()?;
    let runtime = tokio::runtime::Runtime::new().context("starting the async runtime")?;
    let corrected = runtime.block_on(async {
        let store = crate::store::Store::connect(&config.database_url)
            .await
            .context("opening the database")?;
        anyhow::Ok(store.corrected_messages().await?)
    })?;
    Ok(corrected
        .into_iter()
        .map(|m| {
            train::corrected_example(
                format!("corrected-{}", m.message),
                m.text,
                m.context,
                &m.assessed_risks,
                &m.corrections,
            )
        })
        .collect())
}

/// Why `after` is worse than `before` on the blind set, if it is: more wrong decisions across
/// the headline fields, or an emergency or safeguarding concern missed that was found.
fn worse(before: &Report, after: &Report) -> Option<String> {
    use crate::core::policy::Risk;
    let wrong = |r: &Report| {
        let c = |c: &train::Counts| c.fp + c.fn_;
        c(&r.dissatisfied)
            + c(r.risk(Risk::Emergency))
            + c(r.risk(Risk::Safeguarding))
            + c(r.risk(Risk::HealthSafety))
            + (r.intent.1 - r.intent.0)
            + (r.route.1 - r.route.0)
    };
    let (b, a) = (wrong(before), wrong(after));
    (a > b).then(|| format!("{a} wrong decisions against {b}"))
}

/// The first blind-set emergency or safeguarding concern the engine in use finds and the
/// corrected model misses, message by message.
fn missed_urgent(current: &Policy, fitted: &Policy, lines: &[Labelled]) -> Option<String> {
    use crate::core::policy::Risk;
    lines.iter().find_map(|line| {
        let expected = line.expect.risks.as_ref()?;
        let (before, after) = (
            current.assess(&line.text, &line.context()),
            fitted.assess(&line.text, &line.context()),
        );
        [Risk::Emergency, Risk::Safeguarding]
            .into_iter()
            .find_map(|risk| {
                (expected.contains(&risk) && before.has_risk(risk) && !after.has_risk(risk)).then(
                    || {
                        format!(
                            "misses the {risk} in {} that the engine in use finds",
                            line.id
                        )
                    },
                )
            })
    })
}

fn print_report(policy: &Policy, report: &Report, misses: bool) {
    println!(
        "Engine: {}",
        policy
            .model()
            .map_or("the rules alone".to_owned(), |m| format!(
                "rules and model {}",
                m.version()
            ))
    );
    print!("{}", report.figures());
    if misses {
        println!("{} messages with a field wrong:", report.misses.len());
        for m in &report.misses {
            println!("  {m}");
        }
    }
}

pub fn read_model(path: &Path) -> anyhow::Result<Model> {
    let bytes = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    Model::from_bytes(&bytes).with_context(|| path.display().to_string())
}

/// Every labelled line in the given files and folders (their *.jsonl files, in name order, not
/// descending into sub-folders). Ids must be unique.
pub fn read_labelled(paths: &[PathBuf]) -> anyhow::Result<Vec<Labelled>> {
    let mut files = Vec::new();
    for path in paths {
        if path.is_dir() {
            let mut here: Vec<PathBuf> = std::fs::read_dir(path)
                .with_context(|| format!("reading {}", path.display()))?
                .filter_map(Result::ok)
                .map(|e| e.path())
                .filter(|p| p.is_file() && p.extension().is_some_and(|e| e == "jsonl"))
                .collect();
            here.sort();
            files.extend(here);
        } else {
            files.push(path.clone());
        }
    }
    let mut lines = Vec::new();
    let mut ids = std::collections::HashSet::new();
    for file in files {
        let text = std::fs::read_to_string(&file)
            .with_context(|| format!("reading {}", file.display()))?;
        for line in
            train::parse_lines(&text, &file.display().to_string()).map_err(anyhow::Error::msg)?
        {
            if !ids.insert(line.id.clone()) {
                anyhow::bail!("{}: the id {} is used twice", file.display(), line.id);
            }
            lines.push(line);
        }
    }
    if lines.is_empty() {
        anyhow::bail!("no labelled lines found in {paths:?}");
    }
    Ok(lines)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::policy::Risk;

    fn report(wrong_dissatisfied: usize, emergencies_found: usize) -> Report {
        let mut r = Report::default();
        r.dissatisfied.tp = 50;
        r.dissatisfied.fn_ = wrong_dissatisfied;
        r.risks[Risk::Emergency as usize].tp = emergencies_found;
        r.risks[Risk::Emergency as usize].fn_ = 10 - emergencies_found;
        r.intent = (90, 100);
        r.route = (95, 100);
        r
    }

    #[test]
    fn a_corrected_model_is_installed_only_if_no_worse_on_the_blind_set() {
        let before = report(10, 9);
        assert_eq!(worse(&before, &report(10, 9)), None, "no worse: installed");
        assert_eq!(worse(&before, &report(4, 9)), None, "better: installed");
        let more_wrong = worse(&before, &report(12, 9)).expect("worse");
        assert!(more_wrong.contains("wrong decisions"), "{more_wrong}");
    }

    #[test]
    fn a_corrected_model_that_misses_an_emergency_the_engine_finds_is_refused() {
        let line = |id: &str, text: &str| Labelled {
            id: id.into(),
            text: text.into(),
            context: Default::default(),
            expect: train::Expect {
                risks: Some([Risk::Emergency].into()),
                ..Default::default()
            },
            why: String::new(),
        };
        // Danger only the learned layer finds: the rules alone stand in for a corrected model
        // that lost it.
        let lines = vec![line(
            "a",
            "burning plastic smell from the boiler and it's clicking, I've switched it off",
        )];
        let current = Policy::shipped().expect("engine");
        assert_eq!(missed_urgent(&current, &current, &lines), None);
        let lost = current.clone().with_model(None);
        let why = missed_urgent(&current, &lost, &lines).expect("refused");
        assert!(why.contains("emergency in a"), "{why}");
    }
}
