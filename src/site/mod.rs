//! `trellis site`: the policy set as a static, searchable site — an index
//! with the org tree, a page per org (the customer view of `trellis show`,
//! the console's role list of `trellis roles` with its search), a page per
//! role and a page per user (effective roles and permissions per org, and
//! why, from the same derivation as `query --explain`).
//!
//! With a root org (`--org X`), only what X may see is written: its
//! subtree, the roles visible there, and what reaches it from above. The
//! library writes nothing itself: every file goes to the caller's `emit`,
//! in a fixed order, with bytes that depend on the model alone.

mod html;

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

use rayon::prelude::*;

use crate::eval::Hit;
use crate::model::*;
use crate::source::SourceMap;
use html::{esc, read_only, Page};

/// How a site is written.
#[derive(Clone, Debug)]
pub struct Options {
    /// Only this org's subtree and what reaches it (`--org`).
    pub root: Option<OrgId>,
    /// Rows per page of an org's users.
    pub page_size: usize,
    /// Draw the org tree and the role hierarchy (`trellis graph --format
    /// svg`, of the root's subtree) into `pictures.svg`, shown on the index.
    pub pictures: bool,
    /// The path the policy set was read from, as given: `file:line`
    /// references are written relative to it, so that a site built in CI
    /// names `tenants/acme.yaml:12`, not the runner's checkout.
    pub source_root: Option<String>,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            root: None,
            page_size: 200,
            pictures: true,
            source_root: None,
        }
    }
}

/// Most orgs the index's tree lists before it stops at a depth.
const INDEX_ORGS: usize = 1000;
/// Most holders a role's page lists.
const ROLE_HOLDERS: usize = 500;
/// The rows of the orgs' role lists, written once for the whole site.
const ROLES_DATA: &str = "roles-data.js";
/// Most users in one file of an org's users.
const USERS_PER_FILE: usize = 50;
/// Most orgs whose "why" a user's section writes out.
const EXPLAINED_ORGS: usize = 12;
/// Most orgs of a subtree an org's page lists.
const SUBTREE_ORGS: usize = 300;

/// What one page of a user shows per org: its roles, what it may do, why.
struct Probe {
    org: OrgId,
    roles: BTreeSet<RoleId>,
}

/// The indexes the pages are built from, computed once.
struct Ctx<'a> {
    m: &'a Model,
    sources: &'a SourceMap,
    root: Option<OrgId>,
    users_at: Vec<Vec<UserId>>,
    /// Per user, the number of the file of its home org's users it is in.
    user_file: Vec<u32>,
    assignments_at: Vec<Vec<AssignmentId>>,
    publications_at: Vec<Vec<RoleId>>,
    roles_of: BTreeMap<Scope, Vec<RoleId>>,
    /// The roles some org's list in the site shows, in the order of the
    /// roles page: `roles-data.js` holds their rows once, and each org's
    /// page names them by their place here, with its user counts.
    catalogue: Vec<RoleId>,
    catalogue_at: std::collections::HashMap<RoleId, u32>,
    /// `role_ref` of every role from a page one folder down.
    role_links: Vec<String>,
    /// Per user the site may name (see `user_named`): the orgs in scope where
    /// its roles can change, with the roles there.
    probes: Vec<Vec<Probe>>,
    site: String,
    /// The policy set's path and `/`, left out of `file:line` references.
    prefix: Option<String>,
    /// What the role lists of every org are computed from.
    holdings: Option<crate::role_list::Holdings>,
}

impl Ctx<'_> {
    /// `file:line` of `span`, the file relative to the policy set.
    fn at(&self, span: crate::source::Span) -> String {
        self.strip(&crate::show::at(self.sources, span))
    }

    /// `file:line` with the policy set's own path taken off the front.
    fn strip(&self, at: &str) -> String {
        match &self.prefix {
            Some(p) => at.strip_prefix(p.as_str()).unwrap_or(at).to_owned(),
            None => at.to_owned(),
        }
    }

    /// An explanation line with the set's path taken out of its `(file:line)`s.
    fn strip_in(&self, line: &str) -> String {
        match &self.prefix {
            Some(p) => line.replace(&format!("({p}"), "("),
            None => line.to_owned(),
        }
    }

    /// Is org `o` written in this site?
    fn org_in(&self, o: OrgId) -> bool {
        self.root.is_none_or(|x| self.m.in_subtree(o, x))
    }

    /// Does user `u` get a page?
    fn user_in(&self, u: UserId) -> bool {
        self.org_in(self.m.user(u).home)
    }

    /// May the site name user `u`: homed in scope, or linked into it by an
    /// assignment made at an org in scope (as `trellis show` lists it)? A
    /// sibling tenant's user who holds a role here through an org
    /// assignment above is counted in the role list, never named.
    fn user_named(&self, u: UserId) -> bool {
        self.user_in(u)
            || self.m.user_assignments[u.index()]
                .iter()
                .any(|a| self.org_in(self.m.assignments[a.index()].org))
    }

    /// Does role `r` get a page? Every role, or those visible at the root.
    fn role_in(&self, r: RoleId) -> bool {
        match self.root {
            None => true,
            Some(x) => {
                matches!(self.m.role(r).owner, Scope::Org(o) if self.m.in_subtree(o, x))
                    || self.m.published(r, x)
            }
        }
    }
}

/// Where org `o`'s page is.
fn org_path(m: &Model, o: OrgId) -> String {
    format!("org/{}.html", m.org(o).id)
}

/// Where org `o`'s users' page `n` (from 1) is.
fn org_users_path(m: &Model, o: OrgId, n: usize) -> String {
    if n <= 1 {
        org_path(m, o)
    } else {
        format!("org/{}.users-{n}.html", m.org(o).id)
    }
}

/// Where role `r`'s page is: `role/OWNER/NAME.html`, the provider as
/// `_provider` (no id starts with `_`).
fn role_path(m: &Model, r: RoleId) -> String {
    let role = m.role(r);
    let owner = match role.owner {
        Scope::Provider => "_provider".to_owned(),
        Scope::Org(o) => m.org(o).id.clone(),
    };
    format!("role/{owner}/{}.html", role.name)
}

/// Where the file of org `x`'s users numbered `n` (from 1) is. `~` is not
/// in the id grammar, so no org's first file meets another's `n`th.
fn user_file_path(m: &Model, x: OrgId, n: usize) -> String {
    if n <= 1 {
        format!("user/{}.html", m.org(x).id)
    } else {
        format!("user/{}~{n}.html", m.org(x).id)
    }
}

/// Where user `u` is: its section, in the file of its home org's users.
fn user_path(ctx: &Ctx, u: UserId) -> String {
    let m = ctx.m;
    let user = m.user(u);
    format!(
        "{}#{}",
        user_file_path(m, user.home, ctx.user_file[u.index()] as usize),
        user.id
    )
}

