//! Access diff renderers: human, json (stable), markdown (the pull-request
//! comment: roles first, a module's every action folded into `module:*`,
//! users with the same change in one row) and html (the whole diff as one
//! self-contained page).

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt::Write as _;

use super::access::{AccessDiff, OrgChange};

/// The diff as pretty JSON (its shape is stable), with a final newline.
#[expect(
    clippy::expect_used,
    reason = "an access diff is strings, numbers and lists: it always serialises"
)]
pub fn json(d: &AccessDiff) -> String {
    let mut s = serde_json::to_string_pretty(d).expect("an access diff always serialises");
    s.push('\n');
    s
}

fn where_(c: &OrgChange) -> String {
    match c.reach {
        "org" => format!("at `{}`", c.org),
        "below" => format!(
            "below `{}` ({} org{})",
            c.org,
            c.orgs,
            if c.orgs == 1 { "" } else { "s" }
        ),
        _ if c.orgs > 1 => format!(
            "at `{}` and {} org{} below",
            c.org,
            c.orgs - 1,
            if c.orgs == 2 { "" } else { "s" }
        ),
        _ => format!("at `{}`", c.org),
    }
}

fn list(v: &[String]) -> String {
    v.iter()
        .map(|x| format!("`{x}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn delta(c: &OrgChange) -> (String, String) {
    let mut gained = Vec::new();
    let mut lost = Vec::new();
    if !c.roles_gained.is_empty() {
        gained.push(format!("roles {}", list(&c.roles_gained)));
    }
    if !c.permissions_gained.is_empty() {
        gained.push(format!("permissions {}", list(&c.permissions_gained)));
    }
    if !c.policies_gained.is_empty() {
        gained.push(format!("policies {}", list(&c.policies_gained)));
    }
    if !c.roles_lost.is_empty() {
        lost.push(format!("roles {}", list(&c.roles_lost)));
    }
    if !c.permissions_lost.is_empty() {
        lost.push(format!("permissions {}", list(&c.permissions_lost)));
    }
    if !c.policies_lost.is_empty() {
        lost.push(format!("policies {}", list(&c.policies_lost)));
    }
    if !c.resource_permissions_gained.is_empty() {
        gained.push(format!(
            "on resources {}",
            list(&c.resource_permissions_gained)
        ));
    }
    if !c.resource_permissions_lost.is_empty() {
        lost.push(format!(
            "on resources {}",
            list(&c.resource_permissions_lost)
        ));
    }
    (gained.join("; "), lost.join("; "))
}

fn summary_line(d: &AccessDiff) -> String {
    let s = &d.summary;
    format!(
        "users with access changes: {}, access entries: {}, publication changes: {}, locked items changed: {}, users +{}/-{}, orgs +{}/-{}",
        s.users_changed, s.access_entries, s.publication_changes, s.locked_changes, s.users_added, s.users_removed, s.orgs_added, s.orgs_removed
    )
}

fn publication(before: Option<bool>, after: Option<bool>) -> &'static str {
    match (before, after) {
        (_, Some(true)) => "published",
        (_, Some(false)) => "not published",
        (Some(_), None) => "entry removed",
        (None, None) => "unchanged",
    }
}

/// The diff for a terminal: a summary line, then each user's changes per org.
pub fn human(d: &AccessDiff) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "{}", summary_line(d));
    for u in &d.users {
        let _ = writeln!(out, "user `{}`", u.user);
        for c in &u.changes {
            let (g, l) = delta(c);
            if !g.is_empty() {
                let _ = writeln!(out, "  + {} {g}", where_(c));
            }
            if !l.is_empty() {
                let _ = writeln!(out, "  - {} {l}", where_(c));
            }
        }
    }
    for p in &d.publications {
        let _ = writeln!(
            out,
            "publication: role `{}` at `{}`: {}",
            p.role,
            p.org,
            publication(p.before, p.after)
        );
    }
    for l in &d.locked {
        let _ = writeln!(out, "locked item {}: {}", l.change, l.item);
    }
    for (what, v) in [
        ("user added", &d.users_added),
        ("user removed", &d.users_removed),
        ("org added", &d.orgs_added),
        ("org removed", &d.orgs_removed),
    ] {
        for x in v {
            let _ = writeln!(out, "{what}: `{x}`");
        }
    }
    out
}

