//! Reading the questions of `POST /v1/allow` (one) and `/v1/allow/batch`
//! (`{"questions": [...]}`) from their bodies.
//!
//! Nearly every question has one shape: an object of `user`, `permission`,
//! `org` and `resource` whose values are plain strings (or `null` for the
//! last two). The plain reader ([`Plain`]) reads that shape in one pass over
//! the bytes, handing each question of a batch on as soon as it is read;
//! anything outside it (an escape, a number, an unknown or repeated key, a
//! missing field, bad syntax) makes it give up, and the body is read again
//! by serde_json, which says what the body means or how it is wrong. The
//! plain reader is an optimisation and nothing more: on every body it
//! accepts, it yields exactly the questions serde_json yields (the tests
//! below check this on hand-written and randomly broken bodies). It exists
//! because serde_json spends about 1,700 instructions on each question,
//! seven times what the table spends deciding it.

use std::borrow::Cow;

use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};

use crate::api::Question;

/// Why a batch was not read.
pub(crate) enum BatchError {
    /// More questions than `max`.
    TooLong,
    /// Not a valid batch (serde_json's message).
    Invalid(serde_json::Error),
}

/// Where the questions of a batch go, in order, as they are read.
pub(crate) trait Sink<'a> {
    fn question(&mut self, q: Question<'a>);
    /// Forget the questions given so far: the body is read again.
    fn restart(&mut self);
}

/// Reads the batch in `text` into `sink`, at most `max` questions. The
/// sink may be given questions of a body that then turns out invalid, and
/// is restarted before a second reading when the plain reader gives up.
pub(crate) fn read<'a>(
    text: &'a str,
    max: usize,
    sink: &mut impl Sink<'a>,
) -> Result<(), BatchError> {
    if read_plain(text, max, &mut |q| sink.question(q)).is_some() {
        return Ok(());
    }
    sink.restart();
    read_general(text, max, &mut |q| sink.question(q))
}

/// Reads one question (the body of `POST /v1/allow`).
pub(crate) fn read_one(text: &str) -> Result<Question<'_>, serde_json::Error> {
    let mut r = Plain { text, at: 0 };
    if let Some(q) = r.question() {
        r.skip_ws();
        if r.at == text.len() {
            return Ok(q);
        }
    }
    serde_json::from_str(text)
}

/// Reads the batch with serde_json.
pub(crate) fn read_general<'a>(
    text: &'a str,
    max: usize,
    each: &mut dyn FnMut(Question<'a>),
) -> Result<(), BatchError> {
    let mut seed = General {
        max,
        count: 0,
        each,
        too_long: false,
    };
    let mut parser = serde_json::Deserializer::from_str(text);
    let parsed = DeserializeSeed::deserialize(&mut seed, &mut parser).and_then(|()| parser.end());
    match parsed {
        Ok(()) => Ok(()),
        Err(_) if seed.too_long => Err(BatchError::TooLong),
        Err(e) => Err(BatchError::Invalid(e)),
    }
}

/// The serde reading: the batch object, then its `questions` array, each
/// question handed on as soon as it is parsed (no list is built).
struct General<'e, 'a> {
    max: usize,
    count: usize,
    each: &'e mut dyn FnMut(Question<'a>),
    too_long: bool,
}

impl<'de> DeserializeSeed<'de> for &mut General<'_, 'de> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_struct("Batch", &["questions"], self)
    }
}

impl<'de> Visitor<'de> for &mut General<'_, 'de> {
    type Value = ();

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("an object with `questions`")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let mut seen = false;
        while let Some(key) = map.next_key::<Cow<'de, str>>()? {
            if key != "questions" {
                return Err(de::Error::unknown_field(&key, &["questions"]));
            }
            if seen {
                return Err(de::Error::duplicate_field("questions"));
            }
            seen = true;
            map.next_value_seed(Questions(&mut *self))?;
        }
        if !seen {
            return Err(de::Error::missing_field("questions"));
        }
        Ok(())
    }
}

/// The `questions` array.
struct Questions<'g, 'e, 'a>(&'g mut General<'e, 'a>);

