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
    Html,
}

impl DiffFormat {
    pub fn render(
        self,
        d: &trellis::diff::AccessDiff,
        markdown_cap: usize,
        page_url: Option<&str>,
    ) -> String {
        match self {
            DiffFormat::Human => diff_render::human(d),
            DiffFormat::Json => diff_render::json(d),
            DiffFormat::Markdown => diff_render::markdown_linked(d, markdown_cap, page_url),
            DiffFormat::Html => diff_render::html(d),
        }
    }
}

/// `--page-url`: printed as is in the comment, so it must be one token of
/// an address (no space, no angle bracket or quote, no control character).
pub fn check_page_url(url: &str) -> Result<(), String> {
    if url.is_empty()
        || url.chars().any(|c| {
            c.is_whitespace() || c.is_control() || matches!(c, '<' | '>' | '"' | '`' | '|')
        })
    {
        return Err(format!(
            "error: `--page-url {url}` is not an address: give one without spaces, `<`, `>`, quotes, backquotes or `|`\n"
        ));
    }
    Ok(())
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
    /// Where the diff's HTML page will be published: the markdown comment
    /// links to it for what it folds or leaves out.
    #[arg(long, value_name = "URL")]
    page_url: Option<String>,
    /// Write the diff to this file (atomically) instead of printing it.
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    output: Option<PathBuf>,
    #[command(flatten)]
    input: InputArgs,
}

pub fn run(args: DiffArgs) -> u8 {
    if let Some(u) = &args.page_url {
        if let Err(e) = check_page_url(u) {
            super::err(&e);
            return EXIT_USAGE;
        }
    }
    let path = args.path.clone().unwrap_or_else(|| PathBuf::from("."));
    let limits = args.input.limits(std::slice::from_ref(&path));
    let mut loaded = Vec::new();
    let mut sources = trellis::source::SourceMap::default();
    // The base's files come first in the one map, then the head's.
    let mut base_files = 0;
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
                super::progress::durations(
                    &format!("timings of the {label} (cumulative)"),
                    &c.model.timings,
                );
                sources = std::mem::take(&mut c.sources);
                if label == "base" {
                    base_files = sources.len();
                }
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
    let same = trellis::diff::SameFiles::within(&sources, base_files).swapped();
    let d = trellis::diff::diff_with(&base.model, &head.model, &same);
    let text = args
        .format
        .render(&d, args.markdown_cap, args.page_url.as_deref());
    match &args.output {
        Some(file) => {
            if let Err((path, e)) =
                super::compile::write_all_or_none(&[(file.as_path(), text.as_bytes())])
            {
                super::err(&format!("error: cannot write {}: {e}\n", path.display()));
                return EXIT_USAGE;
            }
        }
        None => super::out(&text),
    }
    let code = if args.exit_code && d.changes_access() {
        EXIT_FINDINGS
    } else {
        EXIT_OK
    };
    // The process ends here: freeing two large models and their diff piece
    // by piece would only add time (the OS reclaims it at once).
    std::mem::forget((head, base, d, sources));
    code
}
