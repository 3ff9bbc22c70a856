//! Reading a policy set from a directory or from a git revision of the
//! repository that holds it, without touching the work tree (SPEC §11).

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::load::is_test_file;

/// Where a policy set comes from.
#[derive(Debug, Clone)]
pub enum SetSource {
    /// A directory on disk.
    Dir(PathBuf),
    /// Files read from a revision, with the paths they have in the work
    /// tree, and the symbolic links named like policy files (not followed,
    /// as on disk: each is an E001).
    Files {
        /// Each file's work-tree path and contents.
        files: Vec<(PathBuf, Vec<u8>)>,
        /// Symbolic links named like policy files.
        links: Vec<PathBuf>,
    },
}

fn git(dir: &Path, args: &[&str]) -> Result<Vec<u8>, String> {
    let out = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("cannot run git: {e}"))?;
    if out.status.success() {
        Ok(out.stdout)
    } else {
        Err(String::from_utf8_lossy(&out.stderr).trim().to_owned())
    }
}

fn is_policy_path(rel: &str) -> bool {
    let parts: Vec<&str> = rel.split('/').collect();
    let name = parts.last().copied().unwrap_or("");
    // The set's own files at its root are not policy files.
    let own_file = parts.len() == 1 && crate::load::is_reserved_name(name);
    let hidden = parts.iter().any(|p| p.starts_with('.'));
    !hidden
        && !own_file
        && !is_test_file(name)
        && [".yaml", ".yml", ".toml"].iter().any(|e| name.ends_with(e))
}

/// `spec` is a directory, or a revision (`origin/main`, `HEAD~1`, a commit id)
/// of the git repository that holds `path`; the set is `path` at that revision.
///
/// A name that is both an existing directory and a revision is refused: a
/// pull request could otherwise plant a directory named like the base
/// branch and be compared with itself. `./NAME`, `../NAME` and absolute
/// paths are always directories; a full ref (`refs/heads/main`) or a
/// commit id names the revision.
pub fn resolve(spec: &str, path: &Path) -> Result<SetSource, String> {
    let as_dir = Path::new(spec);
    let explicit_dir = spec == "."
        || spec == ".."
        || spec.starts_with("./")
        || spec.starts_with("../")
        || as_dir.is_absolute();
    if explicit_dir {
        return if as_dir.is_dir() {
            Ok(SetSource::Dir(as_dir.to_path_buf()))
        } else {
            Err(format!("`{spec}` is not a directory"))
        };
    }
    if as_dir.is_dir() {
        if revision_exists(spec, path) {
            return Err(format!(
                "`{spec}` is both a directory and a git revision: write `./{spec}` for the directory, or a full ref (such as `refs/heads/{spec}` or `refs/remotes/{spec}`) or a commit id for the revision"
            ));
        }
        return Ok(SetSource::Dir(as_dir.to_path_buf()));
    }
    read_revision(spec, path)
}

/// The directory of `path` (itself, or the folder of a file).
fn dir_of(path: &Path) -> PathBuf {
    let dir = if path.is_dir() {
        path.to_path_buf()
    } else {
        path.parent()
            .map(Path::to_path_buf)
            .unwrap_or_else(|| PathBuf::from("."))
    };
    if dir.as_os_str().is_empty() {
        PathBuf::from(".")
    } else {
        dir
    }
}

/// Does `spec` name a commit of the repository that holds `path`?
fn revision_exists(spec: &str, path: &Path) -> bool {
    let arg = format!("{spec}^{{commit}}");
    git(&dir_of(path), &["rev-parse", "--verify", "--quiet", &arg]).is_ok_and(|out| !out.is_empty())
}

