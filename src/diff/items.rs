//! Every declared item of a resolved set under a stable key, with a
//! fingerprint of its meaning (names, never dense ids or file positions), so
//! that two revisions compare item by item and moving an item between files
//! of one scope is not a change.
//!
//! Items are multisets (SPEC §14.13): the key is what the item is about and
//! the scope of the file that writes it, and several copies may share one
//! key (a locked provider assignment that a tenant file also writes).
//! Removing or changing one copy is a change even when another remains.

use fixedbitset::FixedBitSet;

use crate::model::HashMap;
use crate::model::*;
use crate::source::Span;

/// Where an item sits, for the actor check (SPEC §7, §8).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Place {
    /// Only the provider may write it (catalog, top-level orgs, role types,
    /// policy assignments, provider-scope rules and exclusions).
    ProviderOnly,
    /// Inside an actor's subtree when every one of these orgs (of the model
    /// the item was read from) is.
    Orgs(Vec<OrgId>),
}

#[derive(Debug, Clone)]
pub struct ItemInfo {
    pub kind: &'static str,
    pub fingerprint: String,
    pub span: Span,
    pub locked: bool,
    pub place: Place,
    /// The scope of the file that writes it: an actor may only touch files
    /// of its own subtree, so this is checked like the item's own place.
    pub written_by: Scope,
}

/// What an item is about, and who writes it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ItemKey {
    pub kind: &'static str,
    /// E.g. `viewer -> user:bob @ acme` for an assignment.
    pub key: String,
    /// The scope of the file that writes it (`provider` or an org id).
    pub scope: String,
}

impl std::fmt::Display for ItemKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.kind, self.key)
    }
}

/// Key -> every copy of the item, in path order.
pub type Items = HashMap<ItemKey, Vec<ItemInfo>>;

/// One difference between two revisions' items.
#[derive(Debug, Clone, Copy)]
pub enum ItemDelta<'a> {
    Added(&'a ItemInfo),
    Removed(&'a ItemInfo),
    /// A copy whose meaning changed: before, after.
    Changed(&'a ItemInfo, &'a ItemInfo),
}

/// The differences between two revisions, compared as multisets: copies
/// with the same fingerprint cancel out; of the rest, copies are paired in
/// path order as changes, and what is left over is added or removed.
/// Sorted by key, so the result never depends on map order.
pub fn compare<'a>(before: &'a Items, after: &'a Items) -> Vec<(&'a ItemKey, ItemDelta<'a>)> {
    let mut out = Vec::new();
    for (key, b) in before {
        let h: &[ItemInfo] = after.get(key).map_or(&[], Vec::as_slice);
        let mut used = vec![false; h.len()];
        let mut removed = Vec::new();
        for bi in b {
            match (0..h.len()).find(|&i| !used[i] && h[i].fingerprint == bi.fingerprint) {
                Some(i) => used[i] = true,
                None => removed.push(bi),
            }
        }
        let mut added = h.iter().zip(&used).filter(|(_, u)| !**u).map(|(x, _)| x);
        for bi in removed {
            out.push((
                key,
                match added.next() {
                    Some(hi) => ItemDelta::Changed(bi, hi),
                    None => ItemDelta::Removed(bi),
                },
            ));
        }
        out.extend(added.map(|hi| (key, ItemDelta::Added(hi))));
    }
    for (key, h) in after {
        if !before.contains_key(key) {
            out.extend(h.iter().map(|hi| (key, ItemDelta::Added(hi))));
        }
    }
    out.sort_by(|a, b| a.0.cmp(b.0).then_with(|| a.1.span().cmp(&b.1.span())));
    out
}

impl ItemDelta<'_> {
    /// The copy as it is now, or as it was for a removal.
    pub fn span(&self) -> Span {
        match self {
            ItemDelta::Added(i) | ItemDelta::Removed(i) | ItemDelta::Changed(_, i) => i.span,
        }
    }
}

fn grant_name(m: &Model, g: Grant) -> String {
    match g {
        Grant::Role(r) => m.role_qualified(r),
        Grant::Policy(p) => format!("policy:{}", m.policies[p.index()].id),
    }
}

fn perms(m: &Model, set: &FixedBitSet) -> String {
    set.ones()
        .map(|p| m.perm_name(PermId(p as u32)))
        .collect::<Vec<_>>()
        .join(",")
}

/// A restriction by names: `dimension:[resource,...]` per named dimension.
fn restriction(m: &Model, r: &Restriction) -> String {
    r.entries()
        .iter()
        .map(|(d, ids)| {
            let ids: Vec<&str> = ids
                .iter()
                .map(|x| m.resources[x.index()].id.as_str())
                .collect();
            format!("{}:[{}]", m.dimensions[d.index()].id, ids.join(","))
        })
        .collect::<Vec<_>>()
        .join(";")
}

fn scope_place(scope: Scope) -> Place {
    match scope {
        Scope::Provider => Place::ProviderOnly,
        Scope::Org(o) => Place::Orgs(vec![o]),
    }
}

