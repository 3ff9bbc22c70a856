//! Access diff renderers: human, json (stable), markdown (PR comment).

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
    let chunks = markdown_chunks(d);
    let full: String = chunks.iter().map(Chunk::text).collect();
    if full.len() <= cap {
        return full;
    }
    let tail = TRUNCATED
        .iter()
        .copied()
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

fn markdown_chunks(d: &AccessDiff) -> Vec<Chunk> {
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
    let mut sections: Vec<(String, Vec<String>)> = Vec::new();
    if !d.locked.is_empty() {
        let rows = d
            .locked
            .iter()
            .map(|l| format!("| {} | `{}` |", l.change, l.item))
            .collect();
        sections.push((
            format!("Provider-locked items changed ({})", d.locked.len()),
            [vec!["| change | item |".into(), "|---|---|".into()], rows].concat(),
        ));
    }
    if !d.users.is_empty() {
        let mut rows = vec![
            "| user | where | gained | lost |".to_owned(),
            "|---|---|---|---|".to_owned(),
        ];
        for u in &d.users {
            for c in &u.changes {
                let (g, l) = delta(c);
                rows.push(format!("| `{}` | {} | {} | {} |", u.user, where_(c), g, l));
            }
        }
        sections.push((
            format!(
                "Access gained and lost ({} user{})",
                d.users.len(),
                if d.users.len() == 1 { "" } else { "s" }
            ),
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
            members,
        ));
    }
    let mut chunks = lines(&out);
    for (title, rows) in sections {
        chunks.push(Chunk::Open(format!(
            "<details><summary>{title}</summary>\n\n"
        )));
        chunks.extend(rows.into_iter().map(|r| Chunk::Row(r + "\n")));
        chunks.push(Chunk::Close);
    }
    chunks
}
