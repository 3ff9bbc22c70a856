//! Random policy sets (tests/common/random.rs) judged by a naive evaluator
//! written from the SPEC text (tests/common/naive.rs):
//!
//! * `table_equals_naive`: on every set without errors, the compiled table
//!   answers every (user, permission, org), the exact role sets, the policy
//!   sets and publication as the naive evaluator does; and every role's
//!   permissions are what its definition says (§4, `from` + `remove`).
//! * `e011_by_counterfactual`: on every set, the tenant publication entries
//!   that trellis reports as E011 are exactly those that SPEC §14.10's
//!   counterfactual finds (plus those that name a locked role, §8).
//! * `invisible_roles_are_e010`: a tenant file naming a sibling's or a
//!   sub-tenant's role as `owner::name` is E010 there (SPEC §14.11).
//! * `counterfactual_on_hand_made_examples` / `e011_on_hand_made_examples`:
//!   a small set whose tenant entries carry the verdict of §14.10 read by
//!   hand (`# E011` / `# ok`); the naive reading, then trellis, must agree.
//! * `resources_resolver_equals_naive`: on every set with dimensions (SPEC
//!   §15) without an org or role cycle (E005, E006), the resolver's
//!   `roles_at`, `policies_at`, `allow_on` (every user, permission and org
//!   without a resource; every user, permission and resource at its org,
//!   at another org, at every org for a resource of no org, and with
//!   permissions of another dimension) and `can_assign_with` (sampled:
//!   admins holding assigner roles restricted or not, self-service, G
//!   from nothing to the admin's scope lists) answer as the naive reading
//!   does, and E013 is reported at exactly the `by:` assignments for which
//!   the naive `can_assign` fails. The table does not hold resources yet,
//!   so `table_equals_naive` leaves those sets out.
//!
//! How the counterfactual is computed: the test resolves the publication
//! entries the generator wrote itself (names by §4 and §14.11, the first of
//! two entries for one role and org stands, a tenant entry of a locked role
//! is E011 by §8 and counts for nothing), checks that the resolver kept the
//! same entries, and then evaluates publication per org with explicit entry
//! lists (`Naive::published_by`): the provider's entries alone, and those
//! plus the one tenant entry judged. The locked items and users come from
//! the model's plain fields.
//!
//! `TRELLIS_NAIVE_SETS=N` sets the number of seeds (default 500; about
//! 40% of them declare dimensions); `TRELLIS_NAIVE_SEED=S` runs seed S
//! alone. `TRELLIS_NAIVE_RES_QUESTIONS` caps the resource questions per set
//! (default 3000 in debug builds, all in release; 0: all), and
//! `TRELLIS_NAIVE_CA_QUESTIONS` sets the `can_assign` questions per set
//! (default 100 in debug, 600 in release). To look at a set:
//! `TRELLIS_NAIVE_SEED=S TRELLIS_NAIVE_DUMP=/tmp/setS cargo test --test naive dump_set -- --ignored`
//! writes its files to /tmp/setS, then `trellis check /tmp/setS`.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests fail loudly"
)]

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::time::Instant;

use common::naive::{Entries, Entry, Naive};
use common::random::{self, Set};
use trellis::diag::Code;
use trellis::model::{Model, OrgId, PolicyId, RoleId, Scope, UserId};
use trellis::source::Span;
use trellis::table::{build, Table};

