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
use crate::source::{FileId, SourceFile, SourceMap, Span};

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
    /// What the item means: two copies are the same item exactly when
    /// their fingerprints are equal.
    pub fingerprint: Fingerprint,
    pub span: Span,
    pub locked: bool,
    pub place: Place,
    /// The scope of the file that writes it: an actor may only touch files
    /// of its own subtree, so this is checked like the item's own place.
    pub written_by: Scope,
}

/// A restriction by names: per named dimension, its resources.
pub type Names = Vec<(String, Vec<String>)>;

/// What an item means, by names and typed values (never dense ids or file
/// positions, which differ between revisions).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Fingerprint {
    Module {
        actions: Vec<String>,
        gated: bool,
        dimension: Option<String>,
        description: Option<String>,
    },
    Dimension {
        description: Option<String>,
    },
    Resource {
        dimension: String,
        org: Option<String>,
        description: Option<String>,
    },
    Kind {
        parents: Vec<String>,
        description: Option<String>,
    },
    Policy {
        modules: Vec<String>,
        description: Option<String>,
    },
    Org {
        parent: Option<String>,
        kind: Option<String>,
        description: Option<String>,
    },
    User {
        home: String,
        identity: String,
        owner: bool,
        attributes: Vec<(String, String)>,
        description: Option<String>,
    },
    Role(Box<RolePrint>),
    Assignment {
        inherit: bool,
        /// The assigner's user id, or `self` for self-service (by name: a
        /// user whose id is `self` and self-service compare alike, as their
        /// text always did).
        by: Option<String>,
        locked: bool,
        resources: Names,
        description: Option<String>,
    },
    Publication {
        publish: bool,
        locked: bool,
    },
    Exclusion {
        content: ExclusionContent,
        description: Option<String>,
    },
    Rule {
        content: RuleContent,
        locked: bool,
        description: Option<String>,
    },
}

/// A role's meaning (boxed: the largest fingerprint by far).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RolePrint {
    pub active: bool,
    pub locked: bool,
    pub published: bool,
    pub self_service: bool,
    pub approval: Option<String>,
    pub identity_types: Option<Vec<String>>,
    pub includes: Vec<String>,
    pub from: Option<String>,
    pub assignable_by: Vec<String>,
    /// Its own grants and its permissions, by name in permission order.
    pub own: Vec<String>,
    pub perms: Vec<String>,
    pub resources: Names,
    pub dimensions: Vec<String>,
    pub multiple: bool,
    pub description: Option<String>,
}

/// What an exclusion limits: the key of an unnamed one, and part of every
/// one's fingerprint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExclusionContent {
    /// Qualified role names, sorted (their order means nothing).
    pub roles: Vec<String>,
    pub max: u32,
    pub per: Per,
}

// By hand: the model's `Per` is not `Hash`; this hashes what `==` compares.
impl std::hash::Hash for ExclusionContent {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.roles.hash(state);
        self.max.hash(state);
        std::mem::discriminant(&self.per).hash(state);
    }
}

/// What a rule says: the key of an unnamed one, and part of every one's
/// fingerprint.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RuleContent {
    pub when: WhenPrint,
    pub grants: Vec<RuleGrantPrint>,
}

/// A rule's condition, by names.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct WhenPrint {
    pub owner: Option<bool>,
    pub identity: Option<String>,
    pub org_kind: Option<String>,
    pub org: Option<String>,
    pub attributes: Vec<(String, String)>,
}

/// One grant item of a rule, by names.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RuleGrantPrint {
    /// Qualified role names, as written.
    pub roles: Vec<String>,
    pub at: Vec<AtPrint>,
    pub inherit: bool,
    pub resources: Names,
}

/// Where a rule grant applies, by names.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum AtPrint {
    Home,
    /// Strict descendants of these kinds (`None`: of any). Declared kinds
    /// and free kind labels are both names here: a set that starts or stops
    /// declaring its kinds does not change a rule that names the same ones.
    Descendants(Option<Vec<String>>),
}

/// What an item is about, and who writes it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ItemKey {
    pub kind: &'static str,
    pub key: Key,
    /// The scope of the file that writes it (`provider` or an org id).
    pub scope: String,
}

/// What an item is about, by names. Its `Display` is how messages name the
/// item, e.g. `provider::viewer -> user:bob @ acme` for an assignment, and
/// [`compare`] sorts by that text.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Key {
    /// A catalog item, an org or a user by its id; a role by `owner::name`.
    Id(String),
    /// `grant -> target @ org`.
    Assignment {
        grant: GrantName,
        target: TargetName,
        org: String,
    },
    /// `owner::role @ org`.
    Publication { role: String, org: String },
    /// A named exclusion or rule: `scope/name`. A name is never taken for
    /// content: a rule named `(unnamed) when=...` is not the unnamed rule
    /// whose key reads the same (as text keys, the two were one key).
    Named { scope: String, name: String },
    /// An unnamed exclusion, known by its content (SPEC §14.13):
    /// `scope/[roles] max=N per=P`.
    Exclusion {
        scope: String,
        content: ExclusionContent,
    },
    /// An unnamed rule, known by its content, not its position (SPEC
    /// §14.13): `scope/(unnamed) when=... grants=[...]`.
    Rule {
        scope: String,
        content: Box<RuleContent>,
    },
}

/// What an assignment gives, by name.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum GrantName {
    /// `owner::name`.
    Role(String),
    /// Shown `policy:id`.
    Policy(String),
}

/// Whom an assignment is for, by name.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum TargetName {
    /// Shown `user:id`.
    User(String),
    /// Every member of the org, shown `members`.
    Members,
}

impl std::fmt::Display for ItemKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.kind, self.key)
    }
}

