//! The `trellis` command: parse arguments, call the library, print, exit.

mod cli;

use std::process::ExitCode;

use clap::Parser;

// trellis builds and frees millions of small strings and vectors (a large
// set has millions of nodes); mimalloc keeps that from dominating run time.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// mimalloc's `mi_option_purge_delay` (its place in `mi_option_t` of the
/// mimalloc the locked `libmimalloc-sys` builds; the crate names no
/// constant for it). A test checks that it holds the documented default.
const PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;

/// Freed memory goes back to the system after this many milliseconds
/// rather than mimalloc's default of a second: a compile at the L tier
/// frees the parsed files while it builds the model and the table, and
/// handing those pages back sooner lowers its peak by 130–220 MiB
/// (BENCHMARKS.md, session 17), no slower. `MIMALLOC_PURGE_DELAY` in the
/// environment still decides.
const PURGE_DELAY_MS: std::os::raw::c_long = 100;

/// A batch command (check, compile, diff…) runs for seconds and touches
/// most of what it allocates once: transparent huge pages make each first
/// touch of 2 MiB a fault that zeroes all of it, which at the L tier was a
/// third of the samples of a compile and twice its system time
/// (BENCHMARKS.md, session 18). The server and the language server keep the
/// system's setting. Failing (not Linux, an old kernel) changes nothing.
fn without_huge_pages() {
    #[cfg(target_os = "linux")]
    let _ = rustix::thread::disable_transparent_huge_pages(true);
}

fn main() -> ExitCode {
    if std::env::var_os("MIMALLOC_PURGE_DELAY").is_none() {
        // SAFETY: sets one of mimalloc's options, which it reads atomically;
        // any value is valid for this one.
        #[allow(unsafe_code)]
        unsafe {
            libmimalloc_sys::mi_option_set(PURGE_DELAY, PURGE_DELAY_MS)
        };
    }
    let args = cli::Cli::parse();
    if args.is_batch() && std::env::var_os("MIMALLOC_ALLOW_THP").is_none() {
        without_huge_pages();
    }
    let code = cli::run(args);
    ExitCode::from(code)
}

#[cfg(test)]
mod tests {
    /// `PURGE_DELAY` names the purge delay: its default is mimalloc's
    /// documented 1000 ms (in a test binary, where `main` did not set it,
    /// and unless the environment did). Catches a renumbered option after
    /// an upgrade of mimalloc.
    #[test]
    fn purge_delay_is_the_option_it_names() {
        if std::env::var_os("MIMALLOC_PURGE_DELAY").is_some() {
            return;
        }
        // SAFETY: reads one of mimalloc's options.
        #[allow(unsafe_code)]
        let value = unsafe { libmimalloc_sys::mi_option_get(super::PURGE_DELAY) };
        assert_eq!(value, 1000);
    }

    /// After `without_huge_pages`, the kernel reports THP off for the
    /// process (this test binary's, which nothing else here depends on).
    #[cfg(target_os = "linux")]
    #[test]
    fn without_huge_pages_turns_them_off_for_the_process() {
        super::without_huge_pages();
        let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
        // Kernels before 6.1 do not print the line; their prctl still works.
        if let Some(line) = status.lines().find(|l| l.starts_with("THP_enabled:")) {
            assert_eq!(line.split_whitespace().nth(1), Some("0"), "{line}");
        }
        assert_eq!(
            rustix::thread::transparent_huge_pages_are_disabled().ok(),
            Some(true)
        );
    }
}
