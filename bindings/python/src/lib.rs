//! `trellis`, the Python module: a compiled decision table loaded in the
//! process, answering the questions `trellis query` answers. A thin layer
//! over `trellis-table`: names are resolved through a [`NameIndex`] built
//! once per table, decisions are the runtime crate's own, and the batch
//! calls release the GIL while they run. The typing stubs are
//! `trellis.pyi`, beside `pyproject.toml`.

use std::collections::BTreeMap;
use std::path::PathBuf;

use pyo3::exceptions::{PyException, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyByteArray, PyDict, PyList};
use trellis_table::{
    Dimension, GrantEffect, Granted, NameIndex, Org, Perm, Policy, Resource, Step, Table, User,
};

pyo3::create_exception!(
    trellis,
    TableError,
    PyException,
    "A table file that cannot be read, or is not a valid trellis table: wrong magic number, \
     unsupported format version, truncated, checksum mismatch or a broken structure. The \
     message says which."
);

fn table_error(e: trellis_table::TableError) -> PyErr {
    TableError::new_err(e.to_string())
}

/// A compiled trellis decision table (`trellis compile -o FILE`), loaded
/// and validated. Immutable and safe to share between threads.
#[pyclass(frozen, module = "trellis", name = "Table")]
struct PyTable {
    table: Table,
    names: NameIndex,
}

/// A question resolved to handles; `None` when a name is unknown.
type Question = (User, Perm, Org, Option<Resource>);

/// A handle from a Python integer: out of range is no handle (`None`),
/// which the table answers as unknown.
fn handle(v: i64) -> Option<u32> {
    u32::try_from(v).ok().filter(|h| *h != trellis_table::NONE)
}

impl PyTable {
    fn new(table: Table) -> PyTable {
        let names = NameIndex::new(&table);
        PyTable { table, names }
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

    /// What `explain` says of names it does not know, as `trellis query`.
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

    fn decide_handles(&self, u: i64, p: i64, x: Option<i64>, q: Option<i64>) -> bool {
        // No resource (None or negative), a resource, or an unknown one.
        let r = match q.filter(|q| *q >= 0).map(handle) {
            Some(None) => return false,
            Some(Some(q)) => Some(Resource(q)),
            None => None,
        };
        let x = match x.filter(|x| *x >= 0) {
            Some(x) => handle(x).map(Org),
            None => r.and_then(|r| self.table.resource_org(r)),
        };
        match (handle(u), handle(p), x) {
            (Some(u), Some(p), Some(x)) => self.table.allow_on(User(u), Perm(p), x, r),
            _ => false,
        }
    }

    /// `allow_many` over numpy integer arrays of handles.
    fn allow_many_arrays<'py>(
        &self,
        py: Python<'py>,
        users: &Bound<'py, PyAny>,
        permissions: &Bound<'py, PyAny>,
        orgs: &Bound<'py, PyAny>,
        resources: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let np = py.import("numpy")?;
        let int64 = np.getattr("int64")?;
        let column = |a: &Bound<'py, PyAny>| -> PyResult<Vec<i64>> {
            let flat = np
                .call_method1("ascontiguousarray", (a, &int64))?
                .call_method0("ravel")?;
            let bytes: Vec<u8> = flat.call_method0("tobytes")?.extract()?;
            Ok(bytes
                .as_chunks::<8>()
                .0
                .iter()
                .map(|b| i64::from_ne_bytes(*b))
                .collect())
        };
        let (u, p, x) = (column(users)?, column(permissions)?, column(orgs)?);
        let q = resources.map(column).transpose()?;
        let n = u.len();
        if p.len() != n || x.len() != n || q.as_ref().is_some_and(|q| q.len() != n) {
            return Err(PyValueError::new_err(
                "allow_many: users, permissions, orgs and resources must have the same length",
            ));
        }
        let out: Vec<u8> = py.detach(|| {
            (0..n)
                .map(|i| {
                    let at = |v: &[i64]| v.get(i).copied().unwrap_or(-1);
                    let q = q.as_deref().map(at).filter(|q| *q >= 0);
                    u8::from(self.decide_handles(at(&u), at(&p), Some(at(&x)), q))
                })
                .collect()
        });
        let buf = PyByteArray::new(py, &out);
        np.call_method1("frombuffer", (buf, np.getattr("bool_")?))
    }
}

