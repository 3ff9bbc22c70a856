//! `check --format junit`: one test case per file read, for CI systems that
//! show JUnit reports (GitLab merge requests, Jenkins, Azure DevOps).

use quick_junit::{NonSuccessKind, Report, TestCase, TestCaseStatus, TestSuite, XmlString};

use super::{Diagnostic, Diagnostics, Severity};
use crate::source::{FileId, SourceMap};

/// `file:line:col: severity[CODE]: message`, the `short` line.
fn line(sources: &SourceMap, d: &Diagnostic) -> String {
    super::render::short_line(d, sources)
}

fn plural(n: usize, word: &str) -> String {
    format!("{n} {word}{}", if n == 1 { "" } else { "s" })
}

/// The report: one suite, `trellis check`, with one case per path in
/// `sources`, in path order, named by the path. A path read twice (the head
/// and the base of a change check) is one case. A file's errors are its
/// failure; its warnings are its `system-out`, or part of its failure with
/// `deny_warnings`.
pub fn check_report(diags: &Diagnostics, sources: &SourceMap, deny_warnings: bool) -> String {
    let mut paths: Vec<&str> = (0..sources.len())
        .map(|i| sources.path(FileId(i as u32)))
        .collect();
    paths.sort();
    paths.dedup();
    let mut suite = TestSuite::new("trellis check");
    for path in paths {
        let mine: Vec<&Diagnostic> = diags
            .iter()
            .filter(|d| sources.path(d.primary.span.file) == path)
            .collect();
        let errors = mine
            .iter()
            .filter(|d| d.severity() == Severity::Error)
            .count();
        let warnings = mine.len() - errors;
        let failing = errors > 0 || (deny_warnings && warnings > 0);
        let status = if failing {
            let mut s = TestCaseStatus::non_success(NonSuccessKind::Failure);
            let counted: Vec<String> = [
                (errors > 0).then(|| plural(errors, "error")),
                (deny_warnings && warnings > 0).then(|| plural(warnings, "warning")),
            ]
            .into_iter()
            .flatten()
            .collect();
            let first = mine
                .iter()
                .find(|d| deny_warnings || d.severity() == Severity::Error)
                .map(|d| format!("; first: {}", line(sources, d)))
                .unwrap_or_default();
            s.set_message(format!("{}{first}", counted.join(", ")));
            s.set_type(if errors > 0 { "error" } else { "warning" });
            let text: Vec<String> = mine
                .iter()
                .filter(|d| deny_warnings || d.severity() == Severity::Error)
                .map(|d| line(sources, d))
                .collect();
            s.set_description(text.join("\n"));
            s
        } else {
            TestCaseStatus::success()
        };
        let mut case = TestCase::new(path, status);
        case.set_classname("trellis check");
        case.extra
            .insert(XmlString::new("file"), XmlString::new(path));
        let shown_out: Vec<String> = mine
            .iter()
            .filter(|d| !deny_warnings && d.severity() != Severity::Error)
            .map(|d| line(sources, d))
            .collect();
        if !shown_out.is_empty() {
            case.set_system_out(shown_out.join("\n"));
        }
        suite.add_test_case(case);
    }
    let mut report = Report::new("trellis");
    report.add_test_suite(suite);
    document(&report)
}

/// The XML text with its final newline.
pub fn document(report: &Report) -> String {
    // Serialising to memory cannot fail on I/O; quick-junit reports no
    // other error for the values built here.
    let mut text = report.to_string().unwrap_or_default();
    if !text.ends_with('\n') {
        text.push('\n');
    }
    text
}
