//! The native half of the `trellis` Node.js package: a compiled decision
//! table loaded in the process, answering the questions `trellis query`
//! answers. A thin napi-rs layer over `trellis-table`, behaving as the
//! Python package does (`bindings/python/src/lib.rs`): names are resolved
//! through a [`NameIndex`] built once per table, decisions are the runtime
//! crate's own.
//!
//! JavaScript never sees this layer directly: `index.js` wraps the class
//! exported here (`NativeTable`) in the package's `Table`, turns the errors
//! coded `TableError` into its `TableError` class, and picks the batch
//! call by the argument's type. The declarations are `index.d.ts`.

use std::collections::BTreeMap;

use napi::bindgen_prelude::{Uint8Array, Utf16String};
use napi::{Error, Status};
use napi_derive::napi;
use serde_json::{json, Value};
use trellis_table::{
    Decision, Dimension, NameIndex, Org, Perm, Policy, Resource, Table, User, NONE,
};

/// The `code` of the errors `index.js` rethrows as its `TableError`.
pub struct TableErrorCode;

impl AsRef<str> for TableErrorCode {
    fn as_ref(&self) -> &str {
        "TableError"
    }
}

fn table_error(e: trellis_table::TableError) -> Error<TableErrorCode> {
    Error::new(TableErrorCode, e.to_string())
}

/// A question resolved to handles; `None` when a name is unknown.
type Question = (User, Perm, Org, Option<Resource>);

/// A handle from a JavaScript number: anything but an integer in
/// `0..NONE` is no handle, which the table answers as unknown.
fn handle(v: f64) -> Option<u32> {
    let ok = v.fract() == 0.0 && v >= 0.0 && v < f64::from(NONE);
    // In range and integral: the cast is exact.
    ok.then_some(v as u32)
}

/// A compiled trellis decision table, loaded and validated. Immutable.
#[napi(js_name = "NativeTable")]
pub struct NativeTable {
    table: Table,
    names: NameIndex,
}

impl NativeTable {
    fn new(table: Table) -> NativeTable {
        let names = NameIndex::new(&table);
        NativeTable { table, names }
    }

    /// The org a question is asked at: the one named, else the resource's.
    fn org_of(&self, org: Option<&str>, resource: Option<Resource>) -> Option<Org> {
        self.names.org_of(&self.table, org, resource)
    }

    fn resolve(
        &self,
        user: &str,
        permission: &str,
        org: Option<&str>,
        resource: Option<&str>,
    ) -> Option<Question> {
        self.names
            .question(&self.table, user, permission, org, resource)
    }

    /// What `explain` says of names it does not know, as `trellis query`
    /// (and the Python package) say it.
    fn unknown(
        &self,
        user: &str,
        permission: &str,
        org: Option<&str>,
        resource: Option<&str>,
    ) -> Vec<String> {
        let (t, n) = (&self.table, &self.names);
        let mut out = Vec::new();
        if n.user(t, user).is_none() {
            out.push(format!("unknown user `{user}`"));
        }
        if n.permission(t, permission).is_none() {
            out.push(format!("unknown permission `{permission}`"));
        }
        let q = resource.and_then(|r| n.resource(t, r));
        if let (Some(r), None) = (resource, q) {
            out.push(format!("unknown resource `{r}`"));
        }
        match org.filter(|o| !o.is_empty()) {
            Some(o) if n.org(t, o).is_none() => out.push(format!("unknown org `{o}`")),
            Some(_) => {}
            None if q.is_some() && self.org_of(None, q).is_none() => {
                out.push("no org: the resource belongs to no org, give `org`".to_owned())
            }
            None if resource.is_none() => out.push("no org given".to_owned()),
            None => {}
        }
        out
    }

    fn decide(&self, q: Option<Question>) -> bool {
        q.is_some_and(|(u, p, x, r)| self.table.allow_on(u, p, x, r))
    }

    /// The decision by raw handles, `NONE` in `x` for the resource's own
    /// org and in `q` for no resource.
    fn decide_raw(&self, u: u32, p: u32, x: u32, q: u32) -> bool {
        let r = (q != NONE).then_some(Resource(q));
        let x = match x {
            NONE => r.and_then(|r| self.table.resource_org(r)),
            x => Some(Org(x)),
        };
        match x {
            Some(x) if u != NONE && p != NONE => self.table.allow_on(User(u), Perm(p), x, r),
            _ => false,
        }
    }
}

