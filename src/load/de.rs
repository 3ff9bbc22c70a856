//! A serde `Deserializer` over [`Node`] trees, so that the typed policy model
//! derives `Deserialize` (and `JsonSchema`) once and reads YAML and TOML alike.
//! Every error carries the span of the node it is about.

use std::cell::RefCell;
use std::fmt;

use schemars::JsonSchema;
use serde::de::{self, DeserializeSeed, IntoDeserializer, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;

use super::node::{resolve_plain, Core, Entry, Node, Value};
use crate::diag::{did_you_mean, Code, Diagnostic};
use crate::source::{FileId, Span};

/// Deserialised values keep their span: they are [`Located`] values.
pub use crate::source::Located as Spanned;

impl<T> std::ops::Deref for Spanned<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.value
    }
}

impl<T: JsonSchema> JsonSchema for Spanned<T> {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        T::schema_name()
    }
    fn inline_schema() -> bool {
        T::inline_schema()
    }
    fn json_schema(generator: &mut schemars::SchemaGenerator) -> schemars::Schema {
        T::json_schema(generator)
    }
}

const SPANNED: &str = "$trellis::Spanned";
const SPANNED_FIELDS: &[&str] = &["$file", "$start", "$end", "$value"];

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Spanned<T> {
    fn deserialize<D: de::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<T>(std::marker::PhantomData<T>);
        impl<'de, T: Deserialize<'de>> Visitor<'de> for V<T> {
            type Value = Spanned<T>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a value")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Spanned<T>, A::Error> {
                let mut file = 0u32;
                let mut start = 0u32;
                let mut end = 0u32;
                while let Some(k) = map.next_key::<&str>()? {
                    match k {
                        "$file" => file = map.next_value()?,
                        "$start" => start = map.next_value()?,
                        "$end" => end = map.next_value()?,
                        _ => {
                            let value = map.next_value()?;
                            return Ok(Spanned {
                                span: Span {
                                    file: FileId(file),
                                    start,
                                    end,
                                },
                                value,
                            });
                        }
                    }
                }
                Err(de::Error::custom("spanned value without a value"))
            }
        }
        d.deserialize_struct(SPANNED, SPANNED_FIELDS, V(std::marker::PhantomData))
    }
}

/// A deserialisation problem, located once the node it concerns is known.
#[derive(Debug, Clone)]
pub struct DeError {
    pub message: String,
    pub span: Option<Span>,
    pub help: Option<String>,
}

impl DeError {
    fn at(mut self, span: Span) -> Self {
        if self.span.is_none() {
            self.span = Some(span);
        }
        self
    }

    pub fn into_diagnostic(self, fallback: Span) -> Diagnostic {
        let mut d = Diagnostic::new(Code::E002, self.span.unwrap_or(fallback), self.message);
        if let Some(h) = self.help {
            d = d.with_help(h);
        }
        d
    }
}

impl fmt::Display for DeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for DeError {}

fn expected_words(exp: &str) -> String {
    if exp.starts_with("struct ") || exp == "a map" || exp.starts_with("map") {
        "a map".into()
    } else if exp.contains("sequence") {
        "a list".into()
    } else if exp == "a string" || exp == "a borrowed string" {
        "a string".into()
    } else if exp.starts_with("u32")
        || exp.starts_with("u64")
        || exp.starts_with("i64")
        || exp.contains("integer")
    {
        "a whole number".into()
    } else {
        exp.into()
    }
}

