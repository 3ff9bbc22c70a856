//! The closed set of diagnostic codes (SPEC §12) and their explanations.

use super::Severity;

/// Every diagnostic code trellis can report. Codes are stable: never renumber.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Code {
    /// Syntax error in YAML or TOML, or a file that cannot be read as text.
    E001,
    /// Wrong shape: unknown key, wrong type, missing key, bad id or pattern.
    E002,
    /// Duplicate id, name, entry or key.
    E003,
    /// Unknown reference, or a pattern that matches nothing.
    E004,
    /// Org tree cycle.
    E005,
    /// Role cycle through `includes` or `from`.
    E006,
    /// Role assigned where it is not published.
    E007,
    /// Exclusion (separation of duty) violated.
    E008,
    /// Identity type not allowed for the role.
    E009,
    /// Outside the file's scope, or a section the scope may not write.
    E010,
    /// Tenant overrides a provider lock.
    E011,
    /// Change check: the actor changed something outside its scope or locked.
    E012,
    /// The assigner lacks the right to assign the role to that target.
    E013,
    /// Self-service not allowed.
    E014,
    /// Org kind not allowed under its parent's kind.
    E015,
    /// Dimensioned role held more often than `multiple` allows.
    E016,
    /// Role shadows a role visible from an ancestor.
    W101,
    /// Assignment of a disabled role.
    W102,
    /// Custom role never assigned, included nor cloned.
    W103,
    /// Assignment already implied by another.
    W104,
}

impl Code {
    /// Every code, in declaration order: a code's discriminant is its index.
    pub const ALL: [Code; 20] = [
        Code::E001,
        Code::E002,
        Code::E003,
        Code::E004,
        Code::E005,
        Code::E006,
        Code::E007,
        Code::E008,
        Code::E009,
        Code::E010,
        Code::E011,
        Code::E012,
        Code::E013,
        Code::E014,
        Code::E015,
        Code::E016,
        Code::W101,
        Code::W102,
        Code::W103,
        Code::W104,
    ];

    /// The code as written (`E008`).
    pub fn as_str(self) -> &'static str {
        match self {
            Code::E001 => "E001",
            Code::E002 => "E002",
            Code::E003 => "E003",
            Code::E004 => "E004",
            Code::E005 => "E005",
            Code::E006 => "E006",
            Code::E007 => "E007",
            Code::E008 => "E008",
            Code::E009 => "E009",
            Code::E010 => "E010",
            Code::E011 => "E011",
            Code::E012 => "E012",
            Code::E013 => "E013",
            Code::E014 => "E014",
            Code::E015 => "E015",
            Code::E016 => "E016",
            Code::W101 => "W101",
            Code::W102 => "W102",
            Code::W103 => "W103",
            Code::W104 => "W104",
        }
    }

    /// The code written `s` (any case), if there is one.
    pub fn parse(s: &str) -> Option<Code> {
        let upper = s.trim().to_ascii_uppercase();
        Code::ALL.into_iter().find(|c| c.as_str() == upper)
    }

    /// Errors are `E…`, warnings `W…`.
    pub fn severity(self) -> Severity {
        match self {
            Code::W101 | Code::W102 | Code::W103 | Code::W104 => Severity::Warning,
            _ => Severity::Error,
        }
    }

    /// One line: what the code means (SARIF rule description, `explain` title).
    pub fn title(self) -> &'static str {
        match self {
            Code::E001 => "syntax error in YAML or TOML",
            Code::E002 => "wrong shape: unknown key, wrong type, missing required key, bad id",
            Code::E003 => "duplicate id, name, publication entry or key",
            Code::E004 => "unknown reference",
            Code::E005 => "org tree cycle",
            Code::E006 => "role cycle through `includes` or `from`",
            Code::E007 => "role assigned where it is not published",
            Code::E008 => "exclusion (separation of duty) violated",
            Code::E009 => "identity type not allowed for role",
            Code::E010 => "outside the file's scope, or a section this scope may not write",
            Code::E011 => "tenant overrides a provider lock",
            Code::E012 => "change outside the actor's scope or to a locked item",
            Code::E013 => "assigner lacks the right to assign the role to that target",
            Code::E014 => "self-service not allowed",
            Code::E015 => "org kind not allowed under its parent's kind",
            Code::E016 => "role assigned several times to one user where `multiple` is false",
            Code::W101 => "role shadows a role visible from an ancestor",
            Code::W102 => "assignment of a disabled role",
            Code::W103 => "custom role never assigned, included nor cloned",
            Code::W104 => "assignment already implied by another",
        }
    }

    /// The long explanation printed by `trellis explain CODE`.
    pub fn explanation(self) -> &'static str {
        match self {
            Code::E001 => include_str!("explain/E001.md"),
            Code::E002 => include_str!("explain/E002.md"),
            Code::E003 => include_str!("explain/E003.md"),
            Code::E004 => include_str!("explain/E004.md"),
            Code::E005 => include_str!("explain/E005.md"),
            Code::E006 => include_str!("explain/E006.md"),
            Code::E007 => include_str!("explain/E007.md"),
            Code::E008 => include_str!("explain/E008.md"),
            Code::E009 => include_str!("explain/E009.md"),
            Code::E010 => include_str!("explain/E010.md"),
            Code::E011 => include_str!("explain/E011.md"),
            Code::E012 => include_str!("explain/E012.md"),
            Code::E013 => include_str!("explain/E013.md"),
            Code::E014 => include_str!("explain/E014.md"),
            Code::E015 => include_str!("explain/E015.md"),
            Code::E016 => include_str!("explain/E016.md"),
            Code::W101 => include_str!("explain/W101.md"),
            Code::W102 => include_str!("explain/W102.md"),
            Code::W103 => include_str!("explain/W103.md"),
            Code::W104 => include_str!("explain/W104.md"),
        }
    }
}

impl std::fmt::Display for Code {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_unique_and_parse_back() {
        let mut seen = std::collections::BTreeSet::new();
        for (i, c) in Code::ALL.into_iter().enumerate() {
            assert_eq!(
                c as usize, i,
                "{c} is out of declaration order in Code::ALL"
            );
            assert!(seen.insert(c.as_str()), "duplicate code {c}");
            assert_eq!(Code::parse(c.as_str()), Some(c));
            assert!(c.explanation().starts_with(&format!("# {c}")));
        }
        assert_eq!(Code::parse("e008"), Some(Code::E008));
        assert_eq!(Code::parse("E999"), None);
    }
}