/// How a truncated markdown comment ends: the long form when it fits in the
/// cap, else the short one, else nothing.
const TRUNCATED: [&str; 2] = [
    "\n_Truncated: run `trellis diff BASE HEAD --format json` for the full diff._\n",
    "\n_Truncated._\n",
];
/// At most this many permissions (or resource permissions) in one cell of
/// the comment; the rest are counted ("and 12 more").
pub const CELL_ITEMS: usize = 12;
const DETAILS_END: &str = "\n</details>\n\n";

/// One piece of the markdown comment, in order.
enum Chunk {
    /// Text outside a folded section.
    Plain(String),
    /// `<details>` with its title: starts a section.
    Open(String),
    /// One line of a section.
    Row(String),
    /// `</details>`: ends a section.
    Close,
}

impl Chunk {
    fn text(&self) -> &str {
        match self {
            Chunk::Plain(t) | Chunk::Open(t) | Chunk::Row(t) => t,
            Chunk::Close => DETAILS_END,
        }
    }
}

/// A pull-request comment: counts first, details folded, at most `cap` bytes
/// (the truncation pointer included). It is cut only when the whole comment
/// does not fit, after the last whole line that does, closing the open
/// section.
pub fn markdown(d: &AccessDiff, cap: usize) -> String {
    markdown_linked(d, cap, None)
}

/// [`markdown`], pointing to the full diff's page at `page_url` (the
/// `--page-url` of `diff` and `check`) rather than to the artifact.
pub fn markdown_linked(d: &AccessDiff, cap: usize, page_url: Option<&str>) -> String {
    let chunks = markdown_chunks(d, page_url);
    let full: String = chunks.iter().map(Chunk::text).collect();
    if full.len() <= cap {
        return full;
    }
    let linked = page_url.map(|u| format!("\n_Truncated: the full diff is at {u}_\n"));
    let tail = linked
        .as_deref()
        .into_iter()
        .chain(TRUNCATED)
        .find(|t| t.len() <= cap)
        .unwrap_or("");
    let mut out = String::new();
    // Where the open section's `<details>` starts, if one is open.
    let mut open: Option<usize> = None;
    let mut rows_in_open = 0usize;
    for chunk in &chunks {
        let text = chunk.text();
        let closes_after = match chunk {
            Chunk::Open(_) => true,
            Chunk::Row(_) => open.is_some(),
            Chunk::Plain(_) | Chunk::Close => false,
        };
        let reserve = if closes_after { DETAILS_END.len() } else { 0 };
        if out.len() + text.len() + reserve + tail.len() > cap {
            break;
        }
        match chunk {
            Chunk::Open(_) => {
                open = Some(out.len());
                rows_in_open = 0;
            }
            Chunk::Row(_) => rows_in_open += 1,
            Chunk::Close => open = None,
            Chunk::Plain(_) => {}
        }
        out.push_str(text);
    }
    match open {
        // A section with no line of its own is left out rather than shown empty.
        Some(start) if rows_in_open == 0 => out.truncate(start),
        Some(_) => out.push_str(DETAILS_END),
        None => {}
    }
    out.push_str(tail);
    out
}

/// Text outside the sections, one chunk per line.
fn lines(text: &str) -> Vec<Chunk> {
    text.split_inclusive('\n')
        .map(|l| Chunk::Plain(l.to_owned()))
        .collect()
}

/// `perms` (`module:action`, sorted) with the actions of each module that
/// are all there written once as `module:*`: only when every action the
/// module has in `catalog` is in `perms`, and the module has two or more
/// (`m:*` for a one-action module would hide its action's name).
pub fn fold(perms: &[String], catalog: &BTreeMap<String, BTreeSet<String>>) -> Vec<String> {
    let mut by_module: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    for p in perms {
        if let Some((m, a)) = p.split_once(':') {
            by_module.entry(m).or_default().insert(a);
        }
    }
    let complete: BTreeSet<&str> = by_module
        .iter()
        .filter(|(m, have)| {
            catalog
                .get(**m)
                .is_some_and(|all| all.len() >= 2 && all.iter().all(|a| have.contains(a.as_str())))
        })
        .map(|(m, _)| *m)
        .collect();
    let mut out = Vec::new();
    let mut written = BTreeSet::new();
    for p in perms {
        match p.split_once(':') {
            Some((m, _)) if complete.contains(m) => {
                if written.insert(m) {
                    out.push(format!("{m}:*"));
                }
            }
            _ => out.push(p.clone()),
        }
    }
    out
}

