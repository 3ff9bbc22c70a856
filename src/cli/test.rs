use std::path::PathBuf;

use clap::Args;
use trellis::diag::render::{self, Format};

use super::{InputArgs, EXIT_FINDINGS, EXIT_OK, EXIT_USAGE};

/// The report of `trellis test`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum TestFormat {
    /// Failures, one line each, and a count.
    Human,
    /// Every expectation with its outcome.
    Json,
    /// JUnit XML: a test suite per test file, a test case per expectation.
    Junit,
}

#[derive(Args, Debug)]
pub struct TestArgs {
    /// The policy set (default: the current directory).
    path: Option<PathBuf>,
    /// The format of the report.
    #[arg(long, value_enum, default_value_t = TestFormat::Human)]
    format: TestFormat,
    /// Run again whenever a file of the set changes (until Ctrl-C),
    /// clearing the screen first on a terminal.
    #[arg(long)]
    watch: bool,
    #[command(flatten)]
    input: InputArgs,
}

pub fn run(args: TestArgs) -> u8 {
    if args.watch {
        let root = match &args.path {
            Some(p) if p.is_file() => p
                .parent()
                .filter(|d| !d.as_os_str().is_empty())
                .map(PathBuf::from)
                .unwrap_or_else(|| PathBuf::from(".")),
            Some(p) => p.clone(),
            None => PathBuf::from("."),
        };
        return super::watch::watch(&[root], &[], || run_once(&args));
    }
    run_once(&args)
}

fn run_once(args: &TestArgs) -> u8 {
    // A test file given alone runs against the set in its directory.
    let only: Option<PathBuf> = args.path.clone().filter(|p| {
        p.is_file()
            && trellis::load::is_test_file(
                &p.file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default(),
            )
    });
    let paths = match &only {
        Some(file) => vec![file
            .parent()
            .filter(|d| !d.as_os_str().is_empty())
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from("."))],
        None => super::default_paths(args.path.iter().cloned().collect()),
    };
    let config = match super::config_for(&paths[0]) {
        Ok(c) => c,
        Err(code) => return code,
    };
    let limits = args.input.limits_with(&config, &paths);
    let mut checked = match super::check_paths(&paths, &limits) {
        Ok(c) => c,
        Err(e) => {
            super::err(&format!("error: {e}\n"));
            return EXIT_USAGE;
        }
    };
    checked.diagnostics = config.apply_allow(std::mem::take(&mut checked.diagnostics));
    if let Some(file) = &only {
        checked.test_paths = vec![file.clone()];
    }
    if checked.test_paths.is_empty() {
        super::err("error: no test files (*.test.yaml, *.test.yml, *.test.toml) found\n");
        return EXIT_USAGE;
    }
    super::progress::stage(&format!(
        "running {} test file{}",
        checked.test_paths.len(),
        if checked.test_paths.len() == 1 {
            ""
        } else {
            "s"
        }
    ));
    let report = trellis::testing::run(&mut checked, &limits);
    let failed = report.failures.len() + report.test_file_diagnostics.len();
    let code = if failed == 0 { EXIT_OK } else { EXIT_FINDINGS };
    match args.format {
        TestFormat::Human => {}
        TestFormat::Json => {
            super::out(&super::test_report::json(
                &report,
                &checked.sources,
                &checked.diagnostics,
                failed,
            ));
            return code;
        }
        TestFormat::Junit => {
            super::out(&super::test_report::junit(
                &report,
                &checked.sources,
                &checked.diagnostics,
            ));
            return code;
        }
    }
    let mut text = String::new();
    if !report.test_file_diagnostics.is_empty() {
        text.push_str(&render::render(
            Format::Short,
            &report.test_file_diagnostics,
            &checked.sources,
            false,
        ));
    }
    for f in &report.failures {
        let name = f
            .name
            .as_ref()
            .map(|n| format!(" ({n})"))
            .unwrap_or_default();
        text.push_str(&format!("{}: FAIL{name}: {}\n", f.location, f.message));
    }
    if !report.failures.is_empty() && !checked.diagnostics.is_empty() {
        text.push_str("diagnostics of the set:\n");
        text.push_str(&render::render(
            Format::Short,
            &checked.diagnostics,
            &checked.sources,
            false,
        ));
    }
    if checked.diagnostics.has_errors() {
        text.push_str("the set has errors: cases were not run\n");
    }
    text.push_str(&format!("{} passed, {} failed\n", report.passed, failed));
    super::out(&text);
    code
}
