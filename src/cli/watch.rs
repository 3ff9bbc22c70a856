//! `check --watch` and `test --watch`: run, then run again whenever a file
//! of the set changes, until interrupted (Ctrl-C).

use std::io::IsTerminal;
use std::path::{Component, Path, PathBuf};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use notify::event::{EventKind, ModifyKind};
use notify::{RecursiveMode, Watcher};

use super::EXIT_USAGE;

/// Changes closer together than this make one run.
const DEBOUNCE: Duration = Duration::from_millis(200);
/// However busy the files, a run starts at most this long after a change.
const LONGEST_WAIT: Duration = Duration::from_secs(2);

/// Does an event change what is read? Reading the set (opening files and
/// directories) and metadata changes do not: only creating, writing,
/// renaming and removing do.
fn changes_content(kind: &EventKind) -> bool {
    match kind {
        EventKind::Create(_) | EventKind::Remove(_) => true,
        EventKind::Modify(ModifyKind::Metadata(_)) => false,
        EventKind::Modify(_) => true,
        EventKind::Access(_) | EventKind::Any | EventKind::Other => false,
    }
}

/// What is watched: each root of the set, and the outputs a run writes
/// itself (never a reason to run again).
struct Filter {
    roots: Vec<PathBuf>,
    ignore: Vec<PathBuf>,
}

/// `path` made absolute without needing it to exist (its parent is
/// canonicalised when it can be).
fn absolute(path: &Path) -> PathBuf {
    if let Ok(p) = path.canonicalize() {
        return p;
    }
    let parent = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    match (parent.canonicalize(), path.file_name()) {
        (Ok(dir), Some(name)) => dir.join(name),
        _ => std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf()),
    }
}

fn is_policy_name(name: &str) -> bool {
    [".yaml", ".yml", ".toml"].iter().any(|s| name.ends_with(s))
}

impl Filter {
    /// Is a change at `path` a change of the set, as the loader reads it?
    /// Not: a file or directory whose name starts with a dot (or anything
    /// below one), anything inside a nested repository (a directory below
    /// the root holding `.git`), an output of the run, a file that is not
    /// a policy or test file. A directory (or a removed path without an
    /// extension, which may have been one) counts: files went with it.
    fn counts(&self, path: &Path) -> bool {
        if self.ignore.iter().any(|i| i == path) {
            return false;
        }
        let Some(root) = self.roots.iter().find(|r| path.starts_with(r)) else {
            return false;
        };
        let Ok(rel) = path.strip_prefix(root) else {
            return false;
        };
        let mut dir = root.clone();
        let parts: Vec<Component> = rel.components().collect();
        for (i, c) in parts.iter().enumerate() {
            let Component::Normal(name) = c else {
                return false;
            };
            if name.to_string_lossy().starts_with('.') {
                return false;
            }
            dir.push(name);
            // A directory below the root holding `.git` is not of the set.
            if i + 1 < parts.len() && dir.join(".git").exists() {
                return false;
            }
        }
        if path.is_dir() {
            return !path.join(".git").exists() || path == root;
        }
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        is_policy_name(&name) || (!path.exists() && path.extension().is_none()) || path == root
    }
}

/// `path` as a user would write it: relative to the current directory
/// when it is below it.
fn shown(path: &Path) -> String {
    std::env::current_dir()
        .ok()
        .and_then(|d| d.canonicalize().ok())
        .and_then(|d| path.strip_prefix(d).ok().map(Path::to_path_buf))
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or_else(|| path.to_path_buf())
        .display()
        .to_string()
}

/// Clears the terminal (and its scrollback) before a run, only when stdout
/// is one.
fn clear() {
    if std::io::stdout().is_terminal() {
        super::out("\x1b[2J\x1b[3J\x1b[H");
    }
}

