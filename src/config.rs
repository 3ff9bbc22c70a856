//! `trellis.toml`: the settings of a policy set, at its root (manual:
//! *The configuration file*). Found by walking up from the set's path;
//! command-line flags win over it.

use std::path::{Path, PathBuf};

use schemars::JsonSchema;
use serde::Deserialize;

use crate::diag::{did_you_mean, Code, Diagnostic, Diagnostics};
use crate::load::de::{from_node_all, Spanned};
use crate::load::Limits;
use crate::source::{SourceMap, Span};

/// The configuration file's name.
pub const FILE_NAME: &str = "trellis.toml";

/// The settings of a policy set (`trellis.toml` at the set's root). Every
/// key is optional; a flag given on the command line wins over its key.
#[derive(Deserialize, JsonSchema, Debug, Default)]
#[serde(deny_unknown_fields)]
#[schemars(title = "trellis.toml")]
pub struct RawConfig {
    /// The default `--format` of `trellis check`.
    pub format: Option<Spanned<ConfigFormat>>,
    /// Exit 1 on warnings too, as `--deny-warnings` does.
    pub deny_warnings: Option<Spanned<bool>>,
    /// The largest policy file accepted, in bytes (`--max-file-size`).
    pub max_file_size: Option<Spanned<u64>>,
    /// Warnings allowed (not reported) or denied (failing the run, as
    /// errors do), by code.
    #[serde(default)]
    pub warnings: RawWarnings,
    /// The owners file (which forge users act for which scope), relative
    /// to this file's directory; read by `check --author`.
    pub owners: Option<Spanned<String>>,
}

/// `[warnings]`: codes allowed and denied.
#[derive(Deserialize, JsonSchema, Debug, Default)]
#[serde(deny_unknown_fields)]
pub struct RawWarnings {
    /// Warning codes never reported (`W104`).
    #[serde(default)]
    pub allow: Vec<Spanned<String>>,
    /// Warning codes that fail the run (exit 1) when reported.
    #[serde(default)]
    pub deny: Vec<Spanned<String>>,
}

/// A diagnostics format, as `--format` names it.
#[derive(Deserialize, JsonSchema, Debug, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum ConfigFormat {
    /// Source snippets.
    Human,
    /// One line per diagnostic.
    Short,
    /// A JSON document.
    Json,
    /// SARIF 2.1.0.
    Sarif,
    /// GitHub Actions workflow commands.
    Github,
    /// JUnit XML, a test case per file.
    Junit,
}

/// The settings read from a `trellis.toml`, checked.
#[derive(Debug, Default, Clone)]
pub struct Config {
    /// The file they were read from (none: no file, every default).
    pub path: Option<PathBuf>,
    /// `format`.
    pub format: Option<ConfigFormat>,
    /// `deny_warnings`.
    pub deny_warnings: bool,
    /// `max_file_size`.
    pub max_file_size: Option<u64>,
    /// `warnings.allow`.
    pub allow: Vec<Code>,
    /// `warnings.deny`.
    pub deny: Vec<Code>,
    /// `owners`, as written (relative to the file's directory).
    pub owners: Option<String>,
}

impl Config {
    /// The directory the file is in (relative paths in it start there).
    pub fn dir(&self) -> Option<&Path> {
        self.path.as_deref().and_then(Path::parent)
    }

    /// Drops the allowed warnings from `diags`.
    pub fn apply_allow(&self, diags: Diagnostics) -> Diagnostics {
        if self.allow.is_empty() {
            return diags;
        }
        let mut out = Diagnostics::default();
        out.extend(diags.into_iter().filter(|d| !self.allow.contains(&d.code)));
        out
    }

    /// Is any of `diags` a denied warning?
    pub fn denies(&self, diags: &Diagnostics) -> bool {
        diags.iter().any(|d| self.deny.contains(&d.code))
    }
}

/// Why a configuration could not be used.
#[derive(Debug)]
pub enum ConfigError {
    /// It could not be read (a link, or an I/O error).
    Read(String),
    /// It was read and is wrong: located diagnostics over `sources`.
    Invalid {
        /// The file, for rendering.
        sources: SourceMap,
        /// What is wrong.
        diagnostics: Diagnostics,
    },
}

/// The `trellis.toml` that applies to `start` (a directory or a file): the
/// first found in `start`'s directory or one above it. The walk stops at
/// the directory that holds `.git` (the repository's root, searched
/// itself) and at the filesystem root, so that a file above the
/// repository never applies.
pub fn find(start: &Path) -> Option<PathBuf> {
    let start = std::path::absolute(start).ok()?;
    let mut dir = if start.is_dir() {
        start
    } else {
        start.parent()?.to_path_buf()
    };
    loop {
        let candidate = dir.join(FILE_NAME);
        if std::fs::symlink_metadata(&candidate).is_ok() {
            // Shown relative to the current directory when below it.
            let shown = std::env::current_dir()
                .ok()
                .and_then(|cwd| candidate.strip_prefix(cwd).ok().map(Path::to_path_buf));
            return Some(shown.unwrap_or(candidate));
        }
        if std::fs::symlink_metadata(dir.join(".git")).is_ok() {
            return None;
        }
        dir = dir.parent()?.to_path_buf();
    }
}

