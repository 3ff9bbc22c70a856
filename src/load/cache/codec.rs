//! A file's items as the cache keeps them, and the checks that reading
//! them back makes.
//!
//! A payload is the [`PolicyFile`] its text was read into, field after
//! field in declaration order: a bool is a byte (0 or 1), a number a
//! LEB128 varint, an `Option` a byte (0 or 1) and the value, a list or map
//! a count and the items, a span its start and end; a section of the
//! file is its count, then the byte length of each chunk of its items,
//! then the chunks (so that a large file is read back on every core). A string with a place
//! in the file (the value of a [`Located`]) that is exactly the text at
//! that place, as a plain scalar's is, is stored as a zero and taken from
//! the text when read back; any other string is its length plus one and
//! its bytes. So most of a payload is spans, and reading it back copies
//! strings out of the text rather than checking them.
//!
//! Nothing read back is believed beyond what it could be for its text:
//! every span inside the text and on character boundaries, every string
//! UTF-8, every id one that reading the text would have accepted (a
//! payload is only kept for a file read without a diagnostic, and an item
//! with a bad id is reported there), no byte left over. Anything else
//! refuses the payload, and the file is parsed.

use std::collections::BTreeMap;

use crate::load::raw::*;
use crate::load::{is_valid_id, Item, PolicyFile};
use crate::source::{FileId, Located, Span};

/// A payload being written for the text it stands for.
pub(super) struct Out<'a> {
    pub bytes: Vec<u8>,
    text: &'a str,
}

/// A payload being read back for file `file`, whose text is `text`.
pub(super) struct In<'a> {
    bytes: &'a [u8],
    at: usize,
    file: FileId,
    text: &'a str,
}

/// What the cache keeps of a file, written and read back field by field.
/// `at` is the place of the [`Located`] a value is the value of (`None`
/// elsewhere): a string equal to the text there is not written out.
pub(super) trait Codec: Sized {
    fn put(&self, out: &mut Out<'_>, at: Option<Span>);
    fn get(r: &mut In<'_>, at: Option<Span>) -> Option<Self>;
}

/// The payload of `file`, read from `text`.
pub(super) fn encode(file: &PolicyFile, text: &str) -> Vec<u8> {
    let mut out = Out {
        bytes: Vec::with_capacity(text.len() / 2),
        text,
    };
    file.put(&mut out, None);
    out.bytes
}

/// The items of a payload, their spans in `file`, if it fits `text`.
pub(super) fn decode(payload: &[u8], file: FileId, text: &str) -> Option<PolicyFile> {
    let mut r = In {
        bytes: payload,
        at: 0,
        file,
        text,
    };
    let read = PolicyFile::get(&mut r, None)?;
    // Everything read: trailing bytes mean the payload is not what it says.
    (r.at == payload.len()).then_some(read)
}

impl Out<'_> {
    fn varint(&mut self, mut n: u64) {
        while n >= 0x80 {
            self.bytes.push((n as u8) | 0x80);
            n >>= 7;
        }
        self.bytes.push(n as u8);
    }
}

impl<'a> In<'a> {
    fn byte(&mut self) -> Option<u8> {
        let b = *self.bytes.get(self.at)?;
        self.at += 1;
        Some(b)
    }

    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        let end = self.at.checked_add(n)?;
        let s = self.bytes.get(self.at..end)?;
        self.at = end;
        Some(s)
    }

    fn varint(&mut self) -> Option<u64> {
        let mut n = 0u64;
        for shift in (0..64).step_by(7) {
            let b = self.byte()?;
            n |= u64::from(b & 0x7f) << shift;
            if b & 0x80 == 0 {
                return Some(n);
            }
        }
        None
    }

    /// A count of items: each takes a byte at least, so no more than the
    /// bytes left (a corrupt count cannot ask for memory).
    fn count(&mut self) -> Option<usize> {
        let n = usize::try_from(self.varint()?).ok()?;
        (n <= self.bytes.len() - self.at).then_some(n)
    }
}

