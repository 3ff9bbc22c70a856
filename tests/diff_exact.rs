//! The access diff is exact: on random pairs (a random set and random edits
//! of it — reparenting, kind changes, added orgs and users, moved users,
//! edited roles, publications, assignments, rules and access policies) the
//! diff's entries, read back org by org, say exactly what a brute-force
//! comparison of both revisions' answers at every user and org says.
//!
//! Reading an entry back: an org with an entry `org` or `subtree` of its own
//! has that delta; an org that is a probe (an entry's org, or in an entry's
//! `except`) and has no such entry has none; any other org has the `below`
//! or `subtree` delta of its nearest probe ancestor, or none.
//!
//! `TRELLIS_DIFF_PAIRS` sets how many pairs are tried (default 300); a
//! disagreement prints the seed.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "tests fail loudly"
)]

mod common;
use common::random::Rng;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::Path;

use trellis::diff::access::{AccessDiff, OrgChange};
use trellis::model::{Model, OrgId, PermId};

const PERMS: [&str; 4] = ["m0:a", "m0:b", "m1:a", "m1:b"]; // m1 is gated
const KINDS: [&str; 3] = ["k1", "k2", "k3"];

#[derive(Clone)]
struct Org {
    id: String,
    parent: Option<usize>,
    kind: &'static str,
}

#[derive(Clone)]
struct User {
    id: String,
    home: usize,
    contractor: bool,
    owner: bool,
}

#[derive(Clone)]
struct Role {
    grants: BTreeSet<&'static str>,
    includes: BTreeSet<usize>,
    employees_only: bool,
    disabled: bool,
    published: bool,
}

#[derive(Clone, PartialEq)]
struct Assignment {
    role: Option<usize>, // None: the access policy
    user: Option<usize>,
    org: usize,
    inherit: bool,
}

#[derive(Clone, PartialEq)]
struct Rule {
    owner: bool,
    kind: Option<&'static str>,
    role: usize,
    at: u8, // 0 self, 1 descendants of a kind, 2 descendants any
    at_kind: &'static str,
    inherit: bool,
}

#[derive(Clone)]
struct Set {
    orgs: Vec<Org>,
    users: Vec<User>,
    roles: Vec<Role>,
    assignments: Vec<Assignment>,
    publications: BTreeMap<(usize, usize), bool>,
    rules: Vec<Rule>,
    policy_gates_m1: bool,
    /// m0 gated too (no policy opens it): a catalog change every holder
    /// of a role with an m0 permission feels.
    m0_gated: bool,
}

impl Set {
    fn random(r: &mut Rng) -> Set {
        let mut orgs: Vec<Org> = Vec::new();
        for i in 0..3 + r.below(8) {
            let parent = (i > 0 && r.percent(75)).then(|| r.below(i));
            orgs.push(Org {
                id: format!("o{i}"),
                parent,
                kind: r.pick(&KINDS).unwrap_or("k1"),
            });
        }
        let users = (0..2 + r.below(5))
            .map(|i| User {
                id: format!("u{i}"),
                home: r.below(orgs.len()),
                contractor: r.percent(25),
                owner: r.percent(40),
            })
            .collect();
        let mut roles = Vec::new();
        for i in 0..2 + r.below(4) {
            let grants = PERMS.iter().copied().filter(|_| r.percent(40)).collect();
            let includes = (0..i).filter(|_| r.percent(30)).collect();
            roles.push(Role {
                grants,
                includes,
                employees_only: r.percent(20),
                disabled: r.percent(10),
                published: !r.percent(15),
            });
        }
        let mut s = Set {
            orgs,
            users,
            roles,
            assignments: Vec::new(),
            publications: BTreeMap::new(),
            rules: Vec::new(),
            policy_gates_m1: true,
            m0_gated: false,
        };
        for _ in 0..r.below(6) {
            s.add_assignment(r);
        }
        for _ in 0..r.below(4) {
            s.toggle_publication(r);
        }
        for _ in 0..r.below(3) {
            s.add_rule(r);
        }
        s
    }

    fn add_assignment(&mut self, r: &mut Rng) {
        let user = r.percent(60).then(|| r.below(self.users.len()));
        let role = (!r.percent(15)).then(|| r.below(self.roles.len()));
        let org = match user {
            Some(u) if r.percent(50) => self.users[u].home,
            _ => r.below(self.orgs.len()),
        };
        self.assignments.push(Assignment {
            role,
            user,
            org,
            inherit: !r.percent(25),
        });
    }

