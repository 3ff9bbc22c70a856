//! The reports of `trellis test`: `human` (in `test.rs`), `json` and
//! `junit` (one test suite per test file, one test case per expectation).

use quick_junit::{NonSuccessKind, Report, TestCase, TestCaseStatus, TestSuite, XmlString};
use serde_json::{json, Value};
use trellis::diag::{Diagnostic, Diagnostics};
use trellis::source::SourceMap;
use trellis::testing::{self, CaseKind, CaseResult, Outcome};

/// `file:line:col: severity[CODE]: message`.
fn short(sources: &SourceMap, d: &Diagnostic) -> String {
    trellis::diag::render::short_line(d, sources)
}

/// The test files of the report, in path order.
fn files(report: &testing::Report, sources: &SourceMap) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut push = |f: &str| {
        if !out.iter().any(|o| o == f) {
            out.push(f.to_owned());
        }
    };
    for c in &report.cases {
        push(&c.file);
    }
    for d in report.test_file_diagnostics.iter() {
        push(sources.path(d.primary.span.file));
    }
    for f in &report.unreadable {
        push(f);
    }
    // In path order, as the files were found.
    out.sort();
    out
}

fn reading_problems<'a>(
    report: &'a testing::Report,
    sources: &SourceMap,
    file: &str,
) -> Vec<&'a Diagnostic> {
    report
        .test_file_diagnostics
        .iter()
        .filter(|d| sources.path(d.primary.span.file) == file)
        .collect()
}

fn kind_name(c: &CaseResult) -> (&'static str, Option<usize>) {
    match c.kind {
        CaseKind::Diagnostics => ("diagnostics", None),
        CaseKind::Case(i) => ("case", Some(i)),
    }
}

/// `--format json`: every expectation with its outcome, per test file.
pub fn json(
    report: &testing::Report,
    sources: &SourceMap,
    set_diagnostics: &Diagnostics,
    failed: usize,
) -> String {
    let diag = |d: &Diagnostic| {
        let (start, _) = sources.line_col(d.primary.span);
        json!({
            "file": sources.path(d.primary.span.file),
            "line": start.line,
            "column": start.column,
            "severity": d.severity().as_str(),
            "code": d.code.as_str(),
            "message": d.message,
        })
    };
    let files: Vec<Value> = files(report, sources)
        .into_iter()
        .map(|file| {
            let cases: Vec<Value> = report
                .cases
                .iter()
                .filter(|c| c.file == file)
                .map(|c| {
                    let (kind, index) = kind_name(c);
                    let (status, messages) = match &c.outcome {
                        Outcome::Passed => ("passed", Vec::new()),
                        Outcome::Failed(m) => ("failed", m.clone()),
                        Outcome::Skipped(why) => ("skipped", vec![why.clone()]),
                    };
                    let mut v = json!({
                        "name": c.title(),
                        "kind": kind,
                        "line": c.line,
                        "column": c.column,
                        "status": status,
                        "messages": messages,
                    });
                    if let (Some(i), Some(o)) = (index, v.as_object_mut()) {
                        o.insert("index".into(), json!(i));
                    }
                    v
                })
                .collect();
            let problems: Vec<Value> = reading_problems(report, sources, &file)
                .into_iter()
                .map(diag)
                .collect();
            json!({ "file": file, "cases": cases, "diagnostics": problems })
        })
        .collect();
    let mut text = super::json_text(
        &json!({
            "passed": report.passed,
            "failed": failed,
            "set_has_errors": set_diagnostics.has_errors(),
            "files": files,
            "set_diagnostics": set_diagnostics.iter().map(diag).collect::<Vec<_>>(),
        }),
        true,
    );
    text.push('\n');
    text
}

/// `--format junit`: a test suite per test file, a test case per
/// expectation (the file's `diagnostics` expectation is one, named
/// `diagnostics`), with `file` and `line` attributes; a failure's message
/// says what was expected and what came. A test file that cannot be read
/// is one errored case, `reading the test file`.
pub fn junit(
    report: &testing::Report,
    sources: &SourceMap,
    set_diagnostics: &Diagnostics,
) -> String {
    let mut out = Report::new("trellis test");
    for file in files(report, sources) {
        let mut suite = TestSuite::new(file.as_str());
        let problems = reading_problems(report, sources, &file);
        let unreadable = report.unreadable.contains(&file);
        if !problems.is_empty() || unreadable {
            let mut s = TestCaseStatus::non_success(NonSuccessKind::Error);
            let lines: Vec<String> = problems.iter().map(|d| short(sources, d)).collect();
            s.set_message(match problems.first() {
                Some(d) => format!("[{}] {}", d.code, d.message),
                None => "the test file cannot be read".to_owned(),
            });
            s.set_type("test file");
            s.set_description(lines.join("\n"));
            let mut case = TestCase::new("reading the test file", s);
            case.set_classname(file.as_str());
            case.extra
                .insert(XmlString::new("file"), XmlString::new(&file));
            suite.add_test_case(case);
        }
        for c in report.cases.iter().filter(|c| c.file == file) {
            let at = format!("{}:{}:{}", c.file, c.line, c.column);
            let status = match &c.outcome {
                Outcome::Passed => TestCaseStatus::success(),
                Outcome::Failed(messages) => {
                    let mut s = TestCaseStatus::non_success(NonSuccessKind::Failure);
                    s.set_message(messages.join("; "));
                    s.set_type(match c.kind {
                        CaseKind::Diagnostics => "diagnostics",
                        CaseKind::Case(_) => "expectation",
                    });
                    let mut text: Vec<String> =
                        messages.iter().map(|m| format!("{at}: {m}")).collect();
                    if c.kind == CaseKind::Diagnostics && !set_diagnostics.is_empty() {
                        text.push("diagnostics of the set:".to_owned());
                        text.extend(set_diagnostics.iter().map(|d| short(sources, d)));
                    }
                    s.set_description(text.join("\n"));
                    s
                }
                Outcome::Skipped(why) => {
                    let mut s = TestCaseStatus::skipped();
                    s.set_message(why.as_str());
                    s
                }
            };
            let mut case = TestCase::new(c.title(), status);
            case.set_classname(file.as_str());
            case.extra
                .insert(XmlString::new("file"), XmlString::new(&c.file));
            case.extra
                .insert(XmlString::new("line"), XmlString::new(c.line.to_string()));
            suite.add_test_case(case);
        }
        out.add_test_suite(suite);
    }
    trellis::diag::junit::document(&out)
}