impl Codec for bool {
    fn put(&self, out: &mut Out<'_>, _: Option<Span>) {
        out.bytes.push(u8::from(*self));
    }
    fn get(r: &mut In<'_>, _: Option<Span>) -> Option<Self> {
        match r.byte()? {
            0 => Some(false),
            1 => Some(true),
            _ => None,
        }
    }
}

impl Codec for u32 {
    fn put(&self, out: &mut Out<'_>, _: Option<Span>) {
        out.varint(u64::from(*self));
    }
    fn get(r: &mut In<'_>, _: Option<Span>) -> Option<Self> {
        u32::try_from(r.varint()?).ok()
    }
}

impl Codec for Span {
    fn put(&self, out: &mut Out<'_>, _: Option<Span>) {
        out.varint(u64::from(self.start));
        out.varint(u64::from(self.end));
    }
    /// A span of the file read, inside its text and on character
    /// boundaries.
    fn get(r: &mut In<'_>, _: Option<Span>) -> Option<Self> {
        let start = usize::try_from(r.varint()?).ok()?;
        let end = usize::try_from(r.varint()?).ok()?;
        let fits = start <= end
            && end <= r.text.len()
            && r.text.is_char_boundary(start)
            && r.text.is_char_boundary(end);
        fits.then(|| Span::new(r.file, start, end))
    }
}

impl Codec for String {
    fn put(&self, out: &mut Out<'_>, at: Option<Span>) {
        let there = at.and_then(|s| out.text.get(s.start as usize..s.end as usize));
        if there == Some(self.as_str()) {
            out.varint(0);
        } else {
            out.varint(self.len() as u64 + 1);
            out.bytes.extend_from_slice(self.as_bytes());
        }
    }
    fn get(r: &mut In<'_>, at: Option<Span>) -> Option<Self> {
        let n = usize::try_from(r.varint()?).ok()?;
        match n.checked_sub(1) {
            // The span was checked when read.
            None => at
                .and_then(|s| r.text.get(s.start as usize..s.end as usize))
                .map(str::to_owned),
            Some(len) => std::str::from_utf8(r.take(len)?).ok().map(str::to_owned),
        }
    }
}

impl<T: Codec> Codec for Located<T> {
    fn put(&self, out: &mut Out<'_>, _: Option<Span>) {
        self.span.put(out, None);
        self.value.put(out, Some(self.span));
    }
    fn get(r: &mut In<'_>, _: Option<Span>) -> Option<Self> {
        let span = Span::get(r, None)?;
        let value = T::get(r, Some(span))?;
        Some(Located { value, span })
    }
}

impl<T: Codec> Codec for Option<T> {
    fn put(&self, out: &mut Out<'_>, at: Option<Span>) {
        match self {
            None => out.bytes.push(0),
            Some(v) => {
                out.bytes.push(1);
                v.put(out, at);
            }
        }
    }
    fn get(r: &mut In<'_>, at: Option<Span>) -> Option<Self> {
        match r.byte()? {
            0 => Some(None),
            1 => Some(Some(T::get(r, at)?)),
            _ => None,
        }
    }
}

impl<T: Codec> Codec for Box<T> {
    fn put(&self, out: &mut Out<'_>, at: Option<Span>) {
        (**self).put(out, at);
    }
    fn get(r: &mut In<'_>, at: Option<Span>) -> Option<Self> {
        T::get(r, at).map(Box::new)
    }
}

impl<T: Codec> Codec for Vec<T> {
    fn put(&self, out: &mut Out<'_>, _: Option<Span>) {
        out.varint(self.len() as u64);
        for v in self {
            v.put(out, None);
        }
    }
    fn get(r: &mut In<'_>, _: Option<Span>) -> Option<Self> {
        let n = r.count()?;
        // Grown as read, not from the count alone: a corrupt count is
        // bounded by the bytes left, not by the memory each item takes.
        let mut items = Vec::with_capacity(n.min(1 << 12));
        for _ in 0..n {
            items.push(T::get(r, None)?);
        }
        Some(items)
    }
}

