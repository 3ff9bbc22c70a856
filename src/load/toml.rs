//! TOML text -> [`Node`] tree, through `toml`'s spanned document parser.

use toml::de::{DeTable, DeValue};
use toml::Spanned;

use super::node::{Entry, Node, Value};
use super::Limits;
use crate::diag::{Code, Diagnostic};
use crate::source::{FileId, Located, SourceFile, Span};

pub fn parse(
    file: FileId,
    source: &SourceFile,
    limits: &Limits,
) -> (Option<Node>, Vec<Diagnostic>) {
    if let Some(at) = too_deep(&source.text, limits.max_depth) {
        let d = Diagnostic::new(
            Code::E001,
            Span::new(file, at, at + 1),
            format!("nesting deeper than {} levels", limits.max_depth),
        )
        .with_label("too deep here");
        return (None, vec![d]);
    }
    match DeTable::parse(&source.text) {
        Ok(table) => {
            let span = table.span();
            let node = Node {
                span: Span::new(file, span.start, span.end),
                value: table_value(file, table.get_ref()),
            };
            (Some(node), Vec::new())
        }
        Err(err) => {
            let range = err.span().unwrap_or(0..0);
            let message = err.message().trim().replace('\n', " ");
            let d = Diagnostic::new(
                Code::E001,
                Span::new(file, range.start, range.end),
                format!("invalid TOML: {message}"),
            )
            .with_label("here");
            (None, vec![d])
        }
    }
}

fn table_value(file: FileId, table: &DeTable<'_>) -> Value {
    Value::Map(
        table
            .iter()
            .map(|(k, v)| {
                let ks = k.span();
                Entry {
                    key: Located::new(k.get_ref().to_string(), Span::new(file, ks.start, ks.end)),
                    value: node(file, v),
                }
            })
            .collect(),
    )
}

fn node(file: FileId, v: &Spanned<DeValue<'_>>) -> Node {
    let s = v.span();
    let value = match v.get_ref() {
        DeValue::String(s) => Value::Str(s.to_string()),
        DeValue::Integer(i) => match i64::from_str_radix(&i.as_str().replace('_', ""), i.radix()) {
            Ok(n) => Value::Int(n),
            Err(_) => Value::Str(i.as_str().to_owned()),
        },
        DeValue::Float(f) => match f.as_str().replace('_', "").parse::<f64>() {
            Ok(x) => Value::Float(x),
            Err(_) => Value::Str(f.as_str().to_owned()),
        },
        DeValue::Boolean(b) => Value::Bool(*b),
        DeValue::Datetime(d) => Value::Str(d.to_string()),
        DeValue::Array(items) => Value::Seq(items.iter().map(|i| node(file, i)).collect()),
        DeValue::Table(t) => table_value(file, t),
    };
    Node {
        span: Span::new(file, s.start, s.end),
        value,
    }
}

/// Byte offset where bracket nesting first exceeds `max`, skipping strings
/// and comments; a cheap guard so no parser recurses without bound.
fn too_deep(text: &str, max: usize) -> Option<usize> {
    let bytes = text.as_bytes();
    let mut depth = 0usize;
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'#' => {
                while i < bytes.len() && bytes[i] != b'\n' {
                    i += 1;
                }
            }
            quote @ (b'"' | b'\'') => {
                let triple = bytes.get(i..i + 3) == Some(&[quote, quote, quote][..]);
                if triple {
                    i += 3;
                    while i < bytes.len() && bytes.get(i..i + 3) != Some(&[quote, quote, quote][..])
                    {
                        i += if quote == b'"' && bytes[i] == b'\\' {
                            2
                        } else {
                            1
                        };
                    }
                    i += 2;
                } else {
                    i += 1;
                    while i < bytes.len() && bytes[i] != quote && bytes[i] != b'\n' {
                        i += if quote == b'"' && bytes[i] == b'\\' {
                            2
                        } else {
                            1
                        };
                    }
                }
            }
            b'[' | b'{' => {
                depth += 1;
                if depth > max {
                    return Some(i);
                }
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
        i += 1;
    }
    None
}
