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
    /// Exit 1 on warnings too (also `deny_warnings` in trellis.toml).
    #[arg(long)]
    deny_warnings: bool,
    /// Also check what changed against this base: a directory, or a git
    /// revision of the repository holding PATH (`origin/main`, `HEAD~1`).
    #[arg(long)]
    base: Option<String>,
    /// Who makes the change: `provider` or an org id (with `--base`).
    #[arg(long, requires = "base", conflicts_with = "author")]
    actor: Option<String>,
    /// The change's author (a forge login, with `--base`): the actor is the
    /// narrowest scope the owners file of the base lets them act for that
    /// covers every changed file; refused (exit 2) when there is none.
    #[arg(long, requires = "base", value_name = "LOGIN")]
    author: Option<String>,
    /// The owners file, read from the base (default: `owners` in the
    /// base's trellis.toml).
    #[arg(long, requires = "author", value_name = "FILE")]
    owners: Option<PathBuf>,
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
    /// With `--base`: also write the access diff as one HTML page to this
    /// file, as `trellis diff --format html` would (from this same run), to
    /// publish beside the `--diff-out` comment.
    #[arg(long, value_name = "FILE", requires = "base")]
    diff_page_out: Option<PathBuf>,
    /// Largest markdown diff, in bytes (GitHub comments hold 65,536).
    #[arg(long, default_value_t = 60_000, requires = "diff_out")]
    markdown_cap: usize,
    /// Run again whenever a file of the set changes (until Ctrl-C),
    /// clearing the screen first on a terminal.
    #[arg(long)]
    watch: bool,
    /// Where the diff's HTML page will be published: the markdown diff
    /// links to it (as `trellis diff --page-url`).
    #[arg(long, value_name = "URL", requires = "diff_out")]
    page_url: Option<String>,
    #[command(flatten)]
    input: InputArgs,
}

pub fn run(args: CheckArgs) -> u8 {
    if args.base.is_some() && args.actor.is_none() && args.author.is_none() {
        super::err("error: `--base` needs `--actor SCOPE` or `--author LOGIN`\n");
        return EXIT_USAGE;
    }
    if args.watch {
        let outputs: Vec<PathBuf> = args
            .sarif_out
            .iter()
            .chain(args.diff_out.iter())
            .chain(args.diff_page_out.iter())
            .cloned()
            .collect();
        let paths = super::default_paths(args.paths.clone());
        return super::watch::watch(&paths, &outputs, || run_once(&args, false));
    }
    run_once(&args, true)
}

