//! `trellis init [DIR] [--tenant ORG]...`: a policy repository that checks
//! clean and whose tests pass (manual: *`trellis init`*).

use std::path::{Path, PathBuf};

use clap::Args;

use super::{EXIT_OK, EXIT_USAGE};

#[derive(Args, Debug)]
pub struct InitArgs {
    /// The directory to create the repository in (default: the current
    /// one). It may exist, holding nothing but dot entries such as `.git`.
    dir: Option<PathBuf>,
    /// A tenant org to scaffold under `tenants/` (repeat for more; default
    /// one, `acme`).
    #[arg(long = "tenant", value_name = "ORG")]
    tenants: Vec<String>,
}

pub fn run(args: InitArgs) -> u8 {
    let dir = args.dir.unwrap_or_else(|| PathBuf::from("."));
    let mut tenants = args.tenants;
    if tenants.is_empty() {
        tenants.push("acme".to_owned());
    }
    for (i, t) in tenants.iter().enumerate() {
        if !is_tenant_id(t) {
            super::err(&format!(
                "error: `{t}` is not a tenant org id: lowercase letters, digits, `_`, `.` and `-`, starting with a letter or digit, at most 100 bytes, not `provider`\n"
            ));
            return EXIT_USAGE;
        }
        if tenants[..i].contains(t) {
            super::err(&format!("error: tenant `{t}` given twice\n"));
            return EXIT_USAGE;
        }
    }
    // Everything is checked before anything is written.
    match std::fs::read_dir(&dir) {
        Ok(entries) => {
            let mut taken: Vec<String> = entries
                .filter_map(Result::ok)
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|n| !n.starts_with('.'))
                .collect();
            taken.sort();
            if !taken.is_empty() {
                super::err(&format!(
                    "error: `{}` is not empty (it holds {}): `trellis init` writes into an empty directory (dot entries such as `.git` are fine) and never overwrites a file\n",
                    dir.display(),
                    taken
                        .iter()
                        .map(|n| format!("`{n}`"))
                        .collect::<Vec<_>>()
                        .join(", ")
                ));
                return EXIT_USAGE;
            }
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => {
            super::err(&format!("error: cannot read `{}`: {e}\n", dir.display()));
            return EXIT_USAGE;
        }
    }
    let files = scaffold(&tenants);
    for (rel, _) in &files {
        let path = dir.join(rel);
        if std::fs::symlink_metadata(&path).is_ok() {
            super::err(&format!(
                "error: `{}` exists: `trellis init` never overwrites a file; nothing was written\n",
                path.display()
            ));
            return EXIT_USAGE;
        }
    }
    let mut written: Vec<PathBuf> = Vec::new();
    for (rel, text) in &files {
        let path = dir.join(rel);
        if let Err(e) = write_new(&path, text.as_bytes()) {
            // Leave nothing half-made behind.
            for p in written.iter().rev() {
                let _ = std::fs::remove_file(p);
            }
            super::err(&format!("error: cannot write `{}`: {e}\n", path.display()));
            return EXIT_USAGE;
        }
        written.push(path);
    }
    let mut text = format!(
        "created a policy repository in {} ({} files):\n",
        dir.display(),
        files.len()
    );
    for (rel, _) in &files {
        text.push_str(&format!("  {rel}\n"));
    }
    text.push_str(&format!(
        "next: cd {} && trellis check && trellis test; then replace the placeholder logins in trellis-owners.toml and YOUR-ORG in .github/workflows/trellis.yml\n",
        dir.display()
    ));
    super::out(&text);
    EXIT_OK
}

fn is_tenant_id(s: &str) -> bool {
    let b = s.as_bytes();
    s != "provider"
        && !b.is_empty()
        && b.len() <= 100
        && (b[0].is_ascii_lowercase() || b[0].is_ascii_digit())
        && b.iter().all(|c| {
            c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, b'_' | b'.' | b'-')
        })
}

/// Writes a new file (never replacing one), creating its directories; the
/// text goes to a temporary file first, renamed into place.
fn write_new(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let parent = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    std::fs::create_dir_all(parent)?;
    let mut tmp = tempfile_in(parent)?;
    tmp.1.write_all(bytes)?;
    tmp.1.sync_all()?;
    drop(tmp.1);
    // `hard_link` fails if the target exists: never overwrite.
    let result = std::fs::hard_link(&tmp.0, path);
    let _ = std::fs::remove_file(&tmp.0);
    result
}

fn tempfile_in(dir: &Path) -> std::io::Result<(PathBuf, std::fs::File)> {
    for n in 0..1000u32 {
        let p = dir.join(format!(".trellis-init-{}-{n}.tmp", std::process::id()));
        match std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&p)
        {
            Ok(f) => return Ok((p, f)),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(e),
        }
    }
    Err(std::io::Error::other("no temporary file name free"))
}