fn seeds() -> Vec<u64> {
    if let Some(seed) = std::env::var("TRELLIS_NAIVE_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
    {
        return vec![seed];
    }
    let n: u64 = std::env::var("TRELLIS_NAIVE_SETS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(500);
    (1..=n).collect()
}

fn repro(seed: u64) -> String {
    format!(
        "reproduce: TRELLIS_NAIVE_SEED={seed} TRELLIS_NAIVE_DUMP=/tmp/set{seed} cargo test --test naive dump_set -- --ignored; trellis check /tmp/set{seed}"
    )
}

struct Built {
    set: Set,
    dir: tempfile::TempDir,
    checked: trellis::Checked,
}

fn build_set(seed: u64) -> Built {
    let dir = tempfile::tempdir().unwrap();
    let set = random::write_set(seed, dir.path());
    let checked = trellis::check_paths(&[dir.path().to_path_buf()], &Default::default())
        .unwrap_or_else(|e| panic!("seed {seed}: cannot load the set: {e}\n{}", repro(seed)));
    Built { set, dir, checked }
}

impl Built {
    /// (path relative to the set, 1-based line) of a span.
    fn loc(&self, span: Span) -> (String, usize) {
        let path = self
            .checked
            .sources
            .get(span.file)
            .map(|f| f.path.clone())
            .unwrap_or_default();
        let rel = path
            .strip_prefix(self.dir.path())
            .map(Path::to_path_buf)
            .unwrap_or(path);
        let rel = rel.to_string_lossy().replace('\\', "/");
        (rel, self.checked.sources.line_col(span).0.line)
    }
    fn error_codes(&self) -> BTreeSet<&'static str> {
        self.checked
            .diagnostics
            .iter()
            .filter(|d| d.severity() == trellis::diag::Severity::Error)
            .map(|d| d.code.as_str())
            .collect()
    }
}

/// Writes the set of `TRELLIS_NAIVE_SEED` to `TRELLIS_NAIVE_DUMP`: a tool
/// for reproducing a failure, not a check (so it only runs when asked).
#[test]
#[ignore = "a tool, not a check: run with --ignored and both variables set"]
fn dump_set() {
    let (Ok(seed), Ok(dir)) = (
        std::env::var("TRELLIS_NAIVE_SEED"),
        std::env::var("TRELLIS_NAIVE_DUMP"),
    ) else {
        return;
    };
    let dir = PathBuf::from(dir);
    std::fs::create_dir_all(&dir).unwrap();
    random::write_set(seed.parse().unwrap(), &dir);
    eprintln!("wrote the set of seed {seed} to {}", dir.display());
}

// ------------------------------------------------------------ table vs naive

fn perm_name(m: &Model, p: usize) -> String {
    let (module, action) = m.perms[p];
    let module = &m.modules[module.index()];
    format!("{}:{}", module.id, module.actions[action as usize])
}

/// Every permission of the catalog matching a pattern (SPEC §2).
fn expand(set: &Set, pattern: &str) -> BTreeSet<String> {
    let (pm, pa) = pattern.split_once(':').unwrap();
    let mut out = BTreeSet::new();
    for (m, actions) in &set.modules {
        for a in actions {
            if (pm == "*" || pm == m) && (pa == "*" || pa == a) {
                out.insert(format!("{m}:{a}"));
            }
        }
    }
    out
}

/// What role `r`'s definition confers (SPEC §4): its own grants and cloned
/// part, and the same for every role of its `includes` closure, by
/// definition (status does not matter for a clone).
fn confers_by_definition(
    set: &Set,
    r: usize,
    memo: &mut BTreeMap<usize, BTreeSet<String>>,
) -> BTreeSet<String> {
    let mut out = own_and_cloned(set, r, memo);
    let mut seen = BTreeSet::new();
    let mut todo = set.roles[r].includes.clone();
    while let Some(i) = todo.pop() {
        if seen.insert(i) {
            out.extend(own_and_cloned(set, i, memo));
            todo.extend(set.roles[i].includes.iter().copied());
        }
    }
    out
}

/// A role's own grants plus its cloned part (`from` minus `remove`).
fn own_and_cloned(
    set: &Set,
    r: usize,
    memo: &mut BTreeMap<usize, BTreeSet<String>>,
) -> BTreeSet<String> {
    if let Some(p) = memo.get(&r) {
        return p.clone();
    }
    let role = &set.roles[r];
    let mut out: BTreeSet<String> = role.grants.iter().flat_map(|g| expand(set, g)).collect();
    if let Some(f) = role.from {
        let removed: BTreeSet<String> = role.remove.iter().flat_map(|g| expand(set, g)).collect();
        out.extend(
            confers_by_definition(set, f, memo)
                .into_iter()
                .filter(|p| !removed.contains(p)),
        );
    }
    memo.insert(r, out.clone());
    out
}

fn model_role(m: &Model, owner: &Option<String>, name: &str) -> Option<RoleId> {
    m.roles
        .iter()
        .position(|r| {
            r.name == name
                && match (&r.owner, owner) {
                    (Scope::Provider, None) => true,
                    (Scope::Org(o), Some(id)) => m.orgs[o.index()].id == *id,
                    _ => false,
                }
        })
        .map(|i| RoleId(i as u32))
}

/// Role permissions against the definitions the generator wrote (SPEC
/// §4: own grants, plus with `from` the cloned role's definition minus
/// `remove`), on a set without errors.
fn role_permissions(b: &Built) -> Vec<String> {
    let seed = b.set.seed;
    let m = &b.checked.model;
    let naive = Naive::new(m);
    let mut bad = Vec::new();
    let mut memo = BTreeMap::new();
    for (i, rec) in b.set.roles.iter().enumerate() {
        let Some(id) = model_role(m, &rec.owner, &rec.name) else {
            bad.push(format!(
                "seed {seed}: role {:?}::{} is not in the model",
                rec.owner, rec.name
            ));
            continue;
        };
        let want = own_and_cloned(&b.set, i, &mut memo);
        let got: BTreeSet<String> = m.roles[id.index()]
            .perms
            .ones()
            .map(|p| perm_name(m, p))
            .collect();
        if want != got {
            bad.push(format!(
                "seed {seed}: permissions of role `{}`: definition gives {want:?}, model has {got:?}",
                naive.role_qualified(id)
            ));
        }
    }
    bad
}

/// Compares one valid set; returns (questions asked, disagreements).
fn compare_set(b: &Built) -> (usize, Vec<String>) {
    let seed = b.set.seed;
    let m = &b.checked.model;
    let naive = Naive::new(m);
    let mut bad = role_permissions(b);

    let bytes = build(m, &b.checked.sources, false).encode();
    let t = Table::from_bytes(&bytes).unwrap();
    let entries = naive.model_entries();
    let perm_handles: Vec<_> = (0..m.perms.len())
        .map(|p| t.permission(&perm_name(m, p)).unwrap())
        .collect();

    // Every (user, org) pair, or a deterministic sample when the set is big.
    let mut pairs: Vec<(UserId, OrgId)> = naive
        .users()
        .flat_map(|u| naive.orgs().map(move |x| (u, x)))
        .collect();
    if pairs.len() * m.perms.len() > 50_000 {
        let mut rng = random::Rng::new(seed ^ 0xA5A5);
        let keep = 50_000 / m.perms.len().max(1);
        for i in 0..keep {
            let j = i + rng.below(pairs.len() - i);
            pairs.swap(i, j);
        }
        pairs.truncate(keep);
    }
    let mut questions = 0;
    for (u, x) in pairs {
        let (uid, xid) = (&m.users[u.index()].id, &m.orgs[x.index()].id);
        let (tu, tx) = (t.user(uid).unwrap(), t.org(xid).unwrap());
        let roles = naive.roles_with(u, x, &entries);
        let policies = naive.policies(u, x);
        let decisions = naive.decisions(&roles, &policies);
        for (p, &want) in decisions.iter().enumerate() {
            questions += 1;
            let got = t.allow(tu, perm_handles[p], tx);
            if got != want {
                bad.push(format!(
                    "seed {seed}: allow({uid}, {}, {xid}): table {got}, naive {want} (naive roles {:?}, policies {:?})",
                    perm_name(m, p),
                    roles.iter().map(|r| naive.role_qualified(*r)).collect::<Vec<_>>(),
                    policies.iter().map(|p| m.policies[p.index()].id.clone()).collect::<Vec<_>>(),
                ));
            }
        }
        let mut want: Vec<String> = roles.iter().map(|r| naive.role_display(*r)).collect();
        want.sort();
        let got: Vec<String> = t
            .roles(tu, tx)
            .into_iter()
            .map(|r| t.role_name(r).to_owned())
            .collect();
        if got != want {
            bad.push(format!(
                "seed {seed}: roles({uid}, {xid}): table {got:?}, naive {want:?}"
            ));
        }
        let want: Vec<String> = policies
            .iter()
            .map(|p| m.policies[p.index()].id.clone())
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        let got: Vec<String> = t
            .policies(tu, tx)
            .into_iter()
            .map(|p| t.policy_name(p).to_owned())
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        if got != want {
            bad.push(format!(
                "seed {seed}: policies({uid}, {xid}): table {got:?}, naive {want:?}"
            ));
        }
    }
    for r in 0..m.roles.len() {
        let r = RoleId(r as u32);
        let tr = t.role(&naive.role_qualified(r)).unwrap();
        for x in naive.orgs() {
            let want = naive.published_by(r, x, &entries);
            let got = t.published(tr, t.org(&m.orgs[x.index()].id).unwrap());
            if got != want {
                bad.push(format!(
                    "seed {seed}: published({}, {}): table {got}, naive {want}",
                    naive.role_qualified(r),
                    m.orgs[x.index()].id
                ));
            }
        }
    }
    (questions, bad)
}

#[test]
fn table_equals_naive() {
    let start = Instant::now();
    let seeds = seeds();
    let (mut valid, mut questions, mut with_dimensions) = (0usize, 0usize, 0usize);
    let mut failures: Vec<String> = Vec::new();
    let mut failing_seeds = BTreeSet::new();
    for &seed in &seeds {
        // Sets with dimensions are judged by `resources_resolver_equals_naive`,
        // which asks the table too (about resources, restrictions and
        // delegation scopes).
        if !random::generate(seed).dimensions.is_empty() {
            with_dimensions += 1;
            continue;
        }
        let b = build_set(seed);
        if b.checked.diagnostics.has_errors() {
            continue;
        }
        valid += 1;
        let (q, bad) = compare_set(&b);
        questions += q;
        if !bad.is_empty() {
            failing_seeds.insert(seed);
            failures.extend(bad.into_iter().take(5));
            failures.push(format!("  {}", repro(seed)));
        }
    }
    let judged = seeds.len() - with_dimensions;
    eprintln!(
        "table vs naive: {} sets, {with_dimensions} with dimensions left out, {valid} of the {judged} others without errors, {questions} decisions compared, {:.1?}",
        seeds.len(),
        start.elapsed()
    );
    assert!(
        failures.is_empty(),
        "table and naive evaluator disagree on {} sets ({failing_seeds:?}):\n{}",
        failing_seeds.len(),
        failures.join("\n")
    );
    // The generator is tuned so that at least 40% of the sets (without
    // dimensions, here) have no error.
    let min = if judged <= 1 { 0 } else { judged * 2 / 5 };
    assert!(
        valid >= min.max(usize::from(judged > 1)),
        "only {valid} of {judged} random sets without dimensions were without errors"
    );
}

// ------------------------------------------------------------ E011, §14.10

/// One publication entry of the set, as SPEC §4, §5, §8 and §14 resolve it.
struct Judged {
    index: usize,
    scope: Scope,
    role: Option<RoleId>,
    org: Option<OrgId>,
    /// Counts for publication (not dropped as unknown, invisible, outside
    /// the scope, a duplicate, or a custom role's entry outside its owner's
    /// subtree).
    kept: bool,
    /// A tenant entry naming a locked role: E011 by §8 whatever its effect.
    locked_role: bool,
}

/// Resolves the set's publication entries in path order, without the
/// resolver: names by SPEC §4 and §14.11, the first of two entries for one
/// role and org stands (E003), a tenant's `locked: true` is no lock (E010).
fn judge_entries(b: &Built, naive: &Naive) -> (Vec<Judged>, Entries) {
    let m = &b.checked.model;
    let mut kept = Entries::new();
    let mut out = Vec::new();
    for (index, rec) in b.set.pubs.iter().enumerate() {
        let scope = match &rec.scope {
            None => Scope::Provider,
            Some(id) => match m.org_index.get(id) {
                Some(o) => Scope::Org(*o),
                None => continue,
            },
        };
        let role = naive.resolve_name(&rec.role, scope);
        let org = m
            .orgs
            .iter()
            .position(|o| o.id == rec.org)
            .map(|i| OrgId(i as u32));
        let mut j = Judged {
            index,
            scope,
            role,
            org,
            kept: false,
            locked_role: false,
        };
        if let (Some(r), Some(x)) = (role, org) {
            let role = &m.roles[r.index()];
            let inside_owner = match role.owner {
                Scope::Provider => true,
                Scope::Org(o) => naive.within(x, o),
            };
            if !naive.in_scope(x, scope) {
            } else if scope != Scope::Provider && role.locked {
                j.locked_role = true;
            } else if kept.contains_key(&(r, x)) || !inside_owner {
            } else {
                j.kept = true;
                kept.insert(
                    (r, x),
                    Entry {
                        publish: rec.publish,
                        locked: rec.locked && scope == Scope::Provider,
                        provider: scope == Scope::Provider,
                        at: format!("{}:{}", rec.file, rec.line),
                    },
                );
            }
        }
        out.push(j);
    }
    (out, kept)
}

#[test]
fn e011_by_counterfactual() {
    let start = Instant::now();
    let seeds = seeds();
    let mut failures: Vec<String> = Vec::new();
    let mut resolution: Vec<String> = Vec::new();
    let mut failing_seeds = BTreeSet::new();
    let (mut judged, mut expected_e011, mut reported_e011) = (0usize, 0usize, 0usize);
    let (mut only_e011_sets, mut clean_sets) = (0usize, 0usize);
    let mut by_kind: BTreeMap<&str, usize> = BTreeMap::new();
    for &seed in &seeds {
        let b = build_set(seed);
        let m = &b.checked.model;
        let naive = Naive::new(m);
        let errors = b.error_codes();
        if errors.is_empty() {
            clean_sets += 1;
        } else if errors.iter().all(|c| *c == "E011") {
            only_e011_sets += 1;
        }
        let (entries, kept) = judge_entries(&b, &naive);

        // Our reading of the entries must be the resolver's (else the
        // comparison below would judge different sets).
        for j in &entries {
            let rec = &b.set.pubs[j.index];
            if let (true, Some(r), Some(x)) = (j.kept, j.role, j.org) {
                let in_model = m.publications[r.index()].get(&x);
                let same = in_model.is_some_and(|e| {
                    e.publish == rec.publish
                        && e.scope == j.scope
                        && b.loc(e.span) == (rec.file.clone(), rec.line)
                });
                if !same {
                    resolution.push(format!(
                        "seed {seed}: entry {}:{} `{}` at `{}` counts by the spec, but the model holds {:?}",
                        rec.file, rec.line, rec.role, rec.org, in_model.map(|e| (e.publish, b.loc(e.span)))
                    ));
                }
            }
        }
        let model_count: usize = m.publications.iter().map(|p| p.len()).sum();
        if model_count != kept.len() {
            resolution.push(format!(
                "seed {seed}: {} publication entries count by the spec, the model holds {model_count}",
                kept.len()
            ));
        }

        // E011s located at publication entries, by (file, line).
        let mut reported: BTreeMap<(String, usize), usize> = BTreeMap::new();
        for d in b
            .checked
            .diagnostics
            .iter()
            .filter(|d| d.code == Code::E011)
        {
            *reported.entry(b.loc(d.primary.span)).or_default() += 1;
        }
        let provider_entries: Entries = kept
            .iter()
            .filter(|(_, e)| e.provider)
            .map(|(k, e)| (*k, e.clone()))
            .collect();
        let mut bad_here = Vec::new();
        for j in &entries {
            let rec = &b.set.pubs[j.index];
            let key = (rec.file.clone(), rec.line);
            let count = reported.get(&key).copied().unwrap_or(0);
            reported_e011 += usize::from(count > 0);
            let what = format!(
                "{}:{} `{{ role: {}, org: {}, publish: {} }}`",
                rec.file, rec.line, rec.role, rec.org, rec.publish
            );
            if j.scope == Scope::Provider {
                if count > 0 {
                    bad_here.push(format!(
                        "seed {seed}: provider entry {what}: expected no E011, reported {count}"
                    ));
                }
                continue;
            }
            judged += 1;
            let mut loose: Option<String> = None;
            let why: Option<String> = if j.locked_role {
                Some("names a locked role (SPEC §8)".to_owned())
            } else if let (true, Some(r), Some(x)) = (j.kept, j.role, j.org) {
                let mut with = provider_entries.clone();
                with.insert(
                    (r, x),
                    Entry {
                        publish: rec.publish,
                        locked: false,
                        provider: false,
                        at: format!("{}:{}", rec.file, rec.line),
                    },
                );
                loose = naive.lost_lock_effect(&provider_entries, &with, false);
                naive.lost_lock_effect(&provider_entries, &with, true)
            } else {
                None
            };
            expected_e011 += usize::from(why.is_some());
            if let Some(why) = &why {
                let kind = [
                    "names a locked role",
                    "locked publication",
                    "locked non-publication",
                    "locked assignment",
                    "locked rule",
                ]
                .into_iter()
                .find(|k| why.starts_with(k))
                .unwrap_or("other");
                *by_kind.entry(kind).or_default() += 1;
            }
            match (&why, count) {
                (None, 0) | (Some(_), 1) => {}
                (None, n) => bad_here.push(format!(
                    "seed {seed}: tenant entry {what}: expected no E011 (with the provider's entries alone it cuts no locked item), reported {n}{}",
                    loose.map(|l| format!(" [note: it would be E011 if a locked rule gave a role to a user who cannot hold it (disabled, identity type): {l}]")).unwrap_or_default()
                )),
                (Some(why), 0) => bad_here.push(format!(
                    "seed {seed}: tenant entry {what}: expected E011 ({why}), reported none"
                )),
                (Some(why), n) => bad_here.push(format!(
                    "seed {seed}: tenant entry {what}: expected one E011 ({why}), reported {n}"
                )),
            }
        }
        if !bad_here.is_empty() {
            failing_seeds.insert(seed);
            let kind = if errors.iter().all(|c| *c == "E011") {
                "only E011 errors"
            } else {
                "other errors too"
            };
            failures.push(format!("seed {seed} ({kind}: {errors:?}); {}", repro(seed)));
            failures.extend(bad_here.into_iter().map(|s| format!("  {s}")));
        }
    }
    eprintln!(
        "E011: {} sets ({clean_sets} clean, {only_e011_sets} with only E011), {judged} tenant entries judged, {expected_e011} E011 by the counterfactual ({by_kind:?}), {reported_e011} publication entries with an E011 reported, {:.1?}",
        seeds.len(),
        start.elapsed()
    );
    let mut report = String::new();
    if !resolution.is_empty() {
        report.push_str(&format!(
            "publication entries read differently by SPEC §4/§5/§14.11 and the resolver (a tenant entry naming an invisible role must not count, §14.11):\n{}\n",
            resolution.join("\n")
        ));
    }
    if !failures.is_empty() {
        report.push_str(&format!(
            "E011 at publication entries differs from SPEC §14.10 on {} sets {failing_seeds:?}:\n{}\n",
            failing_seeds.len(),
            failures.join("\n")
        ));
    }
    assert!(report.is_empty(), "{report}");
    if seeds.len() > 1 {
        assert!(judged >= seeds.len(), "only {judged} tenant entries judged");
        assert!(
            expected_e011 >= seeds.len() / 20,
            "only {expected_e011} E011 expected"
        );
    }
}

// ------------------------------------------------------------ §14.11

#[test]
fn invisible_roles_are_e010() {
    let seeds = seeds();
    let mut sets = 0;
    let mut failures = Vec::new();
    for &seed in &seeds {
        let set = random::generate(seed);
        if set.sibling_refs.is_empty() {
            continue;
        }
        sets += 1;
        let b = build_set(seed);
        let e010: BTreeSet<(String, usize)> = b
            .checked
            .diagnostics
            .iter()
            .filter(|d| d.code == Code::E010)
            .map(|d| b.loc(d.primary.span))
            .collect();
        for s in &b.set.sibling_refs {
            if !e010.contains(&(s.file.clone(), s.line)) {
                let codes: Vec<String> = b
                    .checked
                    .diagnostics
                    .iter()
                    .map(|d| {
                        let (f, l) = b.loc(d.primary.span);
                        format!("{}@{f}:{l}", d.code.as_str())
                    })
                    .collect();
                failures.push(format!(
                    "seed {seed}: {}:{} names `{}`, a role the file may not see (SPEC §14.11): expected E010 there; reported {codes:?}\n  {}",
                    s.file,
                    s.line,
                    s.role,
                    repro(seed)
                ));
            }
        }
    }
    eprintln!("§14.11: {sets} sets name an invisible role");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    if seeds.len() >= 100 {
        assert!(
            sets >= seeds.len() / 40,
            "only {sets} sets name an invisible role"
        );
    }
}

// ------------------------------------------------- §14.10 by hand-made examples

/// A small set whose tenant publication entries each carry `# E011` or
/// `# ok`: what SPEC §14.10 says of them, read by hand.
const LOCK_EXAMPLES: [(&str, &str); 4] = [
    (
        "provider.yaml",
        r#"scope: provider
modules:
  docs: { actions: [read, write, delete] }
orgs:
  acme: {}
  east: { parent: acme }
  east-lab: { parent: east }
  east-b: { parent: east }
  west: { parent: acme }
  west-lab: { parent: west }
  west-b: { parent: west }
  south: {}
  south-a: { parent: south }
  south-b: { parent: south-a }
users:
  ann: { org: east }
  bob: { org: south-a, owner: true }
roles:
  viewer: { grants: ["docs:read"] }
  editor: { grants: ["docs:write"] }
  audit: { grants: ["docs:delete"] }
  hidden: { grants: ["docs:read"], published: false }
  ghost: { grants: ["docs:read"], status: disabled }
publications:
  - { role: viewer, org: east, publish: false, locked: true }
  - { role: editor, org: west, locked: true }
  - { role: audit, org: south, publish: false, locked: true }
assignments:
  - { role: audit, user: ann, org: acme, locked: true }
automatic:
  - name: owners
    when: { owner: true }
    grant: [{ roles: [editor, hidden, ghost], at: [self, { descendants: any }] }]
"#,
    ),
    (
        "acme.yaml",
        r#"scope: acme
publications:
  - { role: viewer, org: east-lab }                  # E011: published again where the locked non-publication at east decides
  - { role: viewer, org: east-b, publish: false }    # ok: repeats what the lock decides
  - { role: viewer, org: west, publish: false }      # ok: no locked item about viewer there
  - { role: editor, org: west-lab, publish: false }  # E011: unpublished where the locked publication at west decides
  - { role: editor, org: west-b }                    # ok: repeats the locked publication
  - { role: audit, org: east-lab, publish: false }   # E011: cuts ann's locked assignment (acme, inherited)
  - { role: audit, org: acme }                       # ok: a publication cuts nothing (ann's assignment stays)
"#,
    ),
    (
        "south.yaml",
        r#"scope: south
publications:
  - { role: audit, org: south-a, publish: false }    # ok: repeats the locked non-publication at south
  - { role: audit, org: south-b }                    # E011: against the provider's entries alone, the lock at south decides south-b
  - { role: editor, org: south-b, publish: false }   # E011: the locked rule gives editor to bob at south-b
  - { role: hidden, org: south-a, publish: false }   # ok: hidden is published nowhere, the rule gives it nowhere
  - { role: ghost, org: south-a, publish: false }    # ok: a disabled role is not given (not held, §4)
"#,
    ),
    (
        "south-a.yaml",
        r#"scope: south-a
publications:
  - { role: editor, org: south-a, publish: false }   # E011: the locked rule gives editor to bob at south-a
"#,
    ),
];

/// The hand-made examples: (file, line) -> E011 expected.
fn lock_examples() -> (
    tempfile::TempDir,
    trellis::Checked,
    BTreeMap<(String, usize), bool>,
) {
    let dir = tempfile::tempdir().unwrap();
    let mut expected = BTreeMap::new();
    for (name, text) in LOCK_EXAMPLES {
        std::fs::write(dir.path().join(name), text).unwrap();
        for (i, line) in text.lines().enumerate() {
            if let Some((_, verdict)) = line.split_once("  # ") {
                expected.insert((name.to_owned(), i + 1), verdict.starts_with("E011"));
            }
        }
    }
    let checked = trellis::check_paths(&[dir.path().to_path_buf()], &Default::default()).unwrap();
    (dir, checked, expected)
}

/// The naive reading of §14.10 gives the verdicts written by hand.
#[test]
fn counterfactual_on_hand_made_examples() {
    let (dir, checked, expected) = lock_examples();
    let m = &checked.model;
    let naive = Naive::new(m);
    let all = naive.model_entries();
    let provider: Entries = all
        .iter()
        .filter(|(_, e)| e.provider)
        .map(|(k, e)| (*k, e.clone()))
        .collect();
    let mut judged = BTreeMap::new();
    for (ri, per_org) in m.publications.iter().enumerate() {
        for (org, e) in per_org {
            if e.scope == Scope::Provider {
                continue;
            }
            let file = checked.sources.get(e.span.file).unwrap();
            let rel = file.path.strip_prefix(dir.path()).unwrap();
            let key = (
                rel.to_string_lossy().into_owned(),
                checked.sources.line_col(e.span).0.line,
            );
            let mut with = provider.clone();
            let r = RoleId(ri as u32);
            with.insert((r, *org), all[&(r, *org)].clone());
            judged.insert(
                key,
                naive.lost_lock_effect(&provider, &with, true).is_some(),
            );
        }
    }
    assert_eq!(judged, expected);
}

/// trellis reports E011 at exactly the entries marked `# E011`.
#[test]
fn e011_on_hand_made_examples() {
    let (dir, checked, expected) = lock_examples();
    let mut reported: BTreeMap<(String, usize), usize> = BTreeMap::new();
    for d in checked.diagnostics.iter().filter(|d| d.code == Code::E011) {
        let file = checked.sources.get(d.primary.span.file).unwrap();
        let rel = file.path.strip_prefix(dir.path()).unwrap();
        *reported
            .entry((
                rel.to_string_lossy().into_owned(),
                checked.sources.line_col(d.primary.span).0.line,
            ))
            .or_default() += 1;
    }
    let mut wrong = Vec::new();
    for ((file, line), want) in &expected {
        let got = reported.remove(&(file.clone(), *line)).unwrap_or(0);
        if got != usize::from(*want) {
            let text = LOCK_EXAMPLES
                .iter()
                .find(|(n, _)| n == file)
                .and_then(|(_, t)| t.lines().nth(line - 1))
                .unwrap_or("");
            wrong.push(format!(
                "{file}:{line}: expected {} E011, reported {got}: {}",
                usize::from(*want),
                text.trim()
            ));
        }
    }
    for ((file, line), n) in reported {
        wrong.push(format!(
            "{file}:{line}: {n} E011 not at a publication entry"
        ));
    }
    let others: Vec<String> = checked
        .diagnostics
        .iter()
        .filter(|d| d.code != Code::E011)
        .map(|d| d.code.as_str().to_owned())
        .collect();
    assert!(
        wrong.is_empty(),
        "E011 on the hand-made examples of SPEC §14.10:\n{}\n(other diagnostics: {others:?})",
        wrong.join("\n")
    );
}

// ------------------------------------------- §15: the resolver vs naive

/// Sets with these errors are not compared: a cycle of `includes`/`from`
/// (E006) or of the org tree (E005) is read by the resolver with guards
/// (links not followed, orgs made top level) that the naive evaluator does
/// not have. Every other set is: both sides read the same model, so a set
/// with errors tests the decisions on what its files resolved to (SPEC
/// §15.1–2: an unknown resource ignored while its dimension stays named,
/// a kept resource outside its file's scope...).
const NOT_COMPARED: [&str; 2] = ["E005", "E006"];

/// Resource questions asked per set at most (sampled beyond); 0: all.
fn resource_question_cap() -> usize {
    std::env::var("TRELLIS_NAIVE_RES_QUESTIONS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(if cfg!(debug_assertions) { 3_000 } else { 0 })
}

/// `can_assign` questions asked per set.
fn can_assign_questions() -> usize {
    std::env::var("TRELLIS_NAIVE_CA_QUESTIONS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(if cfg!(debug_assertions) { 100 } else { 600 })
}

#[derive(Default, Debug)]
struct ResStats {
    dim_sets: usize,
    clean: usize,
    compared: usize,
    compared_with_errors: usize,
    roles: usize,
    org_questions: usize,
    org_allowed: usize,
    /// About a resource, at its own org or (no org) at a given one.
    res_questions: usize,
    res_allowed: usize,
    /// About a resource at another org than its own.
    res_elsewhere: usize,
    /// With a permission of another dimension (or none).
    res_wrong_dim: usize,
    can_assign: usize,
    /// (assigner: "restricted" / "unrestricted" / "none", answer) -> count.
    can_assign_by: BTreeMap<(&'static str, bool), usize>,
    by_judged: usize,
    by_e013: usize,
    /// Clean sets compiled, and the questions their tables answered.
    tables: usize,
    table_questions: usize,
    table_can_assign: usize,
    /// `who` questions the tables answered (compared with the naive
    /// reading, or for resources with asking every user), and how many
    /// named someone.
    table_who: usize,
    table_who_someone: usize,
}

/// Where an item is, for messages.
fn item_place(b: &Built, item: &common::naive::Item) -> String {
    let m = &b.checked.model;
    match item.origin {
        common::naive::ItemOf::Assignment(i) => {
            let (f, l) = b.loc(m.assignments[i].span);
            format!("assignment {f}:{l}")
        }
        common::naive::ItemOf::Rule(r, g) => {
            let (f, l) = b.loc(m.rules[r].span);
            format!("rule {f}:{l} grant {g}")
        }
    }
}

fn restriction_text(m: &Model, r: &trellis::model::Restriction) -> String {
    let parts: Vec<String> = r
        .entries()
        .iter()
        .map(|(d, ids)| {
            let ids: Vec<&str> = ids
                .iter()
                .map(|q| m.resources[q.index()].id.as_str())
                .collect();
            format!("{}: {ids:?}", m.dimensions[d.index()].id)
        })
        .collect();
    format!("{{{}}}", parts.join(", "))
}

/// Compares the resolver's `roles_at`, `policies_at`, `allow_on` and
/// `can_assign_with` with the naive reading of SPEC §15 on one set.
fn compare_resources(b: &Built, st: &mut ResStats) -> Vec<String> {
    use trellis::model::{DimId, PermId, ResId, Restriction};
    let seed = b.set.seed;
    let m = &b.checked.model;
    let naive = Naive::new(m);
    let entries = naive.model_entries();
    let mut bad = Vec::new();
    let mut rng = random::Rng::new(seed ^ 0x15_15);
    // A clean set is compiled, and its table asked the same questions.
    let table = b.error_codes().is_empty().then(|| {
        st.tables += 1;
        Table::from_bytes(&build(m, &b.checked.sources, false).encode()).unwrap()
    });
    let th = |t: &Table, u: UserId, p: PermId, x: OrgId| {
        (
            t.user(&m.users[u.index()].id).unwrap(),
            t.permission(&m.perm_name(p)).unwrap(),
            t.org(&m.orgs[x.index()].id).unwrap(),
        )
    };
    let uid = |u: UserId| m.users[u.index()].id.clone();
    let oid = |x: OrgId| m.orgs[x.index()].id.clone();
    let rid = |q: ResId| m.resources[q.index()].id.clone();
    let paths_text = |paths: &[common::naive::GrantPath], p: PermId| -> String {
        let (module, _) = m.perms[p.index()];
        let dim = m.modules[module.index()].dimension;
        let shown: Vec<String> = paths
            .iter()
            .filter(|path| m.roles[path.held.index()].perms.contains(p.index()))
            .map(|path| {
                format!(
                    "{} gives `{}`, holds `{}`{}",
                    item_place(b, &path.item),
                    naive.role_qualified(path.item.role),
                    naive.role_qualified(path.held),
                    dim.map(|d| format!(
                        ", restricted to {}",
                        naive.show(&naive.path_restriction(path, d))
                    ))
                    .unwrap_or_default()
                )
            })
            .collect();
        if shown.is_empty() {
            "no path gives it".to_owned()
        } else {
            shown.join("; ")
        }
    };

    // Paths and policies per (user, org), once.
    let mut at: BTreeMap<(UserId, OrgId), (Vec<common::naive::GrantPath>, BTreeSet<PolicyId>)> =
        BTreeMap::new();
    for u in naive.users() {
        for x in naive.orgs() {
            at.insert(
                (u, x),
                (naive.grant_paths(u, x, &entries), naive.policies(u, x)),
            );
        }
    }

    // Effective roles and policies (§5; resources change nothing there).
    let mut roles_at: BTreeMap<(UserId, OrgId), BTreeSet<RoleId>> = BTreeMap::new();
    for u in naive.users() {
        for x in naive.orgs() {
            st.roles += 1;
            let want = roles_at
                .entry((u, x))
                .or_insert_with(|| naive.roles_with(u, x, &entries))
                .clone();
            let got = m.roles_at(u, x);
            if got != want {
                bad.push(format!(
                    "seed {seed}: roles_at({}, {}): resolver {:?}, naive {:?}",
                    uid(u),
                    oid(x),
                    got.iter()
                        .map(|r| naive.role_qualified(*r))
                        .collect::<Vec<_>>(),
                    want.iter()
                        .map(|r| naive.role_qualified(*r))
                        .collect::<Vec<_>>()
                ));
            }
            let got = m.policies_at(u, x);
            if got != at[&(u, x)].1 {
                bad.push(format!(
                    "seed {seed}: policies_at({}, {}): resolver {got:?}, naive {:?}",
                    uid(u),
                    oid(x),
                    at[&(u, x)].1
                ));
            }
        }
    }

    // allow(u, p, x): no resource. The users allowed, by (p, x), for who.
    let mut allowed: BTreeMap<(usize, usize), BTreeSet<String>> = BTreeMap::new();
    for ((u, x), (paths, policies)) in &at {
        for p in 0..m.perms.len() {
            let p = PermId(p as u32);
            st.org_questions += 1;
            let want = naive.allow_by(paths, policies, p, *x, None);
            st.org_allowed += usize::from(want);
            if want {
                allowed
                    .entry((p.index(), x.index()))
                    .or_default()
                    .insert(uid(*u));
            }
            let got = m.allow_on(*u, p, *x, None);
            if let Some(t) = &table {
                let (tu, tp, tx) = th(t, *u, p, *x);
                st.table_questions += 1;
                if t.allow_on(tu, tp, tx, None) != want || t.allow(tu, tp, tx) != want {
                    bad.push(format!(
                        "seed {seed}: table allow({}, {}, {}) without resource: table {}, naive {want}; paths: {}",
                        uid(*u),
                        m.perm_name(p),
                        oid(*x),
                        !want,
                        paths_text(paths, p)
                    ));
                }
            }
            if got != want {
                bad.push(format!(
                    "seed {seed}: allow({}, {}, {}) without resource: resolver {got}, naive {want}; paths: {}",
                    uid(*u),
                    m.perm_name(p),
                    oid(*x),
                    paths_text(paths, p)
                ));
            }
        }
    }

    // who(p, x): exactly the users the naive reading allows (the table
    // asks only the users its index finds reached: none may be missed).
    if let Some(t) = &table {
        for x in naive.orgs() {
            let tx = t.org(&m.orgs[x.index()].id).unwrap();
            for p in 0..m.perms.len() {
                let tp = t.permission(&m.perm_name(PermId(p as u32))).unwrap();
                let got: BTreeSet<String> = t
                    .who_on(tp, tx, None)
                    .into_iter()
                    .map(|u| t.user_name(u).to_owned())
                    .collect();
                let want = allowed.remove(&(p, x.index())).unwrap_or_default();
                st.table_who += 1;
                st.table_who_someone += usize::from(!want.is_empty());
                if got != want {
                    bad.push(format!(
                        "seed {seed}: table who({}, {}): table {got:?}, naive {want:?}",
                        m.perm_name(PermId(p as u32)),
                        oid(x)
                    ));
                }
            }
        }
    }

    // allow(u, p, q): every resource, at its org (and at one other), or
    // at every org for a resource of no org; permissions of its dimension,
    // and some of another.
    let mut questions: Vec<(UserId, PermId, ResId, OrgId)> = Vec::new();
    for q in 0..m.resources.len() {
        let q = ResId(q as u32);
        let res = &m.resources[q.index()];
        for p in 0..m.perms.len() {
            let p = PermId(p as u32);
            let (module, _) = m.perms[p.index()];
            let same_dim = m.modules[module.index()].dimension == Some(res.dim);
            if !same_dim && !rng.chance(0.2) {
                continue;
            }
            let orgs: Vec<OrgId> = match res.org {
                Some(o) => {
                    let other = OrgId(rng.below(m.orgs.len()) as u32);
                    if other == o {
                        vec![o]
                    } else {
                        vec![o, other]
                    }
                }
                None => naive.orgs().collect(),
            };
            for u in naive.users() {
                for &x in &orgs {
                    questions.push((u, p, q, x));
                }
            }
        }
    }
    let cap = resource_question_cap();
    if cap > 0 && questions.len() > cap {
        for i in 0..cap {
            let j = i + rng.below(questions.len() - i);
            questions.swap(i, j);
        }
        questions.truncate(cap);
    }
    for (u, p, q, x) in questions {
        let res = &m.resources[q.index()];
        let (module, _) = m.perms[p.index()];
        if m.modules[module.index()].dimension != Some(res.dim) {
            st.res_wrong_dim += 1;
        } else if res.org.is_some_and(|o| o != x) {
            st.res_elsewhere += 1;
        } else {
            st.res_questions += 1;
        }
        let (paths, policies) = &at[&(u, x)];
        let want = naive.allow_by(paths, policies, p, x, Some(q));
        if m.modules[module.index()].dimension == Some(res.dim) && res.org.is_none_or(|o| o == x) {
            st.res_allowed += usize::from(want);
        }
        let got = m.allow_on(u, p, x, Some(q));
        if let Some(t) = &table {
            let (tu, tp, tx) = th(t, u, p, x);
            let tq = t.resource(&res.id).unwrap();
            st.table_questions += 1;
            let tgot = t.allow_on(tu, tp, tx, Some(tq));
            let who = t.who_on(tp, tx, Some(tq));
            st.table_who += 1;
            if who != t.who_on_every_user(tp, tx, Some(tq)) || who.contains(&tu) != tgot {
                bad.push(format!(
                    "seed {seed}: table who({}, {}, resource {}) is not every user allowed",
                    m.perm_name(p),
                    oid(x),
                    rid(q)
                ));
            }
            if tgot != want {
                bad.push(format!(
                    "seed {seed}: table allow({}, {}, resource {} (of {}), asked at {}): table {tgot}, naive {want}; paths: {}",
                    uid(u),
                    m.perm_name(p),
                    rid(q),
                    res.org.map_or("no org".to_owned(), oid),
                    oid(x),
                    paths_text(paths, p)
                ));
            }
        }
        if got != want {
            bad.push(format!(
                "seed {seed}: allow({}, {}, resource {} (of {}), asked at {}): resolver {got}, naive {want}; paths: {}",
                uid(u),
                m.perm_name(p),
                rid(q),
                res.org.map_or("no org".to_owned(), oid),
                oid(x),
                paths_text(paths, p)
            ));
        }
    }

    // can_assign(a, r, u, x, G), sampled.
    let dims: Vec<DimId> = (0..m.dimensions.len()).map(|d| DimId(d as u32)).collect();
    let of_dim = |d: DimId| -> Vec<ResId> {
        (0..m.resources.len())
            .map(|q| ResId(q as u32))
            .filter(|q| m.resources[q.index()].dim == d)
            .collect()
    };
    let assigner_roles: BTreeSet<RoleId> = m
        .roles
        .iter()
        .flat_map(|r| r.assignable_by.iter().copied())
        .collect();
    let users: Vec<UserId> = naive.users().collect();
    let orgs: Vec<OrgId> = naive.orgs().collect();
    // Who holds which assigner role where: (admin, S, orgs where held).
    let mut holders: Vec<(UserId, RoleId, Vec<OrgId>)> = Vec::new();
    for &a in &users {
        for &s in &assigner_roles {
            let held: Vec<OrgId> = orgs
                .iter()
                .copied()
                .filter(|x| roles_at[&(a, *x)].contains(&s))
                .collect();
            if !held.is_empty() {
                holders.push((a, s, held));
            }
        }
    }
    let delegable: Vec<RoleId> = (0..m.roles.len())
        .map(|r| RoleId(r as u32))
        .filter(|r| !m.roles[r.index()].assignable_by.is_empty() || m.roles[r.index()].self_service)
        .collect();
    let all_roles: Vec<RoleId> = (0..m.roles.len()).map(|r| RoleId(r as u32)).collect();
    let self_service: Vec<RoleId> = all_roles
        .iter()
        .copied()
        .filter(|r| m.roles[r.index()].self_service)
        .collect();
    for _ in 0..can_assign_questions() {
        // Mostly about an admin holding an assigner role, one role it may
        // assign, at an org where it holds it and to a user homed where it
        // holds it; else anything.
        let roll = rng.below(10);
        let focus = if roll < 7 { rng.pick(&holders) } else { None };
        let self_service = if roll == 7 {
            rng.pick(&self_service)
        } else {
            None
        };
        let (a, r, u, x, s) = match (focus, self_service) {
            (_, Some(r)) => {
                let a = rng.pick(&users).unwrap();
                let x = if rng.chance(0.7) {
                    m.users[a.index()].home
                } else {
                    rng.pick(&orgs).unwrap()
                };
                (a, r, a, x, rng.pick(&m.roles[r.index()].assignable_by))
            }
            (Some((a, s, held)), None) => {
                let rs: Vec<RoleId> = all_roles
                    .iter()
                    .copied()
                    .filter(|r| m.roles[r.index()].assignable_by.contains(&s))
                    .collect();
                let r = rng.pick(&rs).unwrap();
                let near: Vec<UserId> = users
                    .iter()
                    .copied()
                    .filter(|u| held.contains(&m.users[u.index()].home))
                    .collect();
                let u = if !near.is_empty() && rng.chance(0.8) {
                    rng.pick(&near).unwrap()
                } else {
                    rng.pick(&users).unwrap()
                };
                let x = if rng.chance(0.8) {
                    rng.pick(&held).unwrap()
                } else {
                    rng.pick(&orgs).unwrap()
                };
                (a, r, u, x, Some(s))
            }
            (None, None) => {
                let a = rng.pick(&users).unwrap();
                let r = if !delegable.is_empty() && rng.chance(0.8) {
                    rng.pick(&delegable).unwrap()
                } else {
                    rng.pick(&all_roles).unwrap()
                };
                let u = if rng.chance(0.2) {
                    a
                } else {
                    rng.pick(&users).unwrap()
                };
                let x = match rng.below(4) {
                    0 | 1 => m.users[u.index()].home,
                    2 => m.users[a.index()].home,
                    _ => rng.pick(&orgs).unwrap(),
                };
                (a, r, u, x, rng.pick(&m.roles[r.index()].assignable_by))
            }
        };
        let home = m.users[u.index()].home;
        // G: nothing; an empty list; random resources; or lists taken from
        // the admin's scope at X, at U's home, or both (some dimensions left
        // out); and mostly the dimensions the role requires.
        let mut g: BTreeMap<DimId, BTreeSet<ResId>> = BTreeMap::new();
        let kind = rng.below(10);
        match kind {
            0 => {}
            1 => {
                if let Some(d) = rng.pick(&dims) {
                    g.insert(d, BTreeSet::new());
                }
            }
            2..=4 => {
                for d in rng.some_of(&dims, 2) {
                    g.entry(d).or_default().extend(rng.some_of(&of_dim(d), 2));
                }
            }
            _ => {
                for &d in &dims {
                    if rng.chance(0.25) {
                        continue;
                    }
                    let scope = s.map(|s| {
                        let at_x = naive.scope(a, s, x, d, &entries);
                        let at_home = naive.scope(a, s, home, d, &entries);
                        match rng.below(3) {
                            0 => at_x,
                            1 => at_home,
                            _ => common::naive::union(at_x, at_home),
                        }
                    });
                    match scope {
                        Some(Some(list)) if !list.is_empty() => {
                            let list: Vec<ResId> = list.into_iter().collect();
                            g.entry(d).or_default().extend(rng.some_of(&list, 2));
                        }
                        _ if rng.chance(0.3) => {
                            g.entry(d).or_default().extend(rng.some_of(&of_dim(d), 2));
                        }
                        _ => {}
                    }
                }
            }
        }
        if kind != 0 {
            for d in naive.required_dimensions(r) {
                if !g.contains_key(&d) && rng.chance(0.9) {
                    g.entry(d).or_default().extend(rng.some_of(&of_dim(d), 2));
                }
            }
        }
        let given = Restriction::new(
            g.into_iter()
                .map(|(d, ids)| (d, ids.into_iter().collect()))
                .collect(),
        );
        st.can_assign += 1;
        let want = naive.can_assign_with(a, r, u, x, &given, &entries);
        let got = m.can_assign_with(a, r, u, x, &given);
        if let Some(t) = &table {
            let handle = |u: UserId| t.user(&m.users[u.index()].id).unwrap();
            let lists: Vec<(trellis::table::Dimension, Vec<trellis::table::Resource>)> = given
                .entries()
                .iter()
                .map(|(d, ids)| {
                    (
                        t.dimension(&m.dimensions[d.index()].id).unwrap(),
                        ids.iter()
                            .map(|q| t.resource(&m.resources[q.index()].id).unwrap())
                            .collect(),
                    )
                })
                .collect();
            let borrowed: Vec<_> = lists.iter().map(|(d, v)| (*d, v.as_slice())).collect();
            let tr = t.role(&naive.role_qualified(r)).unwrap();
            let tx = t.org(&m.orgs[x.index()].id).unwrap();
            st.table_can_assign += 1;
            let tgot = t.can_assign_with(handle(a), tr, handle(u), tx, &borrowed);
            if tgot != want.is_ok() {
                bad.push(format!(
                    "seed {seed}: table can_assign({}, `{}`, {}, {}, G {}): table {tgot}, naive {:?}",
                    uid(a),
                    naive.role_qualified(r),
                    uid(u),
                    oid(x),
                    restriction_text(m, &given),
                    want.clone().map(|_| true)
                ));
            }
        }
        let class = match naive.assigner_kind(a, r, u, x, &entries) {
            Some(true) => "restricted",
            Some(false) => "unrestricted",
            None if a == u && m.roles[r.index()].self_service => "self-service",
            None => "none",
        };
        *st.can_assign_by.entry((class, want.is_ok())).or_default() += 1;
        if got.is_ok() != want.is_ok() {
            bad.push(format!(
                "seed {seed}: can_assign({}, `{}`, {}, {}, G {}) [{class} assigner]: resolver {:?}, naive {:?}",
                uid(a),
                naive.role_qualified(r),
                uid(u),
                oid(x),
                restriction_text(m, &given),
                got.map(|_| true),
                want.map(|_| true)
            ));
        }
    }

    // `by:` assignments: E013 exactly where can_assign fails (SPEC §15: "A
    // `by:` assignment is checked with its own `resources`").
    let e013: BTreeSet<(String, usize)> = b
        .checked
        .diagnostics
        .iter()
        .filter(|d| d.code == Code::E013)
        .map(|d| b.loc(d.primary.span))
        .collect();
    for a in m.assignments.iter() {
        let Some((_, span)) = a.by.as_deref().copied() else {
            continue;
        };
        st.by_judged += 1;
        let due = naive.e013_due(a, &entries);
        st.by_e013 += usize::from(due.is_some());
        let at = b.loc(span);
        if due.is_some() != e013.contains(&at) {
            bad.push(format!(
                "seed {seed}: `by:` assignment {}:{} (resources {}): E013 reported {}, naive {}",
                at.0,
                at.1,
                restriction_text(m, &a.resources),
                e013.contains(&at),
                due.map_or("none due".to_owned(), |w| format!("due: {w}"))
            ));
        }
    }
    bad
}

#[test]
fn resources_resolver_equals_naive() {
    let start = Instant::now();
    let seeds = seeds();
    let mut st = ResStats::default();
    let mut failures: Vec<String> = Vec::new();
    let mut failing_seeds = BTreeSet::new();
    for &seed in &seeds {
        if random::generate(seed).dimensions.is_empty() {
            continue;
        }
        st.dim_sets += 1;
        let b = build_set(seed);
        let errors = b.error_codes();
        st.clean += usize::from(errors.is_empty());
        if errors.iter().any(|c| NOT_COMPARED.contains(c)) {
            continue;
        }
        st.compared += 1;
        st.compared_with_errors += usize::from(!errors.is_empty());
        let mut bad = compare_resources(&b, &mut st);
        if errors.is_empty() {
            bad.extend(role_permissions(&b));
        }
        if !bad.is_empty() {
            failing_seeds.insert(seed);
            failures.push(format!(
                "seed {seed} (errors {errors:?}): {} disagreements; {}",
                bad.len(),
                repro(seed)
            ));
            failures.extend(bad.into_iter().take(8).map(|s| format!("  {s}")));
        }
    }
    eprintln!(
        "resources, resolver vs naive: {} seeds, {} with dimensions ({} clean; {} compared, {} of them with errors other than {NOT_COMPARED:?}); {} role sets, {} questions without resource ({} allow), {} about a resource at its org ({} allow), {} at another org, {} with a permission of another dimension, {} can_assign {:?}, {} `by:` assignments ({} E013 due); {} tables asked {} decisions, {} can_assign and {} who ({} naming someone); {:.1?}",
        seeds.len(),
        st.dim_sets,
        st.clean,
        st.compared,
        st.compared_with_errors,
        st.roles,
        st.org_questions,
        st.org_allowed,
        st.res_questions,
        st.res_allowed,
        st.res_elsewhere,
        st.res_wrong_dim,
        st.can_assign,
        st.can_assign_by,
        st.by_judged,
        st.by_e013,
        st.tables,
        st.table_questions,
        st.table_can_assign,
        st.table_who,
        st.table_who_someone,
        start.elapsed()
    );
    assert!(
        failures.is_empty(),
        "the resolver and the naive reading of SPEC §15 disagree on {} sets ({failing_seeds:?}):\n{}",
        failing_seeds.len(),
        failures.join("\n")
    );
    if seeds.len() >= 100 {
        // The generator's share of sets with dimensions, and of those
        // without errors (at least 40%).
        assert!(
            st.dim_sets >= seeds.len() / 4,
            "only {} sets with dimensions",
            st.dim_sets
        );
        assert!(
            st.clean * 5 >= st.dim_sets * 2,
            "only {} of {} sets with dimensions are without errors",
            st.clean,
            st.dim_sets
        );
        assert!(st.res_allowed > 0 && st.res_allowed < st.res_questions);
        for class in ["restricted", "unrestricted"] {
            for answer in [true, false] {
                assert!(
                    st.can_assign_by.get(&(class, answer)).copied().unwrap_or(0) > 0,
                    "no can_assign question with a {class} assigner answered {answer}"
                );
            }
        }
        assert!(st.by_judged > 0 && st.by_e013 > 0);
        assert!(st.tables > 0 && st.table_questions > 0 && st.table_can_assign > 0);
        assert!(st.table_who_someone > 0 && st.table_who_someone < st.table_who);
    }
}
