//! `bench-cedar`: trellis decisions against Cedar on the same generated workload.
//!
//! ```sh
//! bench-cedar --set DIR [--queries N] [--cedar-queries K] [--label NAME] [--no-slice]
//! ```
//!
//! Loads a policy set written by `examples/generate` with trellis, compiles
//! the trellis decision table, models the same org tree, users, roles and
//! assignments in Cedar (entities, action groups, template-linked policies;
//! see README.md), answers the first N queries of `DIR/queries.jsonl` with
//! trellis, the first K of them (default all N) with Cedar's full
//! PolicySet, all N with Cedar on a per-principal slice of it (unless
//! `--no-slice`), and prints latencies, build times, the agreement rate and a
//! Markdown table row.
//!
//! The Cedar model leaves out publication, identity types, gated modules and
//! automatic rules, so the two engines do not agree on every query; the
//! output says how often and why.

use std::collections::hash_map::Entry;
use std::collections::{HashMap, HashSet};
use std::error::Error;
use std::hint::black_box;
use std::io::BufRead;
use std::path::PathBuf;
use std::str::FromStr;
use std::time::{Duration, Instant};

use cedar_policy::{
    Authorizer, Context, Decision, Entities, Entity, EntityId, EntityTypeName, EntityUid, PolicyId,
    PolicySet, Request, SlotId, Template,
};
use fixedbitset::FixedBitSet;
use trellis::model::{Grant, Model, OrgId, PermId, RoleId, Target, UserId};
use trellis::table;

type Res<T> = Result<T, Box<dyn Error>>;

/// Trellis decisions are timed in batches of this many queries.
const BATCH: usize = 64;

struct Args {
    set: PathBuf,
    queries: usize,
    cedar_queries: Option<usize>,
    label: Option<String>,
    slice: bool,
}

fn usage() -> String {
    "usage: bench-cedar --set DIR [--queries N (default 20000)] [--cedar-queries K (default N)] [--label NAME] [--no-slice]".into()
}

fn parse_args() -> Res<Args> {
    let mut set = None;
    let mut queries = 20_000;
    let mut cedar_queries = None;
    let mut label = None;
    let mut slice = true;
    let mut it = std::env::args().skip(1);
    while let Some(a) = it.next() {
        match a.as_str() {
            "--set" => set = Some(PathBuf::from(it.next().ok_or_else(usage)?)),
            "--queries" => queries = it.next().ok_or_else(usage)?.parse()?,
            "--cedar-queries" => cedar_queries = Some(it.next().ok_or_else(usage)?.parse()?),
            "--label" => label = Some(it.next().ok_or_else(usage)?),
            "--no-slice" => slice = false,
            "-h" | "--help" => {
                println!("{}", usage());
                std::process::exit(0);
            }
            _ => return Err(format!("unknown argument `{a}`\n{}", usage()).into()),
        }
    }
    Ok(Args {
        set: set.ok_or_else(usage)?,
        queries,
        cedar_queries,
        label,
        slice,
    })
}

/// One query, resolved for both engines before any timing.
struct Query {
    // trellis table handles
    tu: table::User,
    tp: table::Perm,
    tx: table::Org,
    // trellis model ids (reference semantics, breakdown of disagreements)
    mu: UserId,
    mp: PermId,
    mx: OrgId,
    request: Request,
}

fn uid(ty: &EntityTypeName, id: &str) -> EntityUid {
    EntityUid::from_type_name_and_id(ty.clone(), EntityId::new(id))
}