#[napi]
impl NativeTable {
    /// Maps the table file at `path` and validates it.
    #[napi(factory)]
    pub fn open(path: String) -> Result<NativeTable, Error<TableErrorCode>> {
        Table::open(&path)
            .map(NativeTable::new)
            .map_err(table_error)
    }

    /// Validates a table held in memory (copied once).
    #[napi(factory)]
    pub fn from_bytes(data: &[u8]) -> Result<NativeTable, Error<TableErrorCode>> {
        Table::from_bytes(data)
            .map(NativeTable::new)
            .map_err(table_error)
    }

    /// The hash of the inputs the table was compiled from, 16 hex digits.
    #[napi(getter)]
    pub fn input_hash(&self) -> String {
        format!("{:016x}", self.table.input_hash())
    }

    /// Number of users.
    #[napi(getter)]
    pub fn user_count(&self) -> u32 {
        u32::try_from(self.table.user_count()).unwrap_or(u32::MAX)
    }

    /// Number of orgs.
    #[napi(getter)]
    pub fn org_count(&self) -> u32 {
        u32::try_from(self.table.org_count()).unwrap_or(u32::MAX)
    }

    /// Number of roles.
    #[napi(getter)]
    pub fn role_count(&self) -> u32 {
        u32::try_from(self.table.role_count()).unwrap_or(u32::MAX)
    }

    /// The decision by names; unknown names answer false.
    #[napi]
    pub fn allow(
        &self,
        user: String,
        permission: String,
        org: Option<String>,
        resource: Option<String>,
    ) -> bool {
        self.decide(self.resolve(&user, &permission, org.as_deref(), resource.as_deref()))
    }

    /// The decision by handles; a missing or unknown handle answers false,
    /// a missing org is the resource's own, a missing resource none.
    #[napi]
    pub fn allow_handles(
        &self,
        u: Option<f64>,
        p: Option<f64>,
        x: Option<f64>,
        q: Option<f64>,
    ) -> bool {
        let (Some(u), Some(p)) = (u.and_then(handle), p.and_then(handle)) else {
            return false;
        };
        // As in Python: null (or negative) is "none"; any other number
        // that is not a handle is unknown and answers deny (a resource
        // never silently becomes "no resource").
        let none_or = |v: Option<f64>| match v {
            None => Some(NONE),
            Some(v) if v < 0.0 => Some(NONE),
            Some(v) => handle(v),
        };
        let (Some(x), Some(q)) = (none_or(x), none_or(q)) else {
            return false;
        };
        self.decide_raw(u, p, x, q)
    }

    /// Many decisions by names: question `i` is `users[i]`,
    /// `permissions[i]`, `orgs[i]`, `resources[i]`.
    #[napi]
    pub fn allow_many_names(
        &self,
        users: Vec<String>,
        permissions: Vec<String>,
        orgs: Vec<Option<String>>,
        resources: Vec<Option<String>>,
    ) -> napi::Result<Vec<bool>> {
        let n = users.len();
        if permissions.len() != n || orgs.len() != n || resources.len() != n {
            return Err(Error::new(
                Status::InvalidArg,
                "allowMany: users, permissions, orgs and resources must have the same length",
            ));
        }
        Ok(users
            .iter()
            .zip(&permissions)
            .zip(orgs.iter().zip(&resources))
            .map(|((u, p), (x, q))| self.decide(self.resolve(u, p, x.as_deref(), q.as_deref())))
            .collect())
    }

