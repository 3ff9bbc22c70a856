//! The names written in each file of a set, what each one means (role names
//! resolved as the file's scope resolves them), and the requests answered
//! from them: definition, references, symbols and rename.

use std::collections::HashMap;

use lsp_server::ErrorCode;
use lsp_types::{
    DocumentSymbolResponse, GotoDefinitionResponse, Location, ReferenceParams, RenameParams,
    SymbolInformation, SymbolKind, TextDocumentPositionParams, TextEdit, WorkspaceEdit,
    WorkspaceSymbolResponse,
};

use super::workspace::{offset, range};
use super::{nothing_here, path_uri, Failure, Server};
use crate::load::raw::{Descendants, RawAt, RawResources, Str};
use crate::load::{ParseCache, PolicyFile};
use crate::model::{Model, RoleId, Scope};
use crate::source::{FileId, SourceMap, Span};
use crate::Checked;

/// What a name written in a file stands for.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub(crate) enum Sym {
    Org(String),
    User(String),
    Role(RoleId),
    Module(String),
    /// `module:action`.
    Perm(String),
    Policy(String),
    Kind(String),
    Dimension(String),
    Resource(String),
}

/// One place a name is written.
#[derive(Clone, Debug)]
pub(crate) struct Occurrence {
    pub span: Span,
    pub sym: Sym,
    /// Is it the definition?
    pub def: bool,
    /// The locked provider item it is written in, described, if any.
    pub locked: Option<String>,
    /// For a user named in an assignment: the org it is made at, as
    /// written (`None`: the user's home).
    pub at_org: Option<String>,
}

/// Every name written in the set, by file.
#[derive(Debug, Default)]
pub(crate) struct Index {
    by_file: Vec<Vec<Occurrence>>,
}

struct Builder<'a> {
    model: &'a Model,
    scope: Scope,
    locked: Option<String>,
    out: Vec<Occurrence>,
}

