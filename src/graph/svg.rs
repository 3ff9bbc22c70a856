//! `trellis graph --format svg`: the org tree and the role hierarchy drawn
//! by trellis itself, as one self-contained SVG (inline style, no fonts,
//! scripts or links from elsewhere).
//!
//! The org tree is a tidy tree: every subtree owns a band of columns as wide
//! as the larger of its root's box and its children's bands side by side, and
//! its root is centred over the band; rows are as tall as their tallest box.
//! Two boxes therefore never overlap. The role hierarchy is drawn in layers:
//! a role sits above every role it includes or is cloned from.
//!
//! The picture stays bounded on a huge set: at most [`MAX_ORGS`] org boxes,
//! chosen level by level from the top (at most [`MAX_CHILDREN`] under one
//! org), with a "+N more orgs" box wherever orgs were left out; at most
//! [`MAX_NOTES`] lines of publications and assignments in a box (locked ones
//! first), then "+N more"; at most [`MAX_ROLES`] roles. Everything is sorted
//! by id, so the output depends on neither file names nor file order.

use std::collections::HashMap;
use std::fmt::Write as _;

use crate::model::*;

/// At most this many org boxes in one picture.
pub const MAX_ORGS: usize = 150;
/// At most this many child boxes under one org.
pub const MAX_CHILDREN: usize = 16;
/// At most this many lines of publications, assignments and resources in an org box.
pub const MAX_NOTES: usize = 8;
/// At most this many role boxes.
pub const MAX_ROLES: usize = 150;
/// Longest line in a box, in characters (longer ones end in `…`).
const MAX_CHARS: usize = 44;

const LINE_H: i64 = 16;
const PAD: i64 = 8;
const GAP_X: i64 = 16;
const GAP_Y: i64 = 40;
const MARGIN: i64 = 16;
const LOCK_W: i64 = 14;
/// Widest row of the role hierarchy before it wraps (unless the org tree is wider).
const ROW_W: i64 = 1200;

const STYLE: &str = "text{font-family:ui-monospace,'DejaVu Sans Mono',Menlo,Consolas,monospace;font-size:12px;fill:#1f2328}\
.box{fill:#fff;stroke:#57606a;stroke-width:1}\
.org .box{fill:#f6f8fa}\
.more .box{fill:#fff;stroke-dasharray:4 3}\
.title{font-weight:bold}\
.kind,.meta{fill:#57606a;font-style:italic}\
.pub{fill:#1a7f37}\
.unpub{fill:#cf222e}\
.locked{font-weight:bold}\
.note.locked{fill:#9a6700}\
.lock rect,.lock path{stroke:#9a6700;stroke-width:1.5;fill:none}\
.lock rect{fill:#9a6700}\
.tree{stroke:#57606a;fill:none}\
.includes{stroke:#0969da;fill:none}\
.from{stroke:#8250df;fill:none;stroke-dasharray:5 4}\
.heading{font-size:14px;font-weight:bold}\
#arrow path{fill:#0969da}\
#arrow-from path{fill:#8250df}";

#[derive(Clone, Copy, PartialEq, Eq)]
enum Look {
    Title,
    Kind,
    Pub,
    Unpub,
    Plain,
    Meta,
}

impl Look {
    fn class(self) -> &'static str {
        match self {
            Look::Title => "title",
            Look::Kind => "kind",
            Look::Pub => "pub",
            Look::Unpub => "unpub",
            Look::Plain => "note",
            Look::Meta => "meta",
        }
    }
}

struct Line {
    text: String,
    look: Look,
    locked: bool,
}

fn line(text: impl Into<String>, look: Look, locked: bool) -> Line {
    Line {
        text: text.into(),
        look,
        locked,
    }
}

