//! Every finding of a set, published per file (files not open too), and
//! the quick fixes some findings carry.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::PathBuf;

use lsp_server::Notification;
use lsp_types::notification::{Notification as _, PublishDiagnostics};
use lsp_types::{
    CodeAction, CodeActionKind, CodeActionOrCommand, CodeActionParams, CodeDescription,
    DiagnosticRelatedInformation, DiagnosticSeverity, Location, NumberOrString,
    PublishDiagnosticsParams, TextEdit, WorkspaceEdit,
};

use super::workspace::{range, Workspace};
use super::{path_uri, Failure, Options, Server};
use crate::diag::{Code, Diagnostic, Severity};
use crate::source::{SourceMap, Span};

/// One LSP diagnostic for a finding.
fn to_lsp(d: &Diagnostic, sources: &SourceMap, options: &Options) -> lsp_types::Diagnostic {
    let mut message = d.message.clone();
    if let Some(label) = &d.primary.message {
        message.push_str(&format!(" ({label})"));
    }
    if let Some(help) = &d.help {
        message.push_str(&format!("\nhelp: {help}"));
    }
    for n in &d.notes {
        message.push_str(&format!("\nnote: {n}"));
    }
    let related: Vec<DiagnosticRelatedInformation> = d
        .secondary
        .iter()
        .filter_map(|l| {
            let path = sources.get(l.span.file)?.path.clone();
            Some(DiagnosticRelatedInformation {
                location: Location::new(path_uri(&path)?, range(sources, l.span)),
                message: l.message.clone().unwrap_or_default(),
            })
        })
        .collect();
    let href = options.code_url.replace("{code}", d.code.as_str());
    lsp_types::Diagnostic {
        range: range(sources, d.primary.span),
        severity: Some(match d.severity() {
            Severity::Error => DiagnosticSeverity::ERROR,
            Severity::Warning => DiagnosticSeverity::WARNING,
        }),
        code: Some(NumberOrString::String(d.code.as_str().to_owned())),
        code_description: href.parse().ok().map(|href| CodeDescription { href }),
        source: Some("trellis".to_owned()),
        message,
        related_information: (!related.is_empty()).then_some(related),
        tags: None,
        data: None,
    }
}

/// The notifications publishing the last analysis of `ws`: one per file
/// with findings, and an empty one per file whose findings went away.
pub(super) fn publish(ws: &mut Workspace, options: &Options) -> Vec<Notification> {
    let Some(a) = &ws.analysis else {
        return Vec::new();
    };
    let sources = a.sources();
    let mut by_file: BTreeMap<PathBuf, Vec<lsp_types::Diagnostic>> = BTreeMap::new();
    for d in a.checked.diagnostics.iter() {
        let Some(f) = sources.get(d.primary.span.file) else {
            continue;
        };
        by_file
            .entry(f.path.clone())
            .or_default()
            .push(to_lsp(d, sources, options));
    }
    let now: BTreeSet<PathBuf> = by_file.keys().cloned().collect();
    let mut out = Vec::new();
    for gone in ws.published.difference(&now) {
        by_file.entry(gone.clone()).or_default();
    }
    for (path, diagnostics) in by_file {
        let Some(uri) = path_uri(&path) else {
            continue;
        };
        out.push(Notification::new(
            PublishDiagnostics::METHOD.to_owned(),
            PublishDiagnosticsParams {
                uri,
                diagnostics,
                version: None,
            },
        ));
    }
    ws.published = now;
    out
}

/// The suggestion of a "did you mean `x`?" help.
fn suggestion(help: &str) -> Option<&str> {
    help.strip_prefix("did you mean `")?.strip_suffix("`?")
}

