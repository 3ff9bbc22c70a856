use std::io::Write;
use std::path::{Path, PathBuf};

use clap::Args;
use trellis::diag::render::{self, Format};
use trellis::table::Table;

use super::{InputArgs, EXIT_FINDINGS, EXIT_OK, EXIT_USAGE};

#[derive(Args, Debug)]
pub struct CompileArgs {
    /// The policy set (default: the current directory).
    path: Option<PathBuf>,
    /// Where to write the decision table.
    #[arg(short, long, required_unless_present = "split")]
    output: Option<PathBuf>,
    /// Also write one table per top-level org into this directory
    /// (`ORG.tbl`): its subtree, its users, the provider's roles and its
    /// own, for replicas that serve some tenants only.
    #[arg(long)]
    split: Option<PathBuf>,
    /// Also write a readable JSON dump of the table here.
    #[arg(long)]
    json: Option<PathBuf>,
    /// Keep the file and line of every grant, for `query --explain`.
    #[arg(long)]
    provenance: bool,
    /// Format of the diagnostics printed when the set has errors.
    #[arg(long, value_enum, default_value_t = Format::Short)]
    format: Format,
    #[command(flatten)]
    input: InputArgs,
}

/// Writes every file or none (SPEC §14.14): each goes to a temporary file
/// beside its target first; only when all are written are they renamed over
/// their targets. If any step fails, the temporary files are removed and
/// every target that was already replaced gets its previous content back
/// (or is removed, if it did not exist), so a failed run leaves every earlier
/// file as it was. The error names the file that could not be written.
pub fn write_all_or_none(files: &[(&Path, &[u8])]) -> Result<(), (PathBuf, std::io::Error)> {
    let files: Vec<(&Path, Content)> = files.iter().map(|(p, b)| (*p, Content::Bytes(b))).collect();
    write_contents_or_none(&files)
}