/// One box: its lines, its class and its attribute naming what it shows.
struct Node {
    lines: Vec<Line>,
    class: &'static str,
    data: Option<(&'static str, String)>,
    w: i64,
    h: i64,
    x: i64,
    y: i64,
}

fn chars_w(s: &str) -> i64 {
    // 12px monospace advances 7.2px a character; count 7.5, and two for wide ones.
    let n: i64 = s
        .chars()
        .map(|c| if (c as u32) < 0x1100 { 1 } else { 2 })
        .sum();
    (n * 15 + 1) / 2
}

fn truncate(s: &str) -> String {
    if s.chars().count() <= MAX_CHARS {
        s.to_string()
    } else {
        let mut t: String = s.chars().take(MAX_CHARS - 1).collect();
        t.push('…');
        t
    }
}

fn node(lines: Vec<Line>, class: &'static str, data: Option<(&'static str, String)>) -> Node {
    let lines: Vec<Line> = lines
        .into_iter()
        .map(|l| Line {
            text: truncate(&l.text),
            ..l
        })
        .collect();
    let w = lines
        .iter()
        .map(|l| chars_w(&l.text) + if l.locked { LOCK_W } else { 0 })
        .max()
        .unwrap_or(0)
        + 2 * PAD;
    // Even, so that a box's centre (where its edges start) is a whole pixel.
    let w = w + w % 2;
    let h = lines.len() as i64 * LINE_H + PAD;
    Node {
        lines,
        class,
        data,
        w,
        h,
        x: 0,
        y: 0,
    }
}

/// Text for XML: the five special characters as entities, and characters
/// XML 1.0 does not allow as U+FFFD.
pub fn xml_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\t' | '\n' | '\r' => out.push(' '),
            c if (c as u32) < 0x20 || c == '\u{FFFE}' || c == '\u{FFFF}' => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
    out
}

fn grant_name(m: &Model, g: Grant) -> String {
    match g {
        Grant::Role(r) => m.role_display(r),
        Grant::Policy(p) => format!("policy {}", m.policies[p.index()].id),
    }
}

/// What the org box of `o` says: id, kind, then its notes (capped).
fn org_node(m: &Model, o: OrgId, pubs: &[(String, PublicationEntry)], res: &[String]) -> Node {
    let org = m.org(o);
    let mut lines = vec![line(&org.id, Look::Title, false)];
    if let Some(k) = &org.kind_label {
        lines.push(line(k, Look::Kind, false));
    }
    let mut notes = Vec::new();
    for (role, e) in pubs {
        notes.push(if e.publish {
            line(format!("+ published {role}"), Look::Pub, e.locked)
        } else {
            line(format!("− not published {role}"), Look::Unpub, e.locked)
        });
    }
    let here = |a: &Assignment| if a.inherit { "" } else { " (here only)" };
    let mut members: Vec<(String, bool)> = m
        .org_assignments
        .get(o.index())
        .into_iter()
        .flatten()
        .map(|a| {
            let a = &m.assignments[a.index()];
            (
                format!("members: {}{}", grant_name(m, a.grant), here(a)),
                a.locked,
            )
        })
        .collect();
    members.sort();
    let mut users: Vec<(String, bool)> = m
        .user_assignments_at
        .get(o.index())
        .into_iter()
        .flatten()
        .filter_map(|a| {
            let a = &m.assignments[a.index()];
            let Target::User(u) = a.target else {
                return None;
            };
            Some((
                format!("{}: {}{}", m.user(u).id, grant_name(m, a.grant), here(a)),
                a.locked,
            ))
        })
        .collect();
    users.sort();
    for (t, locked) in members.into_iter().chain(users) {
        notes.push(line(t, Look::Plain, locked));
    }
    for r in res {
        notes.push(line(format!("◇ {r}"), Look::Meta, false));
    }
    if notes.len() > MAX_NOTES {
        // Locked lines first, then the others, each in their order.
        let keep = MAX_NOTES - 1;
        let mut chosen = vec![false; notes.len()];
        let mut n = 0;
        for pass in [true, false] {
            for (i, l) in notes.iter().enumerate() {
                if n < keep && l.locked == pass && !chosen[i] {
                    chosen[i] = true;
                    n += 1;
                }
            }
        }
        let more = notes.len() - keep;
        notes = notes
            .into_iter()
            .zip(chosen)
            .filter_map(|(l, c)| c.then_some(l))
            .collect();
        notes.push(line(format!("+{more} more"), Look::Meta, false));
    }
    lines.extend(notes);
    node(lines, "node org", Some(("data-org", org.id.clone())))
}

