use std::path::PathBuf;

use clap::Args;
use trellis::diag::render::{self, Format};

use super::diff::DiffFormat;
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
    /// Also write the diagnostics as SARIF to this file (whatever
    /// `--format` prints), so that one run feeds code scanning and the
    /// annotations.
    #[arg(long, value_name = "FILE")]
    sarif_out: Option<PathBuf>,
    /// With `--base`: also write the access diff between the base and this
    /// set to this file, as `trellis diff` would print it (from the two
    /// revisions this run has read already). Not written when the set has
    /// errors, as `trellis diff` refuses then.
    #[arg(long, value_name = "FILE", requires = "base")]
    diff_out: Option<PathBuf>,
    /// The format of `--diff-out`.
    #[arg(long, value_enum, default_value_t = DiffFormat::Markdown, requires = "diff_out")]
    diff_format: DiffFormat,
    /// Largest markdown diff, in bytes (GitHub comments hold 65,536).
    #[arg(long, default_value_t = 60_000, requires = "diff_out")]
    markdown_cap: usize,
    /// Where the diff's HTML page will be published: the markdown diff
    /// links to it (as `trellis diff --page-url`).
    #[arg(long, value_name = "URL", requires = "diff_out")]
    page_url: Option<String>,
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
    if let Some(u) = &args.page_url {
        if let Err(e) = super::diff::check_page_url(u) {
            super::err(&e);
            return EXIT_USAGE;
        }
    }
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
    // With `--diff-out`: the access diff, computed once both sets are read.
    let mut diff_text = None;
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
        if args.diff_out.is_some() && !checked.diagnostics.has_errors() {
            super::progress::stage("comparing access");
            let d = trellis::diff::diff(&base_checked.model, &checked.model);
            diff_text = Some(args.diff_format.render(
                &d,
                args.markdown_cap,
                args.page_url.as_deref(),
            ));
        }
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
    // The files first, together or not at all: a run whose outputs cannot be
    // written fails as a usage error before it prints a verdict.
    let sarif = args.sarif_out.as_ref().map(|path| {
        (
            path,
            render::render(Format::Sarif, diags, &checked.sources, false),
        )
    });
    let mut files: Vec<(&std::path::Path, &[u8])> = Vec::new();
    if let Some((path, text)) = &sarif {
        files.push((path.as_path(), text.as_bytes()));
    }
    if let (Some(path), Some(text)) = (&args.diff_out, &diff_text) {
        files.push((path.as_path(), text.as_bytes()));
    }
    if let Err((path, e)) = super::compile::write_all_or_none(&files) {
        super::err(&format!("error: cannot write {}: {e}\n", path.display()));
        return EXIT_USAGE;
    }
    if let (Some(path), None) = (&args.diff_out, &diff_text) {
        // A diff left by an earlier run must not pass for this one's.
        if let Err(e) = std::fs::remove_file(path) {
            if e.kind() != std::io::ErrorKind::NotFound {
                super::err(&format!("error: cannot remove {}: {e}\n", path.display()));
                return EXIT_USAGE;
            }
        }
        super::err(&format!(
            "note: no access diff written to {}: the set has errors; fix them first\n",
            path.display()
        ));
    }
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