    /// Many decisions by names, read in one piece: `text` is every name
    /// of every question end to end (user, permission, org, resource),
    /// `lengths` their lengths in UTF-16 code units, four to a question,
    /// `0xFFFFFFFF` for an org or resource left out. `index.js` packs
    /// them so (one string and one array cross into Rust, instead of four
    /// strings a question); the answers are `allowManyNames`'s, one byte
    /// (0 or 1) each, which `index.js` turns into booleans (cheaper in
    /// JavaScript than napi's one call per element of a `boolean[]`).
    #[napi]
    pub fn allow_many_packed_names(
        &self,
        text: Utf16String,
        lengths: &[u32],
    ) -> napi::Result<Uint8Array> {
        let (questions, rest) = lengths.as_chunks::<4>();
        let total: u64 = lengths
            .iter()
            .filter(|n| **n != NONE)
            .map(|n| u64::from(*n))
            .sum();
        if !rest.is_empty() || total != text.len() as u64 {
            return Err(Error::new(
                Status::InvalidArg,
                "allowMany: the lengths do not add up to the packed names",
            ));
        }
        let mut units: &[u16] = &text;
        // One buffer for the four names of a question, reused: UTF-8,
        // written a byte a unit while the names are ASCII.
        let mut buf: Vec<u8> = Vec::new();
        let mut out = Vec::with_capacity(questions.len());
        for lens in questions {
            buf.clear();
            let mut ends = [None; 4];
            for (end, &n) in ends.iter_mut().zip(lens) {
                if n == NONE {
                    continue;
                }
                let Some((name, tail)) = units.split_at_checked(n as usize) else {
                    return Err(Error::new(
                        Status::InvalidArg,
                        "allowMany: the lengths do not add up to the packed names",
                    ));
                };
                units = tail;
                if name.iter().all(|u| *u < 0x80) {
                    // In range: the cast is exact.
                    buf.extend(name.iter().map(|u| *u as u8));
                } else {
                    // As napi's own conversion to UTF-8: a lone surrogate is U+FFFD.
                    for c in char::decode_utf16(name.iter().copied()) {
                        let c = c.unwrap_or('\u{FFFD}');
                        buf.extend_from_slice(c.encode_utf8(&mut [0; 4]).as_bytes());
                    }
                }
                *end = Some(buf.len());
            }
            // Valid UTF-8 by construction; were it not, no name would match.
            let Ok(text) = std::str::from_utf8(&buf) else {
                out.push(0);
                continue;
            };
            let mut start = 0;
            let mut name = |end: Option<usize>| {
                end.map(|e| {
                    let s = text.get(start..e).unwrap_or("");
                    start = e;
                    s
                })
            };
            let (u, p, x, q) = (name(ends[0]), name(ends[1]), name(ends[2]), name(ends[3]));
            out.push(u8::from(self.decide(self.resolve(
                u.unwrap_or(""),
                p.unwrap_or(""),
                x,
                q,
            ))));
        }
        Ok(Uint8Array::new(out))
    }

    /// Many decisions by handles, packed four to a question (user,
    /// permission, org, resource; `0xFFFFFFFF` in the org for the
    /// resource's own, in the resource for none): one byte (0 or 1) each.
    #[napi]
    pub fn allow_many_handles(&self, packed: &[u32]) -> napi::Result<Uint8Array> {
        let (questions, rest) = packed.as_chunks::<4>();
        if !rest.is_empty() {
            return Err(Error::new(
                Status::InvalidArg,
                "allowMany over handles: the length must be a multiple of 4 \
                 (user, permission, org, resource per question)",
            ));
        }
        let out: Vec<u8> = questions
            .iter()
            .map(|[u, p, x, q]| u8::from(self.decide_raw(*u, *p, *x, *q)))
            .collect();
        Ok(Uint8Array::new(out))
    }

    /// The handle of user `name`, or null.
    #[napi]
    pub fn user(&self, name: String) -> Option<u32> {
        self.names.user(&self.table, &name).map(|h| h.0)
    }

    /// The handle of org `name`, or null.
    #[napi]
    pub fn org(&self, name: String) -> Option<u32> {
        self.names.org(&self.table, &name).map(|h| h.0)
    }

    /// The handle of permission `module:action`, or null.
    #[napi]
    pub fn permission(&self, name: String) -> Option<u32> {
        self.names.permission(&self.table, &name).map(|h| h.0)
    }

    /// The handle of resource `name`, or null.
    #[napi]
    pub fn resource(&self, name: String) -> Option<u32> {
        self.names.resource(&self.table, &name).map(|h| h.0)
    }

    /// The handle of role `owner::name` (or a bare name one owner holds), or null.
    #[napi]
    pub fn role(&self, name: String) -> Option<u32> {
        self.table.role(&name).map(|h| h.0)
    }

    /// The handle of access policy `name`, or null.
    #[napi]
    pub fn policy(&self, name: String) -> Option<u32> {
        self.table.policy(&name).map(|h| h.0)
    }

    /// The handle of dimension `name`, or null.
    #[napi]
    pub fn dimension(&self, name: String) -> Option<u32> {
        self.table.dimension(&name).map(|h| h.0)
    }