/// A tree of boxes: box index -> child box indices.
struct Tree {
    nodes: Vec<Node>,
    children: Vec<Vec<usize>>,
    depth: Vec<usize>,
    roots: Vec<usize>,
}

fn more_node(n: usize, what: &str) -> Node {
    node(
        vec![line(format!("+{n} more {what}"), Look::Meta, false)],
        "node more",
        None,
    )
}

fn org_tree(m: &Model, root: Option<OrgId>) -> Tree {
    // Publication entries and resources, by org.
    let mut pubs: HashMap<OrgId, Vec<(String, PublicationEntry)>> = HashMap::new();
    for (ri, entries) in m.publications.iter().enumerate() {
        for (o, e) in entries {
            if root.is_none_or(|r| m.in_subtree(*o, r)) {
                pubs.entry(*o)
                    .or_default()
                    .push((m.role_display(RoleId(ri as u32)), *e));
            }
        }
    }
    for v in pubs.values_mut() {
        v.sort_by(|a, b| a.0.cmp(&b.0).then(a.1.publish.cmp(&b.1.publish)));
    }
    let mut res: HashMap<OrgId, Vec<String>> = HashMap::new();
    for r in &m.resources {
        if let Some(o) = r.org {
            if root.is_none_or(|x| m.in_subtree(o, x)) {
                res.entry(o).or_default().push(format!(
                    "{} ({})",
                    r.id,
                    m.dimensions[r.dim.index()].id
                ));
            }
        }
    }
    for v in res.values_mut() {
        v.sort();
    }
    let by_id = |v: &mut Vec<OrgId>| v.sort_by(|a, b| m.org(*a).id.cmp(&m.org(*b).id));
    let size = |o: OrgId| (m.end[o.index()] - m.pre[o.index()]) as usize;

    let mut t = Tree {
        nodes: Vec::new(),
        children: Vec::new(),
        depth: Vec::new(),
        roots: Vec::new(),
    };
    let add = |t: &mut Tree, n: Node, depth: usize| {
        t.nodes.push(n);
        t.children.push(Vec::new());
        t.depth.push(depth);
        t.nodes.len() - 1
    };
    let mut tops: Vec<OrgId> = match root {
        Some(x) => vec![x],
        None => m
            .orgs
            .iter()
            .enumerate()
            .filter(|(_, o)| o.parent.is_none())
            .map(|(i, _)| OrgId(i as u32))
            .collect(),
    };
    by_id(&mut tops);
    // Breadth first, so that a budget cut leaves out the deepest orgs.
    let mut queue = std::collections::VecDeque::new();
    let mut admitted = 0usize;
    let mut skipped = 0usize;
    for o in tops {
        if admitted < MAX_ORGS && t.roots.len() < MAX_CHILDREN {
            admitted += 1;
            let no = org_node(
                m,
                o,
                pubs.get(&o).map_or(&[], |v| v),
                res.get(&o).map_or(&[], |v| v),
            );
            let i = add(&mut t, no, 0);
            t.roots.push(i);
            queue.push_back((o, i));
        } else {
            skipped += size(o);
        }
    }
    if skipped > 0 {
        let i = add(&mut t, more_node(skipped, "orgs"), 0);
        t.roots.push(i);
    }
    while let Some((o, i)) = queue.pop_front() {
        let mut kids = m.children.get(o.index()).cloned().unwrap_or_default();
        by_id(&mut kids);
        let depth = t.depth[i] + 1;
        let mut skipped = 0usize;
        let mut taken = 0usize;
        for c in kids {
            if admitted < MAX_ORGS && taken < MAX_CHILDREN {
                admitted += 1;
                taken += 1;
                let no = org_node(
                    m,
                    c,
                    pubs.get(&c).map_or(&[], |v| v),
                    res.get(&c).map_or(&[], |v| v),
                );
                let ci = add(&mut t, no, depth);
                t.children[i].push(ci);
                queue.push_back((c, ci));
            } else {
                skipped += size(c);
            }
        }
        if skipped > 0 {
            let ci = add(&mut t, more_node(skipped, "orgs"), depth);
            t.children[i].push(ci);
        }
    }
    t
}

