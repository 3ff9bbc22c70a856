//! One file per subcommand. Exit codes: 0 fine, 1 findings, 2 usage or I/O.

mod check;
mod compile;
mod diff;
mod explain;
mod graph;
mod lsp;
pub mod progress;
mod query;
mod roles;
mod schema;
mod serve;
mod show;
mod site;
mod test;

use std::io::{IsTerminal, Write};
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};
use trellis::load::Limits;

pub const EXIT_OK: u8 = 0;
pub const EXIT_FINDINGS: u8 = 1;
pub const EXIT_USAGE: u8 = 2;

#[derive(Parser, Debug)]
#[command(
    name = "trellis",
    version,
    about = "Compiler and checker for multi-tenant access policy as code"
)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Load, resolve and validate a policy set; print its diagnostics.
    Check(check::CheckArgs),
    /// Check, then write the decision table (refuses on errors).
    Compile(compile::CompileArgs),
    /// Answer one decision (or a batch) from a policy set.
    Query(query::QueryArgs),
    /// Access changes between two revisions of a policy set.
    Diff(diff::DiffArgs),
    /// Run the test files of a policy set.
    Test(test::TestArgs),
    /// What a customer org sees: its subtree, roles, users, grants; locks read-only.
    Show(show::ShowArgs),
    /// The roles of an org as its console lists them, with a search.
    Roles(roles::RolesArgs),
    /// Write a static site: the org tree, a page per org, role and user.
    Site(site::SiteArgs),
    /// The org tree and role hierarchy as a Mermaid or DOT picture.
    Graph(graph::GraphArgs),
    /// Answer questions over HTTP from a table, reloading it when it changes.
    Serve(serve::ServeArgs),
    /// Serve the Language Server Protocol over stdio, for editors.
    Lsp,
    /// Print the JSON Schema of policy files.
    Schema,
    /// Print the long explanation of a diagnostic code.
    Explain(explain::ExplainArgs),
}

/// Options every command that reads a policy set shares.
#[derive(Args, Debug, Clone)]
pub struct InputArgs {
    /// Largest policy file accepted, in bytes.
    #[arg(long, default_value_t = 256 * 1024 * 1024, global = true)]
    max_file_size: u64,
}

impl InputArgs {
    pub fn limits(&self) -> Limits {
        Limits {
            max_file_size: self.max_file_size,
            ..Limits::default()
        }
    }
}

pub fn run(cli: Cli) -> u8 {
    let code = run_command(cli);
    progress::finish();
    code
}

fn run_command(cli: Cli) -> u8 {
    match cli.command {
        Command::Check(a) => check::run(a),
        Command::Compile(a) => compile::run(a),
        Command::Query(a) => query::run(a),
        Command::Diff(a) => diff::run(a),
        Command::Test(a) => test::run(a),
        Command::Show(a) => show::run(a),
        Command::Roles(a) => roles::run(a),
        Command::Site(a) => site::run(a),
        Command::Graph(a) => graph::run(a),
        Command::Serve(a) => serve::run(a),
        Command::Lsp => lsp::run(),
        Command::Schema => schema::run(),
        Command::Explain(a) => explain::run(a),
    }
}

/// Writes to stdout; a closed pipe is not an error worth a panic.
pub fn out(text: &str) {
    // Results come after the stages: the spinner is gone before them.
    progress::finish();
    let mut stdout = std::io::stdout().lock();
    let _ = stdout.write_all(text.as_bytes());
    let _ = stdout.flush();
}

/// `value` as JSON text, pretty or on one line. What the commands print is
/// strings, numbers, booleans, lists and maps keyed by strings, which always
/// serialise.
#[expect(
    clippy::expect_used,
    reason = "serialising a value without non-string map keys cannot fail"
)]
pub fn json_text(value: &impl serde::Serialize, pretty: bool) -> String {
    if pretty {
        serde_json::to_string_pretty(value)
    } else {
        serde_json::to_string(value)
    }
    .expect("the printed values have no non-string map keys")
}

pub fn err(text: &str) {
    progress::suspend(|| {
        let mut stderr = std::io::stderr().lock();
        let _ = stderr.write_all(text.as_bytes());
    });
}

pub fn color_stdout() -> bool {
    std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none()
}

pub fn default_paths(paths: Vec<PathBuf>) -> Vec<PathBuf> {
    if paths.is_empty() {
        vec![PathBuf::from(".")]
    } else {
        paths
    }
}

/// Loads, resolves and checks the set under `paths`, showing its stages.
pub fn check_paths(
    paths: &[PathBuf],
    limits: &trellis::load::Limits,
) -> Result<trellis::Checked, trellis::load::LoadError> {
    trellis::run_paths(paths, limits, None, &progress::stage).map(|(checked, _)| checked)
}

/// Loads and checks a set for a command that needs it without errors
/// (query, show, graph): on errors, prints them and returns the exit code.
pub fn load_clean(
    paths: &[PathBuf],
    input: &InputArgs,
    refusal: &str,
) -> Result<trellis::Checked, u8> {
    let checked = check_paths(paths, &input.limits()).map_err(|e| {
        err(&format!("error: {e}\n"));
        EXIT_USAGE
    })?;
    if checked.diagnostics.has_errors() {
        use trellis::diag::render::{render, Format};
        err(&render(
            Format::Short,
            &checked.diagnostics,
            &checked.sources,
            false,
        ));
        err(&format!("error: the policy set has errors; {refusal}\n"));
        return Err(EXIT_FINDINGS);
    }
    Ok(checked)
}