impl std::fmt::Display for Key {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Key::Id(id) => f.write_str(id),
            Key::Assignment { grant, target, org } => write!(f, "{grant} -> {target} @ {org}"),
            Key::Publication { role, org } => write!(f, "{role} @ {org}"),
            Key::Named { scope, name } => write!(f, "{scope}/{name}"),
            Key::Exclusion { scope, content } => write!(
                f,
                "{scope}/[{}] max={} per={:?}",
                content.roles.join(","),
                content.max,
                content.per
            ),
            Key::Rule { scope, content } => write!(f, "{scope}/(unnamed) {content}"),
        }
    }
}

impl std::fmt::Display for GrantName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            GrantName::Role(r) => f.write_str(r),
            GrantName::Policy(p) => write!(f, "policy:{p}"),
        }
    }
}

impl std::fmt::Display for TargetName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            TargetName::User(u) => write!(f, "user:{u}"),
            TargetName::Members => f.write_str("members"),
        }
    }
}

/// A restriction as keys show it: `dimension:[resource,...]` per named
/// dimension, `;` between them.
fn restriction_text(r: &Names) -> String {
    r.iter()
        .map(|(d, ids)| format!("{d}:[{}]", ids.join(",")))
        .collect::<Vec<_>>()
        .join(";")
}

impl std::fmt::Display for RuleContent {
    /// The text an unnamed rule's key shows: each grant written out, then
    /// the list of them quoted.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let grants: Vec<String> = self
            .grants
            .iter()
            .map(|g| {
                let at: Vec<String> =
                    g.at.iter()
                        .map(|p| match p {
                            AtPrint::Home => "self".to_owned(),
                            AtPrint::Descendants(None) => "descendants:any".to_owned(),
                            AtPrint::Descendants(Some(ks)) => format!("descendants:{ks:?}"),
                        })
                        .collect();
                format!(
                    "{:?}@{at:?} inherit={} resources=[{}]",
                    g.roles,
                    g.inherit,
                    restriction_text(&g.resources)
                )
            })
            .collect();
        let w = &self.when;
        write!(
            f,
            "when=owner:{:?},type:{:?},kind:{:?},org:{:?},attrs:{:?} grants={grants:?}",
            w.owner, w.identity, w.org_kind, w.org, w.attributes,
        )
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
/// Sorted by key as messages show it (then by position), so the result
/// never depends on map order.
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
    out.sort_by_cached_key(|&(k, d)| (k.kind, k.key.to_string(), k.scope.as_str(), d.span()));
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

fn grant_name(m: &Model, g: Grant) -> GrantName {
    match g {
        Grant::Role(r) => GrantName::Role(m.role_qualified(r)),
        Grant::Policy(p) => GrantName::Policy(m.policies[p.index()].id.clone()),
    }
}

fn perms(m: &Model, set: &FixedBitSet) -> Vec<String> {
    set.ones().map(|p| m.perm_name(PermId(p as u32))).collect()
}

/// A restriction by names, per named dimension in its order.
fn restriction(m: &Model, r: &Restriction) -> Names {
    r.entries()
        .iter()
        .map(|(d, ids)| {
            (
                m.dimensions[d.index()].id.clone(),
                ids.iter()
                    .map(|x| m.resources[x.index()].id.clone())
                    .collect(),
            )
        })
        .collect()
}

fn scope_place(scope: Scope) -> Place {
    match scope {
        Scope::Provider => Place::ProviderOnly,
        Scope::Org(o) => Place::Orgs(vec![o]),
    }
}

/// Which files of each of two revisions are also in the other, at the same
/// path with the same text. Comparing two revisions, the items of such a
/// file need not be keyed: each copy there has its twin on the other side,
/// with the same key and fingerprint, and twins cancel out when the two are compared.
/// That holds for every kind but roles, whose fingerprint holds the
/// permissions they get from other roles (`from`, `includes`), so roles are
/// always compared; and for keys by name, which a change elsewhere can
/// resolve to another role only in files of the changed scope's subtree,
/// never in a provider file (where every locked item is, §8), so what the
/// change check and the locked list report is the same either way. For a
/// one-file change at L that is 3 million items fewer to key per revision.
///
/// A file at one path in both revisions whose text changed is compared
/// the same way in part: the text it starts and ends with in both is the
/// same, and an entry whose whole text lies there, at the same place from
/// the file's start (or end) in both, of the same kind and scope, and
/// whose meaning is all in its text (an org, a user, a provider file's
/// assignment or publication), is its own twin (decision 47 of
/// `docs/decisions.md`). Only YAML files without anchors are read so: a
/// TOML table may be continued further down the file, and an alias may
/// stand for text that changed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SameFiles {
    base: Vec<bool>,
    head: Vec<bool>,
    edited: Vec<Edited>,
}

/// A file at one path in both revisions, of another text in each, cut
/// into regions paired between the two (see [`Edited::of`]).
#[derive(Debug, Clone, PartialEq, Eq)]
struct Edited {
    base: FileId,
    head: FileId,
    regions: Vec<Region>,
}

/// A region of an edited file in each revision (start and end), and the
/// bytes both start with, and end with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Region {
    base: (u32, u32),
    head: (u32, u32),
    prefix: u32,
    suffix: u32,
    /// The same text in both.
    same: bool,
}

/// Where the lines at column 0 that start with a letter (a top-level key,
/// in the plain layout) begin, with the text before their first colon.
fn sections(text: &str) -> Vec<(&str, u32)> {
    let b = text.as_bytes();
    let mut out = Vec::new();
    let mut at = 0;
    while at < b.len() {
        let end = b[at..]
            .iter()
            .position(|&c| c == b'\n')
            .map_or(b.len(), |i| at + i + 1);
        if b[at].is_ascii_alphabetic() {
            let line = &text[at..end];
            out.push((line.split(':').next().unwrap_or(line), at as u32));
        }
        at = end;
    }
    out
}

