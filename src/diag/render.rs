//! Diagnostic renderers: human (miette), short, json, sarif, github, junit.

use std::fmt::Write as _;

use serde_json::{json, Value};

use super::snippet::Snippet;
use super::{Code, Diagnostic, Diagnostics, Label, Severity};
use crate::source::{SourceMap, Span};

/// An output format of the diagnostics (`--format`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// Source snippets (the default on a terminal).
    Human,
    /// `file:line:col: severity[CODE]: message`, one per line.
    Short,
    /// A JSON document: diagnostics and a summary.
    Json,
    /// SARIF 2.1.0, for code scanning.
    Sarif,
    /// GitHub Actions workflow commands.
    Github,
    /// JUnit XML: one test case per file (warnings as its output).
    Junit,
}

/// Renders all diagnostics in `format`. `color` only affects `human`.
pub fn render(format: Format, diags: &Diagnostics, sources: &SourceMap, color: bool) -> String {
    match format {
        Format::Human => human(diags, sources, color),
        Format::Short => short(diags, sources),
        Format::Json => document(&json_report(diags, sources)),
        Format::Sarif => document(&sarif(diags, sources)),
        Format::Github => github(diags, sources),
        Format::Junit => super::junit::check_report(diags, sources, false),
    }
}

/// A JSON document, pretty, with its final newline.
#[expect(clippy::expect_used, reason = "a serde_json::Value always serialises")]
fn document(v: &Value) -> String {
    let mut s = serde_json::to_string_pretty(v).expect("a serde_json::Value always serialises");
    s.push('\n');
    s
}

/// `N errors, M warnings`, for the end of a run.
pub fn summary_line(diags: &Diagnostics) -> String {
    let e = diags.count(Severity::Error);
    let w = diags.count(Severity::Warning);
    let plural = |n: usize, word: &str| format!("{n} {word}{}", if n == 1 { "" } else { "s" });
    format!("{}, {}", plural(e, "error"), plural(w, "warning"))
}

fn position(sources: &SourceMap, span: Span) -> (&str, usize, usize, usize, usize) {
    let (start, end) = sources.line_col(span);
    (
        sources.path(span.file),
        start.line,
        start.column,
        end.line,
        end.column,
    )
}

/// `file:line:col: severity[CODE]: message`, the line of the `short`
/// format (JUnit failures and test reports quote it too).
pub fn short_line(d: &Diagnostic, sources: &SourceMap) -> String {
    let (file, line, col, _, _) = position(sources, d.primary.span);
    format!(
        "{file}:{line}:{col}: {}[{}]: {}",
        d.severity().as_str(),
        d.code,
        d.message
    )
}

fn short(diags: &Diagnostics, sources: &SourceMap) -> String {
    let mut out = String::new();
    for d in diags.iter() {
        out.push_str(&short_line(d, sources));
        out.push('\n');
    }
    out
}

fn label_json(sources: &SourceMap, l: &Label) -> Value {
    let (file, line, column, end_line, end_column) = position(sources, l.span);
    json!({
        "file": file,
        "line": line,
        "column": column,
        "end": { "line": end_line, "column": end_column },
        "message": l.message,
    })
}

/// The JSON report; its shape is documented in `docs/manual.md` (output formats).
fn json_report(diags: &Diagnostics, sources: &SourceMap) -> Value {
    let items: Vec<Value> = diags
        .iter()
        .map(|d| {
            let (file, line, column, end_line, end_column) = position(sources, d.primary.span);
            json!({
                "code": d.code.as_str(),
                "severity": d.severity().as_str(),
                "message": d.message,
                "file": file,
                "line": line,
                "column": column,
                "end": { "line": end_line, "column": end_column },
                "labels": std::iter::once(&d.primary).chain(&d.secondary).map(|l| label_json(sources, l)).collect::<Vec<_>>(),
                "help": d.help,
                "notes": d.notes,
            })
        })
        .collect();
    json!({
        "diagnostics": items,
        "summary": {
            "errors": diags.count(Severity::Error),
            "warnings": diags.count(Severity::Warning),
        }
    })
}

fn region(sources: &SourceMap, span: Span) -> Value {
    let (start, end) = sources.line_col(span);
    json!({
        "startLine": start.line,
        "startColumn": start.column,
        "endLine": end.line,
        "endColumn": end.column.max(if end.line == start.line { start.column + 1 } else { 1 }),
    })
}

