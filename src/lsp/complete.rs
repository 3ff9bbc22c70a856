//! Completion: ids where a key takes one (orgs, users, roles visible from
//! the file's scope, permission patterns, kinds, policies, modules,
//! dimensions, resources), and keys where a key is written.

use lsp_types::{
    CompletionItem, CompletionItemKind, CompletionResponse, TextDocumentPositionParams,
};

use super::workspace::offset;
use super::{Failure, Server};
use crate::load::raw::FILE_KEYS;
use crate::model::{Model, RoleId, Scope};

/// What the text before the cursor asks for.
#[derive(Debug, PartialEq, Eq)]
enum Want {
    /// The value of this key.
    Value(String),
    /// A key of an item of this section (`None`: a top-level key).
    Key(Option<String>),
}

/// The keys an item of each section takes (manual §4).
fn section_keys(section: &str) -> &'static [&'static str] {
    match section {
        "modules" => &["actions", "gated", "dimension", "description"],
        "policies" => &["modules", "description"],
        "kinds" => &["parents", "description"],
        "orgs" => &["kind", "parent", "name", "description"],
        "users" => &["org", "type", "owner", "attributes", "description"],
        "roles" => &[
            "description",
            "grants",
            "includes",
            "excludes",
            "assignable_by",
            "self_service",
            "approval",
            "identity_types",
            "status",
            "locked",
            "published",
            "from",
            "remove",
            "resources",
            "dimensions",
            "multiple",
        ],
        "assignments" => &[
            "role",
            "policy",
            "user",
            "org",
            "inherit",
            "by",
            "locked",
            "description",
            "resources",
        ],
        "publications" => &["role", "org", "publish", "locked", "description"],
        "exclusions" => &["name", "roles", "max", "per", "description"],
        "automatic" => &["name", "when", "grant", "locked", "description"],
        "dimensions" => &["description"],
        "resources" => &["dimension", "org", "description"],
        _ => &[],
    }
}

/// The last `key:` (or `key =`) before the cursor on `line`, when nothing
/// but a value is being written after it.
fn last_key(line: &str) -> Option<String> {
    let b = line.as_bytes();
    let mut i = b.len();
    while i > 0 {
        i -= 1;
        if b[i] == b':' || b[i] == b'=' {
            // `a::b` is a qualified role, not a key.
            if b[i] == b':' && (i + 1 < b.len() && b[i + 1] == b':' || i > 0 && b[i - 1] == b':') {
                continue;
            }
            let head = &line[..i];
            let key: String = head
                .trim_end()
                .chars()
                .rev()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == '-')
                .collect::<Vec<_>>()
                .into_iter()
                .rev()
                .collect();
            if !key.is_empty() && !key.contains('-') {
                return Some(key);
            }
        }
    }
    None
}

fn indent(line: &str) -> usize {
    line.len() - line.trim_start().len()
}

/// What is wanted at the end of `before` (the text from the start of the
/// file to the cursor).
fn want(before: &str, toml: bool) -> Want {
    let lines: Vec<&str> = before.split('\n').collect();
    let current = lines.last().copied().unwrap_or("");
    if toml {
        return want_toml(&lines, current);
    }
    // The section: the last top-level key above.
    let section = lines
        .iter()
        .rev()
        .skip(1)
        .find(|l| !l.is_empty() && indent(l) == 0 && !l.starts_with('#') && !l.starts_with('-'))
        .and_then(|l| l.split([':', '=']).next())
        .map(|k| k.trim().trim_matches(['[', ']']).to_owned());
    // The innermost open bracket of the line, and the last separator.
    let b = current.as_bytes();
    let mut stack = Vec::new();
    let mut last = None;
    for (i, c) in b.iter().enumerate() {
        match c {
            b'{' | b'[' => {
                stack.push(*c);
                last = Some(*c);
            }
            b'}' | b']' => {
                stack.pop();
                last = Some(*c);
            }
            b',' => last = Some(b','),
            b':' if b.get(i + 1) != Some(&b':') && (i == 0 || b[i - 1] != b':') => {
                last = Some(b':')
            }
            b'=' => last = Some(b':'),
            _ => {}
        }
    }
    match (last, stack.last()) {
        (Some(b'{'), _) | (Some(b','), Some(b'{')) => return Want::Key(section),
        (Some(b':' | b'[' | b','), _) => {
            if let Some(k) = last_key(current) {
                return Want::Value(k);
            }
        }
        _ => {}
    }
    if indent(current) == 0 && !current.starts_with('-') {
        return Want::Key(None);
    }
    let trimmed = current.trim_start();
    if trimmed.starts_with('-') {
        // A block-list item: the value of the key owning the list, unless
        // the list is a section's (then an item's key is being written).
        let ind = indent(current);
        for l in lines.iter().rev().skip(1) {
            if l.trim().is_empty() || l.trim_start().starts_with('#') || indent(l) >= ind {
                continue;
            }
            let t = l.trim().trim_start_matches("- ");
            if indent(l) > 0 && t.ends_with(':') {
                return Want::Value(t.trim_end_matches(':').to_owned());
            }
            break;
        }
    }
    Want::Key(section)
}