/// Lays the tree out from `top`; returns its width.
fn layout_tree(t: &mut Tree, top: i64) -> i64 {
    let rows = t.depth.iter().max().map_or(0, |d| d + 1);
    let mut row_h = vec![0i64; rows];
    for (n, d) in t.nodes.iter().zip(&t.depth) {
        row_h[*d] = row_h[*d].max(n.h);
    }
    let mut row_y = Vec::with_capacity(rows);
    let mut y = top;
    for h in &row_h {
        row_y.push(y);
        y += h + GAP_Y;
    }
    // Band widths, bottom up (children always come after their parent).
    let mut band = vec![0i64; t.nodes.len()];
    for i in (0..t.nodes.len()).rev() {
        let kids: i64 = t.children[i].iter().map(|c| band[*c]).sum::<i64>()
            + GAP_X * (t.children[i].len() as i64 - 1).max(0);
        band[i] = t.nodes[i].w.max(kids);
    }
    // Positions, top down.
    let mut left = vec![0i64; t.nodes.len()];
    let mut x = 0;
    for r in &t.roots {
        left[*r] = x;
        x += band[*r] + GAP_X;
    }
    for i in 0..t.nodes.len() {
        let kids: i64 = t.children[i].iter().map(|c| band[*c]).sum::<i64>()
            + GAP_X * (t.children[i].len() as i64 - 1).max(0);
        let mut cx = left[i] + (band[i] - kids) / 2;
        for c in t.children[i].clone() {
            left[c] = cx;
            cx += band[c] + GAP_X;
        }
        let n = &mut t.nodes[i];
        n.x = MARGIN + left[i] + (band[i] - n.w) / 2;
        n.y = row_y[t.depth[i]];
    }
    (x - GAP_X).max(0)
}

/// The roles drawn, their boxes and edges (from, to, cloned).
struct Roles {
    nodes: Vec<Node>,
    edges: Vec<(usize, usize, bool)>,
}

/// Can the picture of `root` name resource `q`? One of no org, of an org of
/// the subtree, or of an org above it: never one of a sibling's.
fn resource_shown(m: &Model, root: Option<OrgId>, q: ResId) -> bool {
    match (root, m.resources[q.index()].org) {
        (None, _) | (_, None) => true,
        (Some(x), Some(o)) => m.in_subtree(o, x) || m.in_subtree(x, o),
    }
}

fn role_node(m: &Model, root: Option<OrgId>, id: RoleId) -> Node {
    let r = m.role(id);
    let mut lines = vec![line(m.role_display(id), Look::Title, false)];
    lines.push(line(
        match r.owner {
            Scope::Provider => "role type".to_string(),
            Scope::Org(o) => format!("custom role of {}", m.org(o).id),
        },
        Look::Kind,
        false,
    ));
    if r.locked {
        lines.push(line("provider lock", Look::Plain, true));
    }
    if !r.active {
        lines.push(line("disabled", Look::Unpub, false));
    }
    if !r.published {
        lines.push(line("not published by default", Look::Unpub, false));
    }
    let n = r.perms.count_ones(..);
    lines.push(line(
        format!("{n} permission{}", if n == 1 { "" } else { "s" }),
        Look::Meta,
        false,
    ));
    for (d, ids) in r.resources.entries() {
        let shown: Vec<&str> = ids
            .iter()
            .filter(|q| resource_shown(m, root, **q))
            .map(|q| m.resources[q.index()].id.as_str())
            .collect();
        let mut text = format!("on {}: {}", m.dimensions[d.index()].id, shown.join(", "));
        if shown.len() < ids.len() {
            let others = ids.len() - shown.len();
            let _ = write!(
                text,
                "{}{others} other{}",
                if shown.is_empty() { "" } else { " and " },
                if others == 1 { "" } else { "s" }
            );
        }
        lines.push(line(text, Look::Meta, false));
    }
    node(
        lines,
        "node role",
        Some(("data-role", m.role_qualified(id))),
    )
}