fn read_revision(spec: &str, path: &Path) -> Result<SetSource, String> {
    let dir = dir_of(path);
    let top = git(&dir, &["rev-parse", "--show-toplevel"]).map_err(|_| {
        format!(
            "`{spec}` is neither a directory nor a revision: `{}` is not in a git repository",
            path.display()
        )
    })?;
    let top = PathBuf::from(String::from_utf8_lossy(&top).trim());
    let prefix = String::from_utf8_lossy(&git(&dir, &["rev-parse", "--show-prefix"])?)
        .trim()
        .to_owned();
    let commit = git(
        &top,
        &[
            "rev-parse",
            "--verify",
            "--quiet",
            &format!("{spec}^{{commit}}"),
        ],
    )
    .map_err(|_| {
        format!(
            "`{spec}` is neither a directory nor a revision of the repository at `{}`",
            top.display()
        )
    })?;
    let commit = String::from_utf8_lossy(&commit).trim().to_owned();
    if commit.is_empty() {
        return Err(format!(
            "`{spec}` is not a revision of the repository at `{}`",
            top.display()
        ));
    }
    let listing = git(
        &top,
        &[
            "ls-tree",
            "-r",
            "-z",
            &commit,
            "--",
            if prefix.is_empty() { "." } else { &prefix },
        ],
    )?;
    // Entries read `MODE TYPE OBJECT\tPATH`. Submodules (type `commit`) are
    // nested repositories, not part of the set; symbolic links (mode
    // 120000) are not followed — as when reading a directory.
    let mut names = Vec::new();
    let mut link_names = Vec::new();
    for entry in listing.split(|b| *b == 0).filter(|s| !s.is_empty()) {
        let entry = String::from_utf8_lossy(entry);
        let Some((meta, name)) = entry.split_once('\t') else {
            return Err(format!("unexpected `git ls-tree` output: {entry}"));
        };
        let rel = name.strip_prefix(&prefix).unwrap_or(name);
        if !is_policy_path(rel) {
            continue;
        }
        let mut fields = meta.split(' ');
        match (fields.next(), fields.next(), fields.next()) {
            (Some("120000"), _, _) => link_names.push(name.to_owned()),
            (_, Some("blob"), Some(object)) => names.push((name.to_owned(), object.to_owned())),
            _ => {}
        }
    }
    let shown = |name: &str| {
        let rel = name.strip_prefix(&prefix).unwrap_or(name);
        if dir == Path::new(".") {
            PathBuf::from(rel)
        } else {
            dir.join(rel)
        }
    };
    let contents = cat_files(&top, &commit, &names)?;
    let files = names
        .iter()
        .zip(contents)
        .map(|((name, _), bytes)| (shown(name), bytes))
        .collect();
    let links = link_names.iter().map(|n| shown(n)).collect();
    Ok(SetSource::Files { files, links })
}

/// Reads many blobs, `(path, object id)` as `ls-tree` lists them, in one
/// `git cat-file --batch` process. They are asked for by object id:
/// `COMMIT:PATH` would have git walk the trees from the root for every
/// file, which for 24,000 files in one folder is a scan of that folder per
/// file (a minute and a half at the L tier, against a second by id).
fn cat_files(top: &Path, commit: &str, names: &[(String, String)]) -> Result<Vec<Vec<u8>>, String> {
    let mut child = Command::new("git")
        .arg("-C")
        .arg(top)
        .args(["cat-file", "--batch"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| format!("cannot run git: {e}"))?;
    let mut stdin = child.stdin.take().ok_or("git stdin")?;
    let request: String = names.iter().map(|(_, id)| format!("{id}\n")).collect();
    let writer = std::thread::spawn(move || {
        let _ = stdin.write_all(request.as_bytes());
    });
    let mut out = Vec::new();
    child
        .stdout
        .take()
        .ok_or("git stdout")?
        .read_to_end(&mut out)
        .map_err(|e| e.to_string())?;
    let _ = writer.join();
    let _ = child.wait();
    let mut blobs = Vec::with_capacity(names.len());
    let mut pos = 0;
    for (name, _) in names {
        let rest = out.get(pos..).ok_or("truncated git output")?;
        let nl = rest
            .iter()
            .position(|b| *b == b'\n')
            .ok_or("truncated git output")?;
        let header = String::from_utf8_lossy(&rest[..nl]).into_owned();
        let nl = nl + pos;
        let size: usize = header
            .rsplit(' ')
            .next()
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| format!("cannot read `{name}` at `{commit}`: {header}"))?;
        let start = nl + 1;
        let end = start.saturating_add(size);
        blobs.push(out.get(start..end).ok_or("truncated git output")?.to_vec());
        pos = end + 1;
    }
    Ok(blobs)
}