/// Writes the site for `m` through `emit(path, bytes)`, paths relative to
/// the site's root with `/` between folders.
pub fn build<E>(
    m: &Model,
    sources: &SourceMap,
    options: &Options,
    mut emit: impl FnMut(&str, &[u8]) -> Result<(), E>,
) -> Result<(), E> {
    let ctx = context(m, sources, options);
    emit("assets/site.css", html::CSS.as_bytes())?;
    emit("assets/site.js", html::JS.as_bytes())?;
    if options.pictures {
        let svg = crate::graph::render(m, options.root, crate::graph::GraphFormat::Svg);
        emit("pictures.svg", svg.as_bytes())?;
    }
    emit("index.html", index_page(&ctx, options).as_bytes())?;
    emit("roles.html", roles_page(&ctx).as_bytes())?;
    emit(ROLES_DATA, roles_data(&ctx).as_bytes())?;
    let orgs: Vec<OrgId> = match options.root {
        Some(x) => m.preorder[m.pre[x.index()] as usize..m.end[x.index()] as usize].to_vec(),
        None => m.preorder.clone(),
    };
    // Pages are built in parallel, a chunk at a time, and written in order.
    for chunk in orgs.chunks(256) {
        let pages: Vec<Vec<(String, String)>> = chunk
            .par_iter()
            .map(|o| org_pages(&ctx, *o, options.page_size))
            .collect();
        for (path, text) in pages.iter().flatten() {
            emit(path, text.as_bytes())?;
        }
    }
    let roles: Vec<RoleId> = (0..m.roles.len() as u32)
        .map(RoleId)
        .filter(|r| ctx.role_in(*r))
        .collect();
    let holders = holders(&ctx);
    for chunk in roles.chunks(256) {
        let pages: Vec<(String, String)> = chunk
            .par_iter()
            .map(|r| {
                (
                    role_path(m, *r),
                    role_page(&ctx, *r, holders.get(r).map_or(&[][..], Vec::as_slice)),
                )
            })
            .collect();
        for (path, text) in &pages {
            emit(path, text.as_bytes())?;
        }
    }
    // The users, a file per home org (or per USERS_PER_FILE of its users).
    let homes: Vec<OrgId> = orgs
        .iter()
        .copied()
        .filter(|o| !ctx.users_at[o.index()].is_empty())
        .collect();
    for chunk in homes.chunks(64) {
        let files: Vec<Vec<(String, String)>> =
            chunk.par_iter().map(|o| user_files(&ctx, *o)).collect();
        for (path, text) in files.iter().flatten() {
            emit(path, text.as_bytes())?;
        }
    }
    Ok(())
}

fn context<'a>(m: &'a Model, sources: &'a SourceMap, options: &Options) -> Ctx<'a> {
    let root = options.root;
    let mut users_at = vec![Vec::new(); m.orgs.len()];
    for (ui, u) in m.users.iter().enumerate() {
        users_at[u.home.index()].push(UserId(ui as u32));
    }
    let mut user_file = vec![0u32; m.users.len()];
    for list in &mut users_at {
        list.sort_by(|a, b| m.user(*a).id.cmp(&m.user(*b).id));
        for (i, u) in list.iter().enumerate() {
            user_file[u.index()] = (i / USERS_PER_FILE) as u32 + 1;
        }
    }
    let mut assignments_at = vec![Vec::new(); m.orgs.len()];
    for (ai, a) in m.assignments.iter().enumerate() {
        assignments_at[a.org.index()].push(AssignmentId(ai as u32));
    }
    let mut publications_at = vec![Vec::new(); m.orgs.len()];
    for (ri, entries) in m.publications.iter().enumerate() {
        for o in entries.keys() {
            publications_at[o.index()].push(RoleId(ri as u32));
        }
    }
    let mut roles_of: BTreeMap<Scope, Vec<RoleId>> = BTreeMap::new();
    for (ri, r) in m.roles.iter().enumerate() {
        roles_of.entry(r.owner).or_default().push(RoleId(ri as u32));
    }
    let mut ctx = Ctx {
        m,
        sources,
        root,
        users_at,
        user_file,
        assignments_at,
        publications_at,
        roles_of,
        catalogue: Vec::new(),
        catalogue_at: Default::default(),
        role_links: Vec::new(),
        probes: Vec::new(),
        holdings: None,
        prefix: options
            .source_root
            .as_ref()
            .map(|p| format!("{}/", p.trim_end_matches('/')))
            .filter(|p| p != "/" && p != "./"),
        site: match root {
            Some(x) => format!("{} · access", m.org(x).id),
            None => "access".to_owned(),
        },
    };
    let scope: &[OrgId] = match root {
        Some(x) => &m.preorder[m.pre[x.index()] as usize..m.end[x.index()] as usize],
        None => &m.preorder,
    };
    let mut catalogue: Vec<RoleId> = (0..m.roles.len() as u32)
        .into_par_iter()
        .map(RoleId)
        .filter(|r| scope.iter().any(|x| m.published(*r, *x)))
        .collect();
    catalogue.sort_by_key(|r| (m.role_display(*r), m.role_qualified(*r)));
    ctx.catalogue_at = catalogue
        .iter()
        .enumerate()
        .map(|(i, r)| (*r, i as u32))
        .collect();
    ctx.catalogue = catalogue;
    let here = Page::new(1, "");
    ctx.role_links = (0..m.roles.len() as u32)
        .map(|r| role_ref(&ctx, &here, RoleId(r)))
        .collect();
    let holdings = crate::role_list::Holdings::new(m);
    let probes: Vec<Vec<Probe>> = (0..m.users.len() as u32)
        .into_par_iter()
        .map(|u| {
            let u = UserId(u);
            if !ctx.user_named(u) {
                return Vec::new();
            }
            let home = m.user(u).home;
            let mut list: Vec<Probe> = holdings
                .roles_by_org(u)
                .iter()
                .filter(|(o, roles)| ctx.org_in(*o) && (!roles.is_empty() || *o == home))
                .map(|(o, roles)| Probe {
                    org: *o,
                    roles: roles.clone(),
                })
                .collect();
            if ctx.org_in(home) && !list.iter().any(|p| p.org == home) {
                list.push(Probe {
                    org: home,
                    roles: m.roles_at(u, home),
                });
            }
            list
        })
        .collect();
    ctx.probes = probes;
    ctx.holdings = Some(holdings);
    ctx
}

/// Role -> (user, org) for every org in scope where a user holds it
/// (among the orgs where the user's roles can change).
fn holders(ctx: &Ctx) -> BTreeMap<RoleId, Vec<(UserId, OrgId)>> {
    let mut out: BTreeMap<RoleId, Vec<(UserId, OrgId)>> = BTreeMap::new();
    for (ui, probes) in ctx.probes.iter().enumerate() {
        for p in probes {
            for r in &p.roles {
                out.entry(*r).or_default().push((UserId(ui as u32), p.org));
            }
        }
    }
    out
}

/// A link to org `o` when it has a page, its id otherwise.
fn org_ref(ctx: &Ctx, page: &Page, o: OrgId) -> String {
    if ctx.org_in(o) {
        page.link(&org_path(ctx.m, o), &ctx.m.org(o).id)
    } else {
        format!("<code>{}</code>", esc(&ctx.m.org(o).id))
    }
}

fn org_ref_name(ctx: &Ctx, page: &Page, id: &str) -> String {
    match ctx.m.org_index.get(id) {
        Some(o) => org_ref(ctx, page, *o),
        None => esc(id),
    }
}