impl<A: Codec, B: Codec> Codec for (A, B) {
    fn put(&self, out: &mut Out<'_>, _: Option<Span>) {
        self.0.put(out, None);
        self.1.put(out, None);
    }
    fn get(r: &mut In<'_>, _: Option<Span>) -> Option<Self> {
        Some((A::get(r, None)?, B::get(r, None)?))
    }
}

impl Codec for BTreeMap<String, String> {
    fn put(&self, out: &mut Out<'_>, _: Option<Span>) {
        out.varint(self.len() as u64);
        for (k, v) in self {
            k.put(out, None);
            v.put(out, None);
        }
    }
    fn get(r: &mut In<'_>, _: Option<Span>) -> Option<Self> {
        let n = r.count()?;
        let mut map = BTreeMap::new();
        for _ in 0..n {
            let (k, v) = (String::get(r, None)?, String::get(r, None)?);
            // Keys strictly ascending, as written: a map read from a file
            // has each key once.
            if map.last_key_value().is_some_and(|(last, _)| *last >= k) {
                return None;
            }
            map.insert(k, v);
        }
        Some(map)
    }
}

/// Enums without data, as the index of their variant.
macro_rules! variants {
    ($ty:ty { $($variant:path),* $(,)? }) => {
        impl Codec for $ty {
            fn put(&self, out: &mut Out<'_>, _: Option<Span>) {
                let all = [$($variant),*];
                let i = all.iter().position(|v| v == self).unwrap_or(0);
                out.bytes.push(i as u8);
            }
            fn get(r: &mut In<'_>, _: Option<Span>) -> Option<Self> {
                [$($variant),*].get(usize::from(r.byte()?)).copied()
            }
        }
    };
}

variants!(RoleStatus { RoleStatus::Active, RoleStatus::Disabled });
variants!(Per { Per::User, Per::Org });

/// Structs, field by field: the pattern without `..` and the literal make
/// a field added to the type and not here a compile error.
macro_rules! fields {
    ($ty:ident { $($field:ident),* $(,)? }) => {
        impl Codec for $ty {
            fn put(&self, out: &mut Out<'_>, _: Option<Span>) {
                let $ty { $($field),* } = self;
                $($field.put(out, None);)*
            }
            fn get(r: &mut In<'_>, _: Option<Span>) -> Option<Self> {
                // Fields are evaluated in the order written.
                Some($ty { $($field: Codec::get(r, None)?),* })
            }
        }
    };
}

fields!(RawDimension { description });
fields!(RawResource {
    dimension,
    org,
    description
});
fields!(RawModule {
    actions,
    gated,
    dimension,
    description
});
fields!(RawPolicy {
    modules,
    description
});
fields!(RawKind {
    parents,
    description
});
fields!(RawOrg {
    kind,
    parent,
    name,
    description
});
fields!(RawUser {
    org,
    identity,
    owner,
    attributes,
    description
});
fields!(RawRole {
    description,
    grants,
    includes,
    excludes,
    assignable_by,
    self_service,
    approval,
    identity_types,
    status,
    locked,
    published,
    from,
    remove,
    resources,
    dimensions,
    multiple,
});
fields!(RawAssignment {
    role,
    policy,
    user,
    org,
    inherit,
    by,
    locked,
    description,
    resources
});
fields!(RawPublication {
    role,
    org,
    publish,
    locked,
    description
});
fields!(RawExclusion {
    name,
    roles,
    max,
    per,
    description
});
fields!(RawRule {
    name,
    when,
    grant,
    locked,
    description
});
fields!(RawWhen {
    owner,
    identity,
    org_kind,
    org,
    attributes
});
fields!(RawGrant {
    roles,
    at,
    inherit,
    description,
    resources
});

impl Codec for RawResources {
    fn put(&self, out: &mut Out<'_>, _: Option<Span>) {
        self.0.put(out, None);
    }
    fn get(r: &mut In<'_>, _: Option<Span>) -> Option<Self> {
        Vec::get(r, None).map(RawResources)
    }
}

