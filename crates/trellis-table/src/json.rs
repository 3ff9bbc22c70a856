//! A readable, stable dump of a table's content (`trellis compile --json`).

use serde_json::json;

use crate::{format, Granted, Org, Policy, Role, Table, User, FLAG_ACTIVE, FLAG_LOCKED};
use crate::{FLAG_SELF_SERVICE, LOCKED_BIT, NONE, POLICY_BIT};

impl Table {
    /// The table as JSON: orgs with their publication and grants, users
    /// with their grants, roles, and (when the set has them) resources.
    pub fn to_json(&self) -> serde_json::Value {
        let d = self.d();
        let roles_of_set = |pool: &[u64], set: u32| -> Vec<String> {
            (0..d.role_count)
                .filter(|r| Self::bit(pool, d.role_words, set, *r))
                .map(|r| self.role_name(Role(r)).to_owned())
                .collect()
        };
        let resources = |list: &[(crate::Dimension, Vec<crate::Resource>)]| -> serde_json::Value {
            list.iter()
                .map(|(dim, rs)| {
                    (
                        self.dimension_name(*dim).to_owned(),
                        json!(rs
                            .iter()
                            .map(|q| self.resource_name(*q))
                            .collect::<Vec<_>>()),
                    )
                })
                .collect::<serde_json::Map<_, _>>()
                .into()
        };
        let grant = |g: &[u32]| {
            let item = g[2];
            let (granted, restr) = if item & POLICY_BIT != 0 {
                (Granted::Policy(Policy(item & crate::ITEM_MASK)), NONE)
            } else {
                let (id, restr) = Self::role_item(d, item);
                (Granted::Role(Role(id)), restr)
            };
            let mut v = json!({
                "role": match granted { Granted::Role(r) => Some(self.role_name(r).to_owned()), Granted::Policy(_) => None },
                "policy": match granted { Granted::Policy(p) => Some(self.policy_name(p).to_owned()), Granted::Role(_) => None },
                "at": self.org_name(Org(g[0])),
                "orgs_reached": g[1].saturating_sub(g[0]),
                "locked": item & LOCKED_BIT != 0,
            });
            if restr != NONE {
                v["resources"] = resources(&self.restriction(restr));
            }
            v
        };
        let orgs: Vec<_> = (0..self.org_count() as u32)
            .map(|o| {
                let s = d.org_grant_start.get(o as usize).copied().unwrap_or(0) as usize;
                let e = d.org_grant_start.get(o as usize + 1).copied().unwrap_or(0) as usize;
                json!({
                    "id": self.org_name(Org(o)),
                    "parent": d.org_parent.get(o as usize).filter(|p| **p != NONE).map(|p| self.org_name(Org(*p)).to_owned()),
                    "published": roles_of_set(d.pub_pool, d.org_pubset(o).unwrap_or(0)),
                    "grants": d.org_grants.get(s * 3..e * 3).unwrap_or(&[]).chunks_exact(3).map(grant).collect::<Vec<_>>(),
                })
            })
            .collect();
        let users: Vec<_> = (0..self.user_count() as u32)
            .map(|u| {
                json!({
                    "id": self.user_name(User(u)),
                    "home": self.org_name(Org(d.user_home(u).unwrap_or(0))),
                    "identity": d.str_of(d.identity_name, d.user_identity(u).unwrap_or(0)),
                    "grants": self.grants_of_user(User(u)).chunks_exact(3).map(grant).collect::<Vec<_>>(),
                })
            })
            .collect();
        let roles: Vec<_> = (0..d.role_count)
            .map(|r| {
                let f = d.role_flags.get(r as usize).copied().unwrap_or(0);
                let mut v = json!({
                    "name": d.str_of(d.role_qualified, r),
                    "active": f & FLAG_ACTIVE != 0,
                    "locked": f & FLAG_LOCKED != 0,
                    "self_service": f & FLAG_SELF_SERVICE != 0,
                    "approval": self.role_approval(Role(r)),
                });
                let own = self.role_resources(Role(r));
                if !own.is_empty() {
                    v["resources"] = resources(&own);
                }
                v
            })
            .collect();
        let mut out = json!({
            "format_version": format::VERSION,
            "input_hash": format!("{:016x}", d.input_hash),
            "orgs": orgs,
            "users": users,
            "roles": roles,
        });
        if !d.res_name.is_empty() {
            out["resources"] = (0..d.res_name.len() as u32)
                .map(|q| {
                    let q = crate::Resource(q);
                    json!({
                        "id": self.resource_name(q),
                        "dimension": self.resource_dimension(q).map(|dim| self.dimension_name(dim)),
                        "org": self.resource_org(q).map(|o| self.org_name(o)),
                    })
                })
                .collect::<Vec<_>>()
                .into();
        }
        out
    }
}
