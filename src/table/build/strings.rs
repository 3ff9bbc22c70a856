//! The string section: every name once, as a blob and offsets, and the
//! name-sorted indexes that lookups binary-search.

use crate::model::HashMap;
use trellis_table::TableData;

pub(super) struct Strings {
    blob: Vec<u8>,
    off: Vec<u32>,
    index: HashMap<String, u32>,
}

impl Default for Strings {
    fn default() -> Strings {
        Strings {
            blob: Vec::new(),
            off: vec![0],
            index: HashMap::default(),
        }
    }
}

impl Strings {
    /// Appends a string known to be new among those it is compared with
    /// (user ids are unique), skipping the index: a million lookups in the
    /// index cost more than the few bytes a repeat would.
    pub fn push_unindexed(&mut self, s: &str) -> u32 {
        self.blob.extend_from_slice(s.as_bytes());
        self.off.push(self.blob.len() as u32);
        (self.off.len() - 2) as u32
    }

    /// The id of `s`, added when new.
    pub fn id(&mut self, s: &str) -> u32 {
        if let Some(i) = self.index.get(s) {
            return *i;
        }
        let id = self.push_unindexed(s);
        self.index.insert(s.to_owned(), id);
        id
    }

    fn text(&self, id: u32) -> &[u8] {
        let s = id as usize;
        &self.blob[self.off[s] as usize..self.off[s + 1] as usize]
    }

    /// Positions of `names` sorted by their text (ties by position).
    fn sorted_by_name(&self, names: &[u32]) -> Vec<u32> {
        let mut idx: Vec<u32> = (0..names.len() as u32).collect();
        idx.sort_by(|a, b| {
            self.text(names[*a as usize])
                .cmp(self.text(names[*b as usize]))
                .then(a.cmp(b))
        });
        idx
    }

    /// Writes the strings and the name indexes (names must be final).
    pub fn write(self, d: &mut TableData) {
        d.org_sorted = self.sorted_by_name(&d.org_name);
        // Users, resources and dimensions are numbered by id already: no
        // separate index by name.
        d.role_name_sorted = self.sorted_by_name(&d.role_name);
        d.role_qualified_sorted = self.sorted_by_name(&d.role_qualified);
        d.module_sorted = self.sorted_by_name(&d.module_name);
        d.policy_sorted = self.sorted_by_name(&d.policy_name);
        d.str_blob = self.blob;
        d.str_off = self.off;
    }
}