fn roles(m: &Model, root: Option<OrgId>) -> (Roles, usize) {
    let mut ids: Vec<(String, RoleId)> = m
        .roles
        .iter()
        .enumerate()
        .filter_map(|(ri, r)| {
            let id = RoleId(ri as u32);
            let visible = match (root, r.owner) {
                (None, _) => true,
                (Some(x), Scope::Org(o)) => m.in_subtree(o, x) || m.published(id, x),
                (Some(x), Scope::Provider) => m.published(id, x),
            };
            visible.then(|| (m.role_qualified(id), id))
        })
        .collect();
    ids.sort();
    let left_out = ids.len().saturating_sub(MAX_ROLES);
    ids.truncate(MAX_ROLES);
    let index: HashMap<RoleId, usize> = ids.iter().enumerate().map(|(i, r)| (r.1, i)).collect();
    let mut edges = Vec::new();
    for (i, (_, id)) in ids.iter().enumerate() {
        let r = m.role(*id);
        let mut to: Vec<(usize, bool)> = r
            .includes
            .iter()
            .filter_map(|(b, _)| index.get(b).map(|j| (*j, false)))
            .collect();
        if let Some((f, _)) = r.from {
            if let Some(j) = index.get(&f) {
                to.push((*j, true));
            }
        }
        to.sort();
        to.dedup();
        edges.extend(
            to.into_iter()
                .filter(|(j, _)| *j != i)
                .map(|(j, f)| (i, j, f)),
        );
    }
    let nodes = ids.iter().map(|(_, id)| role_node(m, root, *id)).collect();
    (Roles { nodes, edges }, left_out)
}

/// Layers (0: includes nothing drawn) by the longest path down; a cycle
/// (never in a clean set) is cut where it is met.
fn layers(n: usize, edges: &[(usize, usize, bool)]) -> Vec<usize> {
    let mut out: Vec<Vec<usize>> = vec![Vec::new(); n];
    for (a, b, _) in edges {
        out[*a].push(*b);
    }
    let mut layer = vec![usize::MAX; n];
    let mut on_path = vec![false; n];
    fn visit(
        i: usize,
        out: &[Vec<usize>],
        layer: &mut [usize],
        on_path: &mut [bool],
        depth: usize,
    ) -> usize {
        if layer[i] != usize::MAX {
            return layer[i];
        }
        if on_path[i] || depth > out.len() {
            return 0;
        }
        on_path[i] = true;
        let mut l = 0;
        for j in &out[i] {
            if !on_path[*j] {
                l = l.max(visit(*j, out, layer, on_path, depth + 1) + 1);
            }
        }
        on_path[i] = false;
        layer[i] = l;
        l
    }
    for i in 0..n {
        visit(i, &out, &mut layer, &mut on_path, 0);
    }
    layer
}

/// Lays the roles out from `top`, rows no wider than `width`; returns (width, bottom).
fn layout_roles(
    r: &mut Roles,
    extra: Option<Node>,
    top: i64,
    width: i64,
) -> (i64, i64, Option<Node>) {
    let layer = layers(r.nodes.len(), &r.edges);
    let max = layer.iter().copied().max().unwrap_or(0);
    let mut y = top;
    let mut widest = 0;
    let mut extra = extra;
    let mut placed = vec![false; r.nodes.len()];
    for l in (0..=max).rev() {
        let mut members: Vec<usize> = (0..r.nodes.len()).filter(|i| layer[*i] == l).collect();
        // Under the leftmost role drawn above that points to them, then by name.
        let key = |i: usize| {
            r.edges
                .iter()
                .filter(|(a, b, _)| *b == i && placed[*a])
                .map(|(a, _, _)| r.nodes[*a].x)
                .min()
                .unwrap_or(i64::MAX)
        };
        members.sort_by_key(|i| (key(*i), *i));
        let last = l == 0;
        if members.is_empty() && !(last && extra.is_some()) {
            continue;
        }
        let mut x = 0;
        let mut row_h = 0;
        let mut place = |w: i64, h: i64, x: &mut i64, y: &mut i64, row_h: &mut i64| {
            if *x > 0 && *x + w > width {
                *y += *row_h + GAP_Y;
                *x = 0;
                *row_h = 0;
            }
            let at = (MARGIN + *x, *y);
            *x += w + GAP_X;
            *row_h = (*row_h).max(h);
            widest = widest.max(*x - GAP_X);
            at
        };
        for i in members.drain(..) {
            let (w, h) = (r.nodes[i].w, r.nodes[i].h);
            let (nx, ny) = place(w, h, &mut x, &mut y, &mut row_h);
            r.nodes[i].x = nx;
            r.nodes[i].y = ny;
            placed[i] = true;
        }
        if last {
            if let Some(e) = extra.as_mut() {
                let (nx, ny) = place(e.w, e.h, &mut x, &mut y, &mut row_h);
                e.x = nx;
                e.y = ny;
            }
        }
        y += row_h + GAP_Y;
    }
    (widest, y - GAP_Y, extra)
}