    fn toggle_publication(&mut self, r: &mut Rng) {
        let key = (r.below(self.roles.len()), r.below(self.orgs.len()));
        match self.publications.get(&key).copied() {
            Some(p) if r.percent(50) => {
                self.publications.insert(key, !p);
            }
            Some(_) => {
                self.publications.remove(&key);
            }
            None => {
                self.publications.insert(key, r.percent(50));
            }
        }
    }

    fn add_rule(&mut self, r: &mut Rng) {
        self.rules.push(Rule {
            owner: r.percent(50),
            kind: r.percent(40).then(|| r.pick(&KINDS).unwrap_or("k1")),
            role: r.below(self.roles.len()),
            at: r.below(3) as u8,
            at_kind: r.pick(&KINDS).unwrap_or("k1"),
            inherit: r.percent(50),
        });
    }

    fn in_subtree(&self, x: usize, root: usize) -> bool {
        let mut cur = Some(x);
        while let Some(c) = cur {
            if c == root {
                return true;
            }
            cur = self.orgs[c].parent;
        }
        false
    }

    /// One random edit of the kinds a pull request makes.
    fn edit(&mut self, r: &mut Rng) {
        match r.below(14) {
            0 => {
                // Reparent an org (never under its own subtree).
                let o = r.below(self.orgs.len());
                let p = r.below(self.orgs.len());
                self.orgs[o].parent = if r.percent(20) || self.in_subtree(p, o) {
                    None
                } else {
                    Some(p)
                };
            }
            1 => {
                let o = r.below(self.orgs.len());
                self.orgs[o].kind = r.pick(&KINDS).unwrap_or("k1");
            }
            2 => {
                let parent = Some(r.below(self.orgs.len()));
                self.orgs.push(Org {
                    id: format!("o{}", self.orgs.len()),
                    parent,
                    kind: r.pick(&KINDS).unwrap_or("k1"),
                });
            }
            3 => {
                let home = r.below(self.orgs.len());
                self.users.push(User {
                    id: format!("u{}", self.users.len()),
                    home,
                    contractor: r.percent(25),
                    owner: r.percent(40),
                });
            }
            4 => {
                let u = r.below(self.users.len());
                self.users[u].home = r.below(self.orgs.len());
            }
            5 => {
                let x = r.below(self.roles.len());
                let p = r.pick(&PERMS).unwrap_or("m0:a");
                if !self.roles[x].grants.remove(p) {
                    self.roles[x].grants.insert(p);
                }
            }
            6 => {
                let x = r.below(self.roles.len());
                if x > 0 {
                    let y = r.below(x);
                    if !self.roles[x].includes.remove(&y) {
                        self.roles[x].includes.insert(y);
                    }
                }
            }
            7 => self.toggle_publication(r),
            8 => self.add_assignment(r),
            9 if !self.assignments.is_empty() => {
                let i = r.below(self.assignments.len());
                self.assignments.remove(i);
            }
            10 if !self.assignments.is_empty() => {
                let i = r.below(self.assignments.len());
                self.assignments[i].inherit = !self.assignments[i].inherit;
            }
            11 => self.add_rule(r),
            12 if !self.rules.is_empty() => {
                let i = r.below(self.rules.len());
                self.rules[i].at = r.below(3) as u8;
                self.rules[i].inherit = r.percent(50);
            }
            13 => {
                let x = r.below(self.roles.len());
                match r.below(5) {
                    0 => self.roles[x].disabled = !self.roles[x].disabled,
                    1 => self.roles[x].employees_only = !self.roles[x].employees_only,
                    2 => self.roles[x].published = !self.roles[x].published,
                    3 => self.m0_gated = !self.m0_gated,
                    _ => self.policy_gates_m1 = !self.policy_gates_m1,
                }
            }
            _ => {
                let u = r.below(self.users.len());
                self.users[u].contractor = !self.users[u].contractor;
            }
        }
    }

