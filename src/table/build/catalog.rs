//! The catalog section: modules (gated, dimension) with their actions as
//! permissions, and access policies with the modules they list.

use super::{bits, numbering::Canon, strings::Strings};
use crate::model::Model;
use trellis_table::{TableData, NONE};

pub(super) fn build(m: &Model, c: &Canon, s: &mut Strings, d: &mut TableData) {
    let module_words = m.modules.len().div_ceil(64).max(1);
    let mut first = 0u32;
    for (i, mi) in c.module_order.iter().enumerate() {
        let md = &m.modules[mi.index()];
        d.module_name.push(s.id(&md.id));
        d.module_first_perm.push(first);
        d.module_gated.push(u32::from(md.gated));
        d.module_dim
            .push(md.dimension.map_or(NONE, |x| c.dim_new[x.index()]));
        for action in &md.actions {
            d.perm_module.push(i as u32);
            d.perm_action.push(s.id(action));
        }
        first += md.actions.len() as u32;
    }
    d.module_first_perm.push(m.perms.len() as u32);
    for pi in &c.policy_order {
        let p = &m.policies[pi.index()];
        d.policy_name.push(s.id(&p.id));
        d.policy_modules.extend(bits(
            module_words,
            p.modules.iter().map(|x| c.module_new[x.index()] as usize),
        ));
    }
}
