//! `trellis completions SHELL` and `trellis man -o DIR`, both generated
//! from the one clap definition of the command line (`Cli`).

use std::path::{Path, PathBuf};

use clap::{Args, CommandFactory};
use clap_complete::Shell;

use super::{Cli, EXIT_OK, EXIT_USAGE};

#[derive(Args, Debug)]
pub struct CompletionsArgs {
    /// The shell to complete for.
    #[arg(value_enum)]
    shell: Shell,
}

#[derive(Args, Debug)]
pub struct ManArgs {
    /// The directory to write the pages to (created if missing).
    #[arg(short, long, value_name = "DIR")]
    out: PathBuf,
}

/// The completion script for `shell`.
pub fn script(shell: Shell) -> Vec<u8> {
    let mut cmd = Cli::command();
    let mut buf = Vec::new();
    clap_complete::generate(shell, &mut cmd, "trellis", &mut buf);
    buf
}

/// The manual pages: `trellis.1`, then `trellis-SUBCOMMAND.1` for each
/// subcommand that is not hidden (and theirs, if they had any), sorted by
/// name.
pub fn pages() -> Result<Vec<(String, Vec<u8>)>, std::io::Error> {
    fn walk(cmd: clap::Command, out: &mut Vec<(String, Vec<u8>)>) -> Result<(), std::io::Error> {
        for sub in cmd.get_subcommands().filter(|s| !s.is_hide_set()).cloned() {
            walk(sub, out)?;
        }
        let man = clap_mangen::Man::new(cmd)
            .manual("trellis manual")
            .source(format!("trellis {}", env!("CARGO_PKG_VERSION")));
        let mut buf = Vec::new();
        man.render(&mut buf)?;
        out.push((man.get_filename(), buf));
        Ok(())
    }
    let mut cmd = Cli::command().disable_help_subcommand(true);
    cmd.build();
    let mut out = Vec::new();
    walk(cmd, &mut out)?;
    out.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(out)
}

pub fn run(args: CompletionsArgs) -> u8 {
    super::out(&String::from_utf8_lossy(&script(args.shell)));
    EXIT_OK
}

pub fn run_man(args: ManArgs) -> u8 {
    let pages = match pages() {
        Ok(p) => p,
        Err(e) => {
            super::err(&format!("error: cannot render the manual pages: {e}\n"));
            return EXIT_USAGE;
        }
    };
    if let Err(e) = std::fs::create_dir_all(&args.out) {
        super::err(&format!(
            "error: cannot create {}: {e}\n",
            args.out.display()
        ));
        return EXIT_USAGE;
    }
    let paths: Vec<PathBuf> = pages.iter().map(|(name, _)| args.out.join(name)).collect();
    let files: Vec<(&Path, &[u8])> = paths
        .iter()
        .zip(&pages)
        .map(|(p, (_, bytes))| (p.as_path(), bytes.as_slice()))
        .collect();
    if let Err((path, e)) = super::compile::write_all_or_none(&files) {
        super::err(&format!("error: cannot write {}: {e}\n", path.display()));
        return EXIT_USAGE;
    }
    super::err(&format!(
        "wrote {} manual pages to {}\n",
        pages.len(),
        args.out.display()
    ));
    EXIT_OK
}