impl Edited {
    /// The pair of `b` (in the base) and `h` (in the head), when both are
    /// YAML without an anchor (see [`SameFiles`]). When both have the same
    /// top-level keys in the same order, each section is a region (and
    /// the text before the first key one more), so that an edit of two
    /// sections leaves each one's other entries in its region's unchanged
    /// start or end; else the whole file is one region. How the file is
    /// cut decides only which entries are found twins, not whether a twin
    /// is one: a twin's whole text is compared.
    fn of(b: (FileId, &SourceFile), h: (FileId, &SourceFile)) -> Option<Edited> {
        let readable = |f: &SourceFile| {
            !f.display_path().ends_with(".toml") && !f.text.as_bytes().contains(&b'&')
        };
        if !readable(b.1) || !readable(h.1) {
            return None;
        }
        let (bt, ht) = (b.1.text.as_str(), h.1.text.as_str());
        let (bl, hl) = (u32::try_from(bt.len()).ok()?, u32::try_from(ht.len()).ok()?);
        let (bs, hs) = (sections(bt), sections(ht));
        let bounds = |s: &[(&str, u32)], len: u32| -> Vec<(u32, u32)> {
            let starts: Vec<u32> = std::iter::once(0)
                .chain(s.iter().map(|&(_, at)| at))
                .collect();
            let ends = starts.iter().skip(1).copied().chain(std::iter::once(len));
            starts.iter().copied().zip(ends).collect()
        };
        let same_keys = bs.iter().map(|(k, _)| k).eq(hs.iter().map(|(k, _)| k));
        let pairs: Vec<((u32, u32), (u32, u32))> = if same_keys {
            bounds(&bs, bl).into_iter().zip(bounds(&hs, hl)).collect()
        } else {
            vec![((0, bl), (0, hl))]
        };
        let regions = pairs
            .into_iter()
            .map(|(base, head)| {
                let x = &bt.as_bytes()[base.0 as usize..base.1 as usize];
                let y = &ht.as_bytes()[head.0 as usize..head.1 as usize];
                // Each counted on its own: where they overlap (text
                // repeated around the edit), an entry may be found by
                // either.
                let prefix = x.iter().zip(y).take_while(|(p, q)| p == q).count();
                let suffix = x
                    .iter()
                    .rev()
                    .zip(y.iter().rev())
                    .take_while(|(p, q)| p == q)
                    .count();
                Region {
                    base,
                    head,
                    prefix: prefix as u32,
                    suffix: suffix as u32,
                    same: x == y,
                }
            })
            .collect();
        Some(Edited {
            base: b.0,
            head: h.0,
            regions,
        })
    }

    fn swapped(self) -> Edited {
        Edited {
            base: self.head,
            head: self.base,
            regions: self
                .regions
                .into_iter()
                .map(|r| Region {
                    base: r.head,
                    head: r.base,
                    ..r
                })
                .collect(),
        }
    }
}

/// Files of `b`, then of `h` (each with its id), at one path in both
/// with other texts.
fn edited(b: &[(FileId, &SourceFile)], h: &[(FileId, &SourceFile)]) -> Vec<Edited> {
    let by_path: HashMap<&str, (FileId, &SourceFile)> = b
        .iter()
        .map(|&(id, f)| (f.display_path(), (id, f)))
        .collect();
    h.iter()
        .filter_map(|&(id, f)| {
            let &(bid, bf) = by_path.get(f.display_path())?;
            (bf.text != f.text).then(|| Edited::of((bid, bf), (id, f)))?
        })
        .collect()
}

impl SameFiles {
    /// No file is taken as unchanged: every item is compared.
    pub fn none() -> SameFiles {
        SameFiles::default()
    }

    /// The files of `base` and `head` with the same path and text, each
    /// revision's spans pointing into its own map.
    pub fn between(base: &SourceMap, head: &SourceMap) -> SameFiles {
        let (b, h) = (files(base), files(head));
        let (base, head) = twins(&b, &h);
        SameFiles {
            base,
            head,
            edited: edited(&numbered(&b, 0), &numbered(&h, 0)),
        }
    }

    /// The same with base and head exchanged: with
    /// [`SameFiles::within`], for a map that holds the base's files first.
    pub fn swapped(self) -> SameFiles {
        SameFiles {
            base: self.head,
            head: self.base,
            edited: self.edited.into_iter().map(Edited::swapped).collect(),
        }
    }

    /// The same for two revisions read into one map: the head's files
    /// first, `head_files` of them, then the base's (as `check --base`
    /// reads them).
    pub fn within(map: &SourceMap, head_files: usize) -> SameFiles {
        let all = files(map);
        let cut = head_files.min(all.len());
        let (h, b) = all.split_at(cut);
        let (base, head) = twins(b, h);
        // Indexed by the map's ids: the head's files, then the base's.
        let mut head_marks = head;
        head_marks.resize(all.len(), false);
        let mut base_marks = vec![false; cut];
        base_marks.extend(base);
        SameFiles {
            base: base_marks,
            head: head_marks,
            edited: edited(&numbered(b, cut as u32), &numbered(h, 0)),
        }
    }
}

/// `files` with their ids in a map where the first is `from`.
fn numbered<'a>(files: &[&'a SourceFile], from: u32) -> Vec<(FileId, &'a SourceFile)> {
    (from..).map(FileId).zip(files.iter().copied()).collect()
}

