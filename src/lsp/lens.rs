//! Code lenses: above every assignment and automatic rule of a file, how
//! many users it reaches — the count a reviewer wants before widening or
//! removing a grant, and which the file itself cannot show.

use lsp_types::{CodeLens, Command};

use super::workspace::range;
use super::{Failure, Server};
use crate::model::{Model, Target, UserId};

/// The lenses of the file at `uri`: one per assignment and rule written in
/// it. An assignment to one user reaches that user; one to an org reaches
/// every user whose home is the org or below it (its members, as the
/// decision counts them); a rule reaches the users it matches.
pub(super) fn code_lenses(
    server: &mut Server,
    uri: &lsp_types::Uri,
) -> Result<Vec<CodeLens>, Failure> {
    let (ws, path) = server.workspace_of(uri)?;
    let Some((a, id)) = ws.file(&path) else {
        return Ok(Vec::new());
    };
    let m = &a.checked.model;
    let mut reached = None;
    let mut lenses = Vec::new();
    for asg in m.assignments.iter().filter(|x| x.span.file == id) {
        let n = match asg.target {
            Target::User(_) => 1,
            Target::Org => {
                let counts = reached.get_or_insert_with(|| members_below(m));
                counts.get(asg.org.index()).copied().unwrap_or(0)
            }
        };
        lenses.push(lens(a.sources(), asg.span, n));
    }
    for rule in m.rules.iter().filter(|r| r.span.file == id) {
        let n = (0..m.users.len() as u32)
            .filter(|u| m.rule_matches(rule, UserId(*u)))
            .count();
        lenses.push(lens(a.sources(), rule.span, n));
    }
    Ok(lenses)
}

/// Per org, the users whose home is it or an org below it.
fn members_below(m: &Model) -> Vec<usize> {
    let mut counts = vec![0usize; m.orgs.len()];
    for user in &m.users {
        for o in m.ancestors(user.home) {
            if let Some(c) = counts.get_mut(o.index()) {
                *c += 1;
            }
        }
    }
    counts
}

fn lens(sources: &crate::source::SourceMap, span: crate::source::Span, users: usize) -> CodeLens {
    let mut r = range(sources, span);
    r.end = r.start;
    CodeLens {
        range: r,
        command: Some(Command {
            title: if users == 1 {
                "reaches 1 user".to_owned()
            } else {
                format!("reaches {users} users")
            },
            // Informational: nothing to run when clicked.
            command: String::new(),
            arguments: None,
        }),
        data: None,
    }
}