fn user_ref(ctx: &Ctx, page: &Page, u: UserId) -> String {
    if ctx.user_in(u) {
        page.link(&user_path(ctx, u), &ctx.m.user(u).id)
    } else {
        format!("<code>{}</code>", esc(&ctx.m.user(u).id))
    }
}

fn user_ref_name(ctx: &Ctx, page: &Page, id: &str) -> String {
    match ctx.m.user_index.get(id) {
        Some(u) => user_ref(ctx, page, *u),
        None => esc(id),
    }
}

fn role_ref(ctx: &Ctx, page: &Page, r: RoleId) -> String {
    // Most links are from pages one folder down: those are made once.
    if page.up() == "../" {
        if let Some(link) = ctx.role_links.get(r.index()) {
            return link.clone();
        }
    }
    if ctx.role_in(r) {
        page.link(&role_path(ctx.m, r), &ctx.m.role_display(r))
    } else {
        format!("<code>{}</code>", esc(&ctx.m.role_display(r)))
    }
}

/// A role named as `role_display` names it, linked when it has a page.
fn role_ref_name(ctx: &Ctx, page: &Page, scope: Scope, name: &str) -> String {
    let m = ctx.m;
    let found = match name.split_once("::") {
        Some((owner, bare)) => {
            let owner = if owner == "provider" {
                Some(Scope::Provider)
            } else {
                m.org_index.get(owner).map(|o| Scope::Org(*o))
            };
            owner.and_then(|s| m.role_index.get(&(s, bare.to_owned())).copied())
        }
        None => m
            .resolve_role(name, scope)
            .or_else(|| m.role_names.get(name).and_then(|v| v.first().copied())),
    };
    match found {
        Some(r) => role_ref(ctx, page, r),
        None => esc(name),
    }
}

fn index_page(ctx: &Ctx, options: &Options) -> String {
    let m = ctx.m;
    let mut page = Page::new(0, "Organizations");
    let tops: Vec<OrgId> = match ctx.root {
        Some(x) => vec![x],
        None => (0..m.orgs.len() as u32)
            .map(OrgId)
            .filter(|o| m.org(*o).parent.is_none())
            .collect(),
    };
    if let Some(x) = ctx.root {
        let above: Vec<String> = m
            .ancestors(x)
            .skip(1)
            .map(|a| format!("<code>{}</code>", esc(&m.org(a).id)))
            .collect::<Vec<_>>()
            .into_iter()
            .rev()
            .collect();
        if !above.is_empty() {
            page.push(&format!(
                "<p class=\"crumbs\">inside {}</p>\n",
                above.join(" › ")
            ));
        }
    }
    let orgs_in = |o: OrgId| (m.end[o.index()] - m.pre[o.index()]) as usize;
    let total: usize = tops.iter().map(|o| orgs_in(*o)).sum();
    let users = (0..m.users.len() as u32)
        .filter(|u| ctx.user_in(UserId(*u)))
        .count();
    let roles = (0..m.roles.len() as u32)
        .filter(|r| ctx.role_in(RoleId(*r)))
        .count();
    page.push(&format!(
        "<p>{total} org{}, {users} user{}, {} role{} (<a href=\"roles.html\">all roles</a>).</p>\n",
        plural(total),
        plural(users),
        roles,
        plural(roles)
    ));
    // The tree down to the deepest level that keeps it under INDEX_ORGS.
    let base = ctx.root.map_or(0, |x| m.depth[x.index()]);
    let mut per_depth: BTreeMap<u32, usize> = BTreeMap::new();
    for top in &tops {
        for o in &m.preorder[m.pre[top.index()] as usize..m.end[top.index()] as usize] {
            *per_depth.entry(m.depth[o.index()] - base).or_default() += 1;
        }
    }
    let mut limit = 0;
    let mut sum = 0;
    for (d, n) in &per_depth {
        sum += n;
        if sum > INDEX_ORGS && *d > 0 {
            break;
        }
        limit = *d;
    }
    page.h2("Org tree", "tree");
    let mut tree = String::new();
    for top in &tops {
        tree_html(ctx, &page, *top, base + limit, &mut tree);
    }
    page.push(&format!("<ul class=\"tree\">{tree}</ul>\n"));
    if options.pictures {
        page.h2(
            "Pictures: the tree with publications and locks, and the roles",
            "pictures",
        );
        page.push("<p class=\"pictures\"><a href=\"pictures.svg\"><img src=\"pictures.svg\" alt=\"the org tree with publications and locks, and the role hierarchy\"></a></p>\n");
    }
    page.finish(&ctx.site)
}

fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

/// Org `o` and its subtree down to depth `limit`, as nested lists.
fn tree_html(ctx: &Ctx, page: &Page, o: OrgId, limit: u32, out: &mut String) {
    let m = ctx.m;
    let org = m.org(o);
    let kind = org
        .kind_label
        .as_ref()
        .map(|k| format!(" <span class=\"muted\">({})</span>", esc(k)))
        .unwrap_or_default();
    let _ = write!(out, "<li>{}{kind}", org_ref(ctx, page, o));
    let children = &m.children[o.index()];
    if !children.is_empty() {
        if m.depth[o.index()] >= limit {
            let below = (m.end[o.index()] - m.pre[o.index()] - 1) as usize;
            let _ = write!(
                out,
                " <span class=\"muted\">({below} org{} below)</span>",
                plural(below)
            );
        } else {
            out.push_str("<ul class=\"tree\">");
            for c in sorted_orgs(m, children) {
                tree_html(ctx, page, c, limit, out);
            }
            out.push_str("</ul>");
        }
    }
    out.push_str("</li>\n");
}

fn sorted_orgs(m: &Model, orgs: &[OrgId]) -> Vec<OrgId> {
    let mut v = orgs.to_vec();
    v.sort_by(|a, b| m.org(*a).id.cmp(&m.org(*b).id));
    v
}

/// Every role in scope, with its owner, status and lock.
fn roles_page(ctx: &Ctx) -> String {
    let m = ctx.m;
    let mut page = Page::new(0, "Roles");
    let mut roles: Vec<RoleId> = (0..m.roles.len() as u32)
        .map(RoleId)
        .filter(|r| ctx.role_in(*r))
        .collect();
    roles.sort_by_key(|r| (m.role_display(*r), m.role_qualified(*r)));
    page.push(&search_box("all-roles", roles.len()));
    page.push("<table id=\"all-roles\"><thead><tr><th>role</th><th>owner</th><th>status</th><th>permissions</th><th>description</th><th></th></tr></thead><tbody>\n");
    for r in roles {
        let role = m.role(r);
        let ro = role.locked || role.owner == Scope::Provider;
        let _ = writeln!(
            page_body(&mut page),
            "<tr{} data-name=\"{}\" data-description=\"{}\"><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            row_class(role.locked, ro),
            esc(&role.name),
            esc(role.description.as_deref().unwrap_or("")),
            role_ref(ctx, &Page::new(0, ""), r),
            owner_html(ctx, &Page::new(0, ""), role.owner),
            status_html(role.active),
            role.perms.count_ones(..),
            esc(role.description.as_deref().unwrap_or("")),
            read_only(role.locked, ro, None),
        );
    }
    page.push("</tbody></table>\n");
    page.finish(&ctx.site)
}