fn files(map: &SourceMap) -> Vec<&SourceFile> {
    (0..map.len() as u32)
        .filter_map(|i| map.get(FileId(i)))
        .collect()
}

/// Per file of `b`, then of `h`: is there a file of the other list at the
/// same path with the same text?
fn twins(b: &[&SourceFile], h: &[&SourceFile]) -> (Vec<bool>, Vec<bool>) {
    // By the path as shown: a directory read as `.` and a revision name
    // the same file `./a.yaml` and `a.yaml`.
    let by_path: HashMap<&str, &str> = b
        .iter()
        .map(|f| (f.display_path(), f.text.as_str()))
        .collect();
    let head_same: Vec<bool> = h
        .iter()
        .map(|f| by_path.get(f.display_path()) == Some(&f.text.as_str()))
        .collect();
    let same_paths: std::collections::HashSet<&str> = h
        .iter()
        .zip(&head_same)
        .filter(|(_, same)| **same)
        .map(|(f, _)| f.display_path())
        .collect();
    let base_same = b
        .iter()
        .map(|f| same_paths.contains(f.display_path()))
        .collect();
    (base_same, head_same)
}

/// Is `span`'s file one of `same`?
fn in_same(same: &[bool], span: Span) -> bool {
    same.get(span.file.0 as usize).copied().unwrap_or(false)
}

/// The items of two revisions, keyed on both cores at once, leaving out
/// those of the files `same` finds unchanged.
pub fn items_of_both(base: &Model, head: &Model, same: &SameFiles) -> (Items, Items) {
    let (base_twins, head_twins) = unchanged_entries(base, head, same);
    rayon::join(
        || items_but(base, &Skipped::new(&same.base, base_twins)),
        || items_but(head, &Skipped::new(&same.head, head_twins)),
    )
}

/// The items of one revision left out of a comparison: those of its files
/// marked the same, and the entries found their own twins.
struct Skipped<'a> {
    same: &'a [bool],
    /// By file: whether it has any of `twins`.
    edited: Vec<bool>,
    /// The file and start of each entry that is its own twin.
    twins: rustc_hash::FxHashSet<(u32, u32)>,
}

impl<'a> Skipped<'a> {
    fn new(same: &'a [bool], twins: rustc_hash::FxHashSet<(u32, u32)>) -> Skipped<'a> {
        let mut edited = Vec::new();
        for &(file, _) in &twins {
            let i = file as usize;
            if edited.len() <= i {
                edited.resize(i + 1, false);
            }
            edited[i] = true;
        }
        Skipped {
            same,
            edited,
            twins,
        }
    }

    /// Is the item written at `span` (an entry of the kinds
    /// [`unchanged_entries`] pairs, or any item of a file the same) left
    /// out?
    fn entry(&self, span: Span) -> bool {
        in_same(self.same, span)
            || (self.edited.get(span.file.0 as usize) == Some(&true)
                && self.twins.contains(&(span.file.0, span.start)))
    }
}

/// Where an entry's text lies in an edited file: in a region's text both
/// revisions start it with, by its start and end from the region's; or in
/// the text both end it with, by its start and end back from the region's
/// end.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Unchanged {
    Start(u32, u32, u32),
    End(u32, u32, u32),
    /// From a region's unchanged end (or a region the same in both) into
    /// the next region's unchanged start: by its start back from the
    /// region's end, and its end from the next one's start.
    Across(u32, u32, u32),
}

/// Whether what an entry means is all in its text (see [`entries_of`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Alone {
    Yes,
    /// An assignment to this user at the user's home: when the user's own
    /// entry is the same in both revisions.
    AtHomeOf(UserId),
    No,
}