impl<'de> DeserializeSeed<'de> for Questions<'_, '_, 'de> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for Questions<'_, '_, 'de> {
    type Value = ();

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("an array of questions")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let g = self.0;
        while let Some(q) = seq.next_element::<Question<'de>>()? {
            if g.count == g.max {
                g.too_long = true;
                return Err(de::Error::custom("too many questions"));
            }
            g.count += 1;
            (g.each)(q);
        }
        Ok(())
    }
}

/// Reads the plain shape (see the module documentation), or `None` when
/// the body is not of it or has more than `max` questions.
pub(crate) fn read_plain<'a>(
    text: &'a str,
    max: usize,
    each: &mut dyn FnMut(Question<'a>),
) -> Option<()> {
    let mut r = Plain { text, at: 0 };
    r.punct(b'{')?;
    if r.string()? != "questions" {
        return None;
    }
    r.punct(b':')?;
    r.punct(b'[')?;
    let mut count = 0;
    if !r.peek_is(b']') {
        loop {
            if count == max {
                return None;
            }
            count += 1;
            each(r.question()?);
            if !r.comma_or(b']')? {
                break;
            }
        }
    } else {
        r.punct(b']')?;
    }
    r.punct(b'}')?;
    r.skip_ws();
    (r.at == text.len()).then_some(())
}

/// The high bit of each byte of `w` that is a quote, a backslash or a
/// control character, by the bit tricks of "Bit Twiddling Hacks" (a byte
/// that is zero, a byte less than 0x20). A borrow can flag a byte above a
/// flagged one falsely, never below it, and never when no byte is special:
/// the lowest flag is always exact.
fn specials(w: u64) -> u64 {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let zero_byte = |x: u64| x.wrapping_sub(ONES) & !x & HIGH;
    let quote = zero_byte(w ^ (ONES * u64::from(b'"')));
    let backslash = zero_byte(w ^ (ONES * u64::from(b'\\')));
    let control = w.wrapping_sub(ONES * 0x20) & !w & HIGH;
    quote | backslash | control
}

struct Plain<'a> {
    text: &'a str,
    at: usize,
}

impl<'a> Plain<'a> {
    fn skip_ws(&mut self) {
        let b = self.text.as_bytes();
        while let Some(c) = b.get(self.at) {
            if !matches!(c, b' ' | b'\t' | b'\n' | b'\r') {
                break;
            }
            self.at += 1;
        }
    }

    fn peek_is(&mut self, c: u8) -> bool {
        self.skip_ws();
        self.text.as_bytes().get(self.at) == Some(&c)
    }

    /// Expects the byte `c` after optional whitespace.
    fn punct(&mut self, c: u8) -> Option<()> {
        if self.peek_is(c) {
            self.at += 1;
            Some(())
        } else {
            None
        }
    }

    /// `,` (true) or `close` (false).
    fn comma_or(&mut self, close: u8) -> Option<bool> {
        self.skip_ws();
        let c = *self.text.as_bytes().get(self.at)?;
        self.at += 1;
        match c {
            b',' => Some(true),
            c if c == close => Some(false),
            _ => None,
        }
    }

