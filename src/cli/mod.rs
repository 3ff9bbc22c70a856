//! One file per subcommand. Exit codes: 0 fine, 1 findings, 2 usage or I/O.

mod check;
mod compile;
mod completions;
mod diff;
mod explain;
mod graph;
mod init;
mod lsp;
mod owners;
pub mod progress;
mod query;
mod questions;
mod roles;
mod schema;
mod serve;
mod show;
mod site;
mod test;
mod test_report;
mod watch;

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
    /// Answer a question (or a batch) from a policy set or a compiled table.
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
    /// The org tree and role hierarchy as a Mermaid, DOT or SVG picture.
    Graph(graph::GraphArgs),
    /// Answer questions over HTTP from a table, reloading it when it changes.
    Serve(serve::ServeArgs),
    /// Serve the Language Server Protocol over stdio, for editors.
    Lsp,
    /// Print the JSON Schema of policy files (or of trellis.toml).
    Schema(schema::SchemaArgs),
    /// Create a policy repository that checks clean and whose tests pass.
    Init(init::InitArgs),
    /// Print the long explanation of a diagnostic code.
    Explain(explain::ExplainArgs),
    /// Print the shell completion script for bash, zsh, fish, powershell or elvish.
    Completions(completions::CompletionsArgs),
    /// Write the manual pages (one per subcommand) to a directory.
    Man(completions::ManArgs),
}

/// Options every command that reads a policy set shares.
#[derive(Args, Debug, Clone)]
pub struct InputArgs {
    /// Largest policy file accepted, in bytes (default: `max_file_size` of
    /// trellis.toml, else 268435456, 256 MiB).
    #[arg(long, global = true)]
    max_file_size: Option<u64>,
    /// Parse every file, neither reading nor writing the cache of parsed
    /// files ($TRELLIS_CACHE_DIR, else $XDG_CACHE_HOME/trellis, else
    /// ~/.cache/trellis).
    #[arg(long, global = true)]
    no_cache: bool,
}

impl InputArgs {
    /// The limits for reading the set at `paths`, without a configuration
    /// file.
    pub fn limits(&self, paths: &[PathBuf]) -> Limits {
        self.limits_with(&trellis::config::Config::default(), paths)
    }

    /// The limits for reading the set at `paths`: the flag, else the
    /// configuration's key, else the default; and the cache of parsed
    /// files unless `--no-cache` (or the cache would be inside the set).
    pub fn limits_with(&self, config: &trellis::config::Config, paths: &[PathBuf]) -> Limits {
        let default = Limits::default();
        Limits {
            max_file_size: self
                .max_file_size
                .or(config.max_file_size)
                .unwrap_or(default.max_file_size),
            cache: if self.no_cache {
                None
            } else {
                tree_cache(paths).map(std::sync::Arc::new)
            },
            ..default
        }
    }
}

/// The cache of parsed files, if there is a place for it (not inside the
/// set: see [`trellis::load::ItemCache::for_set`]).
fn tree_cache(paths: &[PathBuf]) -> Option<trellis::load::ItemCache> {
    let dir = trellis::load::ItemCache::default_dir()?;
    match trellis::load::ItemCache::for_set(&dir, paths) {
        Ok(cache) => Some(cache),
        Err(_) => {
            err(&format!(
                "warning: not using the cache of parsed files at `{}`: it is inside the policy set (set TRELLIS_CACHE_DIR elsewhere)\n",
                dir.display()
            ));
            None
        }
    }
}

/// The `trellis.toml` that applies to the set at `path` (none: defaults).
/// A file that cannot be used is reported here, located, and is exit 2.
pub fn config_for(path: &std::path::Path) -> Result<trellis::config::Config, u8> {
    match trellis::config::discover(path) {
        Ok(c) => Ok(c),
        Err(trellis::config::ConfigError::Read(e)) => {
            err(&format!("error: {e}\n"));
            Err(EXIT_USAGE)
        }
        Err(trellis::config::ConfigError::Invalid {
            sources,
            diagnostics,
        }) => {
            report_file_errors(&diagnostics, &sources);
            err("error: the configuration file has errors; fix them first\n");
            Err(EXIT_USAGE)
        }
    }
}

impl Cli {
    /// Whether the command runs once and exits (everything but the
    /// decision server and the language server, which stay up).
    pub fn is_batch(&self) -> bool {
        !matches!(self.command, Command::Serve(_) | Command::Lsp)
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
        Command::Schema(a) => schema::run(a),
        Command::Init(a) => init::run(a),
        Command::Explain(a) => explain::run(a),
        Command::Completions(a) => completions::run(a),
        Command::Man(a) => completions::run_man(a),
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
    let config = config_for(
        paths
            .first()
            .map_or(std::path::Path::new("."), |p| p.as_path()),
    )?;
    let checked = check_paths(paths, &input.limits_with(&config, paths)).map_err(|e| {
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

/// The `--format` a configuration's `format` names.
pub fn config_format(f: trellis::config::ConfigFormat) -> trellis::diag::render::Format {
    use trellis::config::ConfigFormat as C;
    use trellis::diag::render::Format as F;
    match f {
        C::Human => F::Human,
        C::Short => F::Short,
        C::Json => F::Json,
        C::Sarif => F::Sarif,
        C::Github => F::Github,
        C::Junit => F::Junit,
    }
}

/// The diagnostics of one of the set's own files (trellis.toml, the owners
/// file) on standard error: one short line each, with its help below.
pub fn report_file_errors(
    diagnostics: &trellis::diag::Diagnostics,
    sources: &trellis::source::SourceMap,
) {
    use trellis::diag::render::{render, Format};
    let mut text = String::new();
    for d in diagnostics.iter() {
        let mut one = trellis::diag::Diagnostics::default();
        one.push(d.clone());
        text.push_str(&render(Format::Short, &one, sources, false));
        if let Some(help) = &d.help {
            text.push_str(&format!("  help: {help}\n"));
        }
    }
    err(&text);
}