/// A `list[str | None]` argument, or `None` for a list of `None`s.
fn optional_names(v: Option<&Bound<'_, PyAny>>, n: usize) -> PyResult<Vec<Option<String>>> {
    match v {
        None => Ok(vec![None; n]),
        Some(v) if v.is_none() => Ok(vec![None; n]),
        Some(v) => v.extract(),
    }
}

fn is_array(v: &Bound<'_, PyAny>) -> PyResult<bool> {
    if !v.hasattr("dtype")? || !v.hasattr("ravel")? {
        return Ok(false);
    }
    let kind: String = v.getattr("dtype")?.getattr("kind")?.extract()?;
    Ok(kind == "i" || kind == "u")
}

#[pymethods]
impl PyTable {
    /// Maps the table file at `path` and validates it (magic, version,
    /// checksum, structure). Raises `TableError` on a file that cannot be
    /// read or is not a valid table.
    #[staticmethod]
    fn open(py: Python<'_>, path: PathBuf) -> PyResult<PyTable> {
        py.detach(|| Table::open(&path).map(PyTable::new))
            .map_err(table_error)
    }

    /// Validates a table held in memory (the bytes are copied once).
    /// Raises `TableError` on bytes that are not a valid table.
    #[staticmethod]
    fn from_bytes(py: Python<'_>, data: &[u8]) -> PyResult<PyTable> {
        py.detach(|| Table::from_bytes(data).map(PyTable::new))
            .map_err(table_error)
    }

    /// The hash of the inputs the table was compiled from, 16 hex digits.
    #[getter]
    fn input_hash(&self) -> String {
        format!("{:016x}", self.table.input_hash())
    }

    /// Number of users (user handles are `0..user_count`).
    #[getter]
    fn user_count(&self) -> usize {
        self.table.user_count()
    }

    /// Number of orgs (org handles are `0..org_count`).
    #[getter]
    fn org_count(&self) -> usize {
        self.table.org_count()
    }

    fn __repr__(&self) -> String {
        format!(
            "<trellis.Table input_hash={:016x} users={} orgs={} roles={}>",
            self.table.input_hash(),
            self.table.user_count(),
            self.table.org_count(),
            self.table.role_count()
        )
    }

    /// May `user` do `permission` (`module:action`) at `org`, or on
    /// `resource` (at its own org when `org` is left out)? Unknown names
    /// answer `False`.
    #[pyo3(signature = (user, permission, org=None, resource=None))]
    fn allow(
        &self,
        user: &str,
        permission: &str,
        org: Option<&str>,
        resource: Option<&str>,
    ) -> bool {
        self.decide(self.resolve(user, permission, org, resource))
    }

    /// The decision by handles (from `user()`, `permission()`, `org()`,
    /// `resource()`); an unknown handle answers `False`. With `x` None,
    /// the resource's own org.
    #[pyo3(signature = (u, p, x=None, q=None))]
    fn allow_handles(&self, u: i64, p: i64, x: Option<i64>, q: Option<i64>) -> bool {
        self.decide_handles(u, p, x, q)
    }

