//! The two graphs of a policy set, on petgraph: the org tree (cycles broken
//! and reported, then laid out in preorder so a subtree is an interval) and
//! the role graph over `includes` and `from` (cycles reported, grants
//! computed dependencies first).
//!
//! Every walk here is iterative: a chain or a cycle of 100,000 orgs or roles
//! must not need a deep call stack.

use fixedbitset::FixedBitSet;
use petgraph::graph::{DiGraph, NodeIndex};

use super::Builder;
use crate::diag::{Code, Diagnostic};
use crate::model::*;
use crate::source::Span;

pub(super) fn break_org_cycles(b: &mut Builder<'_>) {
    let n = b.model.orgs.len();
    let mut g: DiGraph<OrgId, ()> = DiGraph::with_capacity(n, n);
    for i in 0..n {
        g.add_node(OrgId(i as u32));
    }
    for (i, org) in b.model.orgs.iter().enumerate() {
        if let Some(p) = org.parent {
            g.add_edge(NodeIndex::new(i), NodeIndex::new(p.index()), ());
        }
    }
    let mut cycles: Vec<Vec<OrgId>> = Vec::new();
    for scc in strongly_connected(&g) {
        let is_cycle = scc.len() > 1
            || scc
                .first()
                .is_some_and(|n| b.model.orgs[n.index()].parent == Some(OrgId(n.index() as u32)));
        if !is_cycle {
            continue;
        }
        // Start at the org declared first, then follow parents around.
        let Some(start) = scc.iter().map(|n| OrgId(n.index() as u32)).min() else {
            continue; // a component is never empty
        };
        let mut path = vec![start];
        let mut cur = start;
        while let Some(p) = b.model.orgs[cur.index()].parent {
            if p == start || path.len() > scc.len() {
                break;
            }
            path.push(p);
            cur = p;
        }
        cycles.push(path);
    }
    cycles.sort();
    for path in cycles {
        let names: Vec<&str> = path
            .iter()
            .map(|o| b.model.orgs[o.index()].id.as_str())
            .collect();
        let first = &b.model.orgs[path[0].index()];
        let message = if path.len() == 1 {
            format!("org `{}` is its own parent", first.id)
        } else {
            format!("org tree cycle: {} -> {}", names.join(" -> "), names[0])
        };
        let mut d = Diagnostic::new(Code::E005, first.parent_span.unwrap_or(first.span), message)
            .with_label(format!("`{}` has parent `{}`", first.id, names.get(1).unwrap_or(&names[0])))
            .with_help("orgs form a tree: make one org of the cycle top level or give it a parent outside the cycle")
            .with_note("each org of the cycle is checked as if it were top level");
        for (k, o) in path.iter().enumerate().skip(1) {
            let org = &b.model.orgs[o.index()];
            let next = names[(k + 1) % names.len()];
            d = d.with_secondary(
                org.parent_span.unwrap_or(org.span),
                format!("`{}` has parent `{next}`", org.id),
            );
        }
        b.diags.push(d);
        for o in path {
            b.model.orgs[o.index()].parent = None;
            if let Some(r) = b.org_repaired.get_mut(o.index()) {
                *r = true;
            }
        }
    }
}

pub(super) fn layout_tree(m: &mut Model) {
    let n = m.orgs.len();
    m.children = vec![Vec::new(); n];
    let mut roots = Vec::new();
    for (i, org) in m.orgs.iter().enumerate() {
        match org.parent {
            Some(p) => m.children[p.index()].push(OrgId(i as u32)),
            None => roots.push(OrgId(i as u32)),
        }
    }
    m.pre = vec![0; n];
    m.end = vec![0; n];
    m.depth = vec![0; n];
    m.preorder = Vec::with_capacity(n);
    // Iterative DFS: (org, depth, children visited?)
    let mut stack: Vec<(OrgId, u32, bool)> = roots.iter().rev().map(|r| (*r, 0, false)).collect();
    while let Some((o, d, done)) = stack.pop() {
        if done {
            m.end[o.index()] = m.preorder.len() as u32;
            continue;
        }
        m.pre[o.index()] = m.preorder.len() as u32;
        m.depth[o.index()] = d;
        m.preorder.push(o);
        stack.push((o, d, true));
        for c in m.children[o.index()].iter().rev() {
            stack.push((*c, d + 1, false));
        }
    }
}

