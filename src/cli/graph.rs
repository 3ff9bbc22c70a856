use std::path::PathBuf;

use clap::Args;
use trellis::diag::render::{self, Format};
use trellis::graph::GraphFormat;

use super::{InputArgs, EXIT_FINDINGS, EXIT_OK, EXIT_USAGE};

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
