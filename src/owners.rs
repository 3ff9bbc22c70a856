//! The owners file (`trellis-owners.toml`): which git-forge users act for
//! which scope, so that the change check takes its actor from a pull
//! request's author instead of from the paths the pull request changes
//! (manual: *Who is the actor: the owners file*).
//!
//! ```toml
//! [teams]
//! platform = ["alice", "carol"]
//!
//! [[owner]]
//! scope = "provider"
//! teams = ["platform"]
//!
//! [[owner]]
//! scope = "acme"
//! logins = ["bob"]
//! ```

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use serde::Deserialize;

use crate::diag::{did_you_mean, Code, Diagnostic, Diagnostics};
use crate::load::de::{from_node_all, Spanned};
use crate::load::Limits;
use crate::model::Model;
use crate::revision::OneFile;
use crate::source::{SourceMap, Span};

/// The owners file's usual name (never a policy file, see
/// [`crate::load::RESERVED_NAMES`]).
pub const FILE_NAME: &str = "trellis-owners.toml";

#[derive(Deserialize, Debug, Default)]
#[serde(deny_unknown_fields)]
struct RawOwners {
    #[serde(default)]
    teams: BTreeMap<String, Vec<Spanned<String>>>,
    #[serde(default)]
    owner: Vec<Spanned<RawOwner>>,
}

#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
struct RawOwner {
    scope: Spanned<String>,
    #[serde(default)]
    logins: Vec<Spanned<String>>,
    #[serde(default)]
    teams: Vec<Spanned<String>>,
}

/// Who acts for which scope, read from an owners file.
#[derive(Debug, Default, Clone)]
pub struct Owners {
    /// Each login (lowercased: forge logins are case-insensitive) and the
    /// scopes it acts for.
    by_login: BTreeMap<String, BTreeSet<String>>,
}

impl Owners {
    /// The scopes `login` acts for (compared without regard to ASCII
    /// case), sorted.
    pub fn scopes_of(&self, login: &str) -> Vec<String> {
        self.by_login
            .get(&login.to_ascii_lowercase())
            .map(|s| s.iter().cloned().collect())
            .unwrap_or_default()
    }
}

/// Reads an owners file's contents (as if from `path`), checking each
/// scope against `base` (the set the file is read with). On errors,
/// returns them located in the file.
pub fn parse(
    path: &Path,
    bytes: Vec<u8>,
    base: &Model,
) -> Result<Owners, (SourceMap, Diagnostics)> {
    let mut sources = SourceMap::default();
    let mut diags = Diagnostics::default();
    let limits = Limits::default();
    let Some(id) = crate::load::add_source(path, bytes, &limits, &mut sources, &mut diags) else {
        return Err((sources, diags));
    };
    let Some(node) = crate::load::parse_text(id, &sources, &limits, &mut diags) else {
        if diags.is_empty() {
            diags.push(Diagnostic::new(
                Code::E001,
                Span::file_start(id),
                "cannot read the owners file",
            ));
        }
        return Err((sources, diags));
    };
    let (raw, errors) = from_node_all::<RawOwners>(&node);
    diags.extend(errors.into_iter().map(|e| e.into_diagnostic(node.span)));
    let raw = raw.unwrap_or_default();
    let mut owners = Owners::default();
    for owner in &raw.owner {
        let owner = &owner.value;
        let scope = &owner.scope;
        let known = scope.value == "provider" || base.org_index.contains_key(&scope.value);
        if !known {
            let help = match did_you_mean(&scope.value, base.org_index.keys().map(String::as_str)) {
                Some(s) => format!("did you mean `{s}`?"),
                None => "a scope is `provider` or the id of an org of the base revision".into(),
            };
            diags.push(
                Diagnostic::new(
                    Code::E004,
                    scope.span,
                    format!("unknown scope `{}`", scope.value),
                )
                .with_label("not `provider` nor an org of the base")
                .with_help(help),
            );
        }
        let mut logins: Vec<&Spanned<String>> = owner.logins.iter().collect();
        for team in &owner.teams {
            match raw.teams.get(&team.value) {
                Some(members) => logins.extend(members.iter()),
                None => {
                    let help = match did_you_mean(&team.value, raw.teams.keys().map(String::as_str))
                    {
                        Some(s) => format!("did you mean `{s}`?"),
                        None => "declare it under `[teams]` in this file".into(),
                    };
                    diags.push(
                        Diagnostic::new(
                            Code::E004,
                            team.span,
                            format!("unknown team `{}`", team.value),
                        )
                        .with_label("not declared under `[teams]`")
                        .with_help(help),
                    );
                }
            }
        }
        for login in logins {
            if !is_login(&login.value) {
                diags.push(
                    Diagnostic::new(
                        Code::E002,
                        login.span,
                        format!("invalid login `{}`", login.value),
                    )
                    .with_help("a login is the user name on the forge: letters, digits, `-`, `_` and `.`, without `@`"),
                );
                continue;
            }
            if !known {
                continue;
            }
            owners
                .by_login
                .entry(login.value.to_ascii_lowercase())
                .or_default()
                .insert(scope.value.clone());
        }
    }
    if diags.is_empty() {
        Ok(owners)
    } else {
        diags.sort(&sources);
        Err((sources, diags))
    }
}