/// A Cedar string literal (ids and role names never need escaping, but be safe).
fn cedar_str(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            _ => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Permissions a role grants including through `includes`: the union of the
/// `perms` of every active role in its closure (identity types ignored; the
/// closure does not go through a disabled role, as in trellis).
fn role_group_perms(m: &Model) -> Vec<FixedBitSet> {
    let nperms = m.perms.len();
    (0..m.roles.len())
        .map(|r| {
            let mut set = FixedBitSet::with_capacity(nperms);
            let mut seen = HashSet::new();
            let mut stack = vec![RoleId(r as u32)];
            while let Some(r) = stack.pop() {
                let role = m.role(r);
                if !role.active || !seen.insert(r) {
                    continue;
                }
                set.union_with(&role.perms);
                if !role.cyclic {
                    stack.extend(role.includes.iter().map(|(i, _)| *i));
                }
            }
            set
        })
        .collect()
}

/// The template of one role for one shape of holding.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
struct Shape {
    role: RoleId,
    /// Org assignment: `principal in ?principal` (an `OrgMembers` group).
    group: bool,
    /// `resource in ?resource` (inherit) or `resource == ?resource`.
    inherit: bool,
}

impl Shape {
    fn id(&self) -> String {
        format!(
            "t{}-{}{}",
            self.role.0,
            if self.group { "org" } else { "user" },
            if self.inherit { "-in" } else { "-eq" }
        )
    }
    fn text(&self, m: &Model) -> String {
        format!(
            "permit(principal {} ?principal, action in Action::{}, resource {} ?resource);",
            if self.group { "in" } else { "==" },
            cedar_str(&format!("role:{}", m.role_qualified(self.role))),
            if self.inherit { "in" } else { "==" },
        )
    }
}

/// One template link: which template, and the two slot values.
struct Link {
    shape: Shape,
    principal: EntityUid,
    resource: EntityUid,
}

struct CedarModel {
    entities: Entities,
    policies: PolicySet,
    templates: HashMap<Shape, Template>,
    links: Vec<Link>,
    /// Per user: indexes into `links` that can apply to them (their own
    /// links, and the links of the `OrgMembers` groups they belong to).
    user_links: Vec<Vec<usize>>,
    entity_count: usize,
    action_count: usize,
}

struct Types {
    user: EntityTypeName,
    org: EntityTypeName,
    members: EntityTypeName,
    action: EntityTypeName,
}

fn build_cedar(m: &Model, ty: &Types) -> Res<CedarModel> {
    let mut entities: Vec<Entity> = Vec::new();

    // Orgs: the tree.
    for o in &m.orgs {
        let parents = o
            .parent
            .map(|p| uid(&ty.org, &m.org(p).id))
            .into_iter()
            .collect();
        entities.push(Entity::new_no_attrs(uid(&ty.org, &o.id), parents));
        entities.push(Entity::new_no_attrs(
            uid(&ty.members, &o.id),
            HashSet::new(),
        ));
    }
    // Users: members of the group of every ancestor-or-self of their home.
    for u in &m.users {
        let parents = m
            .ancestors(u.home)
            .map(|a| uid(&ty.members, &m.org(a).id))
            .collect();
        entities.push(Entity::new_no_attrs(uid(&ty.user, &u.id), parents));
    }
    // Actions: one per permission, in the group of every role granting it.
    let groups = role_group_perms(m);
    let role_uids: Vec<EntityUid> = (0..m.roles.len())
        .map(|r| {
            uid(
                &ty.action,
                &format!("role:{}", m.role_qualified(RoleId(r as u32))),
            )
        })
        .collect();
    let mut perm_parents: Vec<HashSet<EntityUid>> = vec![HashSet::new(); m.perms.len()];
    for (r, set) in groups.iter().enumerate() {
        for p in set.iter() {
            if let Some(ps) = perm_parents.get_mut(p) {
                ps.insert(role_uids[r].clone());
            }
        }
    }
    let mut action_count = 0;
    for (p, parents) in perm_parents.into_iter().enumerate() {
        let name = m.perm_name(PermId(p as u32));
        entities.push(Entity::new_no_attrs(uid(&ty.action, &name), parents));
        action_count += 1;
    }
    for r in role_uids {
        entities.push(Entity::new_no_attrs(r, HashSet::new()));
        action_count += 1;
    }
    let entity_count = entities.len();
    let entities = Entities::from_entities(entities, None)?;

    // Policies: a template per (role, shape) in use, a link per assignment.
    let mut policies = PolicySet::new();
    let mut templates: HashMap<Shape, Template> = HashMap::new();
    let mut links = Vec::new();
    let mut user_links: Vec<Vec<usize>> = vec![Vec::new(); m.users.len()];
    let mut group_links: Vec<Vec<usize>> = vec![Vec::new(); m.orgs.len()];
    for (i, a) in m.assignments.iter().enumerate() {
        // Access policies (gated modules) are not modelled.
        let Grant::Role(role) = a.grant else { continue };
        let (principal, group) = match a.target {
            Target::User(u) => {
                user_links[u.index()].push(links.len());
                (uid(&ty.user, &m.user(u).id), false)
            }
            Target::Org => {
                group_links[a.org.index()].push(links.len());
                (uid(&ty.members, &m.org(a.org).id), true)
            }
        };
        let shape = Shape {
            role,
            group,
            inherit: a.inherit,
        };
        if let Entry::Vacant(e) = templates.entry(shape) {
            let t = Template::parse(Some(PolicyId::new(shape.id())), shape.text(m))?;
            policies.add_template(t.clone())?;
            e.insert(t);
        }
        let resource = uid(&ty.org, &m.org(a.org).id);
        let vals = HashMap::from([
            (SlotId::principal(), principal.clone()),
            (SlotId::resource(), resource.clone()),
        ]);
        policies.link(
            PolicyId::new(shape.id()),
            PolicyId::new(format!("a{i}")),
            vals,
        )?;
        links.push(Link {
            shape,
            principal,
            resource,
        });
    }
    for (u, user) in m.users.iter().enumerate() {
        for anc in m.ancestors(user.home) {
            user_links[u].extend_from_slice(&group_links[anc.index()]);
        }
    }
    Ok(CedarModel {
        entities,
        policies,
        templates,
        links,
        user_links,
        entity_count,
        action_count,
    })
}

/// The policy set restricted to the links that can apply to one principal.
fn slice_for(c: &CedarModel, u: UserId) -> Res<PolicySet> {
    let mut ps = PolicySet::new();
    let mut added = HashSet::new();
    for &i in &c.user_links[u.index()] {
        let l = &c.links[i];
        if added.insert(l.shape) {
            if let Some(t) = c.templates.get(&l.shape) {
                ps.add_template(t.clone())?;
            }
        }
        ps.link(
            PolicyId::new(l.shape.id()),
            PolicyId::new(format!("l{i}")),
            HashMap::from([
                (SlotId::principal(), l.principal.clone()),
                (SlotId::resource(), l.resource.clone()),
            ]),
        )?;
    }
    Ok(ps)
}

/// What the Cedar model encodes, computed on the trellis model: a role from a
/// user or org assignment reaching `x`, its `includes` closure, no
/// publication, identity types, gating nor rules. Cedar must agree with this
/// on every query; it checks the encoding.
fn reduced_allow(m: &Model, groups: &[FixedBitSet], u: UserId, p: PermId, x: OrgId) -> bool {
    let reaches = |id: &trellis::model::AssignmentId| {
        let a = &m.assignments[id.index()];
        let at = a.org == x || (a.inherit && m.in_subtree(x, a.org));
        match a.grant {
            Grant::Role(r) if at => groups[r.index()].contains(p.index()),
            _ => false,
        }
    };
    m.user_assignments[u.index()].iter().any(reaches)
        || m.ancestors(m.user(u).home)
            .any(|anc| m.org_assignments[anc.index()].iter().any(reaches))
}

/// Do the roles trellis gives `u` at `x` grant `p` (the decision before gating)?
fn trellis_roles_grant(m: &Model, u: UserId, p: PermId, x: OrgId) -> bool {
    m.roles_at(u, x)
        .iter()
        .any(|r| m.role(*r).perms.contains(p.index()))
}

struct Stats {
    median: f64,
    p99: f64,
    mean: f64,
}

fn stats(mut ns: Vec<f64>) -> Stats {
    ns.sort_by(f64::total_cmp);
    let n = ns.len().max(1);
    let at = |q: f64| {
        ns.get(((n as f64 * q) as usize).min(n - 1))
            .copied()
            .unwrap_or(0.0)
    };
    Stats {
        median: at(0.5),
        p99: at(0.99),
        mean: ns.iter().sum::<f64>() / n as f64,
    }
}

fn fmt_ns(ns: f64) -> String {
    if ns >= 1e6 {
        format!("{:.2} ms", ns / 1e6)
    } else if ns >= 1e3 {
        format!("{:.2} µs", ns / 1e3)
    } else {
        format!("{ns:.0} ns")
    }
}

fn fmt_dur(d: Duration) -> String {
    let s = d.as_secs_f64();
    if s >= 1.0 {
        format!("{s:.2} s")
    } else {
        format!("{:.1} ms", s * 1e3)
    }
}

/// Peak resident memory of this process so far, from /proc (Linux).
fn peak_rss_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}