/// A path as a SARIF `artifactLocation.uri` (SARIF 2.1.0 §3.4.3: a valid
/// URI reference, RFC 3986): every byte but unreserved characters and `/`
/// percent-encoded (UTF-8, upper-case hex), so spaces, `#`, `%`, `?` and
/// non-ASCII are safe. A relative path stays a relative reference; an
/// absolute one becomes a `file://` URI (`/x` -> `file:///x`, `C:/x` ->
/// `file:///C:/x`).
fn sarif_uri(path: &str) -> String {
    let b = path.as_bytes();
    let drive = b.len() >= 3 && b[0].is_ascii_alphabetic() && b[1] == b':' && b[2] == b'/';
    let mut out = String::with_capacity(path.len() + 8);
    let rest = if let Some(abs) = path.strip_prefix('/') {
        out.push_str("file:///");
        abs
    } else if drive {
        out.push_str("file:///");
        out.push_str(&path[..2]);
        &path[2..]
    } else {
        path
    };
    for b in rest.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~' | b'/') {
            out.push(char::from(b));
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    out
}

fn physical(sources: &SourceMap, span: Span) -> Value {
    json!({
        "artifactLocation": { "uri": sarif_uri(sources.path(span.file)) },
        "region": region(sources, span),
    })
}

fn sarif(diags: &Diagnostics, sources: &SourceMap) -> Value {
    let rules: Vec<Value> = Code::ALL
        .iter()
        .map(|c| {
            json!({
                "id": c.as_str(),
                "name": c.as_str(),
                "shortDescription": { "text": c.title() },
                "fullDescription": { "text": c.title() },
                "help": { "text": c.explanation() },
                "defaultConfiguration": { "level": match c.severity() { Severity::Error => "error", Severity::Warning => "warning" } },
            })
        })
        .collect();
    let results: Vec<Value> = diags
        .iter()
        .map(|d| {
            let mut text = d.message.clone();
            if let Some(h) = &d.help {
                text.push_str(&format!("\nhelp: {h}"));
            }
            let related: Vec<Value> = d
                .secondary
                .iter()
                .enumerate()
                .map(|(i, l)| {
                    json!({
                        "id": i,
                        "physicalLocation": physical(sources, l.span),
                        "message": { "text": l.message.clone().unwrap_or_default() },
                    })
                })
                .collect();
            let mut r = json!({
                "ruleId": d.code.as_str(),
                // `Code::ALL`, the rules above, is in declaration order (tested).
                "ruleIndex": d.code as usize,
                "level": match d.severity() { Severity::Error => "error", Severity::Warning => "warning" },
                "message": { "text": text },
                "locations": [ { "physicalLocation": physical(sources, d.primary.span) } ],
            });
            if !related.is_empty() {
                r["relatedLocations"] = Value::Array(related);
            }
            r
        })
        .collect();
    json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": { "driver": {
                "name": "trellis",
                "version": env!("CARGO_PKG_VERSION"),
                "informationUri": "https://github.com/trellis-policy/trellis",
                "rules": rules,
            }},
            "columnKind": "unicodeCodePoints",
            "results": results,
        }]
    })
}

/// Escapes data and properties of a GitHub workflow command.
fn gh_escape(s: &str, property: bool) -> String {
    let mut out = s
        .replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A");
    if property {
        out = out.replace(':', "%3A").replace(',', "%2C");
    }
    out
}

fn github(diags: &Diagnostics, sources: &SourceMap) -> String {
    let mut out = String::new();
    for d in diags.iter() {
        let (file, line, col, end_line, end_col) = position(sources, d.primary.span);
        let kind = match d.severity() {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        let mut msg = d.message.clone();
        if let Some(h) = &d.help {
            msg.push_str(&format!("\nhelp: {h}"));
        }
        let _ = writeln!(
            out,
            "::{kind} file={},line={line},col={col},endLine={end_line},endColumn={end_col},title={}::{}",
            gh_escape(file, true),
            d.code,
            gh_escape(&msg, false)
        );
    }
    out
}

/// miette adapter: one diagnostic, its labels in the primary file; labels in
/// other files become related reports with their own snippet.
#[derive(Debug)]
struct MietteDiag<'a> {
    message: String,
    code: String,
    severity: miette::Severity,
    source: Snippet<'a>,
    labels: Vec<miette::LabeledSpan>,
    help: Option<String>,
    related: Vec<MietteDiag<'a>>,
}

impl std::fmt::Display for MietteDiag<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for MietteDiag<'_> {}

