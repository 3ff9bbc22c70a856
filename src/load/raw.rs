//! The typed shape of policy files and test files (SPEC §1–§10, §14.2).
//!
//! These types are both what the loader deserialises into and what
//! `trellis schema` describes, so the two cannot drift apart.

use schemars::JsonSchema;
use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;
use std::collections::BTreeMap;

use super::de::Spanned;

pub type Str = Spanned<String>;

/// One policy file. Every section is optional; `scope` is required.
#[derive(JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(title = "trellis policy file")]
pub struct RawFile {
    /// `provider`, or the id of the org whose subtree this file administers.
    pub scope: String,
    /// Free text.
    pub description: Option<String>,
    pub modules: Option<BTreeMap<String, RawModule>>,
    pub policies: Option<BTreeMap<String, RawPolicy>>,
    pub kinds: Option<BTreeMap<String, RawKind>>,
    pub orgs: Option<BTreeMap<String, RawOrg>>,
    pub users: Option<BTreeMap<String, RawUser>>,
    pub roles: Option<BTreeMap<String, RawRole>>,
    pub assignments: Option<Vec<RawAssignment>>,
    pub publications: Option<Vec<RawPublication>>,
    pub exclusions: Option<Vec<RawExclusion>>,
    pub automatic: Option<Vec<RawRule>>,
    /// Groups of resources (provider only).
    pub dimensions: Option<BTreeMap<String, RawDimension>>,
    /// Resources that roles, assignments and rule grants can be tied to.
    pub resources: Option<BTreeMap<String, RawResource>>,
}

/// The top-level keys of a policy file, in the order the schema lists them.
pub const FILE_KEYS: &[&str] = &[
    "scope",
    "description",
    "modules",
    "policies",
    "kinds",
    "orgs",
    "users",
    "roles",
    "assignments",
    "publications",
    "exclusions",
    "automatic",
    "dimensions",
    "resources",
];

#[derive(Deserialize, JsonSchema, Debug, Clone, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct RawDimension {
    pub description: Option<String>,
}

#[derive(Deserialize, JsonSchema, Debug, Clone, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct RawResource {
    /// The dimension the resource belongs to (required).
    pub dimension: Option<Str>,
    /// The org the resource belongs to; without it, it is available at every org.
    pub org: Option<Str>,
    pub description: Option<String>,
}

/// A restriction: dimension -> the resources allowed on it, each key and
/// id with its place in the file.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RawResources(pub Vec<(Str, Spanned<Vec<Str>>)>);

impl<'de> Deserialize<'de> for RawResources {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = RawResources;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a map of dimension to a list of resource ids")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<RawResources, A::Error> {
                let mut out = Vec::new();
                while let Some(entry) = map.next_entry::<Str, Spanned<Vec<Str>>>()? {
                    out.push(entry);
                }
                Ok(RawResources(out))
            }
        }
        d.deserialize_map(V)
    }
}

#[derive(Deserialize, JsonSchema, Debug, Clone, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct RawModule {
    pub actions: Vec<Str>,
    #[serde(default)]
    pub gated: bool,
    /// Its permissions are resource permissions of this dimension.
    pub dimension: Option<Str>,
    pub description: Option<String>,
}

#[derive(Deserialize, JsonSchema, Debug, Clone, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct RawPolicy {
    pub modules: Vec<Str>,
    pub description: Option<String>,
}

#[derive(Deserialize, JsonSchema, Debug, Clone, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct RawKind {
    /// Kinds an org of this kind may sit under; `[]` means top level.
    #[serde(default)]
    pub parents: Vec<Str>,
    pub description: Option<String>,
}

#[derive(Deserialize, JsonSchema, Debug, Clone, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct RawOrg {
    pub kind: Option<Str>,
    pub parent: Option<Str>,
    pub name: Option<String>,
    pub description: Option<String>,
}

#[derive(Deserialize, JsonSchema, Debug, Clone, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct RawUser {
    /// The user's home org.
    pub org: Str,
    /// Identity type (default `employee`).
    #[serde(rename = "type")]
    pub identity: Option<Str>,
    #[serde(default)]
    pub owner: bool,
    #[serde(default)]
    pub attributes: BTreeMap<String, String>,
    pub description: Option<String>,
}

#[derive(Deserialize, JsonSchema, Debug, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum RoleStatus {
    Active,
    Disabled,
}