/// Time this thread has spent on a CPU and waiting on a run queue, in ns
/// (`/proc/thread-self/schedstat`, Linux): shows whether other processes
/// took the CPU while a timing loop ran.
fn schedstat() -> Option<(u64, u64)> {
    let s = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    let mut it = s.split_whitespace().map(|x| x.parse::<u64>().ok());
    Some((it.next()??, it.next()??))
}

/// Share of a timing loop's wall time spent waiting for a CPU.
fn waited(before: Option<(u64, u64)>, wall: Duration) -> String {
    match (before, schedstat()) {
        (Some((_, w0)), Some((_, w1))) => format!(
            "{:.2}%",
            100.0 * w1.saturating_sub(w0) as f64 / wall.as_nanos().max(1) as f64
        ),
        _ => "unknown".into(),
    }
}

fn pct(a: usize, n: usize) -> f64 {
    100.0 * a as f64 / n.max(1) as f64
}

fn main() {
    if let Err(e) = run() {
        eprintln!("bench-cedar: {e}");
        std::process::exit(2);
    }
}

fn run() -> Res<()> {
    let args = parse_args()?;
    let dir = args.set.clone();
    let label = args.label.clone().unwrap_or_else(|| {
        dir.file_name()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_else(|| dir.display().to_string())
    });

    // ---------------------------------------------------------- trellis
    let t0 = Instant::now();
    let checked = trellis::check_paths(std::slice::from_ref(&dir), &Default::default())?;
    let load_time = t0.elapsed();
    if checked.diagnostics.has_errors() {
        return Err(format!("{}: the policy set has errors", dir.display()).into());
    }
    let m = &checked.model;
    let t0 = Instant::now();
    let bytes = table::build(m, &checked.sources, false).encode();
    let t = table::Table::from_bytes(&bytes)?;
    let table_time = t0.elapsed();
    let rss_trellis = peak_rss_mib();
    eprintln!(
        "trellis: {} orgs, {} users, {} roles, {} permissions, {} assignments; load+check {}, table build {} ({} bytes)",
        m.orgs.len(),
        m.users.len(),
        m.roles.len(),
        m.perms.len(),
        m.assignments.len(),
        fmt_dur(load_time),
        fmt_dur(table_time),
        bytes.len()
    );

    // ---------------------------------------------------------- Cedar
    let ty = Types {
        user: EntityTypeName::from_str("User")?,
        org: EntityTypeName::from_str("Org")?,
        members: EntityTypeName::from_str("OrgMembers")?,
        action: EntityTypeName::from_str("Action")?,
    };
    let t0 = Instant::now();
    let cedar = build_cedar(m, &ty)?;
    let cedar_time = t0.elapsed();
    let rss_cedar = peak_rss_mib();
    eprintln!(
        "cedar: {} entities ({} actions), {} templates, {} template-linked policies; build {}",
        cedar.entity_count,
        cedar.action_count,
        cedar.templates.len(),
        cedar.links.len(),
        fmt_dur(cedar_time)
    );

    // ---------------------------------------------------------- queries
    let file = std::fs::File::open(dir.join("queries.jsonl"))
        .map_err(|e| format!("{}: {e}", dir.join("queries.jsonl").display()))?;
    let mut queries = Vec::with_capacity(args.queries);
    let mut skipped = 0usize;
    for line in std::io::BufReader::new(file).lines() {
        if queries.len() >= args.queries {
            break;
        }
        let line = line?;
        if line.trim().is_empty() {
            continue;
        }
        let v: serde_json::Value = serde_json::from_str(&line)?;
        let field = |k: &str| v.get(k).and_then(|s| s.as_str()).unwrap_or("");
        let (user, org, perm) = (field("user"), field("org"), field("permission"));
        let resolved = (|| {
            Some((
                t.user(user)?,
                t.permission(perm)?,
                t.org(org)?,
                *m.user_index.get(user)?,
                m.parse_permission(perm)?,
                *m.org_index.get(org)?,
            ))
        })();
        let Some((tu, tp, tx, mu, mp, mx)) = resolved else {
            skipped += 1;
            continue;
        };
        let request = Request::new(
            uid(&ty.user, user),
            uid(&ty.action, perm),
            uid(&ty.org, org),
            Context::empty(),
            None,
        )?;
        queries.push(Query {
            tu,
            tp,
            tx,
            mu,
            mp,
            mx,
            request,
        });
    }
    let n = queries.len();
    if n == 0 {
        return Err("no queries".into());
    }
    eprintln!("queries: {n} resolved ({skipped} skipped: unknown user, org or permission)");

    // ---------------------------------------------------------- trellis timing
    // Untimed pass: the decisions (and a warm-up).
    let trellis_dec: Vec<bool> = queries.iter().map(|q| t.allow(q.tu, q.tp, q.tx)).collect();
    let mut trellis_ns = Vec::with_capacity(n / BATCH + 1);
    let mut acc = 0usize;
    let sched0 = schedstat();
    let trellis_wall = Instant::now();
    for chunk in queries.chunks(BATCH) {
        let start = Instant::now();
        for q in chunk {
            acc += usize::from(t.allow(black_box(q.tu), black_box(q.tp), black_box(q.tx)));
        }
        let el = start.elapsed();
        trellis_ns.push(el.as_nanos() as f64 / chunk.len() as f64);
    }
    black_box(acc);
    let trellis_wait = waited(sched0, trellis_wall.elapsed());
    let batches = trellis_ns.len();
    let ts = stats(trellis_ns);

    // ---------------------------------------------------------- Cedar timing
    // One PolicySet with every link, on the first K queries.
    let k = args.cedar_queries.unwrap_or(n).min(n);
    let authorizer = Authorizer::new();
    for q in queries.iter().take((k / 100).clamp(1, 100)) {
        black_box(authorizer.is_authorized(&q.request, &cedar.policies, &cedar.entities));
    }
    let mut cedar_ns = Vec::with_capacity(k);
    let mut cedar_full = Vec::with_capacity(k);
    let mut cedar_errors = 0usize;
    let sched0 = schedstat();
    let cedar_wall = Instant::now();
    for q in &queries[..k] {
        let start = Instant::now();
        let response = authorizer.is_authorized(&q.request, &cedar.policies, &cedar.entities);
        let el = start.elapsed();
        cedar_ns.push(el.as_nanos() as f64);
        cedar_full.push(response.decision() == Decision::Allow);
        cedar_errors += usize::from(response.diagnostics().errors().next().is_some());
    }
    let cedar_wall = cedar_wall.elapsed();
    let cedar_wait = waited(sched0, cedar_wall);
    let cs = stats(cedar_ns);
    eprintln!("cedar: {k} decisions in {}", fmt_dur(cedar_wall));

    // ---------------------------------------------------------- Cedar, sliced
    // A PolicySet per principal, on all N queries.
    let mut sliced = None;
    if args.slice {
        let t0 = Instant::now();
        let mut slices: HashMap<UserId, PolicySet> = HashMap::new();
        for q in &queries {
            if let Entry::Vacant(e) = slices.entry(q.mu) {
                e.insert(slice_for(&cedar, q.mu)?);
            }
        }
        let slice_time = t0.elapsed();
        let slice_links: usize = slices
            .keys()
            .map(|u| cedar.user_links[u.index()].len())
            .sum();
        let mean_links = slice_links as f64 / slices.len().max(1) as f64;
        let mut ns = Vec::with_capacity(n);
        let mut dec = Vec::with_capacity(n);
        let sched0 = schedstat();
        let wall = Instant::now();
        for q in &queries {
            let ps = slices.get(&q.mu).ok_or("missing slice")?;
            let start = Instant::now();
            let response = authorizer.is_authorized(&q.request, ps, &cedar.entities);
            let el = start.elapsed();
            ns.push(el.as_nanos() as f64);
            dec.push(response.decision() == Decision::Allow);
        }
        let wait = waited(sched0, wall.elapsed());
        let mismatch = dec.iter().zip(&cedar_full).filter(|(a, b)| a != b).count();
        sliced = Some(Sliced {
            stats: stats(ns),
            time: slice_time,
            count: slices.len(),
            mean_links,
            mismatch,
            wait,
            dec,
        });
    }

    // ---------------------------------------------------------- agreement
    // Cedar's decisions: the full set's, or the slices' on all N queries
    // when they equal the full set's on the K both answered.
    let cedar_dec: &[bool] = match &sliced {
        Some(s) if s.mismatch == 0 => &s.dec,
        _ => &cedar_full,
    };
    let na = cedar_dec.len();
    let groups = role_group_perms(m);
    let (
        mut both_allow,
        mut both_deny,
        mut only_trellis,
        mut only_cedar_gated,
        mut only_cedar_roles,
    ) = (0usize, 0usize, 0usize, 0usize, 0usize);
    let (mut model_mismatch, mut reduced_mismatch) = (0usize, 0usize);
    for ((q, &td), &cd) in queries.iter().zip(&trellis_dec).zip(cedar_dec) {
        model_mismatch += usize::from(m.allow(q.mu, q.mp, q.mx) != td);
        reduced_mismatch += usize::from(reduced_allow(m, &groups, q.mu, q.mp, q.mx) != cd);
        match (td, cd) {
            (true, true) => both_allow += 1,
            (false, false) => both_deny += 1,
            (true, false) => only_trellis += 1,
            (false, true) => {
                if trellis_roles_grant(m, q.mu, q.mp, q.mx) {
                    only_cedar_gated += 1;
                } else {
                    only_cedar_roles += 1;
                }
            }
        }
    }
    let agree = both_allow + both_deny;

    // ---------------------------------------------------------- report
    let ratio = cs.median / ts.median.max(f64::MIN_POSITIVE);
    println!("# bench-cedar: {} ({})", label, dir.display());
    println!();
    println!(
        "Workload: {} orgs, {} users, {} roles, {} permissions, {} assignments ({} role assignments become Cedar links); {n} queries (trellis), the first {k} of them for Cedar's full PolicySet.",
        m.orgs.len(),
        m.users.len(),
        m.roles.len(),
        m.perms.len(),
        m.assignments.len(),
        cedar.links.len()
    );
    println!(
        "Cedar model: {} entities ({} actions), {} templates, {} template-linked policies in one PolicySet.",
        cedar.entity_count,
        cedar.action_count,
        cedar.templates.len(),
        cedar.links.len()
    );
    println!(
        "NOT modelled in Cedar: publication, identity types, gated modules (access policies), automatic rules."
    );
    println!();
    println!(
        "- trellis `Table::allow` ({n} queries, {batches} batches of {BATCH}, per decision): median {}, p99 {}, mean {}; waited for a CPU {trellis_wait} of the loop",
        fmt_ns(ts.median),
        fmt_ns(ts.p99),
        fmt_ns(ts.mean)
    );
    println!(
        "- Cedar `Authorizer::is_authorized`, full PolicySet ({k} queries, each timed): median {}, p99 {}, mean {}; {} for all; {} decisions with evaluation errors; waited for a CPU {cedar_wait} of the loop",
        fmt_ns(cs.median),
        fmt_ns(cs.p99),
        fmt_ns(cs.mean),
        fmt_dur(cedar_wall),
        cedar_errors,
    );
    println!("- ratio of medians (Cedar / trellis): {ratio:.0}x");
    println!(
        "- build: trellis table {} (build + encode + decode; load and check {} not counted); Cedar {} (entities + templates + links)",
        fmt_dur(table_time),
        fmt_dur(load_time),
        fmt_dur(cedar_time)
    );
    if let (Some(a), Some(b)) = (rss_trellis, rss_cedar) {
        println!(
            "- peak RSS: {a:.0} MiB after trellis load + table, {b:.0} MiB after the Cedar build"
        );
    }
    if let Some(s) = &sliced {
        println!(
            "- Cedar, per-principal slice of the PolicySet ({n} queries; only the links naming the user or one of its OrgMembers groups, {:.1} links on average; {} slices built in {}): median {}, p99 {}; ratio {:.0}x; {} of the {k} decisions also made with the full set differ; waited for a CPU {} of the loop",
            s.mean_links,
            s.count,
            fmt_dur(s.time),
            fmt_ns(s.stats.median),
            fmt_ns(s.stats.p99),
            s.stats.median / ts.median.max(f64::MIN_POSITIVE),
            s.mismatch,
            s.wait
        );
    }
    println!();
    let source = if na == k {
        "full PolicySet"
    } else {
        "per-principal slices, equal to the full set on the first K"
    };
    println!(
        "Agreement trellis vs Cedar ({na} queries, Cedar decisions from the {source}): {agree}/{na} = {:.2}% (both allow {both_allow}, both deny {both_deny})",
        pct(agree, na)
    );
    println!(
        "- trellis allows, Cedar denies: {only_trellis} ({:.2}%): automatic rules, absent from the Cedar model",
        pct(only_trellis, na)
    );
    println!(
        "- Cedar allows, trellis denies, gated module without an access policy: {only_cedar_gated} ({:.2}%)",
        pct(only_cedar_gated, na)
    );
    println!(
        "- Cedar allows, trellis denies, role not held (publication, identity types): {only_cedar_roles} ({:.2}%)",
        pct(only_cedar_roles, na)
    );
    println!(
        "Checks: trellis table vs trellis model: {model_mismatch} mismatches; Cedar vs the reduced semantics it encodes (assignments + includes only): {reduced_mismatch} mismatches."
    );
    println!();
    println!("| tier | queries trellis / Cedar | trellis median | trellis p99 | Cedar median | Cedar p99 | ratio of medians | Cedar sliced median | trellis table build | Cedar build | agreement |");
    println!("|---|---|---|---|---|---|---|---|---|---|---|");
    println!(
        "| {label} | {n} / {k} | {} | {} | {} | {} | {ratio:.0}x | {} | {} | {} | {:.2}% |",
        fmt_ns(ts.median),
        fmt_ns(ts.p99),
        fmt_ns(cs.median),
        fmt_ns(cs.p99),
        sliced
            .as_ref()
            .map(|s| fmt_ns(s.stats.median))
            .unwrap_or_else(|| "-".into()),
        fmt_dur(table_time),
        fmt_dur(cedar_time),
        pct(agree, na)
    );
    Ok(())
}

/// Cedar with a PolicySet per principal.
struct Sliced {
    stats: Stats,
    time: Duration,
    count: usize,
    mean_links: f64,
    /// Decisions that differ from the full set's, on the queries both made.
    mismatch: usize,
    wait: String,
    dec: Vec<bool>,
}