impl miette::Diagnostic for MietteDiag<'_> {
    fn code<'a>(&'a self) -> Option<Box<dyn std::fmt::Display + 'a>> {
        if self.code.is_empty() {
            None
        } else {
            Some(Box::new(&self.code))
        }
    }
    fn severity(&self) -> Option<miette::Severity> {
        Some(self.severity)
    }
    fn help<'a>(&'a self) -> Option<Box<dyn std::fmt::Display + 'a>> {
        self.help
            .as_ref()
            .map(|h| Box::new(h) as Box<dyn std::fmt::Display>)
    }
    fn source_code(&self) -> Option<&dyn miette::SourceCode> {
        Some(&self.source)
    }
    fn labels(&self) -> Option<Box<dyn Iterator<Item = miette::LabeledSpan> + '_>> {
        Some(Box::new(self.labels.iter().cloned()))
    }
    fn related<'a>(&'a self) -> Option<Box<dyn Iterator<Item = &'a dyn miette::Diagnostic> + 'a>> {
        if self.related.is_empty() {
            None
        } else {
            Some(Box::new(
                self.related.iter().map(|d| d as &dyn miette::Diagnostic),
            ))
        }
    }
}

/// Lines of context around each label in the human format.
const CONTEXT_LINES: usize = 1;
/// Secondary labels the human format shows at most (a cycle of 90,000 orgs
/// has 90,000); the others are counted in a note. Every other format lists all.
const MAX_SECONDARY: usize = 16;

/// The snippet of `file` showing `labels`, and the labels placed in it.
fn snippet<'a>(
    sources: &'a SourceMap,
    labels: &[(&Label, bool)],
) -> (Snippet<'a>, Vec<miette::LabeledSpan>) {
    let Some(file) = labels.first().and_then(|(l, _)| sources.get(l.span.file)) else {
        return (Snippet::empty(), Vec::new());
    };
    let points: Vec<usize> = labels
        .iter()
        .flat_map(|(l, _)| [l.span.start as usize, l.span.end as usize])
        .collect();
    let snippet = Snippet::new(file, &points, CONTEXT_LINES);
    let spans = labels
        .iter()
        .map(|&(l, primary)| {
            let start = snippet.shown(l.span.start as usize, false);
            let end = snippet.shown(l.span.end as usize, true).max(start);
            let span = (start, end - start);
            if primary {
                miette::LabeledSpan::new_primary_with_span(l.message.clone(), span)
            } else {
                miette::LabeledSpan::new_with_span(l.message.clone(), span)
            }
        })
        .collect();
    (snippet, spans)
}

fn to_miette<'a>(d: &Diagnostic, sources: &'a SourceMap) -> MietteDiag<'a> {
    let file = d.primary.span.file;
    let mut here = vec![(&d.primary, true)];
    let mut related = Vec::new();
    for l in d.secondary.iter().take(MAX_SECONDARY) {
        if l.span.file == file {
            here.push((l, false));
        } else {
            let (source, labels) = snippet(sources, &[(l, true)]);
            related.push(MietteDiag {
                message: l.message.clone().unwrap_or_else(|| "related".into()),
                code: String::new(),
                severity: miette::Severity::Advice,
                source,
                labels,
                help: None,
                related: Vec::new(),
            });
        }
    }
    let (source, labels) = snippet(sources, &here);
    let mut help = d.help.clone();
    let hidden = d.secondary.len().saturating_sub(MAX_SECONDARY);
    let more = (hidden > 0).then(|| {
        format!("{hidden} more labels are not shown here; `--format json` lists them all")
    });
    for n in d.notes.iter().chain(&more) {
        help = Some(match help {
            Some(h) => format!("{h}\nnote: {n}"),
            None => format!("note: {n}"),
        });
    }
    MietteDiag {
        message: d.message.clone(),
        code: d.code.to_string(),
        severity: match d.severity() {
            Severity::Error => miette::Severity::Error,
            Severity::Warning => miette::Severity::Warning,
        },
        source,
        labels,
        help,
        related,
    }
}

fn human(diags: &Diagnostics, sources: &SourceMap, color: bool) -> String {
    let theme = if color {
        miette::GraphicalTheme::unicode()
    } else {
        miette::GraphicalTheme::unicode_nocolor()
    };
    let handler =
        miette::GraphicalReportHandler::new_themed(theme).with_context_lines(CONTEXT_LINES);
    let mut out = String::new();
    for d in diags.iter() {
        let md = to_miette(d, sources);
        let _ = handler.render_report(&mut out, &md);
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::sarif_uri;

    #[test]
    fn sarif_uris_are_rfc_3986_references() {
        assert_eq!(sarif_uri("a/b-c_d.e~f.yaml"), "a/b-c_d.e~f.yaml");
        assert_eq!(
            sarif_uri("my dir/é #1%?.yaml"),
            "my%20dir/%C3%A9%20%231%25%3F.yaml"
        );
        assert_eq!(sarif_uri("a:b.yaml"), "a%3Ab.yaml");
        assert_eq!(sarif_uri("/tmp/x y.toml"), "file:///tmp/x%20y.toml");
        assert_eq!(sarif_uri("C:/p/x.yaml"), "file:///C:/p/x.yaml");
    }
}
