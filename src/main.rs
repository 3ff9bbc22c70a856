//! The `trellis` command: parse arguments, call the library, print, exit.

mod cli;

use std::process::ExitCode;

use clap::Parser;

// trellis builds and frees millions of small strings and vectors (a large
// set has millions of nodes); mimalloc keeps that from dominating run time.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let args = cli::Cli::parse();
    let code = cli::run(args);
    ExitCode::from(code)
}