impl Codec for RawAt {
    fn put(&self, out: &mut Out<'_>, _: Option<Span>) {
        match self {
            RawAt::Home(SelfKeyword::Home) => out.bytes.push(0),
            RawAt::Descendants {
                descendants: Descendants::Any(AnyKeyword::Any),
            } => out.bytes.push(1),
            RawAt::Descendants {
                descendants: Descendants::Kinds(kinds),
            } => {
                out.bytes.push(2);
                kinds.put(out, None);
            }
        }
    }
    fn get(r: &mut In<'_>, _: Option<Span>) -> Option<Self> {
        Some(match r.byte()? {
            0 => RawAt::Home(SelfKeyword::Home),
            1 => RawAt::Descendants {
                descendants: Descendants::Any(AnyKeyword::Any),
            },
            2 => RawAt::Descendants {
                descendants: Descendants::Kinds(Vec::get(r, None)?),
            },
            _ => return None,
        })
    }
}

impl<T: Codec> Codec for Item<T> {
    fn put(&self, out: &mut Out<'_>, _: Option<Span>) {
        self.id.put(out, None);
        self.body.put(out, None);
    }
    /// An item whose id reading the text would have refused is not one
    /// the cache could have kept.
    fn get(r: &mut In<'_>, _: Option<Span>) -> Option<Self> {
        let id = Located::<String>::get(r, None)?;
        if !is_valid_id(&id.value) {
            return None;
        }
        Some(Item {
            id,
            body: T::get(r, None)?,
        })
    }
}

/// Items of a section a chunk holds: a large file's sections are read
/// back a chunk per core.
const CHUNK: usize = 1 << 14;

/// A section: its count of items, the byte length of each chunk of
/// [`CHUNK`] items (the last may hold fewer), then the chunks.
fn put_section<T: Codec>(items: &[T], out: &mut Out<'_>) {
    out.varint(items.len() as u64);
    let mut body = Out {
        bytes: Vec::new(),
        text: out.text,
    };
    for chunk in items.chunks(CHUNK) {
        let start = body.bytes.len();
        for item in chunk {
            item.put(&mut body, None);
        }
        out.varint((body.bytes.len() - start) as u64);
    }
    out.bytes.extend_from_slice(&body.bytes);
}

/// A section written by [`put_section`], its chunks read on every core
/// when there are several; each chunk must be read to its last byte.
fn get_section<T: Codec + Send>(r: &mut In<'_>) -> Option<Vec<T>> {
    use rayon::prelude::*;
    let n = r.count()?;
    let chunks = n.div_ceil(CHUNK);
    let mut lengths = Vec::with_capacity(chunks);
    for _ in 0..chunks {
        lengths.push(usize::try_from(r.varint()?).ok()?);
    }
    let mut parts = Vec::with_capacity(chunks);
    for (i, len) in lengths.into_iter().enumerate() {
        parts.push((r.take(len)?, CHUNK.min(n - i * CHUNK)));
    }
    let (file, text) = (r.file, r.text);
    let read = |&(bytes, count): &(&[u8], usize)| {
        let mut chunk = In {
            bytes,
            at: 0,
            file,
            text,
        };
        let mut items = Vec::with_capacity(count);
        for _ in 0..count {
            items.push(T::get(&mut chunk, None)?);
        }
        (chunk.at == bytes.len()).then_some(items)
    };
    match parts.as_slice() {
        [] => Some(Vec::new()),
        [one] => read(one),
        _ => {
            let read: Vec<Vec<T>> = parts.par_iter().map(read).collect::<Option<_>>()?;
            let mut items = Vec::with_capacity(n);
            for chunk in read {
                items.extend(chunk);
            }
            Some(items)
        }
    }
}