fn title(t: &str) -> String {
    let mut c = t.chars();
    match c.next() {
        Some(f) => f.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}

/// The files of a new repository, by path, in the order printed.
fn scaffold(tenants: &[String]) -> Vec<(String, String)> {
    let mut files = Vec::new();
    let schema = trellis::load::raw::policy_file_schema();
    let config_schema = trellis::config::config_schema();
    files.push(("README.md".to_owned(), readme(tenants)));
    files.push(("trellis.toml".to_owned(), CONFIG.to_owned()));
    files.push(("trellis-owners.toml".to_owned(), owners(tenants)));
    files.push(("provider/catalog.yaml".to_owned(), CATALOG.to_owned()));
    files.push(("provider/roles.yaml".to_owned(), ROLES.to_owned()));
    files.push(("provider/rules.yaml".to_owned(), RULES.to_owned()));
    files.push(("provider/orgs.yaml".to_owned(), orgs(tenants)));
    for t in tenants {
        files.push((format!("tenants/{t}/{t}.yaml"), tenant(t)));
    }
    files.push(("access.test.yaml".to_owned(), tests(tenants)));
    files.push((
        ".github/workflows/trellis.yml".to_owned(),
        WORKFLOW.to_owned(),
    ));
    files.push((".trellis/schema/trellis.schema.json".to_owned(), schema));
    files.push((
        ".trellis/schema/trellis-config.schema.json".to_owned(),
        config_schema,
    ));
    files
}

const MODELINE: &str = "# yaml-language-server: $schema=../.trellis/schema/trellis.schema.json";

const CONFIG: &str = r#"#:schema .trellis/schema/trellis-config.schema.json
# The settings of this policy set: `trellis check` and `trellis test` read
# them from here (flags on the command line win). Every key is described in
# the trellis manual, "The configuration file".

# Fail on warnings too, not only on errors.
deny_warnings = true

# Who acts for which scope: `trellis check --base REV --author LOGIN` reads
# it from the base revision (see trellis-owners.toml).
owners = "trellis-owners.toml"

[warnings]
# Warning codes never reported, and warning codes that fail the run.
allow = []
deny = []
"#;

const CATALOG: &str = r#"# yaml-language-server: $schema=../.trellis/schema/trellis.schema.json
# The product catalog: modules and their actions, and the kinds of orgs.
scope: provider

modules:
  docs: { actions: [read, write, admin], description: Documents }

kinds:
  company:    { parents: [] }
  department: { parents: [company, department] }
"#;

const ROLES: &str = r#"# yaml-language-server: $schema=../.trellis/schema/trellis.schema.json
# Role types offered to every tenant.
scope: provider

roles:
  reader:
    grants: ["docs:read"]
  developer:
    includes: [reader]
    grants: ["docs:write"]
    assignable_by: [maintainer]
  maintainer:
    includes: [developer]
    grants: ["docs:admin"]
"#;

const RULES: &str = r#"# yaml-language-server: $schema=../.trellis/schema/trellis.schema.json
# The owner of each company maintains it and everything below it.
scope: provider

automatic:
  - name: company-owners
    when: { owner: true, org_kind: company }
    grant: [{ roles: [maintainer], at: [self], inherit: true }]
"#;

fn orgs(tenants: &[String]) -> String {
    let mut s = format!(
        "{MODELINE}\n# The tenants (one company each) and their owners. Each tenant manages\n# its own departments and people under tenants/<org>/.\nscope: provider\n\norgs:\n"
    );
    for t in tenants {
        s.push_str(&format!("  {t}: {{ kind: company, name: {} }}\n", title(t)));
    }
    s.push_str("\nusers:\n");
    for t in tenants {
        s.push_str(&format!("  {t}-owner: {{ org: {t}, owner: true }}\n"));
    }
    s
}

fn tenant(t: &str) -> String {
    format!(
        r#"# yaml-language-server: $schema=../../.trellis/schema/trellis.schema.json
# The files of tenant `{t}` (scope: {t}): everything declared here lies
# inside {t}'s subtree.
scope: {t}

orgs:
  {t}-eng: {{ kind: department, parent: {t}, name: Engineering }}

users:
  {t}-dev: {{ org: {t}-eng }}

assignments:
  - {{ role: developer, user: {t}-dev }}
"#
    )
}

fn tests(tenants: &[String]) -> String {
    let mut s = String::from(
        "# Tests of the whole set: `trellis test` runs every *.test.yaml file.\ntests:\n",
    );
    for t in tenants {
        s.push_str(&format!(
            r#"  # the company-owners rule: maintainer at {t} and below (inherit)
  - name: {t} owner
    user: {t}-owner
    org: {t}-eng
    roles: [maintainer, developer, reader]
    allow: ["docs:admin"]
  - name: {t} developer
    user: {t}-dev
    org: {t}-eng
    roles: [developer, reader]
    allow: ["docs:write", "docs:read"]
    deny: ["docs:admin"]
  - can_assign: {{ by: {t}-owner, role: developer, user: {t}-dev, org: {t}-eng }}
    expect: true
"#
        ));
    }
    if let [a, b, ..] = tenants {
        s.push_str(&format!(
            "  # nothing across tenants\n  - {{ name: {a} owner at {b}, user: {a}-owner, org: {b}, roles: [], deny: [\"docs:read\"] }}\n"
        ));
    }
    s
}

fn owners(tenants: &[String]) -> String {
    let mut s = String::from(
        r#"# Who acts for which scope: the forge logins (GitHub or GitLab user names,
# compared without regard to case) that may change each scope's files.
# `trellis check --base REV --author LOGIN` always reads this file from the
# base revision, so a pull request that edits it changes nothing until it
# is merged, and only a provider owner may edit it. Replace the placeholder
# logins below with real ones.

[teams]
platform = ["platform-admin"]

[[owner]]
scope = "provider"
teams = ["platform"]
"#,
    );
    for t in tenants {
        s.push_str(&format!(
            "\n[[owner]]\nscope = \"{t}\"\nlogins = [\"{t}-admin\"]\n"
        ));
    }
    s
}

const WORKFLOW: &str = r#"# trellis on every pull request: the gate (diagnostics as annotations, SARIF
# to code scanning, the access diff as one sticky comment, the actor from the
# pull request's author and trellis-owners.toml of the base branch), then
# the tests. Replace YOUR-ORG/trellis with the repository holding trellis.
name: trellis

on:
  pull_request:

permissions:
  contents: read
  security-events: write # SARIF upload
  pull-requests: write # the access-diff comment

concurrency:
  group: trellis-${{ github.event.pull_request.number }}
  cancel-in-progress: true

jobs:
  trellis:
    runs-on: ubuntu-latest
    timeout-minutes: 30
    steps:
      - uses: actions/checkout@v4
        with:
          fetch-depth: 0 # the base revision is read from git

      - name: trellis gate
        uses: YOUR-ORG/trellis@v0.1.0 # placeholder: the trellis repository and tag
        with:
          path: .
          base: origin/${{ github.base_ref }}
          author: ${{ github.event.pull_request.user.login }}

      - name: trellis test
        if: ${{ !cancelled() }}
        run: trellis test .
"#;

fn readme(tenants: &[String]) -> String {
    let dirs: String = tenants
        .iter()
        .map(|t| format!("  tenants/{t}/              the files of tenant {t} (scope: {t})\n"))
        .collect();
    format!(
        r#"# Access policy

This repository holds the access policy of the platform as code, checked by
[trellis](https://github.com/YOUR-ORG/trellis). Every pull request is
checked before it merges.

```
trellis.toml              settings: `deny_warnings`, the owners file, ...
trellis-owners.toml       who (forge logins) may act for which scope
provider/                 the provider's files (scope: provider)
  catalog.yaml            modules and org kinds
  roles.yaml              role types offered to every tenant
  rules.yaml              automatic rules (company owners)
  orgs.yaml               the tenants and their owners
{dirs}access.test.yaml          tests of the whole set
.github/workflows/        CI: the trellis gate and the tests
.trellis/schema/          JSON Schemas for editors (the modeline of each file)
```

## Working on it

```sh
trellis check                 # every diagnostic, with its file and line
trellis test                  # the expectations of access.test.yaml
trellis query . --user {t}-dev --org {t}-eng --permission docs:write --explain
```

The `scope` line of each file, not its directory, decides what it may
declare: a tenant's file may only declare things inside its own subtree.

## Who may change what

`trellis-owners.toml` lists, for each scope, the forge logins (and teams of
logins) that act for it. On a pull request, CI runs

```sh
trellis check . --base origin/main --author <the pull request's author>
```

which takes the owners file from the base branch, picks the narrowest scope
the author acts for that covers every changed file, and then refuses any
change outside that scope's subtree or to an item the provider locked
(E012). An author with no scope, or whose scopes do not cover the change,
is refused. Only a provider owner may change `trellis.toml` or the owners
file; an edit to the owners file takes effect once merged.

Also protect the default branch: require the `trellis` job, and require
code-owner review of `.github/` by the platform team.

## CI

`.github/workflows/trellis.yml` runs the trellis action (install, gate,
SARIF, the access diff as a comment) and the tests. On GitLab, use the
pipeline of the trellis manual, section "GitLab CI", with
`--author "$GITLAB_USER_LOGIN"` in place of `--actor`.
"#,
        t = tenants.first().map(String::as_str).unwrap_or("acme")
    )
}
