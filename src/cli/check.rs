use std::path::PathBuf;

use clap::Args;
use trellis::diag::render::{self, Format};

use super::{InputArgs, EXIT_FINDINGS, EXIT_OK, EXIT_USAGE};

#[derive(Args, Debug)]
pub struct CheckArgs {
    /// Policy set directories or files (default: the current directory).
    paths: Vec<PathBuf>,
    /// Output format of the diagnostics (default: `human` on a terminal,
    /// `short` otherwise).
    #[arg(long, value_enum)]
    format: Option<Format>,
    /// Exit 1 on warnings too.
    #[arg(long)]
    deny_warnings: bool,
    /// Also check what changed against this base: a directory, or a git
    /// revision of the repository holding PATH (`origin/main`, `HEAD~1`).
    #[arg(long, requires = "actor")]
    base: Option<String>,
    /// Who makes the change: `provider` or an org id (with `--base`).
    #[arg(long, requires = "base")]
    actor: Option<String>,
    #[command(flatten)]
    input: InputArgs,
}

pub fn run(args: CheckArgs) -> u8 {
    let format = args
        .format
        .unwrap_or(if std::io::IsTerminal::is_terminal(&std::io::stdout()) {
            Format::Human
        } else {
            Format::Short
        });
    let paths = super::default_paths(args.paths);
    let limits = args.input.limits();
    let mut checked = match super::check_paths(&paths, &limits) {
        Ok(c) => c,
        Err(e) => {
            super::err(&format!("error: {e}\n"));
            return EXIT_USAGE;
        }
    };
    let head_files = checked.sources.len();
    // With `--base`: how many of the files read are the base's.
    let mut base_files = None;
    if let (Some(base), Some(actor)) = (&args.base, &args.actor) {
        let src = match trellis::revision::resolve(base, &paths[0]) {
            Ok(s) => s,
            Err(e) => {
                super::err(&format!("error: {e}\n"));
                return EXIT_USAGE;
            }
        };
        let sources = std::mem::take(&mut checked.sources);
        super::progress::stage(&format!("reading and checking the base `{base}`"));
        let base_checked = match trellis::check_source(src, &limits, sources) {
            Ok(c) => c,
            Err(e) => {
                super::err(&format!("error: base `{base}`: {e}\n"));
                return EXIT_USAGE;
            }
        };
        checked.sources = base_checked.sources;
        base_files = Some(checked.sources.len().saturating_sub(head_files));
        let actor = if actor == "provider" {
            None
        } else if checked.model.org_index.contains_key(actor)
            || base_checked.model.org_index.contains_key(actor)
        {
            Some(actor.as_str())
        } else {
            super::err(&format!(
                "error: unknown actor `{actor}`: give `provider` or an org id\n"
            ));
            return EXIT_USAGE;
        };
        super::progress::stage("checking the change");
        checked.diagnostics.extend(trellis::diff::change::check(
            &base_checked.model,
            &checked.model,
            actor,
        ));
        checked.diagnostics.sort(&checked.sources);
    }
    if std::env::var_os("TRELLIS_TIMINGS").is_some() {
        // Cumulative stage times, for benchmarking.
        let stages: Vec<String> = checked
            .model
            .timings
            .iter()
            .map(|(what, d)| format!("{what} {d:.2?}"))
            .collect();
        super::err(&format!("timings (cumulative): {}\n", stages.join(", ")));
    }
    let diags = &checked.diagnostics;
    super::out(&render::render(
        format,
        diags,
        &checked.sources,
        super::color_stdout(),
    ));
    if matches!(format, Format::Human | Format::Short) {
        // Every file read counts, the base's too (docs/manual.md, check).
        let files = checked.sources.len();
        let of_base = match (base_files, &args.base) {
            (Some(n), Some(base)) => format!(" ({n} of them in the base `{base}`)"),
            _ => String::new(),
        };
        super::err(&format!(
            "checked {files} file{}{of_base}: {}\n",
            if files == 1 { "" } else { "s" },
            render::summary_line(diags)
        ));
    }
    let warnings = diags.count(trellis::diag::Severity::Warning) > 0;
    let code = if diags.has_errors() || (args.deny_warnings && warnings) {
        EXIT_FINDINGS
    } else {
        EXIT_OK
    };
    // The process ends here: freeing a large model piece by piece would only
    // add seconds (the OS reclaims it at once).
    std::mem::forget(checked);
    code
}