/// An entry of an edited file: its start, kind, scope, and whether what
/// it means is all in its text.
type Entry = (u32, &'static str, Scope, Alone);

/// The orgs, users, assignments and publication entries of the edited
/// files that are their own twins: for each revision, the file and start
/// of each. An entry's text runs at most from its start to the next
/// entry's (or the end of the file): an org or user starts at its key, an
/// assignment or publication at its list item's value, and what sits
/// between two entries of those kinds (a comment, another kind's item, a
/// section's key) is counted with the first. An entry whose text so lies
/// in the unchanged start of one of the file's regions in both revisions,
/// at the same place, or in its unchanged end at the same distance from
/// the end, and that is there of the same kind and scope in both, reads
/// the same in both: the same key and fingerprint, when what it means is
/// all in its text (see [`entries_of`]). One that is not alone in its
/// revision with its place, kind and scope is compared as usual.
/// Assignments to a user at the user's home are paired last: once the
/// users' own entries are known to be the same (in a file the same, or
/// twins).
fn unchanged_entries(base: &Model, head: &Model, same: &SameFiles) -> (Twins, Twins) {
    let edited = &same.edited;
    let base_entries = entries_of(base, edited.iter().map(|e| e.base));
    let head_entries = entries_of(head, edited.iter().map(|e| e.head));
    let mut twins = (Twins::default(), Twins::default());
    for home in [false, true] {
        let stable = |m: &Model, marks: &[bool], twins: &Twins, u: UserId| {
            let span = m.user(u).span;
            in_same(marks, span) || twins.contains(&(span.file.0, span.start))
        };
        let mut found_twins = (Vec::new(), Vec::new());
        for (i, e) in edited.iter().enumerate() {
            type Found = HashMap<(Unchanged, &'static str, Scope), (u32, u32, u32, u32)>;
            let mut found: Found = HashMap::default();
            let sides = [
                (&base_entries[i], base, &same.base, &twins.0, true),
                (&head_entries[i], head, &same.head, &twins.1, false),
            ];
            for (entries, m, marks, known, is_base) in sides {
                for (j, &(start, kind, scope, alone)) in entries.iter().enumerate() {
                    let wanted = match alone {
                        Alone::Yes => !home,
                        Alone::AtHomeOf(u) => home && stable(m, marks, known, u),
                        Alone::No => false,
                    };
                    if !wanted {
                        continue;
                    }
                    let end = entries.get(j + 1).map_or(u32::MAX, |next| next.0);
                    let Some(place) = e.place(is_base, start, end) else {
                        continue;
                    };
                    let seen = found.entry((place, kind, scope)).or_default();
                    if is_base {
                        seen.0 += 1;
                        seen.2 = start;
                    } else {
                        seen.1 += 1;
                        seen.3 = start;
                    }
                }
            }
            for (base_count, head_count, base_start, head_start) in found.into_values() {
                if base_count == 1 && head_count == 1 {
                    found_twins.0.push((e.base.0, base_start));
                    found_twins.1.push((e.head.0, head_start));
                }
            }
        }
        twins.0.extend(found_twins.0);
        twins.1.extend(found_twins.1);
    }
    twins
}

/// Files and starts of entries found their own twins.
type Twins = rustc_hash::FxHashSet<(u32, u32)>;

impl Edited {
    /// Where an entry of the base's file (`is_base`) or the head's, whose
    /// text runs from `start` to `end` (`u32::MAX`: the end of the file),
    /// lies in a region's unchanged start or end, if it does.
    fn place(&self, is_base: bool, start: u32, end: u32) -> Option<Unchanged> {
        let i = self
            .regions
            .partition_point(|r| if is_base { r.base.0 } else { r.head.0 } <= start)
            .checked_sub(1)?;
        let bounds = |r: &Region| if is_base { r.base } else { r.head };
        let r = &self.regions[i];
        let (from, to) = bounds(r);
        let last = i + 1 == self.regions.len();
        let end = if last { end.min(to) } else { end };
        let in_end = start >= to - r.suffix;
        if end <= from + r.prefix {
            Some(Unchanged::Start(i as u32, start - from, end - from))
        } else if in_end && end <= to {
            Some(Unchanged::End(i as u32, to - start, to - end))
        } else if !last && (in_end || r.same) {
            // The last entry of a section runs into the next one (up to
            // the next entry, past the next section's key).
            let next = &self.regions[i + 1];
            let (next_from, _) = bounds(next);
            (end - next_from <= next.prefix)
                .then(|| Unchanged::Across(i as u32, to - start, end - next_from))
        } else {
            None
        }
    }
}

/// Every org, user, assignment and publication entry of each of `files`
/// in `m`, by file (in the order given), sorted by start; with whether
/// what it means is all in its text: an org's or a user's always is; an
/// assignment's or a publication's is in a provider file (where names
/// are the provider's) and, for an assignment to a user, when it writes
/// `org` (else its org is the user's home, written in the user's entry).
/// The others still bound their neighbours' text.
fn entries_of(m: &Model, files: impl Iterator<Item = FileId>) -> Vec<Vec<Entry>> {
    let mut index: HashMap<u32, usize> = HashMap::default();
    for (i, f) in files.enumerate() {
        index.entry(f.0).or_insert(i);
    }
    let mut out: Vec<Vec<Entry>> = vec![Vec::new(); index.len()];
    if out.is_empty() {
        return out;
    }
    let mut add = |span: Span, kind: &'static str, scope: Scope, alone: Alone| {
        if let Some(&i) = index.get(&span.file.0) {
            out[i].push((span.start, kind, scope, alone));
        }
    };
    for o in &m.orgs {
        add(o.span, "org", o.scope, Alone::Yes);
    }
    for u in &m.users {
        add(u.span, "user", u.scope, Alone::Yes);
    }
    for a in &m.assignments {
        let alone = match (a.scope, a.target) {
            (Scope::Org(_), _) => Alone::No,
            (Scope::Provider, Target::Org) => Alone::Yes,
            (Scope::Provider, Target::User(_)) if a.org_written => Alone::Yes,
            (Scope::Provider, Target::User(u)) => Alone::AtHomeOf(u),
        };
        add(a.span, "assignment", a.scope, alone);
    }
    for entries in &m.publications {
        for e in entries.values() {
            let alone = if e.scope == Scope::Provider {
                Alone::Yes
            } else {
                Alone::No
            };
            add(e.span, "publication", e.scope, alone);
        }
    }
    for entries in &mut out {
        entries.sort_unstable_by_key(|&(start, ..)| start);
    }
    out
}

/// The items of `m` but those of the files marked in `same` (roles are
/// always kept: see [`SameFiles`]).
fn items_but(m: &Model, skipped: &Skipped<'_>) -> Items {
    let same = skipped.same;
    let mut out = Items::default();
    let mut put = |key: Key, info: ItemInfo| {
        if info.kind != "role" && in_same(same, info.span) {
            return;
        }
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
            Key::Id(md.id.clone()),
            ItemInfo {
                kind: "module",
                fingerprint: Fingerprint::Module {
                    actions: md.actions.clone(),
                    gated: md.gated,
                    dimension: md.dimension.map(|d| m.dimensions[d.index()].id.clone()),
                    description: md.description.clone(),
                },
                span: md.span,
                locked: false,
                place: Place::ProviderOnly,
                written_by: Scope::Provider,
            },
        );
    }
    for d in &m.dimensions {
        put(
            Key::Id(d.id.clone()),
            ItemInfo {
                kind: "dimension",
                fingerprint: Fingerprint::Dimension {
                    description: d.description.clone(),
                },
                span: d.span,
                locked: false,
                place: Place::ProviderOnly,
                written_by: Scope::Provider,
            },
        );
    }
    for r in &m.resources {
        put(
            Key::Id(r.id.clone()),
            ItemInfo {
                kind: "resource",
                fingerprint: Fingerprint::Resource {
                    dimension: m.dimensions[r.dim.index()].id.clone(),
                    org: r.org.map(|o| m.org(o).id.clone()),
                    description: r.description.clone(),
                },
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
        let parents: Vec<String> = k
            .parents
            .iter()
            .map(|p| m.kinds[p.index()].id.clone())
            .collect();
        put(
            Key::Id(k.id.clone()),
            ItemInfo {
                kind: "kind",
                fingerprint: Fingerprint::Kind {
                    parents,
                    description: k.description.clone(),
                },
                span: k.span,
                locked: false,
                place: Place::ProviderOnly,
                written_by: Scope::Provider,
            },
        );
    }
    for p in &m.policies {
        let modules: Vec<String> = p
            .modules
            .iter()
            .map(|x| m.modules[x.index()].id.clone())
            .collect();
        put(
            Key::Id(p.id.clone()),
            ItemInfo {
                kind: "policy",
                fingerprint: Fingerprint::Policy {
                    modules,
                    description: p.description.clone(),
                },
                span: p.span,
                locked: false,
                place: Place::ProviderOnly,
                written_by: Scope::Provider,
            },
        );
    }
    for o in m.orgs.iter().filter(|o| !skipped.entry(o.span)) {
        let parent = o.parent.map(|p| m.org(p).id.clone());
        put(
            Key::Id(o.id.clone()),
            ItemInfo {
                kind: "org",
                fingerprint: Fingerprint::Org {
                    parent,
                    kind: o.kind_label.clone(),
                    description: o.description.clone(),
                },
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
    for u in m.users.iter().filter(|u| !skipped.entry(u.span)) {
        let home = m.org(u.home).id.clone();
        put(
            Key::Id(u.id.clone()),
            ItemInfo {
                kind: "user",
                fingerprint: Fingerprint::User {
                    home,
                    identity: u.identity.clone(),
                    owner: u.owner,
                    attributes: u.attributes.clone(),
                    description: u.description.as_deref().cloned(),
                },
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
        put(
            Key::Id(m.role_qualified(id)),
            ItemInfo {
                kind: "role",
                fingerprint: Fingerprint::Role(Box::new(RolePrint {
                    active: r.active,
                    locked: r.locked,
                    published: r.published,
                    self_service: r.self_service,
                    approval: r.approval.clone(),
                    identity_types: r.identity_types.clone(),
                    includes: names(&mut r.includes.iter().map(|x| x.0)),
                    from: r.from.map(|f| m.role_qualified(f.0)),
                    assignable_by: names(&mut r.assignable_by.iter().copied()),
                    own: perms(m, &r.own),
                    perms: perms(m, &r.perms),
                    resources: restriction(m, &r.resources),
                    dimensions: r
                        .dimensions
                        .iter()
                        .map(|d| m.dimensions[d.index()].id.clone())
                        .collect(),
                    multiple: r.multiple,
                    description: r.description.clone(),
                })),
                span: r.span,
                locked: r.locked,
                place: scope_place(r.owner),
                written_by: r.owner,
            },
        );
    }
    for a in m.assignments.iter().filter(|a| !skipped.entry(a.span)) {
        let (target, orgs) = match a.target {
            Target::User(u) => (
                TargetName::User(m.user(u).id.clone()),
                vec![m.user(u).home, a.org],
            ),
            Target::Org => (TargetName::Members, vec![a.org]),
        };
        let by = a.by.as_deref().map(|(b, _)| match *b {
            Assigner::Admin(x) => m.user(x).id.clone(),
            Assigner::SelfService => "self".into(),
        });
        put(
            Key::Assignment {
                grant: grant_name(m, a.grant),
                target,
                org: m.org(a.org).id.clone(),
            },
            ItemInfo {
                kind: "assignment",
                fingerprint: Fingerprint::Assignment {
                    inherit: a.inherit,
                    by,
                    locked: a.locked,
                    resources: restriction(m, &a.resources),
                    description: a.description.as_deref().cloned(),
                },
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
        for (o, e) in entries.iter().filter(|(_, e)| !skipped.entry(e.span)) {
            put(
                Key::Publication {
                    role: m.role_qualified(RoleId(ri as u32)),
                    org: m.org(*o).id.clone(),
                },
                ItemInfo {
                    kind: "publication",
                    fingerprint: Fingerprint::Publication {
                        publish: e.publish,
                        locked: e.locked,
                    },
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
        let content = ExclusionContent {
            roles,
            max: e.max,
            per: e.per,
        };
        // An unnamed exclusion is known by its content (SPEC §14.13).
        let key = match &e.name {
            Some(n) => Key::Named {
                scope,
                name: n.clone(),
            },
            None => Key::Exclusion {
                scope,
                content: content.clone(),
            },
        };
        put(
            key,
            ItemInfo {
                kind: "exclusion",
                fingerprint: Fingerprint::Exclusion {
                    content,
                    description: e.description.clone(),
                },
                span: e.span,
                locked: false,
                place: scope_place(e.scope),
                written_by: e.scope,
            },
        );
    }
    for rule in &m.rules {
        let scope = m.scope_name(rule.scope).to_owned();
        let names = |ids: &[KindId]| ids.iter().map(|k| m.kinds[k.index()].id.clone()).collect();
        let grants: Vec<RuleGrantPrint> = rule
            .grants
            .iter()
            .map(|g| RuleGrantPrint {
                roles: g.roles.iter().map(|(r, _)| m.role_qualified(*r)).collect(),
                at: g
                    .at
                    .iter()
                    .map(|p| match p {
                        crate::model::Place::Home => AtPrint::Home,
                        crate::model::Place::Descendants(ks) => {
                            AtPrint::Descendants(ks.as_deref().map(names))
                        }
                        crate::model::Place::DescendantLabels(ls) => {
                            AtPrint::Descendants(Some(ls.clone()))
                        }
                    })
                    .collect(),
                inherit: g.inherit,
                resources: restriction(m, &g.resources),
            })
            .collect();
        let w = &rule.when;
        let content = RuleContent {
            when: WhenPrint {
                owner: w.owner,
                identity: w.identity.clone(),
                org_kind: w.org_kind.clone(),
                org: w.org.map(|o| m.org(o).id.clone()),
                attributes: w.attributes.clone(),
            },
            grants,
        };
        // An unnamed rule is known by its content, not its position (SPEC
        // §14.13): reordering rules is no change.
        let key = match &rule.name {
            Some(n) => Key::Named {
                scope,
                name: n.clone(),
            },
            None => Key::Rule {
                scope,
                content: Box::new(content.clone()),
            },
        };
        put(
            key,
            ItemInfo {
                kind: "rule",
                fingerprint: Fingerprint::Rule {
                    content,
                    locked: rule.locked,
                    description: rule.description.clone(),
                },
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

#[cfg(test)]
mod tests {
    use super::*;

    /// Two revisions of a set read from files of the same paths.
    fn read(files: &[(&str, &str)]) -> crate::Checked {
        let inputs = files
            .iter()
            .map(|(p, t)| (std::path::PathBuf::from(p), t.as_bytes().to_vec()))
            .collect();
        let checked = crate::check_files(inputs, &[], &Default::default(), SourceMap::default());
        assert!(
            !checked.diagnostics.has_errors(),
            "{:?}",
            checked.diagnostics
        );
        checked
    }

    /// The comparison that leaves out what the files share reports what
    /// the full one does (the access diff, and each actor's E012s); how
    /// many entries of each revision it found their own twins.
    fn agree(base: &[(&str, &str)], head: &[(&str, &str)]) -> usize {
        let (b, h) = (read(base), read(head));
        let same = SameFiles::between(&b.sources, &h.sources);
        let json = |s: &SameFiles| {
            crate::diff::render::json(&crate::diff::diff_with(&b.model, &h.model, s))
        };
        assert_eq!(json(&same), json(&SameFiles::none()));
        for actor in ["t1", "t1-a", "t2"] {
            let said = |s: &SameFiles| {
                let mut v: Vec<String> =
                    crate::diff::change::check_with(&b.model, &h.model, Some(actor), s)
                        .into_iter()
                        .map(|d| d.message)
                        .collect();
                v.sort();
                v
            };
            assert_eq!(said(&same), said(&SameFiles::none()), "{actor}");
        }
        let (in_base, in_head) = unchanged_entries(&b.model, &h.model, &same);
        assert_eq!(in_base.len(), in_head.len());
        in_base.len()
    }

    const EDITED: &str = "scope: provider
modules:
  docs: { actions: [read, write] }
roles:
  viewer: { grants: [\"docs:read\"] }
orgs:
  t1: {}
  t1-a: { parent: t1 }
  t2: {}
users:
  u1: { org: t1 }
  u2: { org: t1-a }
  u3: { org: t2 }
  u4: { org: t2 }
assignments:
  - { role: viewer, user: u1 }
  - { role: viewer, user: u3 }
  - { role: viewer, org: t2 }
publications:
  - { role: viewer, org: t1 }
";

    fn edited(from: &str, to: &str) -> String {
        assert!(EDITED.contains(from), "{from}");
        EDITED.replacen(from, to, 1)
    }

    #[test]
    fn entries_an_edit_leaves_alone_are_their_own_twins_and_change_nothing_reported() {
        let base = [("p.yaml", EDITED)];
        // One user moved: every other entry is before or after the edit.
        let moved = edited("u3: { org: t2 }", "u3: { org: t1 }");
        // Twins can be: the 3 orgs, the 4 users, the 3 assignments and the
        // publication; an assignment to a user that leaves out `org` is at
        // the user's home, so only when the user's entry is a twin too.
        let twins = agree(&base, &[("p.yaml", &moved)]);
        assert_eq!(twins, 11 - 2, "all but u3 and its assignment");
        // A user renamed, its value the same: the entry is the edit.
        let renamed = edited("u4: { org: t2 }", "u9: { org: t2 }");
        assert_eq!(agree(&base, &[("p.yaml", &renamed)]), 10);
        // An entry whose value continues on the next line is one entry.
        let long = EDITED.replace("u2: { org: t1-a }", "u2:\n    org: t1-a");
        let longer = long.replace("u2:\n    org: t1-a", "u2:\n    org: t1");
        assert_eq!(agree(&[("p.yaml", &long)], &[("p.yaml", &longer)]), 10);
        // An entry removed: those after it are found from their section's
        // end.
        let cut = edited("  - { role: viewer, user: u1 }\n", "");
        assert_eq!(agree(&base, &[("p.yaml", &cut)]), 10);
        // Two sections edited (a user added, and an assignment): the
        // entries of each are found from the start or the end of theirs,
        // but u4, whose text now runs to u5's rather than into the
        // assignments.
        let two = edited(
            "  u4: { org: t2 }\n",
            "  u4: { org: t2 }\n  u5: { org: t1 }\n",
        )
        .replacen(
            "assignments:\n",
            "assignments:\n  - { role: viewer, user: u5 }\n",
            1,
        );
        assert_eq!(agree(&base, &[("p.yaml", &two)]), 10);
    }

    #[test]
    fn an_edit_that_changes_what_shared_text_means_is_compared_in_full() {
        let tenant = |scope: &str, user_org: &str| {
            format!("users:\n  a1: {{ org: {user_org} }}\nassignments:\n  - {{ role: viewer, user: a1 }}\nscope: {scope}\n")
        };
        let base = [
            ("p.yaml", EDITED),
            ("t.yaml", &tenant("t1", "t1-a") as &str),
        ];
        // The scope, written last, moves every entry above it to another
        // file owner: none is its own twin.
        let head = [
            ("p.yaml", EDITED),
            ("t.yaml", &tenant("t1-a", "t1-a") as &str),
        ];
        assert_eq!(agree(&base, &head), 0);
        // An anchor: an alias elsewhere could stand for the edited text.
        let anchored = edited("u1: { org: t1 }", "u1: &home { org: t1 }");
        let anchored_head = anchored.replace("u3: { org: t2 }", "u3: { org: t1 }");
        assert_eq!(
            agree(&[("p.yaml", &anchored)], &[("p.yaml", &anchored_head)]),
            0
        );
        // TOML: a table may be continued further down the file.
        let toml = "scope = \"provider\"\n[modules.docs]\nactions = [\"read\"]\n[roles.viewer]\ngrants = [\"docs:read\"]\n[orgs.t1]\n[orgs.t1-a]\nparent = \"t1\"\n[orgs.t2]\n[users.u1]\norg = \"t1\"\n[users.u2]\norg = \"t2\"\n";
        let toml_head = toml.replace("org = \"t2\"", "org = \"t1\"");
        assert_eq!(agree(&[("p.toml", toml)], &[("p.toml", &toml_head)]), 0);
    }

    fn model(files: &[(&str, &str)]) -> Model {
        let dir = tempfile::tempdir().unwrap();
        for (name, text) in files {
            std::fs::write(dir.path().join(name), text).unwrap();
        }
        let checked = crate::check_paths(&[dir.path().to_path_buf()], &Default::default()).unwrap();
        assert!(
            !checked.diagnostics.has_errors(),
            "{:?}",
            checked.diagnostics
        );
        checked.model
    }

    const PROVIDER: &str = r#"scope: provider
kinds:
  reseller: { parents: [] }
  customer: { parents: [reseller] }
dimensions:
  application: {}
resources:
  crm: { dimension: application }
modules:
  docs: { actions: [read, write] }
  beta: { actions: [use], gated: true }
policies:
  beta-access: { modules: [beta] }
roles:
  viewer: { grants: ["docs:read"] }
  writer: { grants: ["docs:write"] }
orgs:
  r1: { kind: reseller }
  c1: { kind: customer, parent: r1 }
users:
  ann: { org: r1, owner: true }
assignments:
  - { role: viewer, user: ann, org: c1, resources: { application: [crm] } }
  - { role: writer, org: r1 }
  - { policy: beta-access, user: ann }
publications:
  - { role: writer, org: c1, publish: false }
exclusions:
  - { roles: [writer, viewer], max: 1, per: org }
  - { name: two-hats, roles: [viewer, writer], max: 2 }
automatic:
  - when: { owner: true, attributes: { team: "a b" } }
    grant:
      - { roles: [viewer], at: [self, { descendants: [customer] }], resources: { application: [crm] } }
"#;

    /// Messages name items by these texts, and `compare` orders by them.
    #[test]
    fn keys_show_as_messages_name_them() {
        let m = model(&[("provider.yaml", PROVIDER)]);
        let mut shown: Vec<String> = items_but(&m, &Skipped::new(&[], Default::default()))
            .keys()
            .filter(|k| !matches!(k.kind, "module" | "dimension" | "resource" | "kind"))
            .map(|k| format!("{k} [{}]", k.scope))
            .collect();
        shown.sort();
        let want = [
            "assignment policy:beta-access -> user:ann @ r1 [provider]",
            "assignment provider::viewer -> user:ann @ c1 [provider]",
            "assignment provider::writer -> members @ r1 [provider]",
            "exclusion provider/[provider::viewer,provider::writer] max=1 per=Org [provider]",
            "exclusion provider/two-hats [provider]",
            "org c1 [provider]",
            "org r1 [provider]",
            "policy beta-access [provider]",
            "publication provider::writer @ c1 [provider]",
            "role provider::viewer [provider]",
            "role provider::writer [provider]",
            r#"rule provider/(unnamed) when=owner:Some(true),type:None,kind:None,org:None,attrs:[("team", "a b")] grants=["[\"provider::viewer\"]@[\"self\", \"descendants:[\\\"customer\\\"]\"] inherit=false resources=[application:[crm]]"] [provider]"#,
            "user ann [provider]",
        ];
        assert_eq!(shown, want);
    }

    /// A rule naming the same kinds means the same whether the set declares
    /// its kinds or uses free labels (their text was always the same).
    #[test]
    fn descendants_of_kinds_and_of_labels_are_one_meaning() {
        let declared = model(&[("provider.yaml", PROVIDER)]);
        let labels = PROVIDER.replace(
            "kinds:\n  reseller: { parents: [] }\n  customer: { parents: [reseller] }\n",
            "",
        );
        let labels = model(&[("provider.yaml", &labels)]);
        assert!(!labels.kinds_declared && declared.kinds_declared);
        let rule = |m: &Model| {
            items_but(m, &Skipped::new(&[], Default::default()))
                .into_iter()
                .find(|(k, _)| k.kind == "rule")
                .map(|(_, v)| v[0].fingerprint.clone())
                .unwrap()
        };
        assert_eq!(rule(&declared), rule(&labels));
    }
}