/// At most [`CELL_ITEMS`] of `v`, as code, then how many more.
fn capped_list(v: &[String]) -> String {
    let mut s = list(&v[..v.len().min(CELL_ITEMS)]);
    if v.len() > CELL_ITEMS {
        let _ = write!(s, " and {} more", v.len() - CELL_ITEMS);
    }
    s
}

/// The gained and lost cells of the comment: roles, then permissions
/// folded per module and capped, then policies and resource permissions.
fn folded_delta(c: &OrgChange, d: &AccessDiff) -> (String, String) {
    let side = |roles: &[String],
                perms: &[String],
                policies: &[String],
                res: &[String],
                catalog: &BTreeMap<String, BTreeSet<String>>| {
        let mut parts = Vec::new();
        if !roles.is_empty() {
            parts.push(format!("roles {}", list(roles)));
        }
        if !perms.is_empty() {
            parts.push(format!(
                "permissions {}",
                capped_list(&fold(perms, catalog))
            ));
        }
        if !policies.is_empty() {
            parts.push(format!("policies {}", list(policies)));
        }
        if !res.is_empty() {
            parts.push(format!("on resources {}", capped_list(res)));
        }
        parts.join("; ")
    };
    (
        side(
            &c.roles_gained,
            &c.permissions_gained,
            &c.policies_gained,
            &c.resource_permissions_gained,
            &d.modules.head,
        ),
        side(
            &c.roles_lost,
            &c.permissions_lost,
            &c.policies_lost,
            &c.resource_permissions_lost,
            &d.modules.base,
        ),
    )
}

/// Users whose changes are exactly the same (same orgs, same gains and
/// losses), in the order of their first user; each group's users sorted.
fn groups(d: &AccessDiff) -> Vec<(Vec<&str>, &[OrgChange])> {
    let mut index: HashMap<&[OrgChange], usize> = HashMap::new();
    let mut out: Vec<(Vec<&str>, &[OrgChange])> = Vec::new();
    for u in &d.users {
        let key = u.changes.as_slice();
        match index.get(key) {
            Some(i) => out[*i].0.push(&u.user),
            None => {
                index.insert(key, out.len());
                out.push((vec![&u.user], key));
            }
        }
    }
    for g in &mut out {
        g.0.sort_unstable();
    }
    out
}

/// "`a`", "`a` and `b`", "`a`, `b` and `c`", "`a`, `b` and 38 others".
fn names(users: &[&str]) -> String {
    let code = |u: &&str| format!("`{u}`");
    match users {
        [] => String::new(),
        [a] => code(a),
        [a, b] => format!("{} and {}", code(a), code(b)),
        [a, b, c] => format!("{}, {} and {}", code(a), code(b), code(c)),
        [a, b, rest @ ..] => format!("{}, {} and {} others", code(a), code(b), rest.len()),
    }
}

