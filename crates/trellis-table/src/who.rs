//! Who may do something at an org, without asking every user.
//!
//! A decision reads two lists of grants, the user's own and its home org's
//! member list, and only a role grant whose span (`lo ≤ x < hi`, in the
//! orgs' preorder) holds `x` can allow anything at `x`. So the users a
//! `who` question can name are those with such an own grant, and the users
//! whose member list (their home org's) has one. [`WhoIndex`] finds both by
//! span, and [`Table::who_on`] asks each of them the question: the answer
//! is exactly what asking every user gives, at a cost that follows the
//! grants reaching `x` rather than the number of users.
//!
//! The index is built in memory from the table, the first time a `who`
//! question is asked (a few arrays of `u32`, about 12 bytes per role grant
//! and 4 per user), and kept with the table.

use crate::data::View;
use crate::{NONE, POLICY_BIT};

/// Spans sorted by where they start, in blocks of [`BLOCK`] that each know
/// the furthest end of their spans, so that a question skips the blocks
/// that cannot hold `x`.
#[derive(Default)]
struct Spans {
    lo: Vec<u32>,
    hi: Vec<u32>,
    /// A user (own grants) or an org (member lists).
    of: Vec<u32>,
    block_hi: Vec<u32>,
}

const BLOCK: usize = 32;

impl Spans {
    fn new(mut spans: Vec<(u32, u32, u32)>) -> Spans {
        spans.sort_unstable();
        spans.dedup();
        let mut s = Spans {
            lo: spans.iter().map(|t| t.0).collect(),
            hi: spans.iter().map(|t| t.1).collect(),
            of: spans.iter().map(|t| t.2).collect(),
            block_hi: Vec::new(),
        };
        s.block_hi =
            s.hi.chunks(BLOCK)
                .map(|c| c.iter().copied().max().unwrap_or(0))
                .collect();
        s
    }

    /// Calls `f` with what every span holding `x` is of.
    fn holding(&self, x: u32, mut f: impl FnMut(u32)) {
        for (b, &block_hi) in self.block_hi.iter().enumerate() {
            let start = b * BLOCK;
            if self.lo.get(start).is_none_or(|lo| *lo > x) {
                break;
            }
            if block_hi <= x {
                continue;
            }
            let end = (start + BLOCK).min(self.lo.len());
            for i in start..end {
                if let (Some(&lo), Some(&hi), Some(&of)) =
                    (self.lo.get(i), self.hi.get(i), self.of.get(i))
                {
                    if lo <= x && x < hi {
                        f(of);
                    }
                }
            }
        }
    }
}

/// The users a `who` question about an org can name (see the module
/// documentation).
pub(crate) struct WhoIndex {
    own: Spans,
    /// Spans of the member lists, each of the list's number in `starts`.
    members: Spans,
    /// Users by the member list they read (the one their record points
    /// at, as a decision reads it): those reading list `i` are
    /// `list_users[list_start[i]..list_start[i + 1]]`.
    list_start: Vec<u32>,
    list_users: Vec<u32>,
}

impl WhoIndex {
    pub(crate) fn new(d: &View<'_>) -> WhoIndex {
        let users = d.user_count() as u32;
        let is_role = |item: u32| item & POLICY_BIT == 0;
        let mut own = Vec::new();
        for u in 0..users {
            let Some((start, end)) = d.user_grant_range(u) else {
                continue;
            };
            for g in d
                .user_grants
                .get(start * 3..end * 3)
                .unwrap_or(&[])
                .chunks_exact(3)
            {
                if is_role(g[2]) {
                    own.push((g[0], g[1], u));
                }
            }
        }
        // Users by where their member list starts, in order of that start.
        let mut by_list: Vec<(u32, u32)> = (0..users)
            .filter_map(|u| d.user_rec.get(u as usize * 2 + 1).map(|s| (*s, u)))
            .collect();
        by_list.sort_unstable();
        let (mut list_start, mut list_users, mut members) = (Vec::new(), Vec::new(), Vec::new());
        for (i, (start, u)) in by_list.iter().enumerate() {
            let first_of_list = i == 0 || by_list[i - 1].0 != *start;
            if first_of_list {
                let list = list_start.len() as u32;
                list_start.push(list_users.len() as u32);
                // The list as a decision reads it: up to its terminator.
                let grants = d.member_grants.get(*start as usize * 3..).unwrap_or(&[]);
                for g in grants.chunks_exact(3) {
                    if g[0] == NONE {
                        break;
                    }
                    if is_role(g[2]) {
                        members.push((g[0], g[1], list));
                    }
                }
            }
            list_users.push(*u);
        }
        list_start.push(list_users.len() as u32);
        WhoIndex {
            own: Spans::new(own),
            members: Spans::new(members),
            list_start,
            list_users,
        }
    }

    /// Every user with a role grant that reaches org `x`, sorted, once each.
    pub(crate) fn candidates(&self, x: u32) -> Vec<u32> {
        let mut out = Vec::new();
        self.own.holding(x, |u| out.push(u));
        self.members.holding(x, |list| {
            let (a, b) = (
                self.list_start.get(list as usize).copied().unwrap_or(0) as usize,
                self.list_start.get(list as usize + 1).copied().unwrap_or(0) as usize,
            );
            out.extend_from_slice(self.list_users.get(a..b).unwrap_or(&[]));
        });
        out.sort_unstable();
        out.dedup();
        out
    }
}