impl Builder<'_> {
    fn add(&mut self, s: &Str, sym: Sym, def: bool) {
        self.out.push(Occurrence {
            span: s.span,
            sym,
            def,
            locked: self.locked.clone(),
            at_org: None,
        });
    }
    fn org(&mut self, s: &Str) {
        self.add(s, Sym::Org(s.value.clone()), false);
    }
    fn user(&mut self, s: &Str) {
        self.add(s, Sym::User(s.value.clone()), false);
    }
    fn kind(&mut self, s: &Str) {
        self.add(s, Sym::Kind(s.value.clone()), false);
    }
    fn role(&mut self, s: &Str) {
        if let Some(r) = self.model.resolve_role(&s.value, self.scope) {
            self.add(s, Sym::Role(r), false);
        }
    }
    fn pattern(&mut self, s: &Str) {
        match s.value.split_once(':') {
            Some((m, "*")) if m != "*" => self.add(s, Sym::Module(m.to_owned()), false),
            Some((m, a)) if m != "*" && a != "*" => self.add(s, Sym::Perm(s.value.clone()), false),
            _ => {}
        }
    }
    fn resources(&mut self, r: &RawResources) {
        for (dim, ids) in &r.0 {
            self.add(dim, Sym::Dimension(dim.value.clone()), false);
            for id in &ids.value {
                self.add(id, Sym::Resource(id.value.clone()), false);
            }
        }
    }

    fn file(&mut self, f: &PolicyFile) {
        let m = self.model;
        if !f.is_provider() {
            self.org(&f.scope);
        }
        let provider = f.is_provider();
        for i in &f.modules {
            self.add(&i.id, Sym::Module(i.id.value.clone()), true);
            for a in &i.body.actions {
                self.add(a, Sym::Perm(format!("{}:{}", i.id.value, a.value)), true);
            }
            if let Some(d) = &i.body.dimension {
                self.add(d, Sym::Dimension(d.value.clone()), false);
            }
        }
        for i in &f.policies {
            self.add(&i.id, Sym::Policy(i.id.value.clone()), true);
            for md in &i.body.modules {
                self.add(md, Sym::Module(md.value.clone()), false);
            }
        }
        for i in &f.kinds {
            self.add(&i.id, Sym::Kind(i.id.value.clone()), true);
            for p in &i.body.parents {
                self.kind(p);
            }
        }
        for i in &f.orgs {
            self.add(&i.id, Sym::Org(i.id.value.clone()), true);
            if let Some(k) = &i.body.kind {
                self.kind(k);
            }
            if let Some(p) = &i.body.parent {
                self.org(p);
            }
        }
        for i in &f.users {
            self.add(&i.id, Sym::User(i.id.value.clone()), true);
            self.org(&i.body.org);
        }
        for i in &f.roles {
            let r = &i.body;
            if provider && r.locked.as_ref().is_some_and(|l| l.value) {
                self.locked = Some(format!("locked provider role `{}`", i.id.value));
            }
            if let Some(id) = m.role_index.get(&(self.scope, i.id.value.clone())) {
                self.add(&i.id, Sym::Role(*id), true);
            }
            for g in r.grants.iter().chain(&r.remove) {
                self.pattern(g);
            }
            for x in r
                .includes
                .iter()
                .chain(&r.excludes)
                .chain(&r.assignable_by)
                .chain(&r.from)
            {
                self.role(x);
            }
            if let Some(res) = &r.resources {
                self.resources(&res.value);
            }
            for d in &r.dimensions {
                self.add(d, Sym::Dimension(d.value.clone()), false);
            }
            self.locked = None;
        }
        for a in &f.assignments {
            if provider && a.value.locked.as_ref().is_some_and(|l| l.value) {
                self.locked = Some("locked provider assignment".to_owned());
            }
            let a = &a.value;
            if let Some(r) = &a.role {
                self.role(r);
            }
            if let Some(p) = &a.policy {
                self.add(p, Sym::Policy(p.value.clone()), false);
            }
            if let Some(u) = &a.user {
                self.user(u);
                if let (Some(o), Some(last)) = (&a.org, self.out.last_mut()) {
                    last.at_org = Some(o.value.clone());
                }
            }
            if let Some(o) = &a.org {
                self.org(o);
            }
            if let Some(b) = &a.by {
                if b.value != "self" {
                    self.user(b);
                }
            }
            if let Some(res) = &a.resources {
                self.resources(&res.value);
            }
            self.locked = None;
        }
        for p in &f.publications {
            if provider && p.value.locked.as_ref().is_some_and(|l| l.value) {
                self.locked = Some("locked provider publication".to_owned());
            }
            self.role(&p.value.role);
            self.org(&p.value.org);
            self.locked = None;
        }
        for e in &f.exclusions {
            for r in &e.value.roles {
                self.role(r);
            }
        }
        for rule in &f.automatic {
            let rule = &rule.value;
            // A provider rule is locked unless it says `locked: false`.
            if provider && rule.locked.as_ref().is_none_or(|l| l.value) {
                self.locked = Some("locked provider rule".to_owned());
            }
            if let Some(w) = &rule.when {
                if let Some(o) = &w.org {
                    self.org(o);
                }
                if let Some(k) = &w.org_kind {
                    self.kind(k);
                }
            }
            for g in &rule.grant {
                for r in &g.value.roles {
                    self.role(r);
                }
                for at in &g.value.at {
                    if let RawAt::Descendants {
                        descendants: Descendants::Kinds(ks),
                    } = &at.value
                    {
                        for k in ks {
                            self.kind(k);
                        }
                    }
                }
                if let Some(res) = &g.value.resources {
                    self.resources(&res.value);
                }
            }
            self.locked = None;
        }
        for i in &f.dimensions {
            self.add(&i.id, Sym::Dimension(i.id.value.clone()), true);
        }
        for i in &f.resources {
            self.add(&i.id, Sym::Resource(i.id.value.clone()), true);
            if let Some(d) = &i.body.dimension {
                self.add(d, Sym::Dimension(d.value.clone()), false);
            }
            if let Some(o) = &i.body.org {
                self.org(o);
            }
        }
    }
}

/// The scope a file's `scope` names (the provider's when it names no org).
pub(crate) fn file_scope(model: &Model, f: &PolicyFile) -> Scope {
    if f.is_provider() {
        return Scope::Provider;
    }
    model
        .org_index
        .get(&f.scope.value)
        .map_or(Scope::Provider, |o| Scope::Org(*o))
}

impl Index {
    /// Indexes every file of `checked` from its parse in `cache`.
    pub fn build(checked: &Checked, cache: &ParseCache) -> Index {
        let n = checked.sources.len();
        let mut by_file = vec![Vec::new(); n];
        for (i, slot) in by_file.iter_mut().enumerate() {
            let Some(src) = checked.sources.get(FileId(i as u32)) else {
                continue;
            };
            let Some(f) = cache.file(&src.path) else {
                continue;
            };
            if f.file != FileId(i as u32) {
                continue;
            }
            let mut b = Builder {
                model: &checked.model,
                scope: file_scope(&checked.model, f),
                locked: None,
                out: Vec::new(),
            };
            b.file(f);
            b.out.sort_by_key(|o| (o.span.start, o.span.end));
            *slot = b.out;
        }
        Index { by_file }
    }

    /// The name written at byte `offset` of `file` (the innermost).
    pub fn at(&self, file: FileId, offset: usize) -> Option<&Occurrence> {
        self.by_file
            .get(file.0 as usize)?
            .iter()
            .filter(|o| o.span.start as usize <= offset && offset <= o.span.end as usize)
            .min_by_key(|o| o.span.end - o.span.start)
    }