/// What one output file holds: bytes, or a table written straight from
/// its arrays (no copy of a file of a hundred megabytes in memory).
enum Content<'a> {
    Bytes(&'a [u8]),
    Table(&'a trellis::table::TableData),
}

fn write_contents_or_none(files: &[(&Path, Content)]) -> Result<(), (PathBuf, std::io::Error)> {
    let mut staged: Vec<Staged> = Vec::with_capacity(files.len());
    let result = stage_and_commit(files, &mut staged);
    if result.is_err() {
        for s in staged.iter().rev() {
            s.roll_back();
        }
    } else {
        for s in &staged {
            if let Some(b) = &s.backup {
                let _ = std::fs::remove_file(b);
            }
        }
    }
    result
}

/// One file on its way to its target.
struct Staged {
    target: PathBuf,
    tmp: PathBuf,
    /// A copy of the target's previous content, when it had one.
    backup: Option<PathBuf>,
    renamed: bool,
}

impl Staged {
    fn roll_back(&self) {
        if self.renamed {
            match &self.backup {
                Some(b) => {
                    let _ = std::fs::rename(b, &self.target);
                }
                None => {
                    let _ = std::fs::remove_file(&self.target);
                }
            }
        } else {
            let _ = std::fs::remove_file(&self.tmp);
            if let Some(b) = &self.backup {
                let _ = std::fs::remove_file(b);
            }
        }
    }
}

/// A name beside `path` for a file of this run: `.NAME.KIND-PID`.
fn beside(path: &Path, kind: &str) -> PathBuf {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    dir.join(format!(".{name}.{kind}-{}", std::process::id()))
}

fn stage_and_commit(
    files: &[(&Path, Content)],
    staged: &mut Vec<Staged>,
) -> Result<(), (PathBuf, std::io::Error)> {
    // Write every temporary file (and keep the old content of every
    // existing target) before touching any target.
    for (path, content) in files {
        let path = *path;
        let at = |e| (path.to_path_buf(), e);
        if staged.iter().any(|s| s.target == path) {
            return Err(at(std::io::Error::other("given twice as an output")));
        }
        if path.is_dir() {
            return Err(at(std::io::Error::other("it is a directory")));
        }
        let tmp = beside(path, "tmp");
        let mut f = std::fs::File::create(&tmp).map_err(at)?;
        staged.push(Staged {
            target: path.to_path_buf(),
            tmp,
            backup: None,
            renamed: false,
        });
        match content {
            Content::Bytes(bytes) => f.write_all(bytes).map_err(at)?,
            Content::Table(data) => {
                let mut w = std::io::BufWriter::with_capacity(1 << 20, f);
                data.encode_to(&mut w).map_err(at)?;
                f = w.into_inner().map_err(|e| at(e.into_error()))?;
            }
        }
        f.sync_all().map_err(at)?;
        if path.exists() {
            let backup = beside(path, "old");
            if let Some(s) = staged.last_mut() {
                s.backup = Some(backup.clone());
            }
            // A second name for the old content, or failing that a copy.
            if std::fs::hard_link(path, &backup).is_err() {
                std::fs::copy(path, &backup).map_err(at)?;
            }
        }
    }
    for s in staged.iter_mut() {
        std::fs::rename(&s.tmp, &s.target).map_err(|e| (s.target.clone(), e))?;
        s.renamed = true;
    }
    Ok(())
}

/// The line that says what was written.
fn wrote(output: &Path, len: usize, checked: &trellis::Checked) {
    let assignments = checked.model.assignments.len().max(1);
    super::err(&format!(
        "wrote {} ({} bytes, {:.1} bytes per assignment; {} orgs, {} users, {} roles)\n",
        output.display(),
        len,
        len as f64 / assignments as f64,
        checked.model.orgs.len(),
        checked.model.users.len(),
        checked.model.roles.len()
    ));
}

pub fn run(args: CompileArgs) -> u8 {
    let paths = super::default_paths(args.path.into_iter().collect());
    let options = trellis::CompileOptions {
        provenance: args.provenance,
    };
    let (checked, compiled) = match trellis::run_paths(
        &paths,
        &args.input.limits(&paths),
        Some(options),
        &super::progress::stage,
    ) {
        Ok(done) => done,
        Err(e) => {
            super::err(&format!("error: {e}\n"));
            return EXIT_USAGE;
        }
    };
    super::progress::durations("timings (cumulative)", &checked.model.timings);
    let data = match compiled {
        Some(Ok(data)) => data,
        // The pipeline was asked to compile; with findings it refuses.
        _ => {
            super::out(&render::render(
                args.format,
                &checked.diagnostics,
                &checked.sources,
                super::color_stdout(),
            ));
            super::err(&format!(
                "error: {}; no table written\n",
                render::summary_line(&checked.diagnostics)
            ));
            return EXIT_FINDINGS;
        }
    };
    // A table alone is written straight from its arrays; with a JSON dump
    // or split tables, its bytes are made once and read back from.
    if args.json.is_none() && args.split.is_none() {
        let Some(output) = &args.output else {
            return EXIT_OK;
        };
        super::progress::stage("encoding and writing");
        if let Err((path, e)) = write_contents_or_none(&[(output.as_path(), Content::Table(&data))])
        {
            super::err(&format!(
                "error: cannot write `{}`: {e}; nothing written\n",
                path.display()
            ));
            return EXIT_USAGE;
        }
        let len = std::fs::metadata(output).map_or(0, |m| m.len()) as usize;
        wrote(output, len, &checked);
        std::mem::forget(data);
        std::mem::forget(checked);
        return EXIT_OK;
    }
    super::progress::stage("encoding");
    let bytes = data.encode();
    // The arrays are in `bytes` now: free them before anything else is
    // built (the split tables, the JSON dump), which lowers the peak.
    drop(data);
    // Everything to write is ready before the first file is touched.
    let json = match &args.json {
        None => None,
        Some(path) => match Table::from_bytes(&bytes) {
            Ok(table) => {
                let mut text = super::json_text(&table.to_json(), true);
                text.push('\n');
                Some((path.as_path(), text))
            }
            Err(e) => {
                super::err(&format!("error: {e}; nothing written\n"));
                return EXIT_USAGE;
            }
        },
    };
    // With --split, every tenant's table too, written with the others:
    // all of them or none.
    let split: Vec<(PathBuf, Vec<u8>)> = match &args.split {
        None => Vec::new(),
        Some(dir) => {
            super::progress::stage("compiling one table per top-level org");
            if let Err(e) = std::fs::create_dir_all(dir) {
                super::err(&format!(
                    "error: cannot create `{}`: {e}; nothing written\n",
                    dir.display()
                ));
                return EXIT_USAGE;
            }
            match checked.compile_split(options) {
                Ok(tables) => tables
                    .into_iter()
                    .map(|(org, data)| (dir.join(format!("{org}.tbl")), data.encode()))
                    .collect(),
                Err(e) => {
                    super::err(&format!("error: {e}; nothing written\n"));
                    return EXIT_FINDINGS;
                }
            }
        }
    };
    super::progress::stage("writing");
    let mut files: Vec<(&Path, &[u8])> = Vec::new();
    if let Some(out) = &args.output {
        files.push((out.as_path(), &bytes));
    }
    files.extend(split.iter().map(|(p, b)| (p.as_path(), b.as_slice())));
    if let Some((path, text)) = &json {
        files.push((path, text.as_bytes()));
    }
    if let Err((path, e)) = write_all_or_none(&files) {
        super::err(&format!(
            "error: cannot write `{}`: {e}; nothing written\n",
            path.display()
        ));
        return EXIT_USAGE;
    }
    if let Some(dir) = &args.split {
        super::err(&format!(
            "wrote {} tables into {} ({} bytes in all)\n",
            split.len(),
            dir.display(),
            split.iter().map(|(_, b)| b.len()).sum::<usize>()
        ));
    }
    let Some(output) = &args.output else {
        return EXIT_OK;
    };
    wrote(output, bytes.len(), &checked);
    // The process ends here: freeing the model piece by piece only costs time.
    std::mem::forget(checked);
    EXIT_OK
}