/// A scratch buffer that is appended to the page (for `writeln!`).
fn page_body(page: &mut Page) -> PageWriter<'_> {
    PageWriter(page)
}

struct PageWriter<'a>(&'a mut Page);

impl std::fmt::Write for PageWriter<'_> {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        self.0.push(s);
        Ok(())
    }
}

fn row_class(locked: bool, ro: bool) -> &'static str {
    match (locked, ro) {
        (true, _) => " class=\"locked read-only\" aria-readonly=\"true\"",
        (false, true) => " class=\"read-only\" aria-readonly=\"true\"",
        _ => "",
    }
}

fn status_html(active: bool) -> &'static str {
    if active {
        "active"
    } else {
        "<span class=\"badge off\">disabled</span>"
    }
}

fn owner_html(ctx: &Ctx, page: &Page, owner: Scope) -> String {
    match owner {
        Scope::Provider => "provider".to_owned(),
        Scope::Org(o) => org_ref(ctx, page, o),
    }
}

fn search_box(table: &str, total: usize) -> String {
    format!(
        "<div class=\"search\"><input type=\"search\" id=\"{table}-search\" placeholder=\"Search roles by name or description\" \
         aria-label=\"Search roles\" data-table=\"{table}\" data-count=\"{table}-count\"> \
         <span id=\"{table}-count\" class=\"muted\">{total} of {total}</span></div>\n"
    )
}

/// The dimensions every assignment of `role` must name, `a and b`.
fn dimension_names(m: &Model, role: &Role) -> String {
    let dims: Vec<&str> = role
        .dimensions
        .iter()
        .map(|d| m.dimensions[d.index()].id.as_str())
        .collect();
    dims.join(" and ")
}

/// `roles-data.js`: a row of an org's role list for every role of the
/// catalogue, as HTML for a page one folder down: the search's name and
/// description, the row's class, its cells but the user count, its badge.
fn roles_data(ctx: &Ctx) -> String {
    let m = ctx.m;
    let here = Page::new(1, "");
    let mut out = String::from(
        "// trellis site: the rows of the orgs' role lists (the pages name them by number).\nwindow.trellisRoles = [\n",
    );
    for r in &ctx.catalogue {
        let role = m.role(*r);
        let ro = role.locked || role.owner == Scope::Provider;
        let mut notes = Vec::new();
        for (d, ids) in role.resources.entries() {
            let ids: Vec<&str> = ids
                .iter()
                .map(|q| m.resources[q.index()].id.as_str())
                .collect();
            notes.push(format!(
                "{}: {}",
                esc(&m.dimensions[d.index()].id),
                esc(&ids.join(", "))
            ));
        }
        if !role.dimensions.is_empty() {
            notes.push(format!(
                "one assignment per {}{}",
                esc(&dimension_names(m, role)),
                if role.multiple {
                    ", several allowed"
                } else {
                    ""
                }
            ));
        }
        let badge = if role.locked {
            read_only(true, true, None)
        } else if ro {
            read_only(false, true, None)
        } else if !role.active {
            "<span class=\"badge\">not assignable</span>".to_owned()
        } else {
            "<span class=\"badge\">assignable</span>".to_owned()
        };
        let class = match (role.locked, ro) {
            (true, _) => "locked read-only",
            (false, true) => "read-only",
            _ => "",
        };
        let description = esc(role.description.as_deref().unwrap_or(""));
        let cells = [
            esc(&role.name),
            description.clone(),
            class.to_owned(),
            role_ref(ctx, &here, *r),
            owner_html(ctx, &here, role.owner),
            role.from
                .map(|(f, _)| role_ref(ctx, &here, f))
                .unwrap_or_default(),
            status_html(role.active).to_owned(),
            notes.join("; "),
            description,
            badge,
        ];
        if out.ends_with(']') {
            out.push_str(",\n");
        }
        out.push_str(&serde_json::to_string(&cells).unwrap_or_else(|_| "[]".to_owned()));
    }
    // The array is JSON as well, for readers other than the page.
    out.push_str("\n];\n");
    out
}

/// An org's page, and the further pages of its users.
fn org_pages(ctx: &Ctx, x: OrgId, page_size: usize) -> Vec<(String, String)> {
    let m = ctx.m;
    let org = m.org(x);
    let users = &ctx.users_at[x.index()];
    let pages = users.len().div_ceil(page_size.max(1)).max(1);
    let mut out = Vec::new();
    for n in 1..=pages {
        let title = if n == 1 {
            format!("Org {}", org.id)
        } else {
            format!("Org {} — users, page {n}", org.id)
        };
        let mut page = Page::new(1, &title);
        // Where it sits: its ancestors (linked when in the site).
        let crumbs: Vec<String> = m
            .ancestors(x)
            .collect::<Vec<_>>()
            .into_iter()
            .rev()
            .map(|a| org_ref(ctx, &page, a))
            .collect();
        page.push(&format!("<p class=\"crumbs\">{}</p>\n", crumbs.join(" › ")));
        let mut facts = Vec::new();
        if let Some(k) = &org.kind_label {
            facts.push(format!("kind <code>{}</code>", esc(k)));
        }
        facts.push(format!(
            "declared by {} (<span class=\"src\">{}</span>)",
            esc(m.scope_name(org.scope)),
            esc(&ctx.at(org.span))
        ));
        page.push(&format!("<p>{}</p>\n", facts.join(" · ")));
        if let Some(d) = &org.description {
            page.push(&format!("<p class=\"muted\">{}</p>\n", esc(d)));
        }
        if n == 1 {
            org_main(ctx, &mut page, x);
        }
        page.h2(&format!("Users ({})", users.len()), "users");
        let chunk = users
            .get((n - 1) * page_size..(n * page_size).min(users.len()))
            .unwrap_or(&[]);
        if pages > 1 {
            page.push(&pager(ctx, x, n, pages, &page));
        }
        if users.is_empty() {
            page.push("<p class=\"muted\">no user has this org as home</p>\n");
        } else {
            page.push("<table id=\"users\"><thead><tr><th>user</th><th>identity</th><th>roles here</th><th>locked by the provider</th></tr></thead><tbody>\n");
            for u in chunk {
                let v = crate::show::user_view(m, *u);
                let roles: Vec<String> = v
                    .roles
                    .iter()
                    .map(|r| role_ref_name(ctx, &page, Scope::Org(x), r))
                    .collect();
                let locked: Vec<String> = v
                    .locked_roles
                    .iter()
                    .map(|r| role_ref_name(ctx, &page, Scope::Org(x), r))
                    .collect();
                let _ = writeln!(
                    page_body(&mut page),
                    "<tr{}><td>{}{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                    row_class(!locked.is_empty(), false),
                    user_ref(ctx, &Page::new(1, ""), *u),
                    if v.owner {
                        " <span class=\"badge\">owner</span>"
                    } else {
                        ""
                    },
                    esc(&v.identity),
                    roles.join(", "),
                    if locked.is_empty() {
                        String::new()
                    } else {
                        format!("{} {}", locked.join(", "), read_only(true, true, None))
                    }
                );
            }
            page.push("</tbody></table>\n");
        }
        out.push((org_users_path(m, x, n), page.finish(&ctx.site)));
    }
    out
}