fn draw_node(out: &mut String, n: &Node) {
    let _ = write!(out, "<g class=\"{}\"", n.class);
    if let Some((k, v)) = &n.data {
        let _ = write!(out, " {k}=\"{}\"", xml_escape(v));
    }
    let _ = writeln!(out, ">");
    let _ = writeln!(
        out,
        "<rect class=\"box\" x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\"{}/>",
        n.x,
        n.y,
        n.w,
        n.h,
        if n.class == "node role" {
            " rx=\"10\""
        } else {
            ""
        }
    );
    for (k, l) in n.lines.iter().enumerate() {
        let base = n.y + PAD / 2 + LINE_H * (k as i64 + 1) - 4;
        let mut tx = n.x + PAD;
        if l.locked {
            draw_lock(out, tx, base);
            tx += LOCK_W;
        }
        let class = l.look.class();
        let _ = writeln!(
            out,
            "<text x=\"{tx}\" y=\"{base}\" class=\"{class}{}\">{}</text>",
            if l.locked { " locked" } else { "" },
            xml_escape(&l.text)
        );
    }
    let _ = writeln!(out, "</g>");
}

/// A padlock whose bottom sits on the text baseline at `x`.
fn draw_lock(out: &mut String, x: i64, base: i64) {
    let _ = writeln!(
        out,
        "<g class=\"lock\"><title>provider lock</title><rect x=\"{}\" y=\"{}\" width=\"9\" height=\"6\"/><path d=\"M{} {}v-3a2.5 2.5 0 0 1 5 0v3\"/></g>",
        x + 1,
        base - 6,
        x + 3,
        base - 6
    );
}