fn one_of(expected: &[&str]) -> String {
    expected
        .iter()
        .map(|e| format!("`{e}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

impl de::Error for DeError {
    fn custom<T: fmt::Display>(msg: T) -> Self {
        DeError {
            message: msg.to_string(),
            span: None,
            help: None,
        }
    }

    fn invalid_type(unexp: de::Unexpected, exp: &dyn de::Expected) -> Self {
        let found = match unexp {
            de::Unexpected::Str(s) => format!("the string `{s}`"),
            de::Unexpected::Bool(b) => format!("the boolean `{b}`"),
            de::Unexpected::Signed(i) => format!("the number `{i}`"),
            de::Unexpected::Unsigned(i) => format!("the number `{i}`"),
            de::Unexpected::Float(x) => format!("the number `{x}`"),
            de::Unexpected::Seq => "a list".into(),
            de::Unexpected::Map => "a map".into(),
            de::Unexpected::Unit | de::Unexpected::Option => "nothing".into(),
            other => other.to_string(),
        };
        DeError::custom(format!(
            "expected {}, found {found}",
            expected_words(&exp.to_string())
        ))
    }

    fn invalid_value(unexp: de::Unexpected, exp: &dyn de::Expected) -> Self {
        DeError::custom(format!(
            "invalid value {unexp}, expected {}",
            expected_words(&exp.to_string())
        ))
    }

    fn unknown_field(field: &str, expected: &'static [&'static str]) -> Self {
        let help = match did_you_mean(field, expected.iter().copied()) {
            Some(s) => format!("did you mean `{s}`?"),
            None => format!("valid keys here: {}", one_of(expected)),
        };
        DeError {
            message: format!("unknown key `{field}`"),
            span: None,
            help: Some(help),
        }
    }

    fn unknown_variant(variant: &str, expected: &'static [&'static str]) -> Self {
        let help = match did_you_mean(variant, expected.iter().copied()) {
            Some(s) => format!("did you mean `{s}`?"),
            None => format!("expected one of {}", one_of(expected)),
        };
        DeError {
            message: format!("unknown value `{variant}`"),
            span: None,
            help: Some(help),
        }
    }

    fn missing_field(field: &'static str) -> Self {
        DeError::custom(format!("missing required key `{field}`"))
    }

    fn duplicate_field(field: &'static str) -> Self {
        DeError::custom(format!("duplicate key `{field}`"))
    }
}

/// Deserialises a `T` from a node; the error is located at the node it concerns.
pub fn from_node<'a, T: Deserialize<'a>>(node: &'a Node) -> Result<T, DeError> {
    let (value, mut errors) = from_node_all(node);
    match value {
        Some(v) if errors.is_empty() => Ok(v),
        _ => Err(errors
            .drain(..)
            .next()
            .unwrap_or_else(|| <DeError as de::Error>::custom("invalid value").at(node.span))),
    }
}

/// Deserialises a `T`, collecting every unknown key on the way instead of
/// stopping at the first: the value is still built from the known keys.
pub fn from_node_all<'a, T: Deserialize<'a>>(node: &'a Node) -> (Option<T>, Vec<DeError>) {
    let sink = RefCell::new(Vec::new());
    let result = T::deserialize(NodeDe(node, &sink)).map_err(|e| e.at(node.span));
    let mut errors = sink.into_inner();
    let value = match result {
        Ok(v) => Some(v),
        Err(e) => {
            errors.push(e);
            None
        }
    };
    (value, errors)
}

type Sink = RefCell<Vec<DeError>>;

struct NodeDe<'a, 's>(&'a Node, &'s Sink);

impl<'a> NodeDe<'a, '_> {
    fn scalar_text(&self) -> Option<String> {
        match &self.0.value {
            Value::Null => None,
            Value::Plain(s) if matches!(resolve_plain(s), Core::Null) => None,
            _ => self.0.scalar_text(),
        }
    }

    fn unexpected(&self) -> de::Unexpected<'a> {
        match &self.0.value {
            Value::Null => de::Unexpected::Unit,
            Value::Bool(b) => de::Unexpected::Bool(*b),
            Value::Int(i) => de::Unexpected::Signed(*i),
            Value::Float(f) => de::Unexpected::Float(*f),
            Value::Str(s) => de::Unexpected::Str(s),
            Value::Plain(s) => match resolve_plain(s) {
                Core::Null => de::Unexpected::Unit,
                Core::Bool(b) => de::Unexpected::Bool(b),
                Core::Int(i) => de::Unexpected::Signed(i),
                Core::Float(f) => de::Unexpected::Float(f),
                Core::Str(s) => de::Unexpected::Str(s),
            },
            Value::Seq(_) => de::Unexpected::Seq,
            Value::Map(_) => de::Unexpected::Map,
        }
    }

    fn int(&self) -> Option<i64> {
        match &self.0.value {
            Value::Int(i) => Some(*i),
            Value::Plain(s) => match resolve_plain(s) {
                Core::Int(i) => Some(i),
                _ => None,
            },
            _ => None,
        }
    }
}

macro_rules! int_methods {
    ($($method:ident => $ty:ty, $visit:ident;)*) => {$(
        fn $method<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
            let span = self.0.span;
            match self.int().and_then(|i| <$ty>::try_from(i).ok()) {
                Some(i) => visitor.$visit(i as _),
                None => Err(de::Error::invalid_type(self.unexpected(), &visitor)),
            }
            .map_err(|e: DeError| e.at(span))
        }
    )*};
}