#[derive(Deserialize, JsonSchema, Debug, Clone, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct RawRole {
    pub description: Option<String>,
    /// Permission patterns: `module:action`, `module:*`, `*:action`, `*:*`.
    #[serde(default)]
    pub grants: Vec<Str>,
    #[serde(default)]
    pub includes: Vec<Str>,
    #[serde(default)]
    pub excludes: Vec<Str>,
    #[serde(default)]
    pub assignable_by: Vec<Str>,
    #[serde(default)]
    pub self_service: bool,
    pub approval: Option<String>,
    pub identity_types: Option<Vec<Str>>,
    pub status: Option<Spanned<RoleStatus>>,
    pub locked: Option<Spanned<bool>>,
    pub published: Option<bool>,
    /// Clone every permission this role confers.
    pub from: Option<Str>,
    /// Patterns removed from the cloned part.
    #[serde(default)]
    pub remove: Vec<Str>,
    /// Restricts the role's own permissions to these resources.
    #[schemars(with = "Option<BTreeMap<String, Vec<String>>>")]
    pub resources: Option<Spanned<RawResources>>,
    /// Dimensions every assignment of the role must name in its `resources`.
    #[serde(default)]
    pub dimensions: Vec<Str>,
    /// May one user hold the role several times (one per resource)?
    pub multiple: Option<Spanned<bool>>,
}

#[derive(Deserialize, JsonSchema, Debug, Clone, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct RawAssignment {
    pub role: Option<Str>,
    // The rarer keys are boxed: two million assignments at the L tier are
    // held while resolving, and each box saves 16 to 32 bytes when absent.
    pub policy: Option<Box<Str>>,
    pub user: Option<Str>,
    pub org: Option<Str>,
    pub inherit: Option<bool>,
    /// The admin who assigns (a user id, or `self`).
    pub by: Option<Box<Str>>,
    pub locked: Option<Box<Spanned<bool>>>,
    pub description: Option<Box<String>>,
    /// Restricts everything the assignment gives to these resources.
    #[schemars(with = "Option<BTreeMap<String, Vec<String>>>")]
    pub resources: Option<Box<Spanned<RawResources>>>,
}

#[derive(Deserialize, JsonSchema, Debug, Clone, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct RawPublication {
    pub role: Str,
    pub org: Str,
    pub publish: Option<bool>,
    pub locked: Option<Spanned<bool>>,
    pub description: Option<String>,
}

#[derive(Deserialize, JsonSchema, Debug, Clone, Copy, PartialEq, Eq, Default)]
#[serde(rename_all = "lowercase")]
pub enum Per {
    #[default]
    User,
    Org,
}

#[derive(Deserialize, JsonSchema, Debug, Clone, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct RawExclusion {
    pub name: Option<Str>,
    pub roles: Vec<Str>,
    pub max: Option<Spanned<u32>>,
    pub per: Option<Per>,
    pub description: Option<String>,
}

#[derive(Deserialize, JsonSchema, Debug, Clone, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct RawRule {
    pub name: Option<Str>,
    pub when: Option<RawWhen>,
    pub grant: Vec<Spanned<RawGrant>>,
    pub locked: Option<Spanned<bool>>,
    pub description: Option<String>,
}

#[derive(Deserialize, JsonSchema, Debug, Clone, Default, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct RawWhen {
    pub owner: Option<bool>,
    #[serde(rename = "type")]
    pub identity: Option<Str>,
    pub org_kind: Option<Str>,
    pub org: Option<Str>,
    #[serde(default)]
    pub attributes: BTreeMap<String, String>,
}

#[derive(Deserialize, JsonSchema, Debug, Clone, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct RawGrant {
    pub roles: Vec<Str>,
    pub at: Vec<Spanned<RawAt>>,
    pub inherit: Option<bool>,
    pub description: Option<String>,
    /// Restricts everything the grant gives to these resources.
    #[schemars(with = "Option<BTreeMap<String, Vec<String>>>")]
    pub resources: Option<Spanned<RawResources>>,
}

/// Where a rule grants: `self`, or `{ descendants: [kinds] | any }`.
#[derive(JsonSchema, Debug, Clone, PartialEq)]
#[serde(untagged)]
pub enum RawAt {
    Home(SelfKeyword),
    Descendants { descendants: Descendants },
}

#[derive(JsonSchema, Debug, Clone, Copy, PartialEq)]
#[serde(rename_all = "lowercase")]
pub enum SelfKeyword {
    #[serde(rename = "self")]
    Home,
}

#[derive(JsonSchema, Debug, Clone, PartialEq)]
#[serde(untagged)]
pub enum Descendants {
    Any(AnyKeyword),
    Kinds(Vec<Str>),
}