/// The SVG picture (see the module documentation).
pub fn render(m: &Model, root: Option<OrgId>) -> String {
    let mut tree = org_tree(m, root);
    let (mut roles, roles_left_out) = roles(m, root);

    let legend_y = MARGIN + 12;
    let org_head = legend_y + 28;
    let tree_top = org_head + 12;
    let tree_w = layout_tree(&mut tree, tree_top);
    let tree_bottom = tree
        .nodes
        .iter()
        .map(|n| n.y + n.h)
        .max()
        .unwrap_or(tree_top);
    let roles_head = tree_bottom + 36;
    let roles_top = roles_head + 12;
    let extra = (roles_left_out > 0).then(|| more_node(roles_left_out, "roles"));
    let (roles_w, roles_bottom, extra) =
        layout_roles(&mut roles, extra, roles_top, ROW_W.max(tree_w));
    let legend_w = 640;
    let width = tree_w.max(roles_w).max(legend_w) + 2 * MARGIN;
    let height = roles_bottom.max(roles_top + 16) + MARGIN;

    let mut out = String::new();
    let title = match root {
        Some(x) => format!("trellis graph: org {}", m.org(x).id),
        None => "trellis graph".to_string(),
    };
    let _ = writeln!(
        out,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{width}\" height=\"{height}\" viewBox=\"0 0 {width} {height}\" role=\"img\">"
    );
    let _ = writeln!(out, "<title>{}</title>", xml_escape(&title));
    let _ = writeln!(out, "<style>{STYLE}</style>");
    let _ = writeln!(
        out,
        "<defs><marker id=\"arrow\" viewBox=\"0 0 10 10\" refX=\"10\" refY=\"5\" markerWidth=\"7\" markerHeight=\"7\" orient=\"auto\"><path d=\"M0 0L10 5L0 10z\"/></marker><marker id=\"arrow-from\" viewBox=\"0 0 10 10\" refX=\"10\" refY=\"5\" markerWidth=\"7\" markerHeight=\"7\" orient=\"auto\"><path d=\"M0 0L10 5L0 10z\"/></marker></defs>"
    );
    let _ = writeln!(
        out,
        "<rect x=\"0\" y=\"0\" width=\"{width}\" height=\"{height}\" fill=\"#fff\"/>"
    );
    // Legend.
    let _ = writeln!(out, "<g class=\"legend\">");
    let mut x = MARGIN;
    let _ = writeln!(
        out,
        "<text x=\"{x}\" y=\"{legend_y}\" class=\"pub\">+ published</text>"
    );
    x += 110;
    let _ = writeln!(
        out,
        "<text x=\"{x}\" y=\"{legend_y}\" class=\"unpub\">− not published</text>"
    );
    x += 140;
    draw_lock(&mut out, x, legend_y);
    let _ = writeln!(
        out,
        "<text x=\"{}\" y=\"{legend_y}\" class=\"note locked\">provider lock</text>",
        x + LOCK_W
    );
    x += 130;
    let _ = writeln!(
        out,
        "<path class=\"includes\" d=\"M{x} {}h30\" marker-end=\"url(#arrow)\"/><text x=\"{}\" y=\"{legend_y}\">includes</text>",
        legend_y - 4,
        x + 36
    );
    x += 110;
    let _ = writeln!(
        out,
        "<path class=\"from\" d=\"M{x} {}h30\" marker-end=\"url(#arrow-from)\"/><text x=\"{}\" y=\"{legend_y}\">cloned from</text>",
        legend_y - 4,
        x + 36
    );
    let _ = writeln!(out, "</g>");

    let _ = writeln!(
        out,
        "<text x=\"{MARGIN}\" y=\"{org_head}\" class=\"heading\">Org tree</text>"
    );
    let _ = writeln!(out, "<g class=\"edges\">");
    for (i, kids) in tree.children.iter().enumerate() {
        let p = &tree.nodes[i];
        for c in kids {
            let c = &tree.nodes[*c];
            let mid = c.y - GAP_Y / 2;
            let _ = writeln!(
                out,
                "<path class=\"tree\" d=\"M{} {}V{mid}H{}V{}\"/>",
                p.x + p.w / 2,
                p.y + p.h,
                c.x + c.w / 2,
                c.y
            );
        }
    }
    let _ = writeln!(out, "</g>");
    for n in &tree.nodes {
        draw_node(&mut out, n);
    }

    let _ = writeln!(
        out,
        "<text x=\"{MARGIN}\" y=\"{roles_head}\" class=\"heading\">Roles</text>"
    );
    let _ = writeln!(out, "<g class=\"edges\">");
    for (a, b, from) in &roles.edges {
        let (a, b) = (&roles.nodes[*a], &roles.nodes[*b]);
        let _ = writeln!(
            out,
            "<path class=\"{}\" d=\"M{} {}L{} {}\" marker-end=\"url(#{})\"/>",
            if *from { "from" } else { "includes" },
            a.x + a.w / 2,
            a.y + a.h,
            b.x + b.w / 2,
            b.y,
            if *from { "arrow-from" } else { "arrow" }
        );
    }
    let _ = writeln!(out, "</g>");
    for n in roles.nodes.iter().chain(extra.iter()) {
        draw_node(&mut out, n);
    }
    if roles.nodes.is_empty() && extra.is_none() {
        let _ = writeln!(
            out,
            "<text x=\"{MARGIN}\" y=\"{}\" class=\"meta\">no roles</text>",
            roles_top + 12
        );
    }
    let _ = writeln!(out, "</svg>");
    out
}