fn is_login(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 255
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
}

/// Who wrote a changed file, as far as the gate is concerned.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum FileScope {
    /// `scope: provider`.
    Provider,
    /// `scope: <org>`.
    Org(String),
    /// A file without a readable scope (a syntax error, a link, …): only
    /// the provider may change it.
    Unreadable,
    /// The set's own files: `trellis.toml`, an owners file (wherever it
    /// is). Only the provider may change them.
    SetFile,
}

/// A file that differs between the base and the head, with the scopes it
/// has in each (one or two).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChangedFile {
    /// Its path, relative to the set.
    pub path: String,
    /// Its scope in the base and in the head (where it exists).
    pub scopes: Vec<FileScope>,
}

/// The scope a file's contents declare.
pub fn scope_of(rel: &str, file: &OneFile) -> FileScope {
    let name = rel.rsplit('/').next().unwrap_or(rel);
    if crate::load::is_reserved_name(name) {
        return FileScope::SetFile;
    }
    let OneFile::Bytes(bytes) = file else {
        return FileScope::Unreadable;
    };
    let (parsed, _) = crate::load::load_bytes(name, bytes, &Limits::default());
    match parsed {
        Some(f) if f.is_provider() => FileScope::Provider,
        Some(f) => FileScope::Org(f.scope.value),
        None => FileScope::Unreadable,
    }
}

/// The files that differ between `base` and `head` (each a set-relative
/// path and what is there), sorted by path. `set_files` are paths that are
/// the set's own whatever their name (the owners file in use).
pub fn changed_files(
    base: &BTreeMap<String, OneFile>,
    head: &BTreeMap<String, OneFile>,
    set_files: &[String],
) -> Vec<ChangedFile> {
    let paths: BTreeSet<&String> = base.keys().chain(head.keys()).collect();
    let mut out = Vec::new();
    for path in paths {
        let b = base.get(path).filter(|f| **f != OneFile::Missing);
        let h = head.get(path).filter(|f| **f != OneFile::Missing);
        if b == h {
            continue;
        }
        let mut scopes: Vec<FileScope> = [b, h]
            .into_iter()
            .flatten()
            .map(|f| {
                if set_files.contains(path) {
                    FileScope::SetFile
                } else {
                    scope_of(path, f)
                }
            })
            .collect();
        scopes.sort();
        scopes.dedup();
        out.push(ChangedFile {
            path: path.clone(),
            scopes,
        });
    }
    out
}

/// Does the scope `actor` cover a file of scope `file`? The provider covers
/// everything; an org covers the files of orgs in its subtree, in each of
/// the base and the head that declares that org.
fn covers(actor: &str, file: &FileScope, base: &Model, head: &Model) -> bool {
    if actor == "provider" {
        return true;
    }
    let FileScope::Org(org) = file else {
        return false;
    };
    let mut seen = false;
    for model in [base, head] {
        if let Some(o) = model.org_index.get(org) {
            match model.org_index.get(actor) {
                Some(a) if model.in_subtree(*o, *a) => seen = true,
                _ => return false,
            }
        }
    }
    seen
}

fn depth(scope: &str, base: &Model, head: &Model) -> usize {
    if scope == "provider" {
        return 0;
    }
    for model in [base, head] {
        if let Some(o) = model.org_index.get(scope) {
            return 1 + model.ancestors(*o).count();
        }
    }
    0
}

/// Why no actor could be chosen for an author.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal(pub String);