#[derive(JsonSchema, Debug, Clone, Copy, PartialEq)]
pub enum AnyKeyword {
    #[serde(rename = "any")]
    Any,
}

// `untagged` would buffer the input and lose spans, so these two read by hand.
impl<'de> Deserialize<'de> for RawAt {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = RawAt;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("`self` or `{ descendants: [kinds] }`")
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<RawAt, E> {
                if s == "self" {
                    Ok(RawAt::Home(SelfKeyword::Home))
                } else {
                    Err(E::custom(format!(
                        "unknown place `{s}`, expected `self` or `{{ descendants: [kinds] }}`"
                    )))
                }
            }
            fn visit_string<E: de::Error>(self, s: String) -> Result<RawAt, E> {
                self.visit_str(&s)
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<RawAt, A::Error> {
                let mut found = None;
                while let Some(k) = map.next_key::<String>()? {
                    if k == "descendants" {
                        found = Some(map.next_value::<Descendants>()?);
                    } else {
                        return Err(de::Error::unknown_field(&k, &["descendants"]));
                    }
                }
                match found {
                    Some(d) => Ok(RawAt::Descendants { descendants: d }),
                    None => Err(de::Error::missing_field("descendants")),
                }
            }
        }
        d.deserialize_any(V)
    }
}

impl<'de> Deserialize<'de> for Descendants {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Descendants;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("`any` or a list of kinds")
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<Descendants, E> {
                if s == "any" {
                    Ok(Descendants::Any(AnyKeyword::Any))
                } else {
                    Err(E::custom(format!(
                        "expected `any` or a list of kinds, found `{s}`"
                    )))
                }
            }
            fn visit_string<E: de::Error>(self, s: String) -> Result<Descendants, E> {
                self.visit_str(&s)
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Descendants, A::Error> {
                let mut kinds = Vec::new();
                while let Some(k) = seq.next_element::<Str>()? {
                    kinds.push(k);
                }
                Ok(Descendants::Kinds(kinds))
            }
        }
        d.deserialize_any(V)
    }
}

/// A test file (SPEC §10).
#[derive(Deserialize, JsonSchema, Debug)]
#[serde(deny_unknown_fields)]
pub struct RawTestFile {
    #[serde(default)]
    pub tests: Vec<Spanned<RawCase>>,
    /// Codes the check of the whole set must report, once per occurrence.
    pub diagnostics: Option<Vec<Str>>,
    pub description: Option<String>,
}

#[derive(Deserialize, JsonSchema, Debug)]
#[serde(deny_unknown_fields)]
pub struct RawCase {
    pub name: Option<String>,
    pub description: Option<String>,
    pub user: Option<Str>,
    pub org: Option<Str>,
    pub allow: Option<Vec<Str>>,
    pub deny: Option<Vec<Str>>,
    pub roles: Option<Vec<Str>>,
    pub published: Option<Vec<Str>>,
    pub unpublished: Option<Vec<Str>>,
    pub can_assign: Option<RawCanAssign>,
    pub expect: Option<bool>,
    /// `allow`/`deny` are asked about this resource (its org by default).
    pub resource: Option<Str>,
}

#[derive(Deserialize, JsonSchema, Debug)]
#[serde(deny_unknown_fields)]
pub struct RawCanAssign {
    pub by: Str,
    pub role: Str,
    pub user: Str,
    pub org: Option<Str>,
    /// The assignment's `resources`: dimension -> resource ids.
    #[serde(default)]
    pub resources: BTreeMap<String, Vec<String>>,
}

/// The JSON Schema of a policy file, as `trellis schema` prints it.
#[expect(
    clippy::expect_used,
    reason = "a schema is a serde_json::Value: it always serialises"
)]
pub fn policy_file_schema() -> String {
    let mut schema = schemars::schema_for!(RawFile);
    schema.insert(
        "$id".into(),
        serde_json::Value::String("https://trellis.dev/schema/trellis.schema.json".into()),
    );
    let mut out = serde_json::to_string_pretty(&schema).expect("a schema always serialises");
    out.push('\n');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_keys_match_the_schema() {
        let schema = serde_json::to_value(schemars::schema_for!(RawFile)).expect("schema");
        let props: Vec<&str> = schema["properties"]
            .as_object()
            .expect("the schema has properties")
            .keys()
            .map(String::as_str)
            .collect();
        let mut a = props.clone();
        a.sort();
        let mut b = FILE_KEYS.to_vec();
        b.sort();
        assert_eq!(a, b);
    }
}
