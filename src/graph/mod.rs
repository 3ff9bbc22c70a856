//! `trellis graph`: the org tree (with publications and assignments) and
//! the role hierarchy, as Mermaid, Graphviz DOT or SVG.

use std::fmt::Write as _;

use crate::model::*;

pub mod svg;

/// The picture format of `trellis graph`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
#[allow(
    missing_docs,
    reason = "clap would print variant doc comments in `--help`, which lists the bare names"
)]
pub enum GraphFormat {
    Mermaid,
    Dot,
    Svg,
}

fn node_id(prefix: &str, s: &str) -> String {
    let clean: String = s
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect();
    format!("{prefix}_{clean}")
}

struct Picture {
    orgs: Vec<(String, String, Option<String>)>,
    /// Resources: node, label, the org node they hang under (none: of no org).
    resources: Vec<(String, String, Option<String>)>,
    roles: Vec<(String, String)>,
    includes: Vec<(String, String, bool)>,
}

fn picture(m: &Model, root: Option<OrgId>) -> Picture {
    let orgs_in: Vec<OrgId> = match root {
        Some(x) => m.preorder[m.pre[x.index()] as usize..m.end[x.index()] as usize].to_vec(),
        None => m.preorder.clone(),
    };
    let mut orgs = Vec::new();
    for o in &orgs_in {
        let org = m.org(*o);
        let mut label = org.id.clone();
        if let Some(k) = &org.kind_label {
            label.push_str(&format!(" ({k})"));
        }
        let mut notes = Vec::new();
        for (ri, entries) in m.publications.iter().enumerate() {
            if let Some(e) = entries.get(o) {
                let lock = if e.locked { " 🔒" } else { "" };
                notes.push(format!(
                    "{}{} {}{lock}",
                    if e.publish { "+" } else { "−" },
                    if e.publish {
                        "published"
                    } else {
                        "unpublished"
                    },
                    m.role_display(RoleId(ri as u32))
                ));
            }
        }
        for a in &m.org_assignments[o.index()] {
            let a = &m.assignments[a.index()];
            let g = match a.grant {
                Grant::Role(r) => m.role_display(r),
                Grant::Policy(p) => format!("policy {}", m.policies[p.index()].id),
            };
            notes.push(format!("members: {g}{}", if a.locked { " 🔒" } else { "" }));
        }
        for (ui, _) in m.users.iter().enumerate() {
            for a in &m.user_assignments[ui] {
                let a = &m.assignments[a.index()];
                if a.org == *o {
                    let g = match a.grant {
                        Grant::Role(r) => m.role_display(r),
                        Grant::Policy(p) => format!("policy {}", m.policies[p.index()].id),
                    };
                    notes.push(format!(
                        "{}: {g}{}",
                        m.users[ui].id,
                        if a.locked { " 🔒" } else { "" }
                    ));
                }
            }
        }
        if !notes.is_empty() {
            label.push_str(&format!("\n{}", notes.join("\n")));
        }
        let parent = org
            .parent
            .filter(|p| root.is_none_or(|r| m.in_subtree(*p, r)) && Some(*o) != root)
            .map(|p| node_id("org", &m.org(p).id));
        orgs.push((node_id("org", &org.id), label, parent));
    }
    let mut resources = Vec::new();
    for r in &m.resources {
        let shown = match (root, r.org) {
            (Some(x), Some(o)) => m.in_subtree(o, x),
            _ => true,
        };
        if shown {
            resources.push((
                node_id("res", &r.id),
                format!("{} ({})", r.id, m.dimensions[r.dim.index()].id),
                r.org.map(|o| node_id("org", &m.org(o).id)),
            ));
        }
    }
    let mut roles = Vec::new();
    let mut includes = Vec::new();
    for (ri, r) in m.roles.iter().enumerate() {
        let id = RoleId(ri as u32);
        let visible = match (root, r.owner) {
            (None, _) => true,
            (Some(x), Scope::Org(o)) => m.in_subtree(o, x) || m.published(id, x),
            (Some(x), Scope::Provider) => m.published(id, x),
        };
        if !visible {
            continue;
        }
        let mut label = m.role_display(id);
        if r.locked {
            label.push_str(" 🔒");
        }
        if !r.active {
            label.push_str(" (disabled)");
        }
        for (d, ids) in r.resources.entries() {
            let ids: Vec<&str> = ids
                .iter()
                .map(|q| m.resources[q.index()].id.as_str())
                .collect();
            label.push_str(&format!(
                "\non {}: {}",
                m.dimensions[d.index()].id,
                ids.join(", ")
            ));
        }
        roles.push((node_id("role", &m.role_qualified(id)), label));
        for (i, _) in &r.includes {
            includes.push((
                node_id("role", &m.role_qualified(id)),
                node_id("role", &m.role_qualified(*i)),
                false,
            ));
        }
        if let Some((f, _)) = r.from {
            includes.push((
                node_id("role", &m.role_qualified(id)),
                node_id("role", &m.role_qualified(f)),
                true,
            ));
        }
    }
    let known: std::collections::HashSet<String> = roles.iter().map(|r| r.0.clone()).collect();
    includes.retain(|(a, b, _)| known.contains(a) && known.contains(b));
    Picture {
        orgs,
        resources,
        roles,
        includes,
    }
}

