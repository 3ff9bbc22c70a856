use std::path::PathBuf;

use clap::Args;
use trellis::diag::render::{self, Format};

use super::{InputArgs, EXIT_FINDINGS, EXIT_OK, EXIT_USAGE};

#[derive(Args, Debug)]
pub struct CheckArgs {
    /// Policy set directories or files (default: the current directory).
    paths: Vec<PathBuf>,
    /// Output format of the diagnostics.
    #[arg(long, value_enum, default_value_t = Format::Human)]
    format: Format,
    /// Exit 1 on warnings too.
    #[arg(long)]
    deny_warnings: bool,
    #[command(flatten)]
    input: InputArgs,
}

pub fn run(args: CheckArgs) -> u8 {
    let paths = super::default_paths(args.paths);
    let checked = match trellis::check_paths(&paths, &args.input.limits()) {
        Ok(c) => c,
        Err(e) => {
            super::err(&format!("error: {e}\n"));
            return EXIT_USAGE;
        }
    };
    let diags = &checked.diagnostics;
    super::out(&render::render(
        args.format,
        diags,
        &checked.sources,
        super::color_stdout(),
    ));
    if matches!(args.format, Format::Human | Format::Short) {
        let files = checked.sources.len();
        super::err(&format!(
            "checked {files} file{}: {}\n",
            if files == 1 { "" } else { "s" },
            render::summary_line(diags)
        ));
    }
    let warnings = diags.count(trellis::diag::Severity::Warning) > 0;
    if diags.has_errors() || (args.deny_warnings && warnings) {
        EXIT_FINDINGS
    } else {
        EXIT_OK
    }
}