    fn yaml(&self) -> String {
        let m0 = if self.m0_gated { ", gated: true" } else { "" };
        let mut s = format!("scope: provider\nmodules:\n  m0: {{ actions: [a, b]{m0} }}\n  m1: {{ actions: [a, b], gated: true }}\n  m2: {{ actions: [a] }}\n");
        let gated = if self.policy_gates_m1 { "m1" } else { "m2" };
        let _ = writeln!(s, "policies:\n  pol: {{ modules: [{gated}] }}\norgs:");
        for o in &self.orgs {
            let parent = o
                .parent
                .map(|p| format!(", parent: {}", self.orgs[p].id))
                .unwrap_or_default();
            let _ = writeln!(s, "  {}: {{ kind: {}{parent} }}", o.id, o.kind);
        }
        s.push_str("users:\n");
        for u in &self.users {
            let _ = writeln!(
                s,
                "  {}: {{ org: {}, type: {}, owner: {} }}",
                u.id,
                self.orgs[u.home].id,
                if u.contractor {
                    "contractor"
                } else {
                    "employee"
                },
                u.owner
            );
        }
        s.push_str("roles:\n");
        for (i, r) in self.roles.iter().enumerate() {
            let grants: Vec<String> = r.grants.iter().map(|g| format!("\"{g}\"")).collect();
            let includes: Vec<String> = r.includes.iter().map(|x| format!("r{x}")).collect();
            let _ = writeln!(
                s,
                "  r{i}: {{ grants: [{}], includes: [{}], status: {}, published: {}{} }}",
                grants.join(", "),
                includes.join(", "),
                if r.disabled { "disabled" } else { "active" },
                r.published,
                if r.employees_only {
                    ", identity_types: [employee]"
                } else {
                    ""
                }
            );
        }
        s.push_str("assignments:\n");
        for a in &self.assignments {
            let what = match a.role {
                Some(r) => format!("role: r{r}"),
                None => "policy: pol".to_owned(),
            };
            let who = a
                .user
                .map(|u| format!(", user: {}", self.users[u].id))
                .unwrap_or_default();
            let _ = writeln!(
                s,
                "  - {{ {what}{who}, org: {}, inherit: {} }}",
                self.orgs[a.org].id, a.inherit
            );
        }
        s.push_str("publications:\n");
        for ((role, org), publish) in &self.publications {
            let _ = writeln!(
                s,
                "  - {{ role: r{role}, org: {}, publish: {publish} }}",
                self.orgs[*org].id
            );
        }
        s.push_str("automatic:\n");
        for rule in &self.rules {
            let mut when = vec![];
            if rule.owner {
                when.push("owner: true".to_owned());
            }
            if let Some(k) = rule.kind {
                when.push(format!("org_kind: {k}"));
            }
            let at = match rule.at {
                0 => "self".to_owned(),
                1 => format!("{{ descendants: [{}] }}", rule.at_kind),
                _ => "{ descendants: any }".to_owned(),
            };
            let _ = writeln!(
                s,
                "  - {{ when: {{ {} }}, grant: [{{ roles: [r{}], at: [{at}], inherit: {} }}] }}",
                when.join(", "),
                rule.role,
                rule.inherit
            );
        }
        s
    }
}