pub(super) fn role_cycles_and_grants(b: &mut Builder<'_>, removes: &[FixedBitSet]) {
    let n = b.model.roles.len();
    let mut g: DiGraph<RoleId, Span> = DiGraph::with_capacity(n, n);
    for i in 0..n {
        g.add_node(RoleId(i as u32));
    }
    for (i, r) in b.model.roles.iter().enumerate() {
        for (inc, span) in &r.includes {
            g.add_edge(NodeIndex::new(i), NodeIndex::new(inc.index()), *span);
        }
        if let Some((f, span)) = r.from {
            g.add_edge(NodeIndex::new(i), NodeIndex::new(f.index()), span);
        }
    }
    // Components come dependencies-first (reverse topological order).
    let sccs = strongly_connected(&g);
    let mut cyclic = vec![false; n];
    let mut reports = Vec::new();
    for scc in &sccs {
        let self_loop = scc.len() == 1 && g.find_edge(scc[0], scc[0]).is_some();
        if scc.len() > 1 || self_loop {
            for node in scc {
                cyclic[node.index()] = true;
            }
            reports.push(cycle_path(&g, scc));
        }
    }
    reports.sort();
    for path in reports {
        let names: Vec<String> = path.iter().map(|r| b.model.role_display(*r)).collect();
        let first = path[0];
        let edge = |from: RoleId, to: RoleId| {
            g.find_edge(NodeIndex::new(from.index()), NodeIndex::new(to.index()))
                .and_then(|e| g.edge_weight(e).copied())
        };
        let next = *path.get(1).unwrap_or(&first);
        let span = edge(first, next).unwrap_or(b.model.role(first).span);
        let message = if path.len() == 1 {
            format!("role `{}` includes or clones itself", names[0])
        } else {
            format!("role cycle: {} -> {}", names.join(" -> "), names[0])
        };
        let mut d = Diagnostic::new(Code::E006, span, message)
            .with_label("the cycle starts here")
            .with_help("`includes` and `from` must form a hierarchy: remove one link of the cycle");
        for (k, r) in path.iter().enumerate().skip(1) {
            let to = path[(k + 1) % path.len()];
            if let Some(s) = edge(*r, to) {
                d = d.with_secondary(
                    s,
                    format!("`{}` -> `{}`", names[k], b.model.role_display(to)),
                );
            }
        }
        b.diags.push(d);
    }
    // closure[r]: permissions conferred by r and its whole `includes` closure,
    // status ignored — what a clone of r copies (SPEC §4).
    let mut closure = vec![FixedBitSet::with_capacity(b.model.perms.len()); n];
    for scc in &sccs {
        for node in scc {
            let i = node.index();
            let role = &b.model.roles[i];
            let mut perms = role.own.clone();
            if !cyclic[i] {
                if let Some((f, _)) = role.from {
                    let mut cloned = closure[f.index()].clone();
                    if let Some(rm) = removes.get(i) {
                        cloned.difference_with(rm);
                    }
                    perms.union_with(&cloned);
                }
            }
            let mut all = perms.clone();
            if !cyclic[i] {
                for (inc, _) in &role.includes {
                    all.union_with(&closure[inc.index()]);
                }
            }
            closure[i] = all;
            let role = &mut b.model.roles[i];
            role.perms = perms;
            role.cyclic = cyclic[i];
        }
    }
}

/// The strongly connected components of `g`, dependencies first: a component
/// comes after every component it reaches (reverse topological order). This
/// is Tarjan's algorithm, as petgraph's `tarjan_scc`, but with an explicit
/// stack of frames instead of recursion.
fn strongly_connected<N, E>(g: &DiGraph<N, E>) -> Vec<Vec<NodeIndex>> {
    const UNSEEN: u32 = u32::MAX;
    let n = g.node_count();
    let mut index = vec![UNSEEN; n];
    let mut low = vec![0u32; n];
    let mut on_stack = vec![false; n];
    let mut stack: Vec<NodeIndex> = Vec::new();
    let mut components = Vec::new();
    let mut next = 0u32;
    // The DFS path: each node with the successors it has still to visit.
    let mut frames: Vec<(NodeIndex, petgraph::graph::Neighbors<'_, E>)> = Vec::new();
    for root in g.node_indices() {
        if index[root.index()] != UNSEEN {
            continue;
        }
        let mut enter = Some(root);
        loop {
            if let Some(v) = enter.take() {
                index[v.index()] = next;
                low[v.index()] = next;
                next += 1;
                stack.push(v);
                on_stack[v.index()] = true;
                frames.push((v, g.neighbors(v)));
            }
            let Some((v, successors)) = frames.last_mut() else {
                break;
            };
            let v = *v;
            if let Some(w) = successors.next() {
                if index[w.index()] == UNSEEN {
                    enter = Some(w);
                } else if on_stack[w.index()] {
                    low[v.index()] = low[v.index()].min(index[w.index()]);
                }
                continue;
            }
            frames.pop();
            if let Some((parent, _)) = frames.last() {
                low[parent.index()] = low[parent.index()].min(low[v.index()]);
            }
            if low[v.index()] == index[v.index()] {
                let mut component = Vec::new();
                while let Some(w) = stack.pop() {
                    on_stack[w.index()] = false;
                    component.push(w);
                    if w == v {
                        break;
                    }
                }
                components.push(component);
            }
        }
    }
    components
}

/// One cycle through a strongly connected group, starting at its first role.
fn cycle_path(g: &DiGraph<RoleId, Span>, scc: &[NodeIndex]) -> Vec<RoleId> {
    let start = scc.iter().copied().min().unwrap_or(NodeIndex::new(0));
    if scc.len() == 1 {
        return vec![RoleId(start.index() as u32)];
    }
    let inside: std::collections::HashSet<NodeIndex> = scc.iter().copied().collect();
    // BFS from start's successors back to start, inside the component.
    let mut prev: std::collections::HashMap<NodeIndex, NodeIndex> =
        std::collections::HashMap::new();
    let mut queue = std::collections::VecDeque::new();
    let mut succ: Vec<NodeIndex> = g.neighbors(start).filter(|n| inside.contains(n)).collect();
    succ.sort();
    for s in succ {
        if let std::collections::hash_map::Entry::Vacant(e) = prev.entry(s) {
            e.insert(start);
            queue.push_back(s);
        }
    }
    while let Some(cur) = queue.pop_front() {
        if cur == start {
            break;
        }
        let mut next: Vec<NodeIndex> = g.neighbors(cur).filter(|n| inside.contains(n)).collect();
        next.sort();
        for s in next {
            if let std::collections::hash_map::Entry::Vacant(e) = prev.entry(s) {
                e.insert(cur);
                queue.push_back(s);
            }
        }
    }
    let mut path = Vec::new();
    let mut cur = start;
    while let Some(p) = prev.get(&cur).copied() {
        path.push(RoleId(p.index() as u32));
        cur = p;
        if cur == start || path.len() > scc.len() {
            break;
        }
    }
    path.reverse();
    path
}