/// [`want`] for TOML: keys are not indented, and the section is the last
/// table header above (`[roles.x]`, `[[assignments]]`).
fn want_toml(lines: &[&str], current: &str) -> Want {
    let header = lines
        .iter()
        .rev()
        .skip(1)
        .find(|l| l.trim_start().starts_with('['))
        .map(|l| {
            let t = l.trim().trim_matches(['[', ']']);
            t.split('.').next().unwrap_or(t).trim().to_owned()
        });
    if current.contains('=') {
        if let Some(k) = last_key(current) {
            return Want::Value(k);
        }
    }
    Want::Key(header)
}

fn item(label: String, kind: CompletionItemKind, detail: &str) -> CompletionItem {
    CompletionItem {
        label,
        kind: Some(kind),
        detail: Some(detail.to_owned()),
        ..Default::default()
    }
}

/// The name a file of `scope` writes for role `r`: bare when it resolves
/// to it there, `owner::name` otherwise.
fn role_label(m: &Model, r: RoleId, scope: Scope) -> String {
    let role = m.role(r);
    if m.resolve_role(&role.name, scope) == Some(r) {
        role.name.clone()
    } else {
        m.role_qualified(r)
    }
}

fn values(m: &Model, key: &str, scope: Scope) -> Vec<CompletionItem> {
    use CompletionItemKind as K;
    let ids = |it: &mut dyn Iterator<Item = &String>, kind, detail: &str| -> Vec<CompletionItem> {
        it.map(|s| item(s.clone(), kind, detail)).collect()
    };
    match key {
        "org" | "parent" | "scope" => {
            let mut v = ids(
                &mut m
                    .orgs
                    .iter()
                    .filter(|o| match scope {
                        Scope::Provider => true,
                        Scope::Org(s) => {
                            m.in_subtree(m.org_index.get(&o.id).copied().unwrap_or(s), s)
                        }
                    })
                    .map(|o| &o.id),
                K::MODULE,
                "org",
            );
            if key == "scope" {
                v.push(item("provider".into(), K::KEYWORD, "the provider"));
            }
            v
        }
        "user" | "by" => {
            let mut v = ids(&mut m.users.iter().map(|u| &u.id), K::VARIABLE, "user");
            if key == "by" {
                v.push(item("self".into(), K::KEYWORD, "self-service"));
            }
            v
        }
        "role" | "roles" | "includes" | "excludes" | "assignable_by" | "from" => (0..m.roles.len()
            as u32)
            .map(RoleId)
            .filter(|r| m.role_visible(*r, scope))
            .map(|r| {
                let mut i = item(role_label(m, r, scope), K::CLASS, "role");
                i.documentation = m
                    .role(r)
                    .description
                    .clone()
                    .map(lsp_types::Documentation::String);
                i
            })
            .collect(),
        "grants" | "remove" => {
            let mut v: Vec<CompletionItem> = (0..m.perms.len() as u32)
                .map(|p| {
                    item(
                        m.perm_name(crate::model::PermId(p)),
                        K::METHOD,
                        "permission",
                    )
                })
                .collect();
            v.extend(m.modules.iter().map(|md| {
                item(
                    format!("{}:*", md.id),
                    K::MODULE,
                    "every action of the module",
                )
            }));
            v.push(item("*:*".into(), K::KEYWORD, "every permission"));
            v
        }
        "kind" | "org_kind" | "parents" | "descendants" => {
            ids(&mut m.kinds.iter().map(|k| &k.id), K::ENUM, "org kind")
        }
        "policy" => ids(
            &mut m.policies.iter().map(|p| &p.id),
            K::INTERFACE,
            "access policy",
        ),
        "modules" => ids(&mut m.modules.iter().map(|p| &p.id), K::MODULE, "module"),
        "dimension" | "dimensions" => ids(
            &mut m.dimensions.iter().map(|d| &d.id),
            K::ENUM_MEMBER,
            "dimension",
        ),
        "status" => vec![
            item("active".into(), K::KEYWORD, ""),
            item("disabled".into(), K::KEYWORD, ""),
        ],
        "per" => vec![
            item("org".into(), K::KEYWORD, ""),
            item("anywhere".into(), K::KEYWORD, ""),
        ],
        _ if m.dimension_index.contains_key(key) => m
            .resources
            .iter()
            .filter(|r| m.dimension_index.get(key) == Some(&r.dim))
            .map(|r| item(r.id.clone(), K::VALUE, "resource"))
            .collect(),
        _ => Vec::new(),
    }
}