/// Does the library's diff, read back org by org, agree with a
/// brute-force comparison? Returns the first disagreement.
fn compare(base: &Model, head: &Model, d: &AccessDiff) -> Result<usize, String> {
    type Access = (BTreeSet<String>, BTreeSet<String>, BTreeSet<String>);
    let access = |m: &Model, user: &str, org: &str| -> Access {
        let (Some(&u), Some(&x)) = (m.user_index.get(user), m.org_index.get(org)) else {
            return Access::default();
        };
        let roles = m
            .roles_at(u, x)
            .iter()
            .map(|r| m.role_qualified(*r))
            .collect();
        let perms = (0..m.perms.len() as u32)
            .filter(|p| m.allow(u, PermId(*p), x))
            .map(|p| m.perm_name(PermId(p)))
            .collect();
        let policies = m
            .policies_at(u, x)
            .iter()
            .map(|p| m.policies[p.index()].id.clone())
            .collect();
        (roles, perms, policies)
    };
    let users: BTreeSet<&str> = base
        .users
        .iter()
        .chain(&head.users)
        .map(|u| u.id.as_str())
        .collect();
    let orgs: BTreeSet<&str> = base
        .orgs
        .iter()
        .chain(&head.orgs)
        .map(|o| o.id.as_str())
        .collect();
    let mut compared = 0;
    for user in &users {
        let entries: Vec<&OrgChange> = d
            .users
            .iter()
            .filter(|c| c.user == *user)
            .flat_map(|c| &c.changes)
            .collect();
        let probes: BTreeSet<&str> = entries
            .iter()
            .flat_map(|e| {
                std::iter::once(e.org.as_str()).chain(e.except.iter().map(String::as_str))
            })
            .collect();
        let entry = |org: &str, reaches: &[&str]| {
            entries
                .iter()
                .find(|e| e.org == org && reaches.contains(&e.reach))
                .copied()
        };
        // How many orgs each below/subtree entry was read back for.
        let mut counted: BTreeMap<&str, usize> = BTreeMap::new();
        for org in &orgs {
            let tree = if head.org_index.contains_key(*org) {
                head
            } else {
                base
            };
            let found = if probes.contains(org) {
                let e = entry(org, &["org", "subtree"]);
                if let Some(e) = e.filter(|e| e.reach == "subtree") {
                    *counted.entry(e.org.as_str()).or_default() += 1;
                }
                e
            } else {
                let x: OrgId = tree.org_index[*org];
                let ancestor = tree
                    .ancestors(x)
                    .skip(1)
                    .map(|a| tree.org(a).id.as_str())
                    .find(|a| probes.contains(a));
                let e = ancestor.and_then(|a| entry(a, &["below", "subtree"]));
                if let Some(e) = e {
                    *counted.entry(e.org.as_str()).or_default() += 1;
                }
                e
            };
            let (b, h) = (access(base, user, org), access(head, user, org));
            let gained = |x: &BTreeSet<String>, y: &BTreeSet<String>| -> Vec<String> {
                x.difference(y).cloned().collect()
            };
            let want = [
                gained(&h.0, &b.0),
                gained(&b.0, &h.0),
                gained(&h.1, &b.1),
                gained(&b.1, &h.1),
                gained(&h.2, &b.2),
                gained(&b.2, &h.2),
            ];
            let got = match found {
                Some(e) => [
                    e.roles_gained.clone(),
                    e.roles_lost.clone(),
                    e.permissions_gained.clone(),
                    e.permissions_lost.clone(),
                    e.policies_gained.clone(),
                    e.policies_lost.clone(),
                ],
                None => Default::default(),
            };
            if want != got {
                return Err(format!(
                    "user `{user}` at org `{org}`: brute force (roles +/-, permissions +/-, policies +/-) {want:?}, diff says {got:?}"
                ));
            }
            compared += 1;
        }
        for e in entries.iter().filter(|e| e.reach != "org") {
            let n = counted.get(e.org.as_str()).copied().unwrap_or(0);
            if n != e.orgs {
                return Err(format!(
                    "user `{user}`: entry `{}` at `{}` says {} orgs, {n} read back",
                    e.reach, e.org, e.orgs
                ));
            }
        }
    }
    Ok(compared)
}

fn check(dir: &Path, yaml: &str) -> Option<trellis::Checked> {
    std::fs::create_dir_all(dir).unwrap();
    std::fs::write(dir.join("provider.yaml"), yaml).unwrap();
    let c = trellis::check_paths(&[dir.to_path_buf()], &Default::default()).unwrap();
    (!c.diagnostics.has_errors()).then_some(c)
}

#[test]
fn random_edit_pairs_diff_exactly() {
    let pairs: u64 = std::env::var("TRELLIS_DIFF_PAIRS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(300);
    let tmp = tempfile::tempdir().unwrap();
    let (mut valid, mut questions, mut changed) = (0, 0, 0);
    for seed in 0..pairs {
        let mut r = Rng::new(seed);
        let base_set = Set::random(&mut r);
        let mut head_set = base_set.clone();
        for _ in 0..1 + r.below(3) {
            head_set.edit(&mut r);
        }
        let dir = tmp.path().join(seed.to_string());
        let (Some(base), Some(head)) = (
            check(&dir.join("base"), &base_set.yaml()),
            check(&dir.join("head"), &head_set.yaml()),
        ) else {
            continue;
        };
        let d = trellis::diff::diff(&base.model, &head.model);
        match compare(&base.model, &head.model, &d) {
            Ok(n) => questions += n,
            Err(e) => panic!(
                "seed {seed}: {e}\n--- base\n{}\n--- head\n{}",
                base_set.yaml(),
                head_set.yaml()
            ),
        }
        valid += 1;
        changed += usize::from(!d.users.is_empty());
    }
    eprintln!("{valid} valid pairs ({changed} with access changes), {questions} (user, org) answers compared");
    assert!(
        valid * 3 >= pairs as usize,
        "only {valid} of {pairs} pairs were valid"
    );
    assert!(
        changed * 3 >= valid,
        "only {changed} of {valid} pairs changed access"
    );
}