/// One file of a set at a base, as [`read_one`] finds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OneFile {
    /// There is no such file.
    Missing,
    /// A symbolic link (never followed).
    Link,
    /// A regular file's contents.
    Bytes(Vec<u8>),
}

/// The file at `rel` (a `/`-separated path relative to the set) of the set
/// `spec` names, a directory or a revision, as in [`resolve`]; `path` is the
/// set in the work tree. `rel` has no `..` and no leading `/`.
pub fn read_one(spec: &str, path: &Path, rel: &str) -> Result<OneFile, String> {
    if rel.split('/').any(|p| p == ".." || p.is_empty()) {
        return Err(format!("`{rel}` is not a path inside the set"));
    }
    let as_dir = Path::new(spec);
    let explicit_dir = spec == "."
        || spec == ".."
        || spec.starts_with("./")
        || spec.starts_with("../")
        || as_dir.is_absolute();
    if explicit_dir || (as_dir.is_dir() && !revision_exists(spec, path)) {
        if !as_dir.is_dir() {
            return Err(format!("`{spec}` is not a directory"));
        }
        return read_one_on_disk(&as_dir.join(rel));
    }
    if as_dir.is_dir() {
        return Err(format!("`{spec}` is both a directory and a git revision"));
    }
    let dir = dir_of(path);
    let top = git(&dir, &["rev-parse", "--show-toplevel"])
        .map_err(|_| format!("`{}` is not in a git repository", path.display()))?;
    let top = PathBuf::from(String::from_utf8_lossy(&top).trim());
    let prefix = String::from_utf8_lossy(&git(&dir, &["rev-parse", "--show-prefix"])?)
        .trim()
        .to_owned();
    let commit = git(
        &top,
        &[
            "rev-parse",
            "--verify",
            "--quiet",
            &format!("{spec}^{{commit}}"),
        ],
    )
    .map_err(|_| format!("`{spec}` is not a revision of the repository"))?;
    let commit = String::from_utf8_lossy(&commit).trim().to_owned();
    let name = format!("{prefix}{rel}");
    let listing = git(&top, &["ls-tree", "-z", &commit, "--", &name])?;
    for entry in listing.split(|b| *b == 0).filter(|s| !s.is_empty()) {
        let entry = String::from_utf8_lossy(entry);
        let Some((meta, listed)) = entry.split_once('\t') else {
            return Err(format!("unexpected `git ls-tree` output: {entry}"));
        };
        if listed != name {
            continue;
        }
        let mut fields = meta.split(' ');
        return match (fields.next(), fields.next(), fields.next()) {
            (Some("120000"), _, _) => Ok(OneFile::Link),
            (_, Some("blob"), Some(object)) => {
                let one = [(name.clone(), object.to_owned())];
                let mut blobs = cat_files(&top, &commit, &one)?;
                Ok(OneFile::Bytes(blobs.pop().unwrap_or_default()))
            }
            // A directory or a submodule by that name: no file.
            _ => Ok(OneFile::Missing),
        };
    }
    Ok(OneFile::Missing)
}

/// A file on disk as [`OneFile`]: links are not followed.
pub fn read_one_on_disk(path: &Path) -> Result<OneFile, String> {
    match std::fs::symlink_metadata(path) {
        Ok(m) if m.file_type().is_symlink() => Ok(OneFile::Link),
        Ok(m) if m.is_file() => std::fs::read(path)
            .map(OneFile::Bytes)
            .map_err(|e| format!("cannot read `{}`: {e}", path.display())),
        Ok(_) => Ok(OneFile::Missing),
        Err(e)
            if matches!(
                e.kind(),
                std::io::ErrorKind::NotFound | std::io::ErrorKind::NotADirectory
            ) =>
        {
            Ok(OneFile::Missing)
        }
        Err(e) => Err(format!("cannot read `{}`: {e}", path.display())),
    }
}