fn pager(ctx: &Ctx, x: OrgId, n: usize, pages: usize, page: &Page) -> String {
    let mut s = String::from("<nav class=\"pager\">pages: ");
    for i in 1..=pages {
        if i == n {
            let _ = write!(s, "<span>{i}</span>");
        } else {
            let _ = write!(
                s,
                "{}",
                page.link(&org_users_path(ctx.m, x, i), &i.to_string())
            );
        }
    }
    s.push_str("</nav>\n");
    s
}

/// The first page's sections: subtree, roles, grants, publications, rules.
fn org_main(ctx: &Ctx, page: &mut Page, x: OrgId) {
    let m = ctx.m;
    // Links from an org page (one folder down).
    let here = Page::new(1, "");
    // Subtree.
    let size = (m.end[x.index()] - m.pre[x.index()]) as usize;
    page.h2(&format!("Subtree ({size} org{})", plural(size)), "subtree");
    let mut tree = String::new();
    let limit = if size <= SUBTREE_ORGS {
        u32::MAX
    } else {
        m.depth[x.index()] + 1
    };
    tree_html(ctx, &here, x, limit, &mut tree);
    page.push(&format!("<ul class=\"tree\">{tree}</ul>\n"));
    // The console's role list, with its search.
    let rows = match &ctx.holdings {
        Some(h) => crate::role_list::role_list_indexed(m, x, None, h),
        None => crate::role_list::role_list(m, x, None),
    };
    page.h2(&format!("Roles published here ({})", rows.len()), "roles");
    page.push(&search_box("roles-table", rows.len()));
    // The rows are drawn by the script from `roles-data.js`: every org of
    // a large tree lists nearly the same roles, so the page carries only
    // which roles, in order, and their user counts here.
    page.script(ROLES_DATA);
    let spec: Vec<String> = rows
        .iter()
        .filter_map(|r| Some(format!("{}.{}", ctx.catalogue_at.get(&r.id)?, r.users)))
        .collect();
    page.push(&format!(
        "<table id=\"roles-table\" data-rows=\"{}\"><thead><tr><th>role</th><th>owner</th><th>cloned from</th><th>status</th><th>users</th><th>restrictions</th><th>description</th><th></th></tr></thead><tbody>\n</tbody></table>\n\
         <noscript><p>The role list is drawn by the page's script; {} lists every role without it.</p></noscript>\n",
        spec.join(" "),
        here.link("roles.html", "the roles page")
    ));
    // Grants reaching it: made here, or made above with `inherit`.
    let mut grants: Vec<AssignmentId> = ctx.assignments_at[x.index()].clone();
    for a in m.ancestors(x).skip(1) {
        grants.extend(
            ctx.assignments_at[a.index()]
                .iter()
                .filter(|id| crate::show::assignment_reaches(m, &m.assignments[id.index()], x)),
        );
    }
    let mut views: Vec<crate::show::AssignmentView> = grants
        .iter()
        .map(|a| {
            let mut v = crate::show::assignment_view(m, ctx.sources, &m.assignments[a.index()], x);
            v.source = ctx.strip(&v.source);
            v
        })
        .collect();
    views.sort_by(|a, b| {
        (&a.org, &a.grant, &a.to, &a.source).cmp(&(&b.org, &b.grant, &b.to, &b.source))
    });
    page.h2(&format!("Grants reaching it ({})", views.len()), "grants");
    if views.is_empty() {
        page.push("<p class=\"muted\">none</p>\n");
    } else {
        page.push("<table id=\"grants\"><thead><tr><th>grant</th><th>to</th><th>at</th><th>written by</th><th>source</th><th></th></tr></thead><tbody>\n");
        for a in &views {
            let grant = match a.grant.strip_prefix("policy ") {
                Some(p) => format!("policy <code>{}</code>", esc(p)),
                None => role_ref_name(ctx, &here, Scope::Org(x), &a.grant),
            };
            let to = match a.to.strip_prefix("every member of ") {
                Some(o) => format!("every member of {}", org_ref_name(ctx, &here, o)),
                None => user_ref_name(ctx, &here, &a.to),
            };
            let _ = writeln!(
                page_body(page),
                "<tr{}><td>{grant}{}</td><td>{to}</td><td>{}{}</td><td>{}</td><td class=\"src\">{}</td><td>{}</td></tr>",
                row_class(a.locked, a.read_only),
                if a.resources.is_empty() {
                    String::new()
                } else {
                    format!(" <span class=\"muted\">for {}</span>", esc(&a.resources.join("; ")))
                },
                org_ref_name(ctx, &here, &a.org),
                if a.inherit { " and below" } else { " only" },
                esc(&a.written_by),
                esc(&a.source),
                read_only(a.locked, a.read_only, Some(&a.source)),
            );
        }
        page.push("</tbody></table>\n");
    }
    // Publications: entries here, and those above that decide here.
    let mut pubs = Vec::new();
    for r in &ctx.publications_at[x.index()] {
        if let Some(e) = m.publications[r.index()].get(&x) {
            pubs.push(crate::show::publication_view(m, ctx.sources, *r, x, e, x));
        }
    }
    let mut visible: Vec<RoleId> = ctx
        .roles_of
        .get(&Scope::Provider)
        .cloned()
        .unwrap_or_default();
    for a in m.ancestors(x) {
        visible.extend(ctx.roles_of.get(&Scope::Org(a)).into_iter().flatten());
    }
    for r in visible {
        if let crate::eval::Publication::Entry(o, e) = m.publication(r, x) {
            if o != x {
                pubs.push(crate::show::publication_view(m, ctx.sources, r, o, &e, x));
            }
        }
    }
    for p in &mut pubs {
        p.source = ctx.strip(&p.source);
    }
    pubs.sort_by(|a, b| (&a.role, &a.org).cmp(&(&b.role, &b.org)));
    if !pubs.is_empty() {
        page.h2(&format!("Publications ({})", pubs.len()), "publications");
        page.push("<table id=\"publications\"><thead><tr><th>role</th><th></th><th>at</th><th>written by</th><th>source</th><th></th></tr></thead><tbody>\n");
        for p in &pubs {
            let _ = writeln!(
                page_body(page),
                "<tr{}><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td class=\"src\">{}</td><td>{}</td></tr>",
                row_class(p.locked, p.read_only),
                role_ref_name(ctx, &here, Scope::Org(x), &p.role),
                if p.publish { "published" } else { "not published" },
                org_ref_name(ctx, &here, &p.org),
                esc(&p.written_by),
                esc(&p.source),
                read_only(p.locked, p.read_only, Some(&p.source)),
            );
        }
        page.push("</tbody></table>\n");
    }
    // Automatic rules matching a user homed here.
    let mut rules: BTreeMap<usize, Vec<UserId>> = BTreeMap::new();
    for u in &ctx.users_at[x.index()] {
        for (ri, rule) in m.candidate_rules(x) {
            if m.rule_matches(rule, *u) {
                rules.entry(ri).or_default().push(*u);
            }
        }
    }
    if !rules.is_empty() {
        page.h2("Automatic rules matching its users", "rules");
        page.push("<table id=\"rules\"><thead><tr><th>rule</th><th>written by</th><th>matches</th><th>source</th><th></th></tr></thead><tbody>\n");
        let mut list: Vec<(String, String, usize, Vec<UserId>)> = rules
            .into_iter()
            .map(|(ri, us)| {
                let rule = &m.rules[ri];
                (
                    m.scope_name(rule.scope).to_owned(),
                    rule.name.clone().unwrap_or_else(|| "unnamed".into()),
                    ri,
                    us,
                )
            })
            .collect();
        list.sort();
        for (by, name, ri, us) in list {
            let rule = &m.rules[ri];
            let ro = rule.locked || rule.scope == Scope::Provider;
            let src = ctx.at(rule.span);
            let names: Vec<String> = us
                .iter()
                .take(50)
                .map(|u| user_ref(ctx, &here, *u))
                .collect();
            let _ = writeln!(
                page_body(page),
                "<tr{}><td>{}</td><td>{}</td><td>{}{}</td><td class=\"src\">{}</td><td>{}</td></tr>",
                row_class(rule.locked, ro),
                esc(&name),
                esc(&by),
                names.join(", "),
                if us.len() > 50 {
                    format!(" and {} more", us.len() - 50)
                } else {
                    String::new()
                },
                esc(&src),
                read_only(rule.locked, ro, Some(&src)),
            );
        }
        page.push("</tbody></table>\n");
    }
}