    /// Every place `sym` is written, definitions first.
    pub fn occurrences<'a>(&'a self, sym: &'a Sym) -> impl Iterator<Item = &'a Occurrence> + 'a {
        self.by_file.iter().flatten().filter(move |o| &o.sym == sym)
    }

    /// The definitions written in `file`.
    pub fn definitions_in(&self, file: FileId) -> impl Iterator<Item = &Occurrence> + '_ {
        self.by_file
            .get(file.0 as usize)
            .into_iter()
            .flatten()
            .filter(|o| o.def)
    }

    /// Every definition of the set.
    pub fn definitions(&self) -> impl Iterator<Item = &Occurrence> + '_ {
        self.by_file.iter().flatten().filter(|o| o.def)
    }
}

fn location(sources: &SourceMap, span: Span) -> Option<Location> {
    let path = &sources.get(span.file)?.path;
    Some(Location::new(path_uri(path)?, range(sources, span)))
}

/// The name under the cursor, and the set it is in.
fn under_cursor<'s>(
    server: &'s mut Server,
    p: &TextDocumentPositionParams,
) -> Result<(&'s super::workspace::Analysis, &'s Index, Occurrence), Failure> {
    let (ws, path) = server.workspace_of(&p.text_document.uri)?;
    let (a, id) = ws.file(&path).ok_or_else(nothing_here)?;
    let file = a.sources().get(id).ok_or_else(nothing_here)?;
    let at = offset(file, p.position);
    let index = ws.index().ok_or_else(nothing_here)?;
    let occ = index.at(id, at).cloned().ok_or_else(nothing_here)?;
    Ok((a, index, occ))
}

/// Where the name under the cursor is defined (`null` for a name that is
/// not defined anywhere).
pub(super) fn definition(
    server: &mut Server,
    p: &TextDocumentPositionParams,
) -> Result<Option<GotoDefinitionResponse>, Failure> {
    let Ok((a, index, occ)) = under_cursor(server, p) else {
        return Ok(None);
    };
    let locations: Vec<Location> = index
        .occurrences(&occ.sym)
        .filter(|o| o.def)
        .filter_map(|o| location(a.sources(), o.span))
        .collect();
    Ok((!locations.is_empty()).then_some(GotoDefinitionResponse::Array(locations)))
}

/// Every place the name under the cursor is written.
pub(super) fn references(
    server: &mut Server,
    p: &ReferenceParams,
) -> Result<Option<Vec<Location>>, Failure> {
    let Ok((a, index, occ)) = under_cursor(server, &p.text_document_position) else {
        return Ok(None);
    };
    let with_def = p.context.include_declaration;
    Ok(Some(
        index
            .occurrences(&occ.sym)
            .filter(|o| with_def || !o.def)
            .filter_map(|o| location(a.sources(), o.span))
            .collect(),
    ))
}

fn symbol_kind(sym: &Sym) -> SymbolKind {
    match sym {
        Sym::Org(_) => SymbolKind::NAMESPACE,
        Sym::User(_) => SymbolKind::VARIABLE,
        Sym::Role(_) => SymbolKind::CLASS,
        Sym::Module(_) => SymbolKind::MODULE,
        Sym::Perm(_) => SymbolKind::METHOD,
        Sym::Policy(_) => SymbolKind::INTERFACE,
        Sym::Kind(_) => SymbolKind::ENUM,
        Sym::Dimension(_) => SymbolKind::ENUM_MEMBER,
        Sym::Resource(_) => SymbolKind::OBJECT,
    }
}

/// How a symbol is named in a list: `role owner::name`, `org acme`, …
pub(crate) fn sym_name(model: &Model, sym: &Sym) -> String {
    match sym {
        Sym::Role(r) => model.role_qualified(*r),
        Sym::Org(s)
        | Sym::User(s)
        | Sym::Module(s)
        | Sym::Perm(s)
        | Sym::Policy(s)
        | Sym::Kind(s)
        | Sym::Dimension(s)
        | Sym::Resource(s) => s.clone(),
    }
}

#[allow(deprecated, reason = "SymbolInformation::deprecated must be given")]
fn information(model: &Model, sources: &SourceMap, o: &Occurrence) -> Option<SymbolInformation> {
    Some(SymbolInformation {
        name: sym_name(model, &o.sym),
        kind: symbol_kind(&o.sym),
        tags: None,
        deprecated: None,
        location: location(sources, o.span)?,
        container_name: None,
    })
}