/// The items of two revisions, keyed on both cores at once.
pub fn items_of_both(base: &Model, head: &Model) -> (Items, Items) {
    rayon::join(|| items(base), || items(head))
}

pub fn items(m: &Model) -> Items {
    let mut out = Items::default();
    let mut put = |key: String, info: ItemInfo| {
        // Where an item is written is part of what it is: moving it to a
        // file of another scope is a change.
        let key = ItemKey {
            kind: info.kind,
            key,
            scope: m.scope_name(info.written_by).to_owned(),
        };
        out.entry(key).or_default().push(info);
    };
    for md in &m.modules {
        put(
            md.id.clone(),
            ItemInfo {
                kind: "module",
                fingerprint: format!(
                    "{:?} gated={} dimension={:?} desc={:?}",
                    md.actions,
                    md.gated,
                    md.dimension.map(|d| &m.dimensions[d.index()].id),
                    md.description
                ),
                span: md.span,
                locked: false,
                place: Place::ProviderOnly,
                written_by: Scope::Provider,
            },
        );
    }
    for d in &m.dimensions {
        put(
            d.id.clone(),
            ItemInfo {
                kind: "dimension",
                fingerprint: format!("desc={:?}", d.description),
                span: d.span,
                locked: false,
                place: Place::ProviderOnly,
                written_by: Scope::Provider,
            },
        );
    }
    for r in &m.resources {
        put(
            r.id.clone(),
            ItemInfo {
                kind: "resource",
                fingerprint: format!(
                    "dimension={} org={:?} desc={:?}",
                    m.dimensions[r.dim.index()].id,
                    r.org.map(|o| &m.org(o).id),
                    r.description
                ),
                span: r.span,
                locked: false,
                // A resource of no org is the provider's to declare.
                place: match r.org {
                    Some(o) => Place::Orgs(vec![o]),
                    None => Place::ProviderOnly,
                },
                written_by: r.scope,
            },
        );
    }
    for k in &m.kinds {
        let parents: Vec<&str> = k
            .parents
            .iter()
            .map(|p| m.kinds[p.index()].id.as_str())
            .collect();
        put(
            k.id.clone(),
            ItemInfo {
                kind: "kind",
                fingerprint: format!("{parents:?} desc={:?}", k.description),
                span: k.span,
                locked: false,
                place: Place::ProviderOnly,
                written_by: Scope::Provider,
            },
        );
    }
    for p in &m.policies {
        let modules: Vec<&str> = p
            .modules
            .iter()
            .map(|x| m.modules[x.index()].id.as_str())
            .collect();
        put(
            p.id.clone(),
            ItemInfo {
                kind: "policy",
                fingerprint: format!("{modules:?} desc={:?}", p.description),
                span: p.span,
                locked: false,
                place: Place::ProviderOnly,
                written_by: Scope::Provider,
            },
        );
    }
    for o in &m.orgs {
        let parent = o.parent.map(|p| m.org(p).id.clone());
        put(
            o.id.clone(),
            ItemInfo {
                kind: "org",
                fingerprint: format!(
                    "parent={parent:?} kind={:?} desc={:?}",
                    o.kind_label, o.description
                ),
                span: o.span,
                locked: false,
                place: match o.parent {
                    Some(p) => Place::Orgs(vec![p]),
                    None => Place::ProviderOnly,
                },
                written_by: o.scope,
            },
        );
    }
    for u in &m.users {
        let home = m.org(u.home).id.clone();
        put(
            u.id.clone(),
            ItemInfo {
                kind: "user",
                fingerprint: format!(
                    "home={home} type={} owner={} attrs={:?} desc={:?}",
                    u.identity, u.owner, u.attributes, u.description
                ),
                span: u.span,
                locked: false,
                place: Place::Orgs(vec![u.home]),
                written_by: u.scope,
            },
        );
    }
    for (i, r) in m.roles.iter().enumerate() {
        let id = RoleId(i as u32);
        let names = |v: &mut dyn Iterator<Item = RoleId>| {
            v.map(|x| m.role_qualified(x)).collect::<Vec<_>>()
        };
        put(m.role_qualified(id), ItemInfo {
            kind: "role",
            fingerprint: format!(
                "active={} locked={} published={} self={} approval={:?} types={:?} includes={:?} from={:?} by={:?} own=[{}] perms=[{}] resources=[{}] dimensions={:?} multiple={} desc={:?}",
                r.active,
                r.locked,
                r.published,
                r.self_service,
                r.approval,
                r.identity_types,
                names(&mut r.includes.iter().map(|x| x.0)),
                r.from.map(|f| m.role_qualified(f.0)),
                names(&mut r.assignable_by.iter().copied()),
                perms(m, &r.own),
                perms(m, &r.perms),
                restriction(m, &r.resources),
                r.dimensions.iter().map(|d| &m.dimensions[d.index()].id).collect::<Vec<_>>(),
                r.multiple,
                r.description
            ),
            span: r.span,
            locked: r.locked,
            place: scope_place(r.owner),
            written_by: r.owner,
        });
    }
    for a in &m.assignments {
        let (target, orgs) = match a.target {
            Target::User(u) => (
                format!("user:{}", m.user(u).id),
                vec![m.user(u).home, a.org],
            ),
            Target::Org => ("members".to_owned(), vec![a.org]),
        };
        let org = &m.org(a.org).id;
        let by = a.by.map(|(b, _)| match b {
            Assigner::Admin(x) => m.user(x).id.clone(),
            Assigner::SelfService => "self".into(),
        });
        put(
            format!("{} -> {target} @ {org}", grant_name(m, a.grant)),
            ItemInfo {
                kind: "assignment",
                fingerprint: format!(
                    "inherit={} by={by:?} locked={} resources=[{}] desc={:?}",
                    a.inherit,
                    a.locked,
                    restriction(m, &a.resources),
                    a.description
                ),
                span: a.span,
                locked: a.locked,
                place: match a.grant {
                    Grant::Policy(_) => Place::ProviderOnly,
                    Grant::Role(_) => Place::Orgs(orgs),
                },
                written_by: a.scope,
            },
        );
    }
    for (ri, entries) in m.publications.iter().enumerate() {
        for (o, e) in entries {
            let org = &m.org(*o).id;
            put(
                format!("{} @ {org}", m.role_qualified(RoleId(ri as u32))),
                ItemInfo {
                    kind: "publication",
                    fingerprint: format!("publish={} locked={}", e.publish, e.locked),
                    span: e.span,
                    locked: e.locked,
                    place: Place::Orgs(vec![*o]),
                    written_by: e.scope,
                },
            );
        }
    }
    for e in &m.exclusions {
        let scope = m.scope_name(e.scope).to_owned();
        let mut roles: Vec<String> = e.roles.iter().map(|r| m.role_qualified(*r)).collect();
        roles.sort();
        // An unnamed exclusion is known by its content (SPEC §14.13).
        let key = match &e.name {
            Some(n) => format!("{scope}/{n}"),
            None => format!(
                "{scope}/[{}] max={} per={:?}",
                roles.join(","),
                e.max,
                e.per
            ),
        };
        put(
            key,
            ItemInfo {
                kind: "exclusion",
                fingerprint: format!(
                    "roles={roles:?} max={} per={:?} desc={:?}",
                    e.max, e.per, e.description
                ),
                span: e.span,
                locked: false,
                place: scope_place(e.scope),
                written_by: e.scope,
            },
        );
    }
    for rule in &m.rules {
        let scope = m.scope_name(rule.scope).to_owned();
        let grants: Vec<String> = rule
            .grants
            .iter()
            .map(|g| {
                let roles: Vec<String> =
                    g.roles.iter().map(|(r, _)| m.role_qualified(*r)).collect();
                let at: Vec<String> = g
                    .at
                    .iter()
                    .map(|p| match p {
                        crate::model::Place::Home => "self".to_owned(),
                        crate::model::Place::Descendants(None) => "descendants:any".to_owned(),
                        crate::model::Place::Descendants(Some(ks)) => {
                            format!(
                                "descendants:{:?}",
                                ks.iter()
                                    .map(|k| m.kinds[k.index()].id.as_str())
                                    .collect::<Vec<_>>()
                            )
                        }
                        crate::model::Place::DescendantLabels(ls) => format!("descendants:{ls:?}"),
                    })
                    .collect();
                format!(
                    "{roles:?}@{at:?} inherit={} resources=[{}]",
                    g.inherit,
                    restriction(m, &g.resources)
                )
            })
            .collect();
        let w = &rule.when;
        let content = format!(
            "when=owner:{:?},type:{:?},kind:{:?},org:{:?},attrs:{:?} grants={grants:?}",
            w.owner,
            w.identity,
            w.org_kind,
            w.org.map(|o| m.org(o).id.clone()),
            w.attributes,
        );
        // An unnamed rule is known by its content, not its position (SPEC
        // §14.13): reordering rules is no change.
        let key = match &rule.name {
            Some(n) => format!("{scope}/{n}"),
            None => format!("{scope}/(unnamed) {content}"),
        };
        put(
            key,
            ItemInfo {
                kind: "rule",
                fingerprint: format!(
                    "{content} locked={} desc={:?}",
                    rule.locked, rule.description
                ),
                span: rule.span,
                locked: rule.locked,
                place: scope_place(rule.scope),
                written_by: rule.scope,
            },
        );
    }
    out
}

/// Is the item, and the file that writes it, inside `actor`'s subtree in
/// model `m`? (`actor` is `None` for the provider, who may write anything.)
pub fn inside(m: &Model, item: &ItemInfo, actor: Option<&str>) -> bool {
    let Some(actor) = actor else { return true };
    let Some(a) = m.org_index.get(actor) else {
        return false;
    };
    let file_ok = match item.written_by {
        Scope::Provider => false,
        Scope::Org(o) => m.in_subtree(o, *a),
    };
    file_ok
        && match &item.place {
            Place::ProviderOnly => false,
            Place::Orgs(orgs) => orgs.iter().all(|o| m.in_subtree(*o, *a)),
        }
}