/// A role's page: what it grants, where it is published, who holds it.
fn role_page(ctx: &Ctx, r: RoleId, holders: &[(UserId, OrgId)]) -> String {
    let m = ctx.m;
    let role = m.role(r);
    let mut page = Page::new(2, &format!("Role {}", m.role_display(r)));
    let ro = role.locked || role.owner == Scope::Provider;
    let mut facts = vec![
        format!("owner {}", owner_html(ctx, &page, role.owner)),
        status_html(role.active).to_owned(),
    ];
    if let Some((f, _)) = role.from {
        facts.push(format!("cloned from {}", role_ref(ctx, &page, f)));
    }
    if !role.includes.is_empty() {
        let inc: Vec<String> = role
            .includes
            .iter()
            .map(|(i, _)| role_ref(ctx, &page, *i))
            .collect();
        facts.push(format!("includes {}", inc.join(", ")));
    }
    if let Some(types) = &role.identity_types {
        facts.push(format!("for identity types {}", esc(&types.join(", "))));
    }
    if role.self_service {
        facts.push("users may assign it to themselves".to_owned());
    }
    let src = ctx.at(role.span);
    facts.push(format!("<span class=\"src\">{}</span>", esc(&src)));
    page.push(&format!(
        "<p>{} {}</p>\n",
        facts.join(" · "),
        read_only(role.locked, ro, Some(&src))
    ));
    if let Some(d) = &role.description {
        page.push(&format!("<p class=\"muted\">{}</p>\n", esc(d)));
    }
    // Permissions, expanded: own grants and the cloned part, then what the
    // included roles add.
    let all = m.closure_any(r);
    let mut perms: BTreeSet<usize> = role.perms.ones().collect();
    let own = perms.len();
    for i in &all {
        perms.extend(m.role(*i).perms.ones());
    }
    page.h2(
        &format!(
            "Permissions ({} with what it includes; {own} of its own)",
            perms.len()
        ),
        "permissions",
    );
    let items: Vec<String> = perms
        .iter()
        .map(|p| {
            let name = m.perm_name(PermId(*p as u32));
            let mark = if role.perms.contains(*p) {
                ""
            } else {
                " <span class=\"muted\">(included)</span>"
            };
            format!("<li><code>{}</code>{mark}</li>", esc(&name))
        })
        .collect();
    page.push(&format!("<ul class=\"perms\">{}</ul>\n", items.join("")));
    let restriction = crate::show::restriction_text(m, &role.resources);
    if !restriction.is_empty() || !role.dimensions.is_empty() {
        page.h2("Restrictions", "restrictions");
        let mut lines: Vec<String> = restriction
            .iter()
            .map(|t| format!("<li>its own permissions only on {}</li>", esc(t)))
            .collect();
        if !role.dimensions.is_empty() {
            lines.push(format!(
                "<li>every assignment names {}{}</li>",
                esc(&dimension_names(m, role)),
                if role.multiple {
                    "; a user may hold it several times"
                } else {
                    ""
                }
            ));
        }
        page.push(&format!("<ul>{}</ul>\n", lines.join("")));
    }
    // Where published: the entries in scope, and the default.
    page.h2("Where it is published", "published");
    let mut entries: Vec<(&OrgId, &PublicationEntry)> = m.publications[r.index()]
        .iter()
        .filter(|(o, _)| {
            ctx.org_in(**o)
                || ctx.root.is_some_and(|x| {
                    matches!(m.publication(r, x), crate::eval::Publication::Entry(a, _) if a == **o)
                })
        })
        .collect();
    entries.sort_by_key(|(o, _)| m.pre[o.index()]);
    let mut lines = vec![format!(
        "<li>by default: {}{}</li>",
        if role.published {
            "published"
        } else {
            "not published"
        },
        match role.owner {
            Scope::Org(o) => format!(" on the subtree of {}", org_ref(ctx, &page, o)),
            Scope::Provider => " everywhere".to_owned(),
        }
    )];
    for (o, e) in entries {
        let v = crate::show::publication_view(m, ctx.sources, r, *o, e, ctx.root.unwrap_or(*o));
        lines.push(format!(
            "<li>{} at {} and below (by {}, <span class=\"src\">{}</span>) {}</li>",
            if v.publish {
                "published"
            } else {
                "not published"
            },
            org_ref(ctx, &page, *o),
            esc(&v.written_by),
            esc(&ctx.strip(&v.source)),
            read_only(v.locked, v.locked, Some(&ctx.strip(&v.source)))
        ));
    }
    page.push(&format!("<ul>{}</ul>\n", lines.join("\n")));
    // Holders.
    let mut list: Vec<&(UserId, OrgId)> = holders.iter().collect();
    let order = |a: &&(UserId, OrgId), b: &&(UserId, OrgId)| {
        (&m.user(a.0).id, m.pre[a.1.index()]).cmp(&(&m.user(b.0).id, m.pre[b.1.index()]))
    };
    // Only the first ROLE_HOLDERS are written: those are picked, then sorted.
    if list.len() > ROLE_HOLDERS {
        list.select_nth_unstable_by(ROLE_HOLDERS, order);
        list.truncate(ROLE_HOLDERS + 1);
    }
    list.sort_by(order);
    let people: BTreeSet<UserId> = holders.iter().map(|h| h.0).collect();
    page.h2(
        &format!("Holders ({} user{})", people.len(), plural(people.len())),
        "holders",
    );
    if list.is_empty() {
        page.push("<p class=\"muted\">nobody holds it</p>\n");
    } else {
        page.push(
            "<table id=\"holders\"><thead><tr><th>user</th><th>at</th></tr></thead><tbody>\n",
        );
        for (u, o) in list.iter().take(ROLE_HOLDERS) {
            let _ = writeln!(
                page_body(&mut page),
                "<tr><td>{}</td><td>{}</td></tr>",
                user_ref(ctx, &Page::new(2, ""), *u),
                org_ref(ctx, &Page::new(2, ""), *o)
            );
        }
        page.push("</tbody></table>\n");
        if holders.len() > ROLE_HOLDERS {
            page.push(&format!(
                "<p class=\"muted\">and {} more; each org's page lists its users</p>\n",
                holders.len() - ROLE_HOLDERS
            ));
        }
    }
    page.push("<p class=\"muted\">Listed at the orgs where a holder's roles change; it is held below them too unless a publication stops it.</p>\n");
    page.finish(&ctx.site)
}

