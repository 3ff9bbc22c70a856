//! A format-neutral document tree: YAML and TOML both parse into [`Node`]s,
//! each carrying the span of the exact text it came from.

use crate::source::{Located, Span};

#[derive(Clone, Debug, PartialEq)]
pub struct Node {
    pub span: Span,
    pub value: Value,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    /// A string whose type is settled (quoted YAML, any TOML string).
    Str(String),
    /// An unquoted YAML scalar, typed by the YAML 1.2 core schema on demand,
    /// so that `007` is still `"007"` where a string is expected (SPEC §14.1).
    Plain(String),
    Seq(Vec<Node>),
    Map(Vec<Entry>),
}

#[derive(Clone, Debug, PartialEq)]
pub struct Entry {
    pub key: Located<String>,
    pub value: Node,
}

/// A plain YAML scalar read by the YAML 1.2 core schema.
#[derive(Clone, Debug, PartialEq)]
pub enum Core<'a> {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(&'a str),
}

pub fn resolve_plain(text: &str) -> Core<'_> {
    match text {
        "" | "~" | "null" | "Null" | "NULL" => return Core::Null,
        "true" | "True" | "TRUE" => return Core::Bool(true),
        "false" | "False" | "FALSE" => return Core::Bool(false),
        ".inf" | ".Inf" | ".INF" | "+.inf" | "+.Inf" | "+.INF" => {
            return Core::Float(f64::INFINITY)
        }
        "-.inf" | "-.Inf" | "-.INF" => return Core::Float(f64::NEG_INFINITY),
        ".nan" | ".NaN" | ".NAN" => return Core::Float(f64::NAN),
        _ => {}
    }
    let digits = text.strip_prefix(['-', '+']).unwrap_or(text);
    if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) {
        if let Ok(i) = text.parse::<i64>() {
            return Core::Int(i);
        }
    }
    if let Some(oct) = text.strip_prefix("0o") {
        if let Ok(i) = i64::from_str_radix(oct, 8) {
            return Core::Int(i);
        }
    }
    if let Some(hex) = text.strip_prefix("0x") {
        if let Ok(i) = i64::from_str_radix(hex, 16) {
            return Core::Int(i);
        }
    }
    let looks_float = digits
        .bytes()
        .all(|b| b.is_ascii_digit() || matches!(b, b'.' | b'e' | b'E' | b'-' | b'+'))
        && digits.bytes().any(|b| b.is_ascii_digit());
    if looks_float {
        if let Ok(f) = text.parse::<f64>() {
            return Core::Float(f);
        }
    }
    Core::Str(text)
}

impl Node {
    /// What the node is, in words, for "expected X, found Y" messages.
    pub fn describe(&self) -> &'static str {
        match &self.value {
            Value::Null => "nothing",
            Value::Bool(_) => "a boolean",
            Value::Int(_) => "an integer",
            Value::Float(_) => "a number",
            Value::Str(_) => "a string",
            Value::Plain(s) => match resolve_plain(s) {
                Core::Null => "nothing",
                Core::Bool(_) => "a boolean",
                Core::Int(_) => "an integer",
                Core::Float(_) => "a number",
                Core::Str(_) => "a string",
            },
            Value::Seq(_) => "a list",
            Value::Map(_) => "a map",
        }
    }

    /// Number of nodes in this tree, for alias-expansion budgets.
    pub fn size(&self) -> usize {
        match &self.value {
            Value::Seq(items) => 1 + items.iter().map(Node::size).sum::<usize>(),
            Value::Map(entries) => 1 + entries.iter().map(|e| 1 + e.value.size()).sum::<usize>(),
            _ => 1,
        }
    }

    /// Bytes of text in this tree (keys and scalars), for alias budgets.
    pub fn bytes(&self) -> usize {
        match &self.value {
            Value::Str(s) | Value::Plain(s) => s.len(),
            Value::Seq(items) => items.iter().map(Node::bytes).sum(),
            Value::Map(entries) => entries
                .iter()
                .map(|e| e.key.value.len() + e.value.bytes())
                .sum(),
            _ => 8,
        }
    }

    pub fn is_null(&self) -> bool {
        matches!(self.value, Value::Null)
            || matches!(&self.value, Value::Plain(s) if matches!(resolve_plain(s), Core::Null))
    }

    pub fn as_map(&self) -> Option<&[Entry]> {
        match &self.value {
            Value::Map(entries) => Some(entries),
            _ => None,
        }
    }

    /// The node's text when it is a scalar (numbers and booleans as written).
    pub fn scalar_text(&self) -> Option<String> {
        match &self.value {
            Value::Str(s) | Value::Plain(s) => Some(s.clone()),
            Value::Bool(b) => Some(b.to_string()),
            Value::Int(i) => Some(i.to_string()),
            Value::Float(f) => Some(f.to_string()),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn core_schema_booleans_are_only_true_and_false() {
        assert_eq!(resolve_plain("true"), Core::Bool(true));
        assert_eq!(resolve_plain("yes"), Core::Str("yes"));
        assert_eq!(resolve_plain("off"), Core::Str("off"));
        assert_eq!(resolve_plain("007"), Core::Int(7));
        assert_eq!(resolve_plain("1.5"), Core::Float(1.5));
        assert_eq!(resolve_plain("e"), Core::Str("e"));
        assert_eq!(resolve_plain("~"), Core::Null);
    }
}