/// The actor for a change by an author who acts for `scopes`: the
/// narrowest of them that covers every changed file. Refused when the
/// author acts for no scope, or none covers every file (the message names
/// the files outside).
pub fn decide(
    author: &str,
    scopes: &[String],
    changed: &[ChangedFile],
    base: &Model,
    head: &Model,
) -> Result<String, Refusal> {
    if scopes.is_empty() {
        return Err(Refusal(format!(
            "`{author}` acts for no scope in the owners file: ask the provider to add them"
        )));
    }
    let covering: Vec<&String> = scopes
        .iter()
        .filter(|s| {
            changed
                .iter()
                .all(|f| f.scopes.iter().all(|fs| covers(s, fs, base, head)))
        })
        .collect();
    if let Some(best) = covering.iter().max_by(|a, b| {
        depth(a, base, head)
            .cmp(&depth(b, base, head))
            .then(b.cmp(a))
    }) {
        return Ok((*best).clone());
    }
    // Not covered: name the files outside the author's widest reach.
    let mut outside = Vec::new();
    for f in changed {
        if !scopes
            .iter()
            .any(|s| f.scopes.iter().all(|fs| covers(s, fs, base, head)))
        {
            let why: Vec<String> = f
                .scopes
                .iter()
                .map(|fs| match fs {
                    FileScope::Provider => "scope provider".to_owned(),
                    FileScope::Org(o) => format!("scope {o}"),
                    FileScope::Unreadable => "no readable scope".to_owned(),
                    FileScope::SetFile => "the set's own file: provider only".to_owned(),
                })
                .collect();
            outside.push(format!("{} ({})", f.path, why.join(", ")));
        }
    }
    let which = if outside.is_empty() {
        // Every file is covered by some scope, but no one scope covers all.
        "no one of them covers every changed file: split the change".to_owned()
    } else {
        format!("changed files outside them: {}", outside.join("; "))
    };
    Err(Refusal(format!(
        "`{author}` acts for {}; {which}",
        scopes
            .iter()
            .map(|s| format!("`{s}`"))
            .collect::<Vec<_>>()
            .join(", ")
    )))
}

/// `path` relative to `root`, `/`-separated (itself when not under it).
fn rel_of(path: &Path, root: &Path) -> String {
    let rel = path.strip_prefix(root).unwrap_or(path);
    rel.components()
        .filter_map(|c| match c {
            std::path::Component::Normal(s) => Some(s.to_string_lossy().into_owned()),
            _ => None,
        })
        .collect::<Vec<_>>()
        .join("/")
}

/// The policy files and the set's own files at the root of the set in the
/// directory `root`, by set-relative path.
pub fn snapshot_dir(root: &Path) -> Result<BTreeMap<String, OneFile>, String> {
    let (policies, _) = crate::load::discover(std::slice::from_ref(&root.to_path_buf()))
        .map_err(|e| e.to_string())?;
    let mut out = BTreeMap::new();
    for p in policies {
        out.insert(rel_of(&p, root), crate::revision::read_one_on_disk(&p)?);
    }
    for name in crate::load::RESERVED_NAMES {
        out.insert(
            name.to_owned(),
            crate::revision::read_one_on_disk(&root.join(name))?,
        );
    }
    Ok(out)
}

/// The same for a set read from a base (see [`crate::revision::resolve`]):
/// `spec` and `root` are the base and the set's path in the work tree.
pub fn snapshot_source(
    src: &crate::revision::SetSource,
    spec: &str,
    root: &Path,
) -> Result<BTreeMap<String, OneFile>, String> {
    let (files, links) = match src {
        crate::revision::SetSource::Dir(dir) => return snapshot_dir(dir),
        crate::revision::SetSource::Files { files, links } => (files, links),
    };
    let mut out = BTreeMap::new();
    for (p, bytes) in files {
        out.insert(rel_of(p, root), OneFile::Bytes(bytes.clone()));
    }
    for p in links {
        out.insert(rel_of(p, root), OneFile::Link);
    }
    for name in crate::load::RESERVED_NAMES {
        out.insert(
            name.to_owned(),
            crate::revision::read_one(spec, root, name)?,
        );
    }
    Ok(out)
}

/// `path` as a set-relative path, when it lies inside the set at `root`
/// (both read lexically, relative to the current directory).
pub fn rel_in_set(path: &Path, root: &Path) -> Option<String> {
    fn norm(p: &Path) -> Option<Vec<String>> {
        let abs = std::path::absolute(p).ok()?;
        let mut out: Vec<String> = Vec::new();
        for c in abs.components() {
            match c {
                std::path::Component::Normal(s) => out.push(s.to_string_lossy().into_owned()),
                std::path::Component::ParentDir => {
                    out.pop();
                }
                _ => {}
            }
        }
        Some(out)
    }
    let (p, r) = (norm(path)?, norm(root)?);
    let rest = p.strip_prefix(r.as_slice())?;
    (!rest.is_empty()).then(|| rest.join("/"))
}
