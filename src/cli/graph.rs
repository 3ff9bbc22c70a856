use std::path::PathBuf;

use clap::Args;
use trellis::graph::GraphFormat;

use super::{InputArgs, EXIT_OK, EXIT_USAGE};

#[derive(Args, Debug)]
pub struct GraphArgs {
    /// The policy set (default: the current directory).
    path: Option<PathBuf>,
    /// Only this org's subtree (and the roles visible there).
    #[arg(long)]
    org: Option<String>,
    #[arg(long, value_enum, default_value_t = GraphFormat::Mermaid)]
    format: GraphFormat,
    #[command(flatten)]
    input: InputArgs,
}

pub fn run(args: GraphArgs) -> u8 {
    let paths = super::default_paths(args.path.into_iter().collect());
    let checked = match super::load_clean(&paths, &args.input, "nothing to draw") {
        Ok(c) => c,
        Err(code) => return code,
    };
    let root = match &args.org {
        Some(o) => match checked.model.org_index.get(o) {
            Some(x) => Some(*x),
            None => {
                super::err(&format!("error: unknown org `{o}`\n"));
                return EXIT_USAGE;
            }
        },
        None => None,
    };
    super::out(&trellis::graph::render(&checked.model, root, args.format));
    EXIT_OK
}
