use clap::Args;

use super::EXIT_OK;

#[derive(Args, Debug)]
pub struct SchemaArgs {
    /// The schema of the configuration file, trellis.toml, instead.
    #[arg(long)]
    config: bool,
}

pub fn run(args: SchemaArgs) -> u8 {
    if args.config {
        super::out(&trellis::config::config_schema());
    } else {
        super::out(&trellis::load::raw::policy_file_schema());
    }
    EXIT_OK
}