    /// A string with no escape and no control character, after optional
    /// whitespace.
    fn string(&mut self) -> Option<&'a str> {
        self.punct(b'"')?;
        let b = self.text.as_bytes();
        let start = self.at;
        let mut end = start;
        // Eight bytes at a time: the lowest flagged byte of a word is the
        // first special one (see `specials`); only the last few bytes of
        // the body are looked at one by one.
        while let Some(word) = b.get(end..end + 8) {
            let mut w = [0u8; 8];
            w.copy_from_slice(word);
            let flags = specials(u64::from_le_bytes(w));
            if flags != 0 {
                end += flags.trailing_zeros() as usize / 8;
                break;
            }
            end += 8;
        }
        loop {
            match *b.get(end)? {
                b'"' => break,
                b'\\' | 0..=0x1f => return None,
                _ => end += 1,
            }
        }
        self.at = end + 1;
        // Both ends are ASCII quotes, so the slice is on char boundaries.
        self.text.get(start..end)
    }

    /// A string, or `null` (`None`).
    fn string_or_null(&mut self) -> Option<Option<&'a str>> {
        if self.peek_is(b'n') {
            let rest = self.text.get(self.at..)?;
            if !rest.starts_with("null") {
                return None;
            }
            self.at += 4;
            return Some(None);
        }
        self.string().map(Some)
    }

    fn question(&mut self) -> Option<Question<'a>> {
        self.punct(b'{')?;
        let (mut user, mut permission, mut org, mut resource) = (None, None, None, None);
        if !self.peek_is(b'}') {
            loop {
                let key = self.string()?;
                self.punct(b':')?;
                // A repeated key is an error to serde: leave it to it.
                match key {
                    "user" if user.is_none() => user = Some(self.string()?),
                    "permission" if permission.is_none() => permission = Some(self.string()?),
                    "org" if org.is_none() => org = Some(self.string_or_null()?),
                    "resource" if resource.is_none() => resource = Some(self.string_or_null()?),
                    _ => return None,
                }
                if !self.comma_or(b'}')? {
                    break;
                }
            }
        } else {
            self.punct(b'}')?;
        }
        Some(Question {
            user: Cow::Borrowed(user?),
            permission: Cow::Borrowed(permission?),
            org: org.flatten().map(Cow::Borrowed),
            resource: resource.flatten().map(Cow::Borrowed),
        })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::panic)]

    use super::*;

    type Owned = (String, String, Option<String>, Option<String>);

    fn owned(q: Question<'_>) -> Owned {
        (
            q.user.into_owned(),
            q.permission.into_owned(),
            q.org.map(Cow::into_owned),
            q.resource.map(Cow::into_owned),
        )
    }

    fn plain(text: &str, max: usize) -> Option<Vec<Owned>> {
        let mut out = Vec::new();
        read_plain(text, max, &mut |q| out.push(owned(q))).map(|()| out)
    }

    fn general(text: &str, max: usize) -> Result<Vec<Owned>, String> {
        let mut out = Vec::new();
        match read_general(text, max, &mut |q| out.push(owned(q))) {
            Ok(()) => Ok(out),
            Err(BatchError::TooLong) => Err("too long".to_owned()),
            Err(BatchError::Invalid(e)) => Err(e.to_string()),
        }
    }

    /// Whatever the plain reader accepts, serde_json reads the same.
    fn agree(text: &str, max: usize) -> bool {
        match plain(text, max) {
            Some(p) => {
                assert_eq!(
                    general(text, max).as_ref(),
                    Ok(&p),
                    "the plain reader read {text:?} otherwise than serde_json"
                );
                true
            }
            None => false,
        }
    }

    #[test]
    fn the_common_shapes_are_read_plainly_and_as_serde_reads_them() {
        for text in [
            r#"{"questions":[]}"#,
            r#"{"questions":[{"user":"u1","permission":"a:b","org":"o"}]}"#,
            r#"{"questions":[{"user":"u1","org":"o","permission":"a:b"},{"permission":"p:q","user":"u2","resource":"r","org":null}]}"#,
            " {\n \"questions\" : [ {\t\"user\" : \"u\" , \"permission\" : \"p\" , \"resource\" : null } ] } \r\n",
            r#"{"questions":[{"user":"","permission":"","org":""}]}"#,
            r#"{"questions":[{"user":"é ü ∀","permission":"modülé:läs","org":"ôrg"}]}"#,
        ] {
            assert!(agree(text, 10), "not read plainly: {text}");
        }
    }

    #[test]
    fn everything_else_is_left_to_serde() {
        for text in [
            r#"{"questions":[{"user":"u\u0031","permission":"p","org":"o"}]}"#,
            r#"{"questions":[{"user":"u","permission":"p","org":"o","org":"x"}]}"#,
            r#"{"questions":[{"user":"u","permission":"p","extra":1}]}"#,
            r#"{"questions":[{"permission":"p","org":"o"}]}"#,
            r#"{"questions":[{"user":"u","permission":"p","org":1}]}"#,
            r#"{"questions":[{"user":null,"permission":"p"}]}"#,
            r#"{"questions":[{"user":"u","permission":"p"},]}"#,
            r#"{"questions":[{"user":"u","permission":"p"}]} x"#,
            r#"{"questions":[{"user":"u","permission":"p"}],"questions":[]}"#,
            r#"{"questions":[{"user":"u","permission":"p"}]"#,
            r#"{"questions":[{"user":"u	","permission":"p"}]}"#,
            r#"{"questions":[{"user":"u","permission":"p","org":nul}]}"#,
            r#"{"questions":{}}"#,
            r#"{}"#,
            r#"[]"#,
            "",
        ] {
            assert!(!agree(text, 10), "read plainly: {text}");
        }
    }

    #[test]
    fn one_question_is_read_as_serde_reads_it() {
        for text in [
            r#"{"user":"u1","permission":"a:b","org":"o"}"#,
            r#" { "permission" : "p" , "user" : "u", "resource": "r", "org": null } "#,
            r#"{"user":"u\u0031","permission":"a:b","org":"o"}"#,
            r#"{"user":"u1","permission":"a:b","org":"o","org":"p"}"#,
            r#"{"user":"u1","permission":"a:b"} {}"#,
            r#"{"user":"u1"}"#,
        ] {
            let want = serde_json::from_str::<Question<'_>>(text)
                .map(owned)
                .map_err(|e| e.to_string());
            let got = read_one(text).map(owned).map_err(|e| e.to_string());
            assert_eq!(got, want, "{text}");
        }
        let mut r = Plain {
            text: r#"{"user":"u","permission":"p"}"#,
            at: 0,
        };
        assert!(r.question().is_some(), "the plain shape is read plainly");
    }

    #[test]
    fn a_batch_over_the_limit_is_left_to_serde_which_says_so() {
        let text = r#"{"questions":[{"user":"u","permission":"p"},{"user":"u","permission":"p"}]}"#;
        assert!(agree(text, 2));
        assert!(plain(text, 1).is_none());
        assert_eq!(general(text, 1), Err("too long".to_owned()));
    }

    #[test]
    fn the_lowest_flag_is_the_first_special_byte() {
        let special = |c: u8| c == b'"' || c == b'\\' || c < 0x20;
        let mut seed: u64 = 0x2545_f491_4f6c_dd1d;
        let alphabet = [
            b'"',
            b'\\',
            0,
            0x1f,
            0x20,
            0x21,
            b'a',
            0x7f,
            0x80,
            0xff,
            0x5c,
            0x22 ^ 0x80,
        ];
        for _ in 0..200_000 {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            let mut w = [0u8; 8];
            for (i, b) in w.iter_mut().enumerate() {
                *b = alphabet[((seed >> (i * 5)) % alphabet.len() as u64) as usize];
            }
            let flags = specials(u64::from_le_bytes(w));
            match w.iter().position(|c| special(*c)) {
                None => assert_eq!(flags, 0, "{w:?}"),
                Some(i) => assert_eq!(flags.trailing_zeros() as usize / 8, i, "{w:?}"),
            }
        }
    }

    /// Bodies broken at random (bytes replaced, inserted, removed) are read
    /// plainly only when serde_json reads them the same.
    #[test]
    fn randomly_broken_bodies_never_read_otherwise_than_serde() {
        let base = r#"{"questions":[{"user":"u1","permission":"mod:act","org":"o-1"},{"user":"u2","permission":"m:a","resource":"r","org":null}, {"org":"x","user":"u3","permission":"p:q"}]}"#;
        let alphabet = b"{}[]:,\" \\nul0truefsquestionsorgresourceuserpermission\t\x01";
        let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        let (mut plainly, mut tried) = (0, 0);
        for _ in 0..20_000 {
            let mut bytes = base.as_bytes().to_vec();
            for _ in 0..1 + next() % 3 {
                let at = (next() % bytes.len() as u64) as usize;
                let c = alphabet[(next() % alphabet.len() as u64) as usize];
                match next() % 3 {
                    0 => bytes[at] = c,
                    1 => bytes.insert(at, c),
                    _ => {
                        bytes.remove(at);
                    }
                }
            }
            let Ok(text) = std::str::from_utf8(&bytes) else {
                continue;
            };
            tried += 1;
            if agree(text, 10) {
                plainly += 1;
            }
        }
        // Some mutations keep the body valid (a space, a changed letter in
        // a value): the comparison must have been made on some.
        assert!(plainly > 100, "{plainly} of {tried} read plainly");
    }
}