impl<'de> de::Deserializer<'de> for NodeDe<'de, '_> {
    type Error = DeError;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        let span = self.0.span;
        let r = match &self.0.value {
            Value::Null => visitor.visit_unit(),
            Value::Bool(b) => visitor.visit_bool(*b),
            Value::Int(i) => visitor.visit_i64(*i),
            Value::Float(f) => visitor.visit_f64(*f),
            Value::Str(s) => visitor.visit_str(s),
            Value::Plain(s) => match resolve_plain(s) {
                Core::Null => visitor.visit_unit(),
                Core::Bool(b) => visitor.visit_bool(b),
                Core::Int(i) => visitor.visit_i64(i),
                Core::Float(f) => visitor.visit_f64(f),
                Core::Str(s) => visitor.visit_str(s),
            },
            Value::Seq(items) => visitor.visit_seq(Seq {
                iter: items.iter(),
                sink: self.1,
            }),
            Value::Map(entries) => visitor.visit_map(Map {
                iter: entries.iter().collect::<Vec<_>>().into_iter(),
                value: None,
                sink: self.1,
            }),
        };
        r.map_err(|e| e.at(span))
    }

    fn deserialize_bool<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        let span = self.0.span;
        let b = match &self.0.value {
            Value::Bool(b) => Some(*b),
            Value::Plain(s) => match resolve_plain(s) {
                Core::Bool(b) => Some(b),
                _ => None,
            },
            _ => None,
        };
        match b {
            Some(b) => visitor.visit_bool(b),
            None => Err(de::Error::invalid_type(self.unexpected(), &visitor)),
        }
        .map_err(|e: DeError| e.at(span))
    }

    int_methods! {
        deserialize_i8 => i8, visit_i8;
        deserialize_i16 => i16, visit_i16;
        deserialize_i32 => i32, visit_i32;
        deserialize_i64 => i64, visit_i64;
        deserialize_u8 => u8, visit_u8;
        deserialize_u16 => u16, visit_u16;
        deserialize_u32 => u32, visit_u32;
        deserialize_u64 => u64, visit_u64;
    }

    fn deserialize_f32<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        self.deserialize_any(visitor)
    }

    fn deserialize_f64<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        self.deserialize_any(visitor)
    }

    fn deserialize_char<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        self.deserialize_str(visitor)
    }

    fn deserialize_str<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        let span = self.0.span;
        match self.scalar_text() {
            Some(s) => visitor.visit_string(s),
            None => Err(de::Error::invalid_type(self.unexpected(), &visitor)),
        }
        .map_err(|e: DeError| e.at(span))
    }

    fn deserialize_string<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        self.deserialize_str(visitor)
    }

    fn deserialize_bytes<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        self.deserialize_any(visitor)
    }

    fn deserialize_byte_buf<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        self.deserialize_any(visitor)
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        if self.0.is_null() {
            visitor.visit_none()
        } else {
            visitor.visit_some(self)
        }
    }

    fn deserialize_unit<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        self.deserialize_any(visitor)
    }

    fn deserialize_unit_struct<V: Visitor<'de>>(
        self,
        _: &'static str,
        visitor: V,
    ) -> Result<V::Value, DeError> {
        self.deserialize_any(visitor)
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _: &'static str,
        visitor: V,
    ) -> Result<V::Value, DeError> {
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_seq<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        let span = self.0.span;
        match &self.0.value {
            Value::Seq(items) => visitor.visit_seq(Seq {
                iter: items.iter(),
                sink: self.1,
            }),
            _ => Err(de::Error::invalid_type(self.unexpected(), &visitor)),
        }
        .map_err(|e| e.at(span))
    }

    fn deserialize_tuple<V: Visitor<'de>>(self, _: usize, visitor: V) -> Result<V::Value, DeError> {
        self.deserialize_seq(visitor)
    }

    fn deserialize_tuple_struct<V: Visitor<'de>>(
        self,
        _: &'static str,
        _: usize,
        visitor: V,
    ) -> Result<V::Value, DeError> {
        self.deserialize_seq(visitor)
    }

    fn deserialize_map<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        let span = self.0.span;
        match &self.0.value {
            Value::Map(entries) => visitor.visit_map(Map {
                iter: entries.iter().collect::<Vec<_>>().into_iter(),
                value: None,
                sink: self.1,
            }),
            _ => Err(de::Error::invalid_type(self.unexpected(), &visitor)),
        }
        .map_err(|e| e.at(span))
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, DeError> {
        if name == SPANNED {
            return visitor.visit_map(SpannedAccess {
                span: self.0.span,
                value: Spannable::Node(self.0, self.1),
                step: 0,
            });
        }
        // Missing keys are reported at the start of the map, not across its whole text.
        let span = Span {
            end: self
                .0
                .span
                .start
                .saturating_add(1)
                .min(self.0.span.end.max(self.0.span.start)),
            ..self.0.span
        };
        match &self.0.value {
            Value::Map(entries) => {
                // Unknown keys are reported (all of them) and skipped, so the
                // rest of the item is still read and checked.
                let mut known = Vec::with_capacity(entries.len());
                for e in entries {
                    if fields.contains(&e.key.value.as_str()) {
                        known.push(e);
                    } else {
                        let err: DeError = de::Error::unknown_field(&e.key.value, fields);
                        self.1.borrow_mut().push(err.at(e.key.span));
                    }
                }
                visitor.visit_map(Map {
                    iter: known.into_iter(),
                    value: None,
                    sink: self.1,
                })
            }
            _ => Err(de::Error::invalid_type(self.unexpected(), &visitor)),
        }
        .map_err(|e| e.at(span))
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _: &'static str,
        _: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, DeError> {
        let span = self.0.span;
        match self.scalar_text() {
            Some(s) => visitor.visit_enum(s.into_deserializer()),
            None => Err(de::Error::invalid_type(self.unexpected(), &visitor)),
        }
        .map_err(|e: DeError| e.at(span))
    }

    fn deserialize_identifier<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        self.deserialize_str(visitor)
    }

    fn deserialize_ignored_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        visitor.visit_unit()
    }
}

