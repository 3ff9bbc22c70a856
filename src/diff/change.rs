//! E012: what an actor changed between two revisions must lie inside its
//! subtree and touch no locked item, unless the actor is the provider
//! (SPEC §8, §11).

use super::items::{compare, inside, items_of_both, ItemDelta, ItemInfo, ItemKey, SameFiles};
use crate::diag::{Code, Diagnostic};
use crate::model::Model;

/// `actor` is `None` for the provider.
pub fn check(base: &Model, head: &Model, actor: Option<&str>) -> Vec<Diagnostic> {
    check_with(base, head, actor, &SameFiles::none())
}

/// As [`check`], with the files `same` finds unchanged left out of the
/// comparison (what it reports is the same: see [`SameFiles`]).
pub fn check_with(
    base: &Model,
    head: &Model,
    actor: Option<&str>,
    same: &SameFiles,
) -> Vec<Diagnostic> {
    // The provider may change anything: nothing to compare.
    let Some(who) = actor else {
        return Vec::new();
    };
    let (before, after) = items_of_both(base, head, same);
    let mut out = Vec::new();
    let report = |verb: &str, key: &ItemKey, info: &ItemInfo, outside: bool, locked: bool| {
        let reason = match (outside, locked) {
            (true, true) => {
                format!("it lies outside `{who}`'s subtree (or its file does) and is locked by the provider")
            }
            (true, false) => format!("it lies outside `{who}`'s subtree (or its file does)"),
            _ => "it is locked by the provider".to_owned(),
        };
        Diagnostic::new(
            Code::E012,
            info.span,
            format!("`{who}` may not {verb} {key}: {reason}"),
        )
        .with_label(match verb {
            "add" => "added here",
            "remove" => "removed here (in the base revision)",
            _ => "changed here",
        })
        .with_help(if locked {
            "only the provider changes locked items; ask the provider".to_owned()
        } else {
            format!(
                "a change by `{who}` must stay inside its own subtree; ask the owner of this item"
            )
        })
    };
    for (key, delta) in compare(&before, &after) {
        match delta {
            ItemDelta::Removed(b) => {
                let outside = !inside(base, b, actor);
                if outside || b.locked {
                    out.push(
                        report("remove", key, b, outside, b.locked)
                            .with_note("the item is in the base revision; this label points there"),
                    );
                }
            }
            ItemDelta::Changed(b, h) => {
                let outside = !inside(base, b, actor) || !inside(head, h, actor);
                let locked = b.locked || h.locked;
                if outside || locked {
                    out.push(
                        report("change", key, h, outside, locked)
                            .with_secondary(b.span, "before the change"),
                    );
                }
            }
            ItemDelta::Added(h) => {
                let outside = !inside(head, h, actor);
                if outside || h.locked {
                    out.push(report("add", key, h, outside, h.locked));
                }
            }
        }
    }
    out
}