    /// Many decisions at once, the GIL released while they run. Over
    /// sequences of names (`orgs` and `resources` may hold `None`), a
    /// `list[bool]`; over numpy integer arrays of handles (`-1` for no
    /// resource, or for "the resource's org"), a numpy bool array.
    /// `orgs` may be left out when every question names a resource of an org.
    #[pyo3(signature = (users, permissions, orgs=None, resources=None))]
    fn allow_many<'py>(
        &self,
        py: Python<'py>,
        users: &Bound<'py, PyAny>,
        permissions: &Bound<'py, PyAny>,
        orgs: Option<&Bound<'py, PyAny>>,
        resources: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        if is_array(users)? {
            let orgs = orgs.ok_or_else(|| {
                PyValueError::new_err("allow_many over handles: give `orgs` (-1 for none)")
            })?;
            let resources = resources.filter(|r| !r.is_none());
            return self.allow_many_arrays(py, users, permissions, orgs, resources);
        }
        let users: Vec<String> = users.extract()?;
        let permissions: Vec<String> = permissions.extract()?;
        let n = users.len();
        let orgs = optional_names(orgs, n)?;
        let resources = optional_names(resources, n)?;
        if permissions.len() != n || orgs.len() != n || resources.len() != n {
            return Err(PyValueError::new_err(
                "allow_many: users, permissions, orgs and resources must have the same length",
            ));
        }
        let out: Vec<bool> = py.detach(|| {
            users
                .iter()
                .zip(&permissions)
                .zip(orgs.iter().zip(&resources))
                .map(|((u, p), (x, q))| self.decide(self.resolve(u, p, x.as_deref(), q.as_deref())))
                .collect()
        });
        Ok(PyList::new(py, out)?.into_any())
    }

    /// The handle of user `name`, or None.
    fn user(&self, name: &str) -> Option<u32> {
        self.names.user(&self.table, name).map(|h| h.0)
    }
    /// The handle of org `name`, or None.
    fn org(&self, name: &str) -> Option<u32> {
        self.names.org(&self.table, name).map(|h| h.0)
    }
    /// The handle of permission `module:action`, or None.
    fn permission(&self, name: &str) -> Option<u32> {
        self.names.permission(&self.table, name).map(|h| h.0)
    }
    /// The handle of resource `name`, or None.
    fn resource(&self, name: &str) -> Option<u32> {
        self.names.resource(&self.table, name).map(|h| h.0)
    }
    /// The handle of role `owner::name` (or a bare name held by one owner only), or None.
    fn role(&self, name: &str) -> Option<u32> {
        self.table.role(name).map(|h| h.0)
    }
    /// The handle of access policy `name`, or None.
    fn policy(&self, name: &str) -> Option<u32> {
        self.table.policy(name).map(|h| h.0)
    }
    /// The handle of dimension `name`, or None.
    fn dimension(&self, name: &str) -> Option<u32> {
        self.table.dimension(name).map(|h| h.0)
    }

    /// The effective roles of `user` at `org`, by display name, sorted;
    /// empty for unknown names.
    fn roles(&self, user: &str, org: &str) -> Vec<String> {
        let (t, n) = (&self.table, &self.names);
        match (n.user(t, user), n.org(t, org)) {
            (Some(u), Some(x)) => t
                .roles(u, x)
                .into_iter()
                .map(|r| t.role_name(r).to_owned())
                .collect(),
            _ => Vec::new(),
        }
    }

    /// The access policies reaching `user` at `org`, sorted by id; empty
    /// for unknown names.
    fn policies(&self, user: &str, org: &str) -> Vec<String> {
        let (t, n) = (&self.table, &self.names);
        match (n.user(t, user), n.org(t, org)) {
            (Some(u), Some(x)) => t
                .policies(u, x)
                .into_iter()
                .map(|p: Policy| t.policy_name(p).to_owned())
                .collect(),
            _ => Vec::new(),
        }
    }

    /// Every user allowed `permission` at `org` (or on `resource`), in id
    /// order; empty for unknown names.
    #[pyo3(signature = (permission, org=None, resource=None))]
    fn who(
        &self,
        py: Python<'_>,
        permission: &str,
        org: Option<&str>,
        resource: Option<&str>,
    ) -> Vec<String> {
        let (t, n) = (&self.table, &self.names);
        let q = match resource {
            Some(r) => match n.resource(t, r) {
                Some(q) => Some(q),
                None => return Vec::new(),
            },
            None => None,
        };
        let (Some(p), Some(x)) = (n.permission(t, permission), self.org_of(org, q)) else {
            return Vec::new();
        };
        py.detach(|| {
            t.who_on(p, x, q)
                .into_iter()
                .map(|u| t.user_name(u).to_owned())
                .collect()
        })
    }

    /// Is `role` published at `org`? False for unknown names.
    fn published(&self, role: &str, org: &str) -> bool {
        let t = &self.table;
        match (t.role(role), self.names.org(t, org)) {
            (Some(r), Some(x)) => t.published(r, x),
            _ => false,
        }
    }

    /// May `admin` give `role` to `user` at `org`, with assignment
    /// `resources` (dimension -> resource ids)? False for unknown names,
    /// or a resource not of its dimension.
    #[pyo3(signature = (admin, role, user, org, resources=None))]
    fn can_assign(
        &self,
        admin: &str,
        role: &str,
        user: &str,
        org: &str,
        resources: Option<BTreeMap<String, Vec<String>>>,
    ) -> bool {
        let (t, n) = (&self.table, &self.names);
        let (Some(a), Some(r), Some(u), Some(x)) = (
            n.user(t, admin),
            t.role(role),
            n.user(t, user),
            n.org(t, org),
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

    /// Why the decision is what it is: a dict with `decision` ("allow" or
    /// "deny"), `allowed` (bool), `lines` (what `trellis query --explain`
    /// prints), `steps` (dicts, as the decision server's `/v1/explain`)
    /// and `unknown` (the names the table does not know).
    #[pyo3(signature = (user, permission, org=None, resource=None))]
    fn explain<'py>(
        &self,
        py: Python<'py>,
        user: &str,
        permission: &str,
        org: Option<&str>,
        resource: Option<&str>,
    ) -> PyResult<Bound<'py, PyDict>> {
        let t = &self.table;
        let out = PyDict::new(py);
        let steps = PyList::empty(py);
        match self.resolve(user, permission, org, resource) {
            Some((u, p, x, q)) => {
                let why = t.explain_on(u, p, x, q);
                out.set_item("decision", why.decision.as_str())?;
                out.set_item("allowed", why.decision == trellis_table::Decision::Allow)?;
                out.set_item("lines", why.lines(t))?;
                for step in &why.steps {
                    steps.append(step_dict(py, t, step)?)?;
                }
                out.set_item("unknown", PyList::empty(py))?;
            }
            None => {
                let unknown = self.unknown(user, permission, org, resource);
                out.set_item("decision", "deny")?;
                out.set_item("allowed", false)?;
                out.set_item("lines", &unknown)?;
                out.set_item("unknown", unknown)?;
            }
        }
        out.set_item("steps", steps)?;
        Ok(out)
    }
}