fn markdown_chunks(d: &AccessDiff, page_url: Option<&str>) -> Vec<Chunk> {
    let mut out = String::from("### trellis: access changes\n\n");
    let s = &d.summary;
    let _ = writeln!(out, "| | count |\n|---|---|");
    for (label, n) in [
        ("users whose access changes", s.users_changed),
        ("access entries (user × place)", s.access_entries),
        ("publication changes", s.publication_changes),
        ("locked items changed", s.locked_changes),
        ("users added / removed", s.users_added + s.users_removed),
        ("orgs added / removed", s.orgs_added + s.orgs_removed),
    ] {
        let _ = writeln!(out, "| {label} | {n} |");
    }
    out.push('\n');
    if !d.changes_access()
        && d.locked.is_empty()
        && d.orgs_added.is_empty()
        && d.orgs_removed.is_empty()
    {
        out.push_str("No access changes.\n");
        return lines(&out);
    }
    // (title, open, rows)
    let mut sections: Vec<(String, bool, Vec<String>)> = Vec::new();
    if !d.locked.is_empty() {
        let rows = d
            .locked
            .iter()
            .map(|l| format!("| {} | `{}` |", l.change, l.item))
            .collect();
        sections.push((
            format!("⚠ Provider-locked items changed ({})", d.locked.len()),
            true,
            [vec!["| change | item |".into(), "|---|---|".into()], rows].concat(),
        ));
    }
    if !d.users.is_empty() {
        let mut rows = vec![
            "| users | where | gained | lost |".to_owned(),
            "|---|---|---|---|".to_owned(),
        ];
        for (users, changes) in groups(d) {
            let who = names(&users);
            for c in changes {
                let (g, l) = folded_delta(c, d);
                rows.push(format!("| {who} | {} | {g} | {l} |", where_(c)));
            }
        }
        sections.push((
            format!(
                "Access gained and lost ({} user{})",
                d.users.len(),
                if d.users.len() == 1 { "" } else { "s" }
            ),
            false,
            rows,
        ));
    }
    if !d.publications.is_empty() {
        let mut rows = vec![
            "| role | org | now |".to_owned(),
            "|---|---|---|".to_owned(),
        ];
        rows.extend(d.publications.iter().map(|p| {
            format!(
                "| `{}` | `{}` | {} |",
                p.role,
                p.org,
                publication(p.before, p.after)
            )
        }));
        sections.push((
            format!("Publication changes ({})", d.publications.len()),
            false,
            rows,
        ));
    }
    let mut members = Vec::new();
    for (what, v) in [
        ("user added", &d.users_added),
        ("user removed", &d.users_removed),
        ("org added", &d.orgs_added),
        ("org removed", &d.orgs_removed),
    ] {
        members.extend(v.iter().map(|x| format!("- {what}: `{x}`")));
    }
    if !members.is_empty() {
        sections.push((
            format!("Users and orgs added or removed ({})", members.len()),
            false,
            members,
        ));
    }
    let mut chunks = lines(&out);
    for (title, open, rows) in sections {
        chunks.push(Chunk::Open(format!(
            "<details{}><summary>{title}</summary>\n\n",
            if open { " open" } else { "" }
        )));
        chunks.extend(rows.into_iter().map(|r| Chunk::Row(r + "\n")));
        chunks.push(Chunk::Close);
    }
    chunks.push(Chunk::Plain(match page_url {
        Some(u) => format!("Every user and permission: {u}\n"),
        None => "_Every user and permission: the diff's HTML page (`trellis diff BASE HEAD --format html -o FILE`), published beside this comment as an artifact._\n".to_owned(),
    }));
    chunks
}

/// Text for HTML: the five special characters as entities.
pub fn html_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + s.len() / 8);
    let mut start = 0;
    // Runs of plain bytes are copied whole: the five specials are ASCII, so
    // every split falls on a character boundary.
    for (i, b) in s.bytes().enumerate() {
        let with = match b {
            b'&' => "&amp;",
            b'<' => "&lt;",
            b'>' => "&gt;",
            b'"' => "&quot;",
            b'\'' => "&#39;",
            _ => continue,
        };
        out.push_str(&s[start..i]);
        out.push_str(with);
        start = i + 1;
    }
    out.push_str(&s[start..]);
    out
}

/// Users named in the heading of a group on the page; all of them follow,
/// folded.
const PAGE_NAMES: usize = 20;

const PAGE_STYLE: &str = "body{font-family:system-ui,-apple-system,'Segoe UI',sans-serif;margin:2rem auto;max-width:72rem;padding:0 1rem;color:#1f2328;line-height:1.45}\
h1{font-size:1.5rem}h2{font-size:1.2rem;margin-top:2rem;border-bottom:1px solid #d0d7de}h3{font-size:1rem;margin:1.2rem 0 .4rem}\
table{border-collapse:collapse;margin:.4rem 0 1rem;width:100%}th,td{border:1px solid #d0d7de;padding:.3rem .5rem;text-align:left;vertical-align:top}th{background:#f6f8fa}\
table.counts{width:auto}td.n{text-align:right;font-variant-numeric:tabular-nums}\
code{font-family:ui-monospace,'DejaVu Sans Mono',Menlo,Consolas,monospace;font-size:.9em;background:#f6f8fa;padding:0 .2em;border-radius:3px}\
.gain{color:#1a7f37}.loss{color:#cf222e}\
section.locked{background:#fff8c5;border:2px solid #bf8700;border-radius:6px;padding:.2rem 1rem}section.locked h2{border:0}\
tr.locked td{background:#fff8c5;font-weight:bold}\
.users{font-weight:normal}details summary{cursor:pointer;color:#0969da}";