/// Runs `run` once, then again after every change of a file of the set
/// under `paths`, until the process is interrupted. `ignore` are the files
/// a run writes. Returns only when watching fails (exit 2).
pub fn watch(paths: &[PathBuf], ignore: &[PathBuf], mut run: impl FnMut() -> u8) -> u8 {
    let filter = Filter {
        roots: paths.iter().map(|p| absolute(p)).collect(),
        ignore: ignore.iter().map(|p| absolute(p)).collect(),
    };
    let (tx, rx) = mpsc::channel();
    // The loader does not follow symbolic links: neither does the watcher.
    let config = notify::Config::default().with_follow_symlinks(false);
    let mut watcher = match notify::RecommendedWatcher::new(tx, config) {
        Ok(w) => w,
        Err(e) => {
            super::err(&format!("error: cannot watch for changes: {e}\n"));
            return EXIT_USAGE;
        }
    };
    for root in &filter.roots {
        // A file is watched through its directory: an editor that saves by
        // renaming a new file over it replaces what a watch on it would see.
        let (at, mode) = match root.parent() {
            Some(dir) if !root.is_dir() => (dir, RecursiveMode::NonRecursive),
            _ => (root.as_path(), RecursiveMode::Recursive),
        };
        if let Err(e) = watcher.watch(at, mode) {
            super::err(&format!("error: cannot watch {}: {e}\n", at.display()));
            return EXIT_USAGE;
        }
    }
    let relevant = |event: notify::Result<notify::Event>, into: &mut Vec<PathBuf>| match event {
        Ok(e) if changes_content(&e.kind) => {
            into.extend(e.paths.into_iter().filter(|p| filter.counts(p)));
        }
        Ok(_) => {}
        Err(e) => super::err(&format!("warning: watching: {e}\n")),
    };
    clear();
    run();
    super::err("watching for changes (Ctrl-C to stop)\n");
    loop {
        // Wait for a change of the set, then for the changes to settle.
        let mut changed = Vec::new();
        while changed.is_empty() {
            match rx.recv() {
                Ok(event) => relevant(event, &mut changed),
                Err(_) => return EXIT_USAGE,
            }
        }
        let first = Instant::now();
        while first.elapsed() < LONGEST_WAIT {
            match rx.recv_timeout(DEBOUNCE) {
                Ok(event) => relevant(event, &mut changed),
                Err(_) => break,
            }
        }
        changed.sort();
        changed.dedup();
        clear();
        super::err(&format!(
            "changed: {}{}; running again\n",
            changed.first().map(|p| shown(p)).unwrap_or_default(),
            match changed.len() {
                1 => String::new(),
                n => format!(" and {} more", n - 1),
            }
        ));
        run();
        super::err("watching for changes (Ctrl-C to stop)\n");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_set_counts_dot_files_and_nested_repositories_do_not() -> std::io::Result<()> {
        let dir = tempfile::tempdir()?;
        let root = dir.path().canonicalize()?;
        std::fs::create_dir_all(root.join("tenants"))?;
        std::fs::create_dir_all(root.join("vendor/.git"))?;
        std::fs::create_dir_all(root.join(".hidden"))?;
        let f = Filter {
            roots: vec![root.clone()],
            ignore: vec![root.join("out.yaml")],
        };
        assert!(f.counts(&root.join("provider.yaml")));
        assert!(f.counts(&root.join("tenants/acme.toml")));
        assert!(f.counts(&root.join("tenants/acme.test.yml")));
        assert!(f.counts(&root.join("tenants")), "a directory of the set");
        assert!(f.counts(&root.join("gone")), "a removed directory");
        assert!(!f.counts(&root.join(".provider.yaml")), "a dot-file");
        assert!(
            !f.counts(&root.join(".hidden/x.yaml")),
            "below a dot-directory"
        );
        assert!(
            !f.counts(&root.join("tenants/.x.yaml.tmp-1")),
            "a staged output"
        );
        assert!(
            !f.counts(&root.join("vendor/x.yaml")),
            "a nested repository"
        );
        assert!(
            !f.counts(&root.join("vendor")),
            "a nested repository itself"
        );
        assert!(!f.counts(&root.join("out.yaml")), "an output of the run");
        assert!(!f.counts(&root.join("notes.md")), "not a policy file");
        assert!(!f.counts(Path::new("/elsewhere/x.yaml")), "outside the set");
        Ok(())
    }
}