/// One explanation step as a dict, with the keys of the decision server's.
fn step_dict<'py>(py: Python<'py>, t: &Table, step: &Step) -> PyResult<Bound<'py, PyDict>> {
    let d = PyDict::new(py);
    match step {
        Step::NoGrant => d.set_item("kind", "no_grant")?,
        Step::OtherDimension => d.set_item("kind", "other_dimension")?,
        Step::OtherOrg { owner } => {
            d.set_item("kind", "other_org")?;
            d.set_item("owner", t.org_name(*owner))?;
        }
        Step::Gate { opened } => {
            d.set_item("kind", "gate")?;
            d.set_item("opened", *opened)?;
        }
        Step::Grant { grant, effect } => {
            d.set_item("kind", "grant")?;
            let (role, policy) = match grant.granted {
                Granted::Role(r) => (Some(t.role_name(r)), None),
                Granted::Policy(p) => (None, Some(t.policy_name(p))),
            };
            d.set_item("role", role)?;
            d.set_item("policy", policy)?;
            d.set_item("at", t.org_name(grant.anchor))?;
            d.set_item("locked", grant.locked)?;
            let resources = PyDict::new(py);
            for (dim, list) in &grant.resources {
                let ids: Vec<&str> = list.iter().map(|q| t.resource_name(*q)).collect();
                resources.set_item(t.dimension_name(*dim), ids)?;
            }
            d.set_item("resources", resources)?;
            d.set_item("source", grant.source.as_deref())?;
            d.set_item(
                "effect",
                match effect {
                    GrantEffect::Gives => "gives",
                    GrantEffect::Restricted => "restricted",
                    GrantEffect::NotPublished => "not_published",
                    GrantEffect::Other => "other",
                },
            )?;
        }
    }
    Ok(d)
}

/// Decision tables of trellis, in-process: `Table.open(path)`, then
/// `table.allow(user, permission, org)`.
#[pymodule]
fn trellis(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PyTable>()?;
    m.add("TableError", m.py().get_type::<TableError>())?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    Ok(())
}