fn code_list(v: &[String]) -> String {
    v.iter()
        .map(|x| format!("<code>{}</code>", html_escape(x)))
        .collect::<Vec<_>>()
        .join(", ")
}

/// A cell of permissions: folded per module, and when anything was folded,
/// the whole list beneath.
fn perm_cell(perms: &[String], catalog: &BTreeMap<String, BTreeSet<String>>) -> String {
    let folded = fold(perms, catalog);
    let mut s = code_list(&folded);
    if folded.len() != perms.len() {
        let _ = write!(
            s,
            "<details><summary>all {}</summary>{}</details>",
            perms.len(),
            code_list(perms)
        );
    }
    s
}

fn html_where(c: &OrgChange) -> String {
    let org = format!("<code>{}</code>", html_escape(&c.org));
    let n = c.orgs;
    let mut s = match c.reach {
        "org" => format!("at {org}"),
        "below" => format!("below {org} ({n} org{})", if n == 1 { "" } else { "s" }),
        _ if n > 1 => format!(
            "at {org} and {} org{} below",
            n - 1,
            if n == 2 { "" } else { "s" }
        ),
        _ => format!("at {org}"),
    };
    if !c.except.is_empty() {
        let _ = write!(s, ", except under {}", code_list(&c.except));
    }
    s
}