/// The users homed at org `x`, a file per `USERS_PER_FILE` of them.
///
/// Users of one home org mostly have the same roles at the orgs above it,
/// from the grants to every member there: a block (an org's roles,
/// permissions and why) that two users of a file have alike is written
/// once, in the file's shared section, and each of them points to it.
fn user_files(ctx: &Ctx, x: OrgId) -> Vec<(String, String)> {
    let m = ctx.m;
    let users = &ctx.users_at[x.index()];
    let files = users.len().div_ceil(USERS_PER_FILE);
    let mut out = Vec::with_capacity(files);
    for (i, chunk) in users.chunks(USERS_PER_FILE).enumerate() {
        let n = i + 1;
        let title = if files > 1 {
            format!("Users of {} ({n} of {files})", m.org(x).id)
        } else {
            format!("Users of {}", m.org(x).id)
        };
        let mut page = Page::new(1, &title);
        let mut folds = Folds::default();
        let views: Vec<UserView> = chunk
            .iter()
            .map(|u| user_view(ctx, &page, *u, &mut folds))
            .collect();
        // Blocks two users have alike, in the order they are first met.
        let mut seen: std::collections::HashMap<&str, usize> = Default::default();
        for v in &views {
            for (_, body) in &v.blocks {
                *seen.entry(body.as_str()).or_default() += 1;
            }
        }
        let mut shared: Vec<(&str, &str)> = Vec::new();
        let mut shared_at: std::collections::HashMap<&str, usize> = Default::default();
        let mut users_of: Vec<Vec<UserId>> = Vec::new();
        for (v, u) in views.iter().zip(chunk) {
            for (title, body) in &v.blocks {
                if seen[body.as_str()] < 2 {
                    continue;
                }
                let k = *shared_at.entry(body.as_str()).or_insert_with(|| {
                    shared.push((title.as_str(), body.as_str()));
                    users_of.push(Vec::new());
                    shared.len() - 1
                });
                if users_of[k].last() != Some(u) {
                    users_of[k].push(*u);
                }
            }
        }
        // Shown when no user is picked (the address has no `#user`): the
        // list of the file's users, and every section below it.
        let links: Vec<String> = chunk
            .iter()
            .map(|u| {
                let id = esc(&m.user(*u).id);
                format!("<a href=\"#{id}\">{id}</a>")
            })
            .collect();
        page.push(&format!(
            "<p class=\"user-index\">home {} · {}</p>\n",
            org_ref(ctx, &page, x),
            links.join(", ")
        ));
        if files > 1 {
            let others: Vec<String> = (1..=files)
                .map(|k| {
                    if k == n {
                        format!("<span>{k}</span>")
                    } else {
                        page.link(&user_file_path(m, x, k), &k.to_string())
                    }
                })
                .collect();
            page.push(&format!(
                "<nav class=\"pager\">files: {}</nav>\n",
                others.join("")
            ));
        }
        if !shared.is_empty() {
            page.push("<section class=\"shared\">\n<h2 id=\"shared\">What several users here have alike</h2>\n");
            for (k, (title, body)) in shared.iter().enumerate() {
                let names: Vec<String> = users_of[k]
                    .iter()
                    .map(|u| {
                        let id = esc(&m.user(*u).id);
                        format!("<a href=\"#{id}\">{id}</a>")
                    })
                    .collect();
                let _ = writeln!(
                    page_body(&mut page),
                    "<div class=\"block\" id=\"same-{}\"><h3>{}</h3>\n<p class=\"muted\">for {}</p>\n{body}</div>",
                    k + 1,
                    esc(title),
                    names.join(", ")
                );
            }
            page.push("</section>\n");
        }
        for (v, u) in views.iter().zip(chunk) {
            let uid = esc(&m.user(*u).id);
            let _ = write!(
                page_body(&mut page),
                "<section class=\"user\" id=\"{uid}\">\n<h2>User {uid}</h2>\n{}",
                v.head
            );
            for (title, body) in &v.blocks {
                let _ = writeln!(page_body(&mut page), "<h3>{}</h3>", esc(title));
                match shared_at.get(body.as_str()) {
                    Some(k) => {
                        let _ = writeln!(
                            page_body(&mut page),
                            "<p>the same as for {} other user{} here: <a href=\"#same-{}\">its roles, permissions and why</a></p>",
                            users_of[*k].len() - 1,
                            plural(users_of[*k].len() - 1),
                            k + 1
                        );
                    }
                    None => page.push(body),
                }
            }
            page.push(&v.tail);
            page.push("</section>\n");
        }
        out.push((user_file_path(m, x, n), page.finish(&ctx.site)));
    }
    out
}

/// What a user's section says: its facts, a block per group of orgs
/// (title, and the roles, permissions and why), and the closing notes.
struct UserView {
    head: String,
    blocks: Vec<(String, String)>,
    tail: String,
}