struct Seq<'a, 's> {
    iter: std::slice::Iter<'a, Node>,
    sink: &'s Sink,
}

impl<'de> SeqAccess<'de> for Seq<'de, '_> {
    type Error = DeError;
    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, DeError> {
        match self.iter.next() {
            Some(node) => seed
                .deserialize(NodeDe(node, self.sink))
                .map(Some)
                .map_err(|e| e.at(node.span)),
            None => Ok(None),
        }
    }
    fn size_hint(&self) -> Option<usize> {
        Some(self.iter.len())
    }
}

struct Map<'a, 's> {
    iter: std::vec::IntoIter<&'a Entry>,
    value: Option<&'a Node>,
    sink: &'s Sink,
}

impl<'de> MapAccess<'de> for Map<'de, '_> {
    type Error = DeError;
    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, DeError> {
        match self.iter.next() {
            Some(entry) => {
                self.value = Some(&entry.value);
                seed.deserialize(KeyDe(&entry.key))
                    .map(Some)
                    .map_err(|e| e.at(entry.key.span))
            }
            None => Ok(None),
        }
    }
    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, DeError> {
        match self.value.take() {
            Some(node) => seed
                .deserialize(NodeDe(node, self.sink))
                .map_err(|e| e.at(node.span)),
            None => Err(de::Error::custom("value without a key")),
        }
    }
}

/// A map key: a string that can also be read as a [`Spanned`] string, so
/// that a diagnostic about a key (an unknown dimension in a restriction,
/// say) points at the key itself.
struct KeyDe<'a>(&'a Spanned<String>);

impl<'de> de::Deserializer<'de> for KeyDe<'de> {
    type Error = DeError;
    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        visitor.visit_borrowed_str(&self.0.value)
    }
    fn deserialize_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        _: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, DeError> {
        if name == SPANNED {
            visitor.visit_map(SpannedAccess {
                span: self.0.span,
                value: Spannable::Key(&self.0.value),
                step: 0,
            })
        } else {
            self.deserialize_any(visitor)
        }
    }
    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
        bytes byte_buf option unit unit_struct newtype_struct seq tuple
        tuple_struct map enum identifier ignored_any
    }
}

/// What a [`Spanned`] value is read from: a node, or a map key.
enum Spannable<'a, 's> {
    Node(&'a Node, &'s Sink),
    Key(&'a str),
}

/// Feeds the [`Spanned`] visitor its location, then the value itself.
struct SpannedAccess<'a, 's> {
    span: Span,
    value: Spannable<'a, 's>,
    step: u8,
}

impl<'de> MapAccess<'de> for SpannedAccess<'de, '_> {
    type Error = DeError;
    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, DeError> {
        let Some(key) = SPANNED_FIELDS.get(self.step as usize) else {
            return Ok(None);
        };
        seed.deserialize(de::value::BorrowedStrDeserializer::new(key))
            .map(Some)
    }
    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, DeError> {
        let step = self.step;
        self.step += 1;
        let span = self.span;
        match (step, &self.value) {
            (0, _) => seed.deserialize(span.file.0.into_deserializer()),
            (1, _) => seed.deserialize(span.start.into_deserializer()),
            (2, _) => seed.deserialize(span.end.into_deserializer()),
            (_, Spannable::Node(node, sink)) => seed.deserialize(NodeDe(node, sink)),
            (_, Spannable::Key(key)) => {
                seed.deserialize(de::value::BorrowedStrDeserializer::new(key))
            }
        }
    }
}
