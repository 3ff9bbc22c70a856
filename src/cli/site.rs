use std::path::{Path, PathBuf};

use clap::Args;

use super::{InputArgs, EXIT_OK, EXIT_USAGE};

#[derive(Args, Debug)]
pub struct SiteArgs {
    /// The policy set (default: the current directory).
    path: Option<PathBuf>,
    /// The directory to write the site into (replaced whole).
    #[arg(short, long)]
    output: PathBuf,
    /// Only what this org may see: its subtree and what reaches it.
    #[arg(long)]
    org: Option<String>,
    /// Users listed per page of an org.
    #[arg(long, default_value_t = 200, value_parser = clap::value_parser!(u32).range(1..))]
    page_size: u32,
    #[command(flatten)]
    input: InputArgs,
}

/// The file that marks a directory as one `trellis site` wrote, so that
/// replacing it never removes anything else.
const MARKER: &str = ".trellis-site";

pub fn run(args: SiteArgs) -> u8 {
    let source_root = args
        .path
        .as_ref()
        .filter(|p| p.is_dir())
        .map(|p| p.to_string_lossy().into_owned());
    let paths = super::default_paths(args.path.into_iter().collect());
    let checked = match super::load_clean(&paths, &args.input, "no site written") {
        Ok(c) => c,
        Err(code) => return code,
    };
    let m = &checked.model;
    let root = match &args.org {
        Some(o) => match m.org_index.get(o) {
            Some(x) => Some(*x),
            None => {
                super::err(&format!("error: unknown org `{o}`\n"));
                return EXIT_USAGE;
            }
        },
        None => None,
    };
    if let Err(e) = check_target(&args.output) {
        super::err(&format!(
            "error: cannot write `{}`: {e}\n",
            args.output.display()
        ));
        return EXIT_USAGE;
    }
    let options = trellis::site::Options {
        root,
        page_size: args.page_size as usize,
        pictures: true,
        source_root,
    };
    let started = std::time::Instant::now();
    super::progress::stage("writing the site");
    let mut files = 0usize;
    let mut bytes = 0u64;
    let written = write_atomically(&args.output, |dir| {
        std::fs::write(dir.join(MARKER), b"written by trellis site\n")?;
        // The pages are written by a thread of their own while the next
        // ones are built: at M the writing is as long as the building.
        let (send, pages) = std::sync::mpsc::sync_channel::<(String, Vec<u8>)>(256);
        std::thread::scope(|s| {
            let writer = s.spawn(move || -> std::io::Result<()> {
                let mut made = std::collections::HashSet::new();
                for (path, data) in pages {
                    let target = dir.join(&path);
                    if let Some(parent) = target.parent() {
                        if made.insert(parent.to_path_buf()) {
                            std::fs::create_dir_all(parent)?;
                        }
                    }
                    std::fs::write(target, data)?;
                }
                Ok(())
            });
            let built = trellis::site::build(m, &checked.sources, &options, |path, data| {
                files += 1;
                bytes += data.len() as u64;
                // A closed channel means the writer stopped on an error,
                // which its join below reports.
                send.send((path.to_owned(), data.to_vec()))
                    .map_err(|_| std::io::Error::other("the site's writer stopped"))
            });
            drop(send);
            let wrote = writer
                .join()
                .unwrap_or_else(|_| Err(std::io::Error::other("the site's writer panicked")));
            // The writer's own error says more than "it stopped".
            wrote.and(built)
        })
    });
    if let Err(e) = written {
        super::err(&format!(
            "error: cannot write `{}`: {e}\n",
            args.output.display()
        ));
        return EXIT_USAGE;
    }
    super::err(&format!(
        "wrote {files} files ({:.1} MB) to {} in {:.2}s\n",
        bytes as f64 / 1e6,
        args.output.display(),
        started.elapsed().as_secs_f64()
    ));
    EXIT_OK
}

/// The site may replace `dir` only if it is absent, empty, or a site
/// written earlier (it holds the marker).
fn check_target(dir: &Path) -> Result<(), String> {
    if !dir.exists() {
        return Ok(());
    }
    if !dir.is_dir() {
        return Err("it exists and is not a directory".into());
    }
    let empty = std::fs::read_dir(dir)
        .map_err(|e| e.to_string())?
        .next()
        .is_none();
    if empty || dir.join(MARKER).is_file() {
        Ok(())
    } else {
        Err(format!(
            "it is a directory that `trellis site` did not write (no `{MARKER}` in it); give a new or empty directory"
        ))
    }
}

/// Writes the site into a fresh directory beside `dir`, then puts it in
/// `dir`'s place: a failed run leaves `dir` as it was, and no reader ever
/// sees half a site.
fn write_atomically(
    dir: &Path,
    fill: impl FnOnce(&Path) -> std::io::Result<()>,
) -> std::io::Result<()> {
    let parent = dir
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    std::fs::create_dir_all(parent)?;
    let name = dir
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "site".into());
    let tmp = parent.join(format!(".{name}.tmp-{}", std::process::id()));
    let old = parent.join(format!(".{name}.old-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&tmp);
    std::fs::create_dir(&tmp)?;
    if let Err(e) = fill(&tmp) {
        let _ = std::fs::remove_dir_all(&tmp);
        return Err(e);
    }
    if dir.exists() {
        if let Err(e) = std::fs::rename(dir, &old) {
            let _ = std::fs::remove_dir_all(&tmp);
            return Err(e);
        }
    }
    if let Err(e) = std::fs::rename(&tmp, dir) {
        if old.exists() {
            let _ = std::fs::rename(&old, dir);
        }
        let _ = std::fs::remove_dir_all(&tmp);
        return Err(e);
    }
    if old.exists() {
        std::fs::remove_dir_all(&old)?;
    }
    Ok(())
}
