//! `check --base REV --author LOGIN [--owners FILE]`: the actor from the
//! pull request's author and the owners file of the base (manual: *Who is
//! the actor: the owners file*).

use std::path::{Path, PathBuf};

use trellis::model::Model;
use trellis::owners::{self, FileScope};
use trellis::revision::{OneFile, SetSource};

use super::EXIT_USAGE;

/// What the gate needs besides the two checked sets.
pub struct Gate<'a> {
    pub base: &'a str,
    pub root: &'a Path,
    pub owners: Option<&'a PathBuf>,
    pub author: &'a str,
}

/// The set-relative path of the owners file: `--owners` (a path in the
/// work tree), else the `owners` key of the *base's* trellis.toml at the
/// set's root, so that a pull request cannot point the gate elsewhere.
fn owners_rel(gate: &Gate) -> Result<String, String> {
    if let Some(path) = gate.owners {
        return owners::rel_in_set(path, gate.root).ok_or_else(|| {
            format!(
                "the owners file `{}` is not inside the set `{}`",
                path.display(),
                gate.root.display()
            )
        });
    }
    let config_path = gate.root.join(trellis::config::FILE_NAME);
    let missing = || {
        format!(
            "`--author` needs the owners file: give `--owners FILE`, or set `owners` in the base's `{}`",
            config_path.display()
        )
    };
    match trellis::revision::read_one(gate.base, gate.root, trellis::config::FILE_NAME)? {
        OneFile::Missing => Err(missing()),
        OneFile::Link => Err(format!(
            "`{}` is a symbolic link in the base `{}`: the configuration must be a regular file",
            config_path.display(),
            gate.base
        )),
        OneFile::Bytes(bytes) => match trellis::config::parse(&config_path, bytes) {
            Ok(config) => {
                let owners = config.owners.ok_or_else(missing)?;
                owners::rel_in_set(&gate.root.join(&owners), gate.root).ok_or_else(|| {
                    format!("the owners file `{owners}` of the base's configuration is not inside the set")
                })
            }
            Err(_) => Err(format!(
                "the base `{}` has an invalid `{}`: the owners file cannot be found",
                gate.base,
                config_path.display()
            )),
        },
    }
}

/// The actor for the change from `base_src` (the base, as read) to the work
/// tree; on refusal, prints why and returns the exit code (2).
pub fn actor(gate: &Gate, base_src: &SetSource, base: &Model, head: &Model) -> Result<String, u8> {
    let fail = |msg: String| {
        super::err(&format!("error: {msg}\n"));
        EXIT_USAGE
    };
    if !gate.root.is_dir() {
        return Err(fail(format!(
            "`--author` needs the set's directory, not the file `{}`",
            gate.root.display()
        )));
    }
    let rel = owners_rel(gate).map_err(fail)?;
    let shown = gate.root.join(&rel);
    let base_owners = trellis::revision::read_one(gate.base, gate.root, &rel).map_err(fail)?;
    let bytes = match &base_owners {
        OneFile::Bytes(b) => b.clone(),
        OneFile::Missing => {
            return Err(fail(format!(
                "the owners file `{}` does not exist in the base `{}` (it is always read from the base: a new owners file takes effect once merged)",
                shown.display(),
                gate.base
            )))
        }
        OneFile::Link => {
            return Err(fail(format!(
                "the owners file `{}` is a symbolic link in the base `{}`: it must be a regular file",
                shown.display(),
                gate.base
            )))
        }
    };
    let owners = match owners::parse(&shown, bytes, base) {
        Ok(o) => o,
        Err((sources, diags)) => {
            super::report_file_errors(&diags, &sources);
            return Err(fail(format!(
                "the owners file `{}` of the base `{}` has errors",
                shown.display(),
                gate.base
            )));
        }
    };
    let mut base_files = owners::snapshot_source(base_src, gate.base, gate.root).map_err(fail)?;
    let mut head_files = owners::snapshot_dir(gate.root).map_err(fail)?;
    base_files.insert(rel.clone(), base_owners);
    head_files.insert(
        rel.clone(),
        trellis::revision::read_one_on_disk(&shown).map_err(fail)?,
    );
    let changed = owners::changed_files(&base_files, &head_files, std::slice::from_ref(&rel));
    let scopes = owners.scopes_of(gate.author);
    match owners::decide(gate.author, &scopes, &changed, base, head) {
        Ok(actor) => {
            // The owners file as this change leaves it must still work
            // against the set as this change leaves it: otherwise the gate
            // breaks for every change after the merge (an org removed that
            // it still names, a typo in the provider's own edit).
            if let Some(OneFile::Bytes(bytes)) = head_files.get(&rel) {
                if let Err((sources, diags)) = owners::parse(&shown, bytes.clone(), head) {
                    super::report_file_errors(&diags, &sources);
                    return Err(fail(format!(
                        "the owners file `{}` has errors with this change: fix them before it is merged, or the gate refuses every later change",
                        shown.display()
                    )));
                }
            }
            let own = changed
                .iter()
                .filter(|f| f.scopes.contains(&FileScope::SetFile))
                .count();
            super::err(&format!(
                "note: actor `{actor}`: the narrowest scope `{}` acts for that covers the {} changed file{}{}\n",
                gate.author,
                changed.len(),
                if changed.len() == 1 { "" } else { "s" },
                if own > 0 {
                    " (the set's own files among them)"
                } else {
                    ""
                }
            ));
            Ok(actor)
        }
        Err(refusal) => Err(fail(format!(
            "{} (owners file `{}` of the base `{}`)",
            refusal.0,
            shown.display(),
            gate.base
        ))),
    }
}