/// Quick fixes for the findings in the asked range: the did-you-mean fix
/// of E002 and E004, and removing an assignment W104 found redundant.
#[allow(
    clippy::mutable_key_type,
    reason = "WorkspaceEdit is keyed by Uri, which hashes and compares its text only"
)]
pub(super) fn code_actions(
    server: &mut Server,
    p: &CodeActionParams,
) -> Result<Vec<CodeActionOrCommand>, Failure> {
    let uri = &p.text_document.uri;
    let options = &server.options.clone();
    let (ws, path) = server.workspace_of(uri)?;
    let Some((a, id)) = ws.file(&path) else {
        return Ok(Vec::new());
    };
    let sources = a.sources();
    let Some(file) = sources.get(id) else {
        return Ok(Vec::new());
    };
    let mut out = Vec::new();
    for d in a.checked.diagnostics.iter() {
        if d.primary.span.file != id {
            continue;
        }
        let r = range(sources, d.primary.span);
        // By line: a cursor anywhere on the finding's lines asks for its fixes.
        if r.end.line < p.range.start.line || r.start.line > p.range.end.line {
            continue;
        }
        let edit = match d.code {
            Code::E002 | Code::E004 => d
                .help
                .as_deref()
                .and_then(suggestion)
                .and_then(|s| replace_text(file, d.primary.span, s))
                .map(|(span, new)| (format!("change to `{new}`"), span, new)),
            Code::W104 => whole_lines(file, d.primary.span).map(|span| {
                (
                    "remove the redundant assignment".to_owned(),
                    span,
                    String::new(),
                )
            }),
            _ => None,
        };
        let Some((title, span, new_text)) = edit else {
            continue;
        };
        let changes = HashMap::from([(
            uri.clone(),
            vec![TextEdit::new(range(sources, span), new_text)],
        )]);
        out.push(CodeActionOrCommand::CodeAction(CodeAction {
            title,
            kind: Some(CodeActionKind::QUICKFIX),
            diagnostics: Some(vec![to_lsp(d, sources, options)]),
            edit: Some(WorkspaceEdit::new(changes)),
            is_preferred: Some(true),
            ..Default::default()
        }));
    }
    Ok(out)
}

/// The span to replace with `suggestion` and its new text: inside quotes
/// when the node is quoted; for `module:action` suggestions on a
/// permission, the whole pattern.
fn replace_text(
    file: &crate::source::SourceFile,
    span: Span,
    suggestion: &str,
) -> Option<(Span, String)> {
    let text = file.text.get(span.start as usize..span.end as usize)?;
    let quoted = text.len() >= 2
        && (text.starts_with('"') && text.ends_with('"')
            || text.starts_with('\'') && text.ends_with('\''));
    let inner = if quoted {
        Span::new(span.file, span.start as usize + 1, span.end as usize - 1)
    } else {
        span
    };
    let inner_text = file.text.get(inner.start as usize..inner.end as usize)?;
    // A suggestion for the action alone (`did you mean `read`?` on
    // `templates:raed`) replaces the part after the colon.
    if let Some((module, _)) = inner_text.split_once(':') {
        if !suggestion.contains(':') {
            let start = inner.start as usize + module.len() + 1;
            return Some((
                Span::new(span.file, start, inner.end as usize),
                suggestion.to_owned(),
            ));
        }
    }
    Some((inner, suggestion.to_owned()))
}

/// The whole lines of an item written on lines of its own (a YAML list item
/// `- …` or a TOML `[[assignments]]` table), with its newline.
fn whole_lines(file: &crate::source::SourceFile, span: Span) -> Option<Span> {
    let first = file.line_of(span.start as usize);
    let last = file.line_of(span.end.saturating_sub(1).max(span.start) as usize);
    let first_range = file.line_text_range(first);
    let before = file.text.get(first_range.start..span.start as usize)?;
    let last_range = file.line_text_range(last);
    let after = file
        .text
        .get(span.end as usize..last_range.end.max(span.end as usize))?;
    // A flow map's span may end at its last value, before ` }`.
    let after = after.trim_start();
    let after = after.strip_prefix('}').unwrap_or(after).trim_start();
    if !(after.is_empty() || after.starts_with('#')) {
        return None;
    }
    let mut start_line = first;
    let trimmed = before.trim();
    if !(trimmed == "-" || trimmed.is_empty()) {
        return None;
    }
    if trimmed.is_empty() && first > 0 {
        // TOML: the table header on the line above goes too.
        let above = file.line_text_range(first - 1);
        if file
            .text
            .get(above)
            .is_some_and(|l| l.trim() == "[[assignments]]")
        {
            start_line = first - 1;
        }
    }
    let start = file.line_text_range(start_line).start;
    let end = if last + 1 < file.line_count() {
        file.line_text_range(last + 1).start
    } else {
        file.text.len()
    };
    Some(Span::new(span.file, start, end))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::{FileId, SourceFile};

    #[test]
    fn a_list_item_on_its_own_line_is_removed_with_its_line() {
        let text = "a:\n  - { role: x }\n  - { description: \"Zoë’s 😀 grant\", role: y }\n";
        let f = SourceFile::new("a.yaml".into(), text.into());
        let start = text.find("{ desc").unwrap();
        let span = Span::new(FileId(0), start, text.len() - 1);
        let got = whole_lines(&f, span).unwrap();
        assert_eq!(
            &text[got.start as usize..got.end as usize],
            &text[text.find("  - { desc").unwrap()..]
        );
    }
}