/// User `u`'s roles and permissions per org, and why.
///
/// An org below another one listed is written as what changes there: the
/// permissions gained and lost, and the grants that begin to count there;
/// the grants that hold the same way as at the org above are named once,
/// where they first reach the user. A block names no user and links only
/// to org and role pages, so that two users' blocks alike are alike byte
/// for byte.
fn user_view(ctx: &Ctx, page: &Page, u: UserId, folds: &mut Folds) -> UserView {
    let m = ctx.m;
    let user = m.user(u);
    let mut facts = vec![
        format!("home {}", org_ref(ctx, page, user.home)),
        format!("identity type <code>{}</code>", esc(&user.identity)),
    ];
    if user.owner {
        facts.push("owner of its home org".to_owned());
    }
    facts.push(format!(
        "<span class=\"src\">{}</span>",
        esc(&ctx.at(user.span))
    ));
    let mut head = format!("<p>{}</p>\n", facts.join(" · "));
    if let Some(d) = &user.description {
        let _ = writeln!(head, "<p class=\"muted\">{}</p>", esc(d));
    }
    let mut probes: Vec<&Probe> = ctx.probes[u.index()].iter().collect();
    probes.sort_by_key(|p| m.pre[p.org.index()]);
    let listed: BTreeSet<OrgId> = probes.iter().map(|p| p.org).collect();
    // The nearest org above `o` that is listed too: what `o` is told against.
    let above = |o: OrgId| m.ancestors(o).skip(1).find(|a| listed.contains(a));
    // Orgs with the same roles and permissions are shown once, in tree order.
    let mut groups: Vec<(Vec<OrgId>, &BTreeSet<RoleId>, Vec<PermId>)> = Vec::new();
    let mut group_of: BTreeMap<OrgId, usize> = BTreeMap::new();
    for p in probes {
        let allowed = m.allowed_at(u, p.org);
        let at = match groups
            .iter()
            .position(|(_, roles, perms)| *roles == &p.roles && *perms == allowed)
        {
            Some(g) => g,
            None => {
                groups.push((Vec::new(), &p.roles, allowed));
                groups.len() - 1
            }
        };
        groups[at].0.push(p.org);
        group_of.insert(p.org, at);
    }
    let mut blocks = Vec::with_capacity(groups.len());
    let mut explained = 0;
    for (gi, (orgs, roles, allowed)) in groups.iter().enumerate() {
        let title = match orgs.as_slice() {
            [one] => format!("At {}", m.org(*one).id),
            [first, rest @ ..] => format!(
                "At {} and {} more org{}",
                m.org(*first).id,
                rest.len(),
                plural(rest.len())
            ),
            [] => continue,
        };
        let mut body = String::new();
        let links: Vec<String> = orgs.iter().map(|o| org_ref(ctx, page, *o)).collect();
        let mut names: Vec<(String, RoleId)> =
            roles.iter().map(|r| (m.role_display(*r), *r)).collect();
        names.sort();
        let names: Vec<String> = names.iter().map(|(_, r)| role_ref(ctx, page, *r)).collect();
        let _ = writeln!(
            body,
            "<p>{} · effective roles: {}</p>",
            links.join(", "),
            if names.is_empty() {
                "none".to_owned()
            } else {
                names.join(", ")
            }
        );
        // The permissions, whole or against the group of the org above.
        let base = above(orgs[0]).and_then(|a| group_of.get(&a).copied());
        match base {
            Some(b) if b != gi => {
                let before = &groups[b].2;
                let gained: Vec<PermId> = allowed
                    .iter()
                    .filter(|p| before.binary_search(p).is_err())
                    .copied()
                    .collect();
                let lost: Vec<PermId> = before
                    .iter()
                    .filter(|p| allowed.binary_search(p).is_err())
                    .copied()
                    .collect();
                let mut parts = vec![format!(
                    "the {} at {}",
                    before.len(),
                    esc(&m.org(groups[b].0[0]).id)
                )];
                if !lost.is_empty() {
                    parts.push(format!("without {}", lost.len()));
                }
                parts.push(format!("{} more", gained.len()));
                let mut list = String::new();
                if !gained.is_empty() {
                    let _ = write!(
                        list,
                        "<p>more here:</p><ul class=\"perms\">{}</ul>",
                        folds.get(m, &gained)
                    );
                }
                if !lost.is_empty() {
                    let _ = write!(
                        list,
                        "<p>not here:</p><ul class=\"perms\">{}</ul>",
                        folds.get(m, &lost)
                    );
                }
                let _ = writeln!(
                    body,
                    "<details><summary>{} permission{}: {}</summary>{list}</details>",
                    allowed.len(),
                    plural(allowed.len()),
                    parts.join(", ")
                );
            }
            _ => {
                let _ = writeln!(
                    body,
                    "<details><summary>{} permission{}</summary><ul class=\"perms\">{}</ul></details>",
                    allowed.len(),
                    plural(allowed.len()),
                    folds.get(m, allowed)
                );
            }
        }
        for o in orgs {
            if explained >= EXPLAINED_ORGS {
                break;
            }
            explained += 1;
            let hits = m.hits(u, *o);
            // Grants that count at the org above in the same way are named
            // there; here, those that begin to reach or count.
            let (told, fresh): (Vec<Hit>, Vec<Hit>) = match above(*o) {
                Some(a) => {
                    let there = m.hits(u, a);
                    hits.iter().partition(|h| {
                        there.contains(h)
                            && match h.grant {
                                Grant::Role(r) => m.published(r, *o) == m.published(r, a),
                                Grant::Policy(_) => true,
                            }
                    })
                }
                None => (Vec::new(), hits),
            };
            let mut why = Vec::new();
            if !fresh.is_empty() || told.is_empty() {
                crate::query::explain_grants(m, ctx.sources, u, *o, &fresh, &mut why);
            }
            if let (false, Some(a)) = (told.is_empty(), above(*o)) {
                why.push(format!(
                    "  and the {} grant{} explained at `{}`, which hold{} here as well",
                    told.len(),
                    plural(told.len()),
                    m.org(a).id,
                    if told.len() == 1 { "s" } else { "" }
                ));
            }
            let why: Vec<String> = why.iter().map(|l| ctx.strip_in(l)).collect();
            let _ = writeln!(
                body,
                "<p class=\"muted\">why, at {}:</p><div class=\"why\">{}</div>",
                esc(&m.org(*o).id),
                esc(&why.join("\n"))
            );
        }
        blocks.push((title, body));
    }
    let mut tail = String::new();
    if explained >= EXPLAINED_ORGS {
        let _ = writeln!(tail, "<p class=\"muted\">The why is written for the first {EXPLAINED_ORGS} orgs; <code>trellis query --explain</code> gives it at any org.</p>");
    }
    tail.push_str("<p class=\"muted\">Listed at the orgs where its roles can change; below each, the same roles hold unless another grant or publication says otherwise. <code>trellis query --explain</code> answers one permission at any org.</p>\n");
    UserView { head, blocks, tail }
}

/// `folded` of the permission sets met so far: users of one home org
/// share most of theirs.
#[derive(Default)]
struct Folds(std::collections::HashMap<Vec<PermId>, String>);

impl Folds {
    fn get(&mut self, m: &Model, perms: &[PermId]) -> &str {
        self.0
            .entry(perms.to_vec())
            .or_insert_with(|| folded(m, perms))
    }
}

/// Permissions as list items, one a module: `m:*` when every action of `m`
/// is there, `m: a, b` otherwise.
fn folded(m: &Model, perms: &[PermId]) -> String {
    let mut by_module: BTreeMap<usize, Vec<u32>> = BTreeMap::new();
    for p in perms {
        let (module, action) = m.perms[p.index()];
        by_module.entry(module.index()).or_default().push(action);
    }
    let mut out = String::new();
    let mut list: Vec<(&str, &Module, Vec<u32>)> = by_module
        .into_iter()
        .map(|(mi, a)| (m.modules[mi].id.as_str(), &m.modules[mi], a))
        .collect();
    list.sort_by(|a, b| a.0.cmp(b.0));
    for (id, module, actions) in list {
        if actions.len() == module.actions.len() {
            let _ = write!(out, "<li><code>{}:*</code></li>", esc(id));
        } else {
            let names: Vec<&str> = actions
                .iter()
                .filter_map(|a| module.actions.get(*a as usize).map(String::as_str))
                .collect();
            let _ = write!(
                out,
                "<li><code>{}: {}</code></li>",
                esc(id),
                esc(&names.join(", "))
            );
        }
    }
    out
}
