use std::path::PathBuf;

use clap::{Args, ValueEnum};
use trellis::diag::render::{self, Format};

use super::{InputArgs, EXIT_FINDINGS, EXIT_OK, EXIT_USAGE};

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum ShowFormat {
    Human,
    Json,
}

#[derive(Args, Debug)]
pub struct ShowArgs {
    /// The org whose view to show.
    #[arg(long)]
    org: String,
    /// The policy set (default: the current directory).
    path: Option<PathBuf>,
    #[arg(long, value_enum, default_value_t = ShowFormat::Human)]
    format: ShowFormat,
    #[command(flatten)]
    input: InputArgs,
}

pub fn run(args: ShowArgs) -> u8 {
    let paths = super::default_paths(args.path.into_iter().collect());
    let checked = match trellis::check_paths(&paths, &args.input.limits()) {
        Ok(c) => c,
        Err(e) => {
            super::err(&format!("error: {e}\n"));
            return EXIT_USAGE;
        }
    };
    if checked.diagnostics.has_errors() {
        super::err(&render::render(
            Format::Short,
            &checked.diagnostics,
            &checked.sources,
            false,
        ));
        return EXIT_FINDINGS;
    }
    let Some(&x) = checked.model.org_index.get(&args.org) else {
        super::err(&format!("error: unknown org `{}`\n", args.org));
        return EXIT_USAGE;
    };
    let v = trellis::show::view(&checked.model, &checked.sources, x);
    match args.format {
        ShowFormat::Human => super::out(&trellis::show::human(&v)),
        ShowFormat::Json => super::out(&format!(
            "{}\n",
            serde_json::to_string_pretty(&v).unwrap_or_default()
        )),
    }
    EXIT_OK
}