/// Finds and reads the configuration of the set at `start`; no file is the
/// default configuration.
pub fn discover(start: &Path) -> Result<Config, ConfigError> {
    match find(start) {
        None => Ok(Config::default()),
        Some(path) => load(&path),
    }
}

/// Reads the configuration file at `path` (a link is refused).
pub fn load(path: &Path) -> Result<Config, ConfigError> {
    let meta = std::fs::symlink_metadata(path)
        .map_err(|e| ConfigError::Read(format!("cannot read `{}`: {e}", path.display())))?;
    if meta.file_type().is_symlink() {
        return Err(ConfigError::Read(format!(
            "`{}` is a symbolic link: the configuration must be a regular file",
            path.display()
        )));
    }
    let bytes = std::fs::read(path)
        .map_err(|e| ConfigError::Read(format!("cannot read `{}`: {e}", path.display())))?;
    parse(path, bytes)
}

/// Reads a configuration from its contents, as if from `path`.
pub fn parse(path: &Path, bytes: Vec<u8>) -> Result<Config, ConfigError> {
    let mut sources = SourceMap::default();
    let mut diagnostics = Diagnostics::default();
    let limits = Limits::default();
    let Some(id) = crate::load::add_source(path, bytes, &limits, &mut sources, &mut diagnostics)
    else {
        return Err(ConfigError::Invalid {
            sources,
            diagnostics,
        });
    };
    let node = crate::load::parse_text(id, &sources, &limits, &mut diagnostics);
    let mut config = Config {
        path: Some(path.to_path_buf()),
        ..Config::default()
    };
    if let Some(node) = node {
        let (raw, errors) = from_node_all::<RawConfig>(&node);
        diagnostics.extend(errors.into_iter().map(|e| e.into_diagnostic(node.span)));
        if let Some(raw) = raw {
            config.format = raw.format.map(|f| f.value);
            config.deny_warnings = raw.deny_warnings.is_some_and(|d| d.value);
            config.max_file_size = raw.max_file_size.map(|m| m.value);
            config.owners = raw.owners.map(|o| o.value);
            config.allow = warning_codes(&raw.warnings.allow, "allow", &mut diagnostics);
            config.deny = warning_codes(&raw.warnings.deny, "deny", &mut diagnostics);
            for code in &config.allow {
                if let Some(both) = raw.warnings.deny.iter().find(|d| d.value == code.as_str()) {
                    diagnostics.push(
                        Diagnostic::new(
                            Code::E002,
                            both.span,
                            format!("`{}` is both allowed and denied", code.as_str()),
                        )
                        .with_help("keep it in one of `allow` and `deny`"),
                    );
                }
            }
        }
    } else if diagnostics.is_empty() {
        diagnostics.push(Diagnostic::new(
            Code::E001,
            Span::file_start(id),
            "cannot read the configuration",
        ));
    }
    if diagnostics.is_empty() {
        Ok(config)
    } else {
        diagnostics.sort(&sources);
        Err(ConfigError::Invalid {
            sources,
            diagnostics,
        })
    }
}

fn warning_codes(codes: &[Spanned<String>], key: &str, diagnostics: &mut Diagnostics) -> Vec<Code> {
    let warnings: Vec<&str> = Code::ALL
        .iter()
        .filter(|c| c.as_str().starts_with('W'))
        .map(|c| c.as_str())
        .collect();
    let mut out = Vec::new();
    for code in codes {
        match Code::ALL.iter().find(|c| c.as_str() == code.value) {
            Some(c) if c.as_str().starts_with('W') => {
                if !out.contains(c) {
                    out.push(*c);
                }
            }
            Some(_) => diagnostics.push(
                Diagnostic::new(
                    Code::E002,
                    code.span,
                    format!("`{}` is an error: only warnings can be {key}ed", code.value),
                )
                .with_label("an error code")
                .with_help(format!("warning codes: {}", warnings.join(", "))),
            ),
            None => {
                let help = match did_you_mean(&code.value, warnings.iter().copied()) {
                    Some(s) => format!("did you mean `{s}`?"),
                    None => format!("warning codes: {}", warnings.join(", ")),
                };
                diagnostics.push(
                    Diagnostic::new(
                        Code::E002,
                        code.span,
                        format!("unknown warning code `{}`", code.value),
                    )
                    .with_label("not a warning code")
                    .with_help(help),
                );
            }
        }
    }
    out
}

/// The JSON Schema of `trellis.toml`, as `trellis schema --config` prints
/// it (and `schema/trellis-config.schema.json` holds).
#[expect(
    clippy::expect_used,
    reason = "a schema is a serde_json::Value: it always serialises"
)]
pub fn config_schema() -> String {
    let mut schema = schemars::schema_for!(RawConfig);
    schema.insert(
        "$id".into(),
        serde_json::Value::String("https://trellis.dev/schema/trellis-config.schema.json".into()),
    );
    let mut out = serde_json::to_string_pretty(&schema).expect("a schema always serialises");
    out.push('\n');
    out
}
