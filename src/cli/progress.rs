//! What a command is doing, on standard error, for the commands that can
//! take seconds on a large set: a spinner naming the stage when standard
//! error is a terminal (indicatif), nothing when it is not (CI logs and
//! pipes stay clean). With `TRELLIS_TIMINGS` set, one line per stage
//! instead, with the time since the command started and the peak memory so
//! far: the figures of `BENCHMARKS.md` come from there.
//!
//! One per process, so that every command and the library's stage callback
//! can report without a handle being passed around.

use std::sync::OnceLock;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

struct Progress {
    start: Instant,
    timings: bool,
    /// The spinner, on a terminal without `TRELLIS_TIMINGS`.
    bar: Option<ProgressBar>,
}

static PROGRESS: OnceLock<Progress> = OnceLock::new();

fn get() -> &'static Progress {
    PROGRESS.get_or_init(|| {
        use std::io::IsTerminal;
        let timings = std::env::var_os("TRELLIS_TIMINGS").is_some();
        let bar = (std::io::stderr().is_terminal() && !timings).then(|| {
            let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
            let style = ProgressStyle::with_template("{spinner} [{elapsed_precise}] {msg}")
                .unwrap_or_else(|_| ProgressStyle::default_spinner());
            bar.set_style(style);
            bar.enable_steady_tick(Duration::from_millis(120));
            bar
        });
        Progress {
            start: Instant::now(),
            timings,
            bar,
        }
    })
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

/// The command starts `what` (a lower-case phrase: "reading and parsing").
pub fn stage(what: &str) {
    let p = get();
    if p.timings {
        eprintln!(
            "[{:>7.2}s, peak {} MiB] {what}",
            p.start.elapsed().as_secs_f64(),
            peak_rss_mib()
        );
    }
    if let Some(bar) = &p.bar {
        bar.set_message(format!("{what}…"));
    }
}

/// With `TRELLIS_TIMINGS`, one line of durations headed `what`: a
/// resolved set's own stages (loading, each stage of resolving, checking;
/// each the time since loading began), which the stage lines above show
/// as one, or each check rule's own time.
pub fn durations(what: &str, times: &[(&str, Duration)]) {
    if !get().timings {
        return;
    }
    let times: Vec<String> = times
        .iter()
        .map(|(stage, d)| format!("{stage} {d:.2?}"))
        .collect();
    super::err(&format!("{what}: {}\n", times.join(", ")));
}

/// Runs `f`, which writes to standard error, with the spinner out of its
/// way.
pub fn suspend<R>(f: impl FnOnce() -> R) -> R {
    match PROGRESS.get().and_then(|p| p.bar.as_ref()) {
        Some(bar) => bar.suspend(f),
        None => f(),
    }
}

/// The command is done with its stages (it prints its results next): the
/// spinner goes, and with `TRELLIS_TIMINGS` a last line says when.
pub fn finish() {
    let Some(p) = PROGRESS.get() else {
        return;
    };
    if let Some(bar) = &p.bar {
        if !bar.is_finished() {
            bar.finish_and_clear();
        }
    }
    if p.timings {
        static ONCE: OnceLock<()> = OnceLock::new();
        if ONCE.set(()).is_ok() {
            eprintln!(
                "[{:>7.2}s, peak {} MiB] done",
                p.start.elapsed().as_secs_f64(),
                peak_rss_mib()
            );
        }
    }
}