/// The org tree (under `root`, or all of it) and the role hierarchy, as text in `format`.
pub fn render(m: &Model, root: Option<OrgId>, format: GraphFormat) -> String {
    let p = match format {
        GraphFormat::Svg => return svg::render(m, root),
        GraphFormat::Mermaid | GraphFormat::Dot => picture(m, root),
    };
    let mut out = String::new();
    match format {
        GraphFormat::Mermaid => {
            let esc = |s: &str| s.replace('"', "#quot;").replace('\n', "<br/>");
            let _ = writeln!(out, "flowchart TD");
            let _ = writeln!(out, "  subgraph orgs[\"Org tree\"]");
            for (id, label, _) in &p.orgs {
                let _ = writeln!(out, "    {id}[\"{}\"]", esc(label));
            }
            for (id, _, parent) in &p.orgs {
                if let Some(parent) = parent {
                    let _ = writeln!(out, "    {parent} --> {id}");
                }
            }
            for (id, label, org) in &p.resources {
                let _ = writeln!(out, "    {id}[/\"{}\"/]", esc(label));
                if let Some(org) = org {
                    let _ = writeln!(out, "    {org} -.- {id}");
                }
            }
            let _ = writeln!(out, "  end");
            let _ = writeln!(
                out,
                "  subgraph roles[\"Roles: includes (solid), cloned from (dotted)\"]"
            );
            for (id, label) in &p.roles {
                let _ = writeln!(out, "    {id}([\"{}\"])", esc(label));
            }
            for (a, b, from) in &p.includes {
                let _ = writeln!(out, "    {a} {} {b}", if *from { "-.->" } else { "-->" });
            }
            let _ = writeln!(out, "  end");
        }
        GraphFormat::Dot => {
            let esc = |s: &str| {
                s.replace('\\', "\\\\")
                    .replace('"', "\\\"")
                    .replace('\n', "\\n")
            };
            let _ = writeln!(
                out,
                "digraph trellis {{\n  rankdir=TB;\n  node [fontname=\"Helvetica\", fontsize=10];"
            );
            let _ = writeln!(
                out,
                "  subgraph cluster_orgs {{\n    label=\"Org tree\";\n    node [shape=box];"
            );
            for (id, label, _) in &p.orgs {
                let _ = writeln!(out, "    {id} [label=\"{}\"];", esc(label));
            }
            for (id, _, parent) in &p.orgs {
                if let Some(parent) = parent {
                    let _ = writeln!(out, "    {parent} -> {id};");
                }
            }
            for (id, label, org) in &p.resources {
                let _ = writeln!(
                    out,
                    "    {id} [label=\"{}\", shape=parallelogram];",
                    esc(label)
                );
                if let Some(org) = org {
                    let _ = writeln!(out, "    {org} -> {id} [style=dotted, arrowhead=none];");
                }
            }
            let _ = writeln!(out, "  }}");
            let _ = writeln!(out, "  subgraph cluster_roles {{\n    label=\"Roles: includes (solid), cloned from (dashed)\";\n    node [shape=ellipse];");
            for (id, label) in &p.roles {
                let _ = writeln!(out, "    {id} [label=\"{}\"];", esc(label));
            }
            for (a, b, from) in &p.includes {
                let _ = writeln!(
                    out,
                    "    {a} -> {b}{};",
                    if *from { " [style=dashed]" } else { "" }
                );
            }
            let _ = writeln!(out, "  }}\n}}");
        }
        GraphFormat::Svg => {}
    }
    out
}