    /// The effective roles of `user` at `org`, by display name, sorted.
    #[napi]
    pub fn roles(&self, user: String, org: String) -> Vec<String> {
        let (t, n) = (&self.table, &self.names);
        match (n.user(t, &user), n.org(t, &org)) {
            (Some(u), Some(x)) => t
                .roles(u, x)
                .into_iter()
                .map(|r| t.role_name(r).to_owned())
                .collect(),
            _ => Vec::new(),
        }
    }

    /// The access policies reaching `user` at `org`, sorted by id.
    #[napi]
    pub fn policies(&self, user: String, org: String) -> Vec<String> {
        let (t, n) = (&self.table, &self.names);
        match (n.user(t, &user), n.org(t, &org)) {
            (Some(u), Some(x)) => t
                .policies(u, x)
                .into_iter()
                .map(|p: Policy| t.policy_name(p).to_owned())
                .collect(),
            _ => Vec::new(),
        }
    }

    /// Every user allowed `permission` at `org` (or on `resource`), in id order.
    #[napi]
    pub fn who(
        &self,
        permission: String,
        org: Option<String>,
        resource: Option<String>,
    ) -> Vec<String> {
        let (t, n) = (&self.table, &self.names);
        let q = match resource {
            Some(r) => match n.resource(t, &r) {
                Some(q) => Some(q),
                None => return Vec::new(),
            },
            None => None,
        };
        let (Some(p), Some(x)) = (n.permission(t, &permission), self.org_of(org.as_deref(), q))
        else {
            return Vec::new();
        };
        t.who_on(p, x, q)
            .into_iter()
            .map(|u| t.user_name(u).to_owned())
            .collect()
    }

    /// Is `role` published at `org`?
    #[napi]
    pub fn published(&self, role: String, org: String) -> bool {
        let t = &self.table;
        match (t.role(&role), self.names.org(t, &org)) {
            (Some(r), Some(x)) => t.published(r, x),
            _ => false,
        }
    }

    /// May `admin` give `role` to `user` at `org`, with the assignment's
    /// `resources` (dimension -> resource ids)?
    #[napi]
    pub fn can_assign(
        &self,
        admin: String,
        role: String,
        user: String,
        org: String,
        resources: Option<BTreeMap<String, Vec<String>>>,
    ) -> bool {
        let (t, n) = (&self.table, &self.names);
        let (Some(a), Some(r), Some(u), Some(x)) = (
            n.user(t, &admin),
            t.role(&role),
            n.user(t, &user),
            n.org(t, &org),
        ) else {
            return false;
        };
        let mut given: Vec<(Dimension, Vec<Resource>)> = Vec::new();
        for (dim, ids) in resources.unwrap_or_default() {
            let Some(d) = t.dimension(&dim) else {
                return false;
            };
            let mut list = Vec::new();
            for id in ids {
                match n.resource(t, &id) {
                    Some(q) if t.resource_dimension(q) == Some(d) => list.push(q),
                    _ => return false,
                }
            }
            given.push((d, list));
        }
        let borrowed: Vec<(Dimension, &[Resource])> =
            given.iter().map(|(d, v)| (*d, v.as_slice())).collect();
        t.can_assign_with(a, r, u, x, &borrowed)
    }

    /// Why the decision is what it is, as a plain object: `decision`,
    /// `allowed`, `lines`, `steps`, `unknown` (the Python package's shape).
    #[napi(ts_return_type = "Explanation")]
    pub fn explain(
        &self,
        user: String,
        permission: String,
        org: Option<String>,
        resource: Option<String>,
    ) -> Value {
        let t = &self.table;
        let (org, resource) = (org.as_deref(), resource.as_deref());
        match self.resolve(&user, &permission, org, resource) {
            Some((u, p, x, q)) => {
                let why = t.explain_on(u, p, x, q);
                let steps: Vec<Value> = why.steps.iter().map(|s| s.to_json(t)).collect();
                json!({
                    "decision": why.decision.as_str(),
                    "allowed": why.decision == Decision::Allow,
                    "lines": why.lines(t),
                    "unknown": [],
                    "steps": steps,
                })
            }
            None => {
                let unknown = self.unknown(&user, &permission, org, resource);
                json!({
                    "decision": "deny",
                    "allowed": false,
                    "lines": unknown,
                    "unknown": unknown,
                    "steps": [],
                })
            }
        }
    }
}

/// The version of this package.
#[napi]
pub fn version() -> &'static str {
    env!("CARGO_PKG_VERSION")
}