/// The whole diff as one self-contained HTML page (inline style, no script,
/// nothing fetched): counts, provider-locked changes first and highlighted,
/// each group of users with the same change and every org it reaches,
/// publication changes, users and orgs added or removed. Every name is
/// escaped.
pub fn html(d: &AccessDiff) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>trellis: access changes</title>\n<style>{PAGE_STYLE}</style>\n</head>\n<body>\n<h1>trellis: access changes</h1>"
    );
    let s = &d.summary;
    let _ = writeln!(out, "<table class=\"counts\">");
    for (label, n, locked) in [
        ("users whose access changes", s.users_changed, false),
        ("access entries (user × place)", s.access_entries, false),
        ("publication changes", s.publication_changes, false),
        (
            "locked items changed",
            s.locked_changes,
            s.locked_changes > 0,
        ),
        ("users added", s.users_added, false),
        ("users removed", s.users_removed, false),
        ("orgs added", s.orgs_added, false),
        ("orgs removed", s.orgs_removed, false),
    ] {
        let _ = writeln!(
            out,
            "<tr{}><th>{label}</th><td class=\"n\">{n}</td></tr>",
            if locked { " class=\"locked\"" } else { "" }
        );
    }
    let _ = writeln!(out, "</table>");
    if !d.changes_access()
        && d.locked.is_empty()
        && d.orgs_added.is_empty()
        && d.orgs_removed.is_empty()
    {
        let _ = writeln!(out, "<p>No access changes.</p>");
    }
    if !d.locked.is_empty() {
        let _ = writeln!(
            out,
            "<section class=\"locked\" id=\"locked\">\n<h2>⚠ Provider-locked items changed ({})</h2>\n<table>\n<tr><th>change</th><th>item</th></tr>",
            d.locked.len()
        );
        for l in &d.locked {
            let _ = writeln!(
                out,
                "<tr class=\"locked\"><td>{}</td><td><code>{}</code></td></tr>",
                html_escape(l.change),
                html_escape(&l.item)
            );
        }
        let _ = writeln!(out, "</table>\n</section>");
    }
    if !d.users.is_empty() {
        let _ = writeln!(
            out,
            "<section id=\"access\">\n<h2>Access gained and lost ({} user{})</h2>",
            d.users.len(),
            if d.users.len() == 1 { "" } else { "s" }
        );
        for (users, changes) in groups(d) {
            let list: Vec<String> = users.iter().map(|u| u.to_string()).collect();
            let head = PAGE_NAMES.min(list.len());
            let _ = writeln!(
                out,
                "<h3>{}{} <span class=\"users\">({} user{})</span></h3>",
                code_list(&list[..head]),
                if head < list.len() {
                    format!(" and {} others", list.len() - head)
                } else {
                    String::new()
                },
                users.len(),
                if users.len() == 1 { "" } else { "s" }
            );
            if head < list.len() {
                let _ = writeln!(
                    out,
                    "<details><summary>all {} users</summary><p>{}</p></details>",
                    list.len(),
                    code_list(&list)
                );
            }
            let _ = writeln!(
                out,
                "<table>\n<tr><th>where</th><th>roles gained</th><th>roles lost</th><th>permissions gained</th><th>permissions lost</th><th>policies gained</th><th>policies lost</th></tr>"
            );
            for c in changes {
                let mut pg = perm_cell(&c.permissions_gained, &d.modules.head);
                let mut pl = perm_cell(&c.permissions_lost, &d.modules.base);
                if !c.resource_permissions_gained.is_empty() {
                    let _ = write!(
                        pg,
                        "<br>on resources {}",
                        code_list(&c.resource_permissions_gained)
                    );
                }
                if !c.resource_permissions_lost.is_empty() {
                    let _ = write!(
                        pl,
                        "<br>on resources {}",
                        code_list(&c.resource_permissions_lost)
                    );
                }
                let _ = writeln!(
                    out,
                    "<tr><td>{}</td><td class=\"gain\">{}</td><td class=\"loss\">{}</td><td class=\"gain\">{pg}</td><td class=\"loss\">{pl}</td><td class=\"gain\">{}</td><td class=\"loss\">{}</td></tr>",
                    html_where(c),
                    code_list(&c.roles_gained),
                    code_list(&c.roles_lost),
                    code_list(&c.policies_gained),
                    code_list(&c.policies_lost)
                );
            }
            let _ = writeln!(out, "</table>");
        }
        let _ = writeln!(out, "</section>");
    }
    if !d.publications.is_empty() {
        let _ = writeln!(
            out,
            "<section id=\"publications\">\n<h2>Publication changes ({})</h2>\n<table>\n<tr><th>role</th><th>org</th><th>before</th><th>now</th></tr>",
            d.publications.len()
        );
        let entry = |e: Option<bool>| match e {
            Some(true) => "published",
            Some(false) => "not published",
            None => "no entry",
        };
        for p in &d.publications {
            let _ = writeln!(
                out,
                "<tr><td><code>{}</code></td><td><code>{}</code></td><td>{}</td><td>{}</td></tr>",
                html_escape(&p.role),
                html_escape(&p.org),
                entry(p.before),
                publication(p.before, p.after)
            );
        }
        let _ = writeln!(out, "</table>\n</section>");
    }
    for (id, what, v) in [
        ("users-added", "Users added", &d.users_added),
        ("users-removed", "Users removed", &d.users_removed),
        ("orgs-added", "Orgs added", &d.orgs_added),
        ("orgs-removed", "Orgs removed", &d.orgs_removed),
    ] {
        if !v.is_empty() {
            let _ = writeln!(
                out,
                "<section id=\"{id}\">\n<h2>{what} ({})</h2>\n<p>{}</p>\n</section>",
                v.len(),
                code_list(v)
            );
        }
    }
    let _ = writeln!(out, "</body>\n</html>");
    out
}

#[cfg(test)]
mod tests {
    use super::html_escape;

    #[test]
    fn escapes_the_five_and_keeps_everything_else() {
        assert_eq!(html_escape("a<b>&\"c'd"), "a&lt;b&gt;&amp;&quot;c&#39;d");
        // Multi-byte text around and between the specials stays whole.
        assert_eq!(html_escape("é<ü>日本"), "é&lt;ü&gt;日本");
        assert_eq!(html_escape(""), "");
        assert_eq!(html_escape("&&"), "&amp;&amp;");
        assert_eq!(html_escape("plain"), "plain");
    }
}