/// Every definition written in the file.
pub(super) fn document_symbols(
    server: &mut Server,
    uri: &lsp_types::Uri,
) -> Result<Option<DocumentSymbolResponse>, Failure> {
    let (ws, path) = server.workspace_of(uri)?;
    let Some((a, id)) = ws.file(&path) else {
        return Ok(None);
    };
    let Some(index) = ws.index() else {
        return Ok(None);
    };
    let list = index
        .definitions_in(id)
        .filter_map(|o| information(&a.checked.model, a.sources(), o))
        .collect();
    Ok(Some(DocumentSymbolResponse::Flat(list)))
}

/// The definitions of every open set whose name holds `query` (case
/// insensitive), at most 500.
pub(super) fn workspace_symbols(server: &mut Server, query: &str) -> WorkspaceSymbolResponse {
    let q = query.to_lowercase();
    let mut out = Vec::new();
    for ws in server.workspaces.values() {
        let (Some(a), Some(index)) = (ws.analysis.as_ref(), ws.index()) else {
            continue;
        };
        for o in index.definitions() {
            if out.len() >= 500 {
                break;
            }
            if sym_name(&a.checked.model, &o.sym)
                .to_lowercase()
                .contains(&q)
            {
                out.extend(information(&a.checked.model, a.sources(), o));
            }
        }
    }
    WorkspaceSymbolResponse::Flat(out)
}

/// Renames a role or an org everywhere the set names it; refused when an
/// edit would fall in a locked provider item, or the new name is taken.
#[allow(
    clippy::mutable_key_type,
    reason = "WorkspaceEdit is keyed by Uri, which hashes and compares its text only"
)]
pub(super) fn rename(
    server: &mut Server,
    p: &RenameParams,
) -> Result<Option<WorkspaceEdit>, Failure> {
    let (a, index, occ) = under_cursor(server, &p.text_document_position)?;
    let model = &a.checked.model;
    let sources = a.sources();
    let new = p.new_name.as_str();
    let refuse = |why: String| (ErrorCode::RequestFailed, why);
    if !crate::load::is_valid_id(new) {
        return Err(refuse(format!("`{new}` is not a valid id")));
    }
    // (span of the occurrence, the part of it to replace)
    let mut edits: Vec<(&Occurrence, Span)> = Vec::new();
    let text_of = |s: Span| {
        sources
            .get(s.file)
            .and_then(|f| f.text.get(s.start as usize..s.end as usize))
            .unwrap_or("")
    };
    match &occ.sym {
        Sym::Role(r) => {
            let role = model.role(*r);
            if model.role_index.contains_key(&(role.owner, new.to_owned())) {
                return Err(refuse(format!(
                    "`{}` already has a role named `{new}`",
                    model.scope_name(role.owner)
                )));
            }
            for o in index.occurrences(&occ.sym) {
                let text = text_of(o.span);
                // The bare name is the end of the text (`owner::name`, quotes).
                let Some(at) = text.rfind(role.name.as_str()) else {
                    continue;
                };
                let start = o.span.start as usize + at;
                edits.push((o, Span::new(o.span.file, start, start + role.name.len())));
            }
        }
        Sym::Org(old) => {
            if model.org_index.contains_key(new) || new == "provider" {
                return Err(refuse(format!("an org named `{new}` already exists")));
            }
            for o in index.occurrences(&occ.sym) {
                let text = text_of(o.span);
                let Some(at) = text.find(old.as_str()) else {
                    continue;
                };
                let start = o.span.start as usize + at;
                edits.push((o, Span::new(o.span.file, start, start + old.len())));
            }
            // `old::role` names.
            let qualified = format!("{old}::");
            for file in &index.by_file {
                for o in file.iter().filter(|o| matches!(o.sym, Sym::Role(_))) {
                    let text = text_of(o.span);
                    let t = text.trim_start_matches(['"', '\'']);
                    if t.starts_with(&qualified) {
                        let start = o.span.start as usize + (text.len() - t.len());
                        edits.push((o, Span::new(o.span.file, start, start + old.len())));
                    }
                }
            }
        }
        _ => return Err(refuse("only roles and orgs can be renamed".to_owned())),
    }
    if let Some((o, _)) = edits.iter().find(|(o, _)| o.locked.is_some()) {
        let why = o.locked.clone().unwrap_or_default();
        let (start, _) = sources.line_col(o.span);
        return Err(refuse(format!(
            "the rename would change a {why} at {}:{}:{}; the provider must change it",
            sources.path(o.span.file),
            start.line,
            start.column
        )));
    }
    let mut changes: HashMap<lsp_types::Uri, Vec<TextEdit>> = HashMap::new();
    for (_, span) in edits {
        let Some(loc) = location(sources, span) else {
            continue;
        };
        changes
            .entry(loc.uri)
            .or_default()
            .push(TextEdit::new(loc.range, new.to_owned()));
    }
    Ok(Some(WorkspaceEdit::new(changes)))
}
