use std::path::PathBuf;

use clap::{Args, ValueEnum};
use trellis::diag::render::{self, Format};
use trellis::diff::render as diff_render;

use super::{InputArgs, EXIT_FINDINGS, EXIT_OK, EXIT_USAGE};

/// How an access diff is printed (`trellis diff --format`, `trellis check
/// --diff-format`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum DiffFormat {
    Human,
    Json,
    Markdown,
}

impl DiffFormat {
    pub fn render(self, d: &trellis::diff::AccessDiff, markdown_cap: usize) -> String {
        match self {
            DiffFormat::Human => diff_render::human(d),
            DiffFormat::Json => diff_render::json(d),
            DiffFormat::Markdown => diff_render::markdown(d, markdown_cap),
        }
    }
}

#[derive(Args, Debug)]
pub struct DiffArgs {
    /// The base: a directory, or a git revision of the repository holding PATH.
    base: String,
    /// The head: a directory, or a git revision.
    head: String,
    /// The policy set inside the repository (default: the current directory).
    path: Option<PathBuf>,
    #[arg(long, value_enum, default_value_t = DiffFormat::Human)]
    format: DiffFormat,
    /// Exit 1 when access changes.
    #[arg(long)]
    exit_code: bool,
    /// Largest markdown output, in bytes (GitHub comments hold 65,536).
    #[arg(long, default_value_t = 60_000)]
    markdown_cap: usize,
    #[command(flatten)]
    input: InputArgs,
}

pub fn run(args: DiffArgs) -> u8 {
    let path = args.path.clone().unwrap_or_else(|| PathBuf::from("."));
    let limits = args.input.limits();
    let mut loaded = Vec::new();
    let mut sources = trellis::source::SourceMap::default();
    for (label, spec) in [("base", &args.base), ("head", &args.head)] {
        let src = match trellis::revision::resolve(spec, &path) {
            Ok(s) => s,
            Err(e) => {
                super::err(&format!("error: {e}\n"));
                return EXIT_USAGE;
            }
        };
        super::progress::stage(&format!("reading and checking the {label} `{spec}`"));
        match trellis::check_source(src, &limits, sources) {
            Ok(mut c) => {
                sources = std::mem::take(&mut c.sources);
                loaded.push((label, c));
            }
            Err(e) => {
                super::err(&format!("error: {label} `{spec}`: {e}\n"));
                return EXIT_USAGE;
            }
        }
    }
    let (Some((_, head)), Some((_, base))) = (loaded.pop(), loaded.pop()) else {
        return EXIT_USAGE;
    };
    if head.diagnostics.has_errors() {
        super::err(&render::render(
            Format::Short,
            &head.diagnostics,
            &sources,
            false,
        ));
        super::err("error: the head has errors; fix them before diffing access\n");
        return EXIT_FINDINGS;
    }
    if base.diagnostics.has_errors() {
        super::err("warning: the base has errors; its access is computed from what resolved\n");
    }
    super::progress::stage("comparing access");
    let d = trellis::diff::diff(&base.model, &head.model);
    super::out(&args.format.render(&d, args.markdown_cap));
    if args.exit_code && d.changes_access() {
        EXIT_FINDINGS
    } else {
        EXIT_OK
    }
}