/// The completion list at the cursor.
pub(super) fn completion(
    server: &mut Server,
    p: &TextDocumentPositionParams,
) -> Result<Option<CompletionResponse>, Failure> {
    let (ws, path) = server.workspace_of(&p.text_document.uri)?;
    let Some((a, id)) = ws.file(&path) else {
        return Ok(None);
    };
    let Some(file) = a.sources().get(id) else {
        return Ok(None);
    };
    let at = offset(file, p.position);
    let before = file.text.get(..at).unwrap_or("");
    let m = &a.checked.model;
    let scope = ws.scope_of(&path);
    let toml = path.extension().is_some_and(|e| e == "toml");
    let items = match want(before, toml) {
        Want::Value(k) => values(m, &k, scope),
        Want::Key(None) => FILE_KEYS
            .iter()
            .map(|k| {
                item(
                    (*k).to_owned(),
                    CompletionItemKind::PROPERTY,
                    "top-level key",
                )
            })
            .collect(),
        Want::Key(Some(section)) => section_keys(&section)
            .iter()
            .map(|k| item((*k).to_owned(), CompletionItemKind::PROPERTY, "key"))
            .collect(),
    };
    Ok(Some(CompletionResponse::Array(items)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_wanted_thing_in_toml() {
        assert_eq!(
            want("scope = \"a\"\n[roles.x]\nfrom = \"ed", true),
            Want::Value("from".into())
        );
        assert_eq!(
            want("scope = \"a\"\n[roles.x]\ngra", true),
            Want::Key(Some("roles".into()))
        );
        assert_eq!(
            want("scope = \"a\"\n[[assignments]]\nrole = \"x\"\nus", true),
            Want::Key(Some("assignments".into()))
        );
        assert_eq!(want("sco", true), Want::Key(None));
        assert_eq!(
            want("[[assignments]]\nrole = \"a\"\nuser = \"", true),
            Want::Value("user".into())
        );
    }

    #[test]
    fn the_wanted_thing_is_read_from_the_text_before_the_cursor() {
        assert_eq!(
            want("scope: acme\nassignments:\n  - { role: ed", false),
            Want::Value("role".into())
        );
        assert_eq!(
            want("roles:\n  x: { includes: [viewer, ", false),
            Want::Value("includes".into())
        );
        assert_eq!(
            want("roles:\n  x:\n    includes:\n      - ", false),
            Want::Value("includes".into())
        );
        assert_eq!(want("scope: acme\nsco", false), Want::Key(None));
        assert_eq!(
            want("scope: acme\nroles:\n  x:\n    gra", false),
            Want::Key(Some("roles".into()))
        );
        assert_eq!(
            want("a:\n  - { role: acme::vi", false),
            Want::Value("role".into())
        );
    }
}