/// One run; `last` when the process ends right after it.
fn run_once(args: &CheckArgs, last: bool) -> u8 {
    let paths = super::default_paths(args.paths.clone());
    // Read again on every run: under `--watch` an edit of trellis.toml counts.
    let config = match super::config_for(&paths[0]) {
        Ok(c) => c,
        Err(code) => return code,
    };
    let format = args
        .format
        .or(config.format.map(super::config_format))
        .unwrap_or(if std::io::IsTerminal::is_terminal(&std::io::stdout()) {
            Format::Human
        } else {
            Format::Short
        });
    let deny_warnings = args.deny_warnings || config.deny_warnings;
    if args.author.is_some() && paths.len() != 1 {
        super::err("error: `--author` checks one set: give one PATH\n");
        return EXIT_USAGE;
    }
    let limits = args.input.limits_with(&config, &paths);
    if let Some(u) = &args.page_url {
        if let Err(e) = super::diff::check_page_url(u) {
            super::err(&e);
            return EXIT_USAGE;
        }
    }
    // With `--author`: what the base holds, to tell what changed.
    let base_src = std::sync::Mutex::new(None);
    let read = match &args.base {
        None => super::check_paths(&paths, &limits).map(|c| {
            let n = c.sources.len();
            (c, n, None)
        }),
        // The base is read while the head's checks run.
        Some(base) => trellis::check_with_base(
            &paths,
            || {
                let src = trellis::revision::resolve(base, &paths[0])?;
                if args.author.is_some() {
                    *base_src
                        .lock()
                        .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(src.clone());
                }
                Ok::<_, String>(src)
            },
            &limits,
            &super::progress::stage,
        )
        .map(|w| (w.head, w.head_files, Some(w.base))),
    };
    let (mut checked, head_files, base_read) = match read {
        Ok(r) => r,
        Err(e) => {
            super::err(&format!("error: {e}\n"));
            return EXIT_USAGE;
        }
    };
    let base_src = base_src
        .into_inner()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    // With `--base`: how many of the files read are the base's.
    let mut base_files = None;
    // With `--diff-out`: the access diff, computed once both sets are read.
    let mut diff_text = None;
    // With `--diff-page-out`: the same diff as an HTML page.
    let mut diff_page = None;
    if let (Some(base), Some(base_read)) = (&args.base, base_read) {
        let base_checked = match base_read {
            Ok(Ok(c)) => c,
            Err(e) => {
                super::err(&format!("error: {e}\n"));
                return EXIT_USAGE;
            }
            Ok(Err(e)) => {
                super::err(&format!("error: base `{base}`: {e}\n"));
                return EXIT_USAGE;
            }
        };
        base_files = Some(checked.sources.len().saturating_sub(head_files));
        let actor = match (&args.actor, &args.author, &base_src) {
            (Some(a), _, _) => a.clone(),
            (None, Some(author), Some(base_src)) => {
                let gate = super::owners::Gate {
                    base,
                    root: &paths[0],
                    owners: args.owners.as_ref(),
                    author,
                };
                match super::owners::actor(&gate, base_src, &base_checked.model, &checked.model) {
                    Ok(a) => a,
                    Err(code) => return code,
                }
            }
            _ => return EXIT_USAGE,
        };
        let actor = if actor == "provider" {
            None
        } else if checked.model.org_index.contains_key(&actor)
            || base_checked.model.org_index.contains_key(&actor)
        {
            Some(actor.as_str())
        } else {
            super::err(&format!(
                "error: unknown actor `{actor}`: give `provider` or an org id\n"
            ));
            return EXIT_USAGE;
        };
        let same = trellis::diff::SameFiles::within(&checked.sources, head_files);
        let wants_diff = args.diff_out.is_some() || args.diff_page_out.is_some();
        if wants_diff && !checked.diagnostics.has_errors() {
            super::progress::stage("comparing access");
            let d = trellis::diff::diff_with(&base_checked.model, &checked.model, &same);
            diff_text = args.diff_out.as_ref().map(|_| {
                args.diff_format
                    .render(&d, args.markdown_cap, args.page_url.as_deref())
            });
            diff_page = args
                .diff_page_out
                .as_ref()
                .map(|_| DiffFormat::Html.render(&d, args.markdown_cap, None));
            // Freed by the process's end (see the end of this function).
            if last {
                std::mem::forget(d);
            }
        }
        super::progress::stage("checking the change");
        checked
            .diagnostics
            .extend(trellis::diff::change::check_with(
                &base_checked.model,
                &checked.model,
                actor,
                &same,
            ));
        checked.diagnostics.sort(&checked.sources);
        if last {
            std::mem::forget(base_checked);
        }
    }
    // Cumulative stage times, then each rule's own, for benchmarking.
    let model = &checked.model;
    super::progress::durations("timings (cumulative)", &model.timings);
    super::progress::durations(
        "check rules (each on its own, side by side)",
        &model.rule_timings,
    );
    checked.diagnostics = config.apply_allow(std::mem::take(&mut checked.diagnostics));
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
    if let (Some(path), Some(text)) = (&args.diff_page_out, &diff_page) {
        files.push((path.as_path(), text.as_bytes()));
    }
    if let Err((path, e)) = super::compile::write_all_or_none(&files) {
        super::err(&format!("error: cannot write {}: {e}\n", path.display()));
        return EXIT_USAGE;
    }
    let unwritten = [
        (&args.diff_out, diff_text.is_none()),
        (&args.diff_page_out, diff_page.is_none()),
    ];
    for path in unwritten
        .iter()
        .filter(|(_, none)| *none)
        .filter_map(|(p, _)| p.as_ref())
    {
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
    super::out(&match format {
        // Warnings fail a file when they fail the run (`--deny-warnings`,
        // or trellis.toml's `deny_warnings` or `[warnings] deny`), so that
        // the report is red exactly when the exit code is 1.
        Format::Junit => trellis::diag::junit::check_report(
            diags,
            &checked.sources,
            deny_warnings || config.denies(diags),
        ),
        _ => render::render(format, diags, &checked.sources, super::color_stdout()),
    });
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
    let code = if diags.has_errors() || (deny_warnings && warnings) || config.denies(diags) {
        EXIT_FINDINGS
    } else {
        EXIT_OK
    };
    // The process ends here: freeing a large model piece by piece would only
    // add seconds (the OS reclaims it at once).
    if last {
        std::mem::forget(checked);
    }
    code
}