impl Codec for PolicyFile {
    fn put(&self, out: &mut Out<'_>, _: Option<Span>) {
        let PolicyFile {
            file: _,
            scope,
            sections,
            modules,
            policies,
            kinds,
            orgs,
            users,
            roles,
            assignments,
            publications,
            exclusions,
            automatic,
            dimensions,
            resources,
        } = self;
        scope.put(out, None);
        sections.put(out, None);
        put_section(modules, out);
        put_section(policies, out);
        put_section(kinds, out);
        put_section(orgs, out);
        put_section(users, out);
        put_section(roles, out);
        put_section(assignments, out);
        put_section(publications, out);
        put_section(exclusions, out);
        put_section(automatic, out);
        put_section(dimensions, out);
        put_section(resources, out);
    }
    /// The file's scope is `provider` or an org id, and its sections are
    /// sections, as reading the text makes them.
    fn get(r: &mut In<'_>, _: Option<Span>) -> Option<Self> {
        let scope = Located::<String>::get(r, None)?;
        if scope.value != "provider" && !is_valid_id(&scope.value) {
            return None;
        }
        let sections: Vec<Located<String>> = Codec::get(r, None)?;
        let section = |s: &Located<String>| {
            s.value != "scope" && s.value != "description" && FILE_KEYS.contains(&s.value.as_str())
        };
        if !sections.iter().all(section) {
            return None;
        }
        Some(PolicyFile {
            file: r.file,
            scope,
            sections,
            modules: get_section(r)?,
            policies: get_section(r)?,
            kinds: get_section(r)?,
            orgs: get_section(r)?,
            users: get_section(r)?,
            roles: get_section(r)?,
            assignments: get_section(r)?,
            publications: get_section(r)?,
            exclusions: get_section(r)?,
            automatic: get_section(r)?,
            dimensions: get_section(r)?,
            resources: get_section(r)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn get<T: Codec>(bytes: &[u8], text: &str, at: Option<Span>) -> Option<T> {
        let mut r = In {
            bytes,
            at: 0,
            file: FileId(3),
            text,
        };
        T::get(&mut r, at).filter(|_| r.at == bytes.len())
    }

    fn put<T: Codec>(value: &T, text: &str, at: Option<Span>) -> Vec<u8> {
        let mut out = Out {
            bytes: Vec::new(),
            text,
        };
        value.put(&mut out, at);
        out.bytes
    }

    #[test]
    fn values_read_back_as_written() {
        let text = "ab é cd";
        let span = Span::new(FileId(3), 3, 5);
        for s in ["", "é", "x y", "a\nb"] {
            assert_eq!(
                get::<String>(&put(&s.to_owned(), text, None), text, None),
                Some(s.into())
            );
        }
        // The text at the value's place is not written again.
        let there = put(&"é".to_owned(), text, Some(span));
        assert_eq!(there, [0]);
        assert_eq!(get::<String>(&there, text, Some(span)), Some("é".into()));
        assert_eq!(
            get::<String>(&there, text, None),
            None,
            "no place to take it from"
        );
        let located = Located::new("é".to_owned(), span);
        assert_eq!(
            get::<Located<String>>(&put(&located, text, None), text, None),
            Some(located)
        );
        let nested: Vec<Option<Box<(bool, u32)>>> = vec![None, Some(Box::new((true, 300)))];
        assert_eq!(
            get::<Vec<Option<Box<(bool, u32)>>>>(&put(&nested, text, None), text, None),
            Some(nested)
        );
        let map: BTreeMap<String, String> =
            [("a".into(), "1".into()), ("b".into(), "".into())].into();
        assert_eq!(
            get::<BTreeMap<String, String>>(&put(&map, text, None), text, None),
            Some(map)
        );
        for at in [
            RawAt::Home(SelfKeyword::Home),
            RawAt::Descendants {
                descendants: Descendants::Any(AnyKeyword::Any),
            },
            RawAt::Descendants {
                descendants: Descendants::Kinds(vec![]),
            },
        ] {
            assert_eq!(get::<RawAt>(&put(&at, text, None), text, None), Some(at));
        }
    }

    #[test]
    fn bytes_no_encoder_writes_are_refused() {
        let text = "ab é cd";
        assert_eq!(get::<bool>(&[2], text, None), None);
        assert_eq!(get::<Option<bool>>(&[2], text, None), None);
        assert_eq!(get::<RoleStatus>(&[2], text, None), None);
        assert_eq!(get::<RawAt>(&[3], text, None), None);
        assert_eq!(
            get::<u32>(&[0xff, 0xff, 0xff, 0xff, 0x1f], text, None),
            None,
            "past u32"
        );
        assert_eq!(
            get::<u32>(&[0x80; 11], text, None),
            None,
            "a varint past 64 bits"
        );
        assert_eq!(
            get::<String>(&[3, 0xc3, 0x28], text, None),
            None,
            "not UTF-8"
        );
        assert_eq!(
            get::<String>(&[5, b'a'], text, None),
            None,
            "shorter than said"
        );
        assert_eq!(
            get::<Vec<bool>>(&[0xff, 0xff, 0x03, 1], text, None),
            None,
            "a count past the end"
        );
        // Spans inside the text and on character boundaries only.
        assert_eq!(
            get::<Span>(&[3, 5], text, None),
            Some(Span::new(FileId(3), 3, 5))
        );
        assert_eq!(get::<Span>(&[4, 5], text, None), None, "inside é");
        assert_eq!(get::<Span>(&[5, 3], text, None), None, "backwards");
        assert_eq!(get::<Span>(&[0, 9], text, None), None, "past the end");
        // A map's keys ascending, each once.
        let twice = [2, 2, b'a', 1, 2, b'a', 1];
        assert_eq!(get::<BTreeMap<String, String>>(&twice, text, None), None);
    }
}

#[cfg(test)]
mod section_tests {
    use super::*;

    /// A section of several chunks reads back whole and in order; a chunk
    /// that is not read to its last byte refuses the payload.
    #[test]
    fn a_large_section_reads_back_a_chunk_per_core() {
        let mut text = String::from("scope: c1\nusers:\n");
        for i in 0..2 * CHUNK + 5 {
            text.push_str(&format!("  u{i}: {{ org: c1 }}\n"));
        }
        let (file, diags) =
            crate::load::load_bytes("t.yaml", text.as_bytes(), &crate::load::Limits::default());
        assert!(diags.is_empty(), "{diags:?}");
        let file = file.expect("items");
        assert_eq!(file.users.len(), 2 * CHUNK + 5);
        let payload = encode(&file, &text);
        assert_eq!(decode(&payload, file.file, &text), Some(file.clone()));
        // The users' chunk lengths follow the scope (a span and a zero),
        // the sections (a count and two keys) and four empty sections.
        let mut r = In {
            bytes: &payload,
            at: 0,
            file: file.file,
            text: &text,
        };
        let _ = Located::<String>::get(&mut r, None).expect("scope");
        let _ = Vec::<Located<String>>::get(&mut r, None).expect("sections");
        for _ in 0..4 {
            assert_eq!(r.varint(), Some(0));
        }
        assert_eq!(r.varint(), Some(file.users.len() as u64));
        let first_length = r.at;
        let length = r.varint().expect("a chunk's length");
        // A chunk said one byte longer (and the next one shorter) is not
        // read to its end.
        let mut lengths = Out {
            bytes: Vec::new(),
            text: &text,
        };
        lengths.varint(length + 1);
        let mut moved = payload[..first_length].to_vec();
        moved.extend_from_slice(&lengths.bytes);
        let second = r.varint().expect("the second length");
        let mut rest = Out {
            bytes: Vec::new(),
            text: &text,
        };
        rest.varint(second - 1);
        moved.extend_from_slice(&rest.bytes);
        moved.extend_from_slice(&payload[r.at..]);
        assert_eq!(moved.len(), payload.len(), "lengths of the same width");
        assert_eq!(decode(&moved, file.file, &text), None);
    }
}
