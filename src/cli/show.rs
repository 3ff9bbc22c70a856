use std::path::PathBuf;

use clap::{Args, ValueEnum};

use super::{InputArgs, EXIT_OK, EXIT_USAGE};

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
    let checked = match super::load_clean(&paths, &args.input, "nothing to show") {
        Ok(c) => c,
        Err(code) => return code,
    };
    let Some(&x) = checked.model.org_index.get(&args.org) else {
        super::err(&format!("error: unknown org `{}`\n", args.org));
        return EXIT_USAGE;
    };
    let v = trellis::show::view(&checked.model, &checked.sources, x);
    match args.format {
        ShowFormat::Human => super::out(&trellis::show::human(&v)),
        ShowFormat::Json => super::out(&format!("{}\n", super::json_text(&v, true))),
    }
    EXIT_OK
}
