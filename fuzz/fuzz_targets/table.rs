//! Fuzzes the decision-table loader: arbitrary bytes, resealed so that they
//! pass the checksum and reach the structural checks, then every query on
//! every handle the table claims to have, whether or not its per-user
//! records pass `check_records` (loading leaves those out because queries
//! must stay in bounds without them). Nothing may panic or read out of
//! bounds, whatever the arrays say.
#![no_main]

use libfuzzer_sys::fuzz_target;
use trellis::table::{format::reseal, Dimension, Org, Perm, Resource, Role, Table, User};

fuzz_target!(|data: &[u8]| {
    let mut bytes = data.to_vec();
    reseal(&mut bytes);
    let Ok(t) = Table::from_bytes(&bytes) else {
        return;
    };
    let users = t.user_count().min(8) as u32;
    let orgs = t.org_count().min(8) as u32;
    for u in 0..users + 1 {
        for x in 0..orgs + 1 {
            for p in 0..4 {
                let _ = t.allow(User(u), Perm(p), Org(x));
                let _ = t.explain(User(u), Perm(p), Org(x)).lines(&t);
                for q in 0..3 {
                    let _ = t.allow_on(User(u), Perm(p), Org(x), Some(Resource(q)));
                    let _ = t.explain_on(User(u), Perm(p), Org(x), Some(Resource(q))).lines(&t);
                }
            }
            let _ = t.roles(User(u), Org(x));
            let _ = t.policies(User(u), Org(x));
            let _ = t.published(Role(u), Org(x));
            let _ = t.can_assign(User(u), Role(x), User(u), Org(x));
            let given = [(Dimension(0), &[Resource(0), Resource(u)][..])];
            let _ = t.can_assign_with(User(u), Role(x), User(x), Org(x), &given);
            let _ = t.resources_at(Org(x));
        }
    }
    let _ = t.check_records();
    let _ = t.assignable_at(Org(0));
    let _ = t.to_json();
    let _ = t.user("a");
    let _ = t.permission("a:b");
});
