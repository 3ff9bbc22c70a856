use std::io::Write;
use std::path::{Path, PathBuf};

use clap::Args;
use trellis::diag::render::{self, Format};
use trellis::table::{build, Table};

use super::{InputArgs, EXIT_FINDINGS, EXIT_OK, EXIT_USAGE};

#[derive(Args, Debug)]
pub struct CompileArgs {
    /// The policy set (default: the current directory).
    path: Option<PathBuf>,
    /// Where to write the decision table.
    #[arg(short, long)]
    output: PathBuf,
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

/// Writes through a temporary file in the same directory, then renames, so
/// that a failed run leaves the previous file intact.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = dir.join(format!(".{name}.tmp-{}", std::process::id()));
    let result = (|| {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

/// Stage-by-stage progress on stderr, only when it is a terminal; with
/// `TRELLIS_TIMINGS` set, one line per stage with the time and peak memory
/// so far (for the benchmarks).
struct Progress {
    on: bool,
    timings: bool,
    start: std::time::Instant,
}

/// Peak resident set so far, in MiB (Linux; 0 elsewhere).
fn peak_rss_mib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("VmHWM:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        })
        .map_or(0, |kb| kb / 1024)
}

impl Progress {
    fn new() -> Progress {
        use std::io::IsTerminal;
        let timings = std::env::var_os("TRELLIS_TIMINGS").is_some();
        Progress {
            on: std::io::stderr().is_terminal() && !timings,
            timings,
            start: std::time::Instant::now(),
        }
    }
    fn stage(&self, what: &str) {
        if self.timings {
            super::err(&format!(
                "[{:>6.2}s, peak {} MiB] {what}\n",
                self.start.elapsed().as_secs_f64(),
                peak_rss_mib()
            ));
        }
        if self.on {
            super::err(&format!(
                "\r\x1b[2K[{:>6.2}s] {what}...",
                self.start.elapsed().as_secs_f64()
            ));
        }
    }
    fn done(&self) {
        if self.timings {
            self.stage("done");
        }
        if self.on {
            super::err("\r\x1b[2K");
        }
    }
}

pub fn run(args: CompileArgs) -> u8 {
    let paths = super::default_paths(args.path.into_iter().collect());
    let progress = Progress::new();
    progress.stage("reading and parsing");
    let mut set = match trellis::load::load_set(&paths, &args.input.limits()) {
        Ok(s) => s,
        Err(e) => {
            progress.done();
            super::err(&format!("error: {e}\n"));
            return EXIT_USAGE;
        }
    };
    progress.stage(&format!("resolving {} files", set.files.len()));
    let model = trellis::resolve::resolve(std::mem::take(&mut set.files), &mut set.diagnostics);
    // The semantic checks and the table build only read the model: when
    // resolving found no error (so the model is whole), build while checking
    // and drop the table if the checks find one.
    let data = if set.diagnostics.has_errors() {
        progress.stage("checking");
        trellis::check::check(&model, &mut set.diagnostics);
        None
    } else {
        progress.stage("checking and compiling");
        let diagnostics = &mut set.diagnostics;
        std::thread::scope(|scope| {
            let checking = scope.spawn(|| trellis::check::check(&model, diagnostics));
            let data = build(&model, &set.sources, args.provenance);
            if let Err(e) = checking.join() {
                std::panic::resume_unwind(e);
            }
            Some(data)
        })
    };
    set.diagnostics.sort(&set.sources);
    let checked = trellis::Checked {
        sources: set.sources,
        model,
        diagnostics: set.diagnostics,
        test_paths: set.test_paths,
    };
    if checked.diagnostics.has_errors() {
        progress.done();
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
    if let Some(why) = trellis::table::unsupported(&checked.model) {
        progress.done();
        super::err(&format!("error: {why}; no table written\n"));
        return EXIT_USAGE;
    }
    // Built beside the checks unless resolving found errors, and then the
    // checks found them too and we returned above: building here is only a
    // fallback.
    let data = data.unwrap_or_else(|| build(&checked.model, &checked.sources, args.provenance));
    progress.stage("encoding");
    let bytes = data.encode();
    progress.stage("writing");
    if let Err(e) = write_atomically(&args.output, &bytes) {
        progress.done();
        super::err(&format!(
            "error: cannot write `{}`: {e}\n",
            args.output.display()
        ));
        return EXIT_USAGE;
    }
    if let Some(json_path) = &args.json {
        let table = match Table::from_bytes(&bytes) {
            Ok(t) => t,
            Err(e) => {
                super::err(&format!("error: {e}\n"));
                return EXIT_USAGE;
            }
        };
        let mut text = serde_json::to_string_pretty(&table.to_json()).unwrap_or_default();
        text.push('\n');
        if let Err(e) = write_atomically(json_path, text.as_bytes()) {
            super::err(&format!(
                "error: cannot write `{}`: {e}\n",
                json_path.display()
            ));
            return EXIT_USAGE;
        }
    }
    progress.done();
    let assignments = checked.model.assignments.len().max(1);
    super::err(&format!(
        "wrote {} ({} bytes, {:.1} bytes per assignment; {} orgs, {} users, {} roles)\n",
        args.output.display(),
        bytes.len(),
        bytes.len() as f64 / assignments as f64,
        checked.model.orgs.len(),
        checked.model.users.len(),
        checked.model.roles.len()
    ));
    // The process ends here: freeing the model piece by piece only costs time.
    std::mem::forget(checked);
    std::mem::forget(data);
    EXIT_OK
}
