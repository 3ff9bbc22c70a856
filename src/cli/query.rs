use std::io::BufRead;
use std::path::PathBuf;

use clap::{Args, ValueEnum};
use trellis::query::{decide, roles, Answer, Question};
use trellis::table::Table;

use super::questions::Asked;

use super::{InputArgs, EXIT_FINDINGS, EXIT_OK, EXIT_USAGE};

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub(super) enum OutFormat {
    Text,
    Json,
}

#[derive(Args, Debug)]
pub struct QueryArgs {
    /// The policy set (a directory or file).
    path: PathBuf,
    /// The user's id.
    #[arg(long)]
    user: Option<String>,
    /// The org's id.
    #[arg(long)]
    org: Option<String>,
    /// `module:action`.
    #[arg(long)]
    permission: Option<String>,
    /// Ask about this resource; `--org` may then be left out unless the
    /// resource belongs to no org.
    #[arg(long)]
    resource: Option<String>,
    /// Print the derivation of the decision.
    #[arg(long)]
    explain: bool,
    /// Print the effective roles of the user at the org instead.
    #[arg(long)]
    roles: bool,
    /// Print every user allowed `--permission` at `--org` (or on
    /// `--resource`), sorted; with `--explain`, each one's derivation.
    #[arg(long, conflicts_with_all = ["roles", "policies", "published", "can_assign"])]
    who: bool,
    /// Print the access policies reaching `--user` at `--org`.
    #[arg(long, conflicts_with_all = ["roles", "published", "can_assign"])]
    policies: bool,
    /// Print the roles published at `--org`, or with `--role` whether that
    /// one is (`published` or `unpublished`).
    #[arg(long, conflicts_with_all = ["roles", "can_assign"])]
    published: bool,
    /// May `--by` give `--role` to `--user` at `--org`? Prints `allow` or
    /// `deny`; with `--explain`, why not (from sources).
    #[arg(long, requires_all = ["by", "role"], conflicts_with = "roles")]
    can_assign: bool,
    /// The admin of `--can-assign` (`self`: the user themselves).
    #[arg(long)]
    by: Option<String>,
    /// A role, as `--roles` prints it (`owner::name`, or the bare name
    /// when one owner has it).
    #[arg(long)]
    role: Option<String>,
    /// With `--can-assign`: the assignment's resources on a dimension,
    /// `DIMENSION=ID[,ID...]` (repeat for several dimensions).
    #[arg(long, value_name = "DIM=IDS", requires = "can_assign")]
    resources: Vec<String>,
    /// JSON lines of {"user","org","permission"} (`-` for stdin); one answer
    /// per line. A line with `"question"` asks another question: `allow`,
    /// `roles`, `who`, `policies`, `published` or `can_assign`.
    #[arg(long)]
    batch: Option<PathBuf>,
    #[arg(long, value_enum, default_value_t = OutFormat::Text)]
    format: OutFormat,
    #[command(flatten)]
    input: InputArgs,
}

fn is_table(path: &std::path::Path) -> bool {
    use std::io::Read;
    let mut magic = [0u8; 8];
    path.is_file()
        && std::fs::File::open(path)
            .and_then(|mut f| f.read_exact(&mut magic))
            .is_ok()
        && &magic == trellis::table::format::MAGIC
}

/// What answers: the resolved sources, or a compiled table. Both give the
/// same answers (tests/table.rs); the flags work the same on either.
pub(super) enum Engine {
    Sources(Box<trellis::Checked>),
    Table(Box<Table>),
}

impl Engine {
    fn load(args: &QueryArgs) -> Result<Engine, u8> {
        if is_table(&args.path) {
            return Table::open(&args.path)
                .map(|t| Engine::Table(Box::new(t)))
                .map_err(|e| {
                    super::err(&format!("error: {}: {e}\n", args.path.display()));
                    EXIT_USAGE
                });
        }
        super::load_clean(
            std::slice::from_ref(&args.path),
            &args.input,
            "no decision is made",
        )
        .map(|c| Engine::Sources(Box::new(c)))
    }

    pub(super) fn answer(&self, q: &Question, explain: bool) -> Answer {
        match self {
            Engine::Sources(c) => decide(&c.model, &c.sources, q, explain),
            Engine::Table(t) => table_answer(t, q, explain),
        }
    }

    /// A known resource's org (`Some(None)` for one of no org); `None` for
    /// an unknown resource.
    pub(super) fn resource_org(&self, r: &str) -> Option<Option<String>> {
        match self {
            Engine::Sources(c) => c.model.resource_index.get(r).map(|q| {
                c.model.resources[q.index()]
                    .org
                    .map(|o| c.model.org(o).id.clone())
            }),
            Engine::Table(t) => t
                .resource(r)
                .map(|q| t.resource_org(q).map(|o| t.org_name(o).to_owned())),
        }
    }

    pub(super) fn roles(&self, user: &str, org: &str) -> Result<Vec<String>, String> {
        match self {
            Engine::Sources(c) => roles(&c.model, user, org),
            Engine::Table(t) => {
                let u = t
                    .user(user)
                    .ok_or_else(|| format!("unknown user `{user}`"))?;
                let x = t.org(org).ok_or_else(|| format!("unknown org `{org}`"))?;
                Ok(t.roles(u, x)
                    .into_iter()
                    .map(|r| t.role_name(r).to_owned())
                    .collect())
            }
        }
    }
}

fn table_answer(t: &Table, q: &Question, explain: bool) -> Answer {
    let resource = q.resource.as_deref().map(|name| (name, t.resource(name)));
    // A resource of an org is asked about at that org unless told otherwise.
    let org_name = match resource {
        Some((_, Some(r))) if q.org.is_empty() => t
            .resource_org(r)
            .map(|o| t.org_name(o).to_owned())
            .unwrap_or_default(),
        _ => q.org.clone(),
    };
    let (u, x, p) = (
        t.user(&q.user),
        t.org(&org_name),
        t.permission(&q.permission),
    );
    let mut lines = Vec::new();
    let unknown = [
        (u.is_none(), "user", q.user.as_str()),
        (
            x.is_none() && !org_name.is_empty(),
            "org",
            org_name.as_str(),
        ),
        (
            resource.is_some_and(|(_, r)| r.is_none()),
            "resource",
            q.resource.as_deref().unwrap_or_default(),
        ),
        (p.is_none(), "permission", q.permission.as_str()),
    ];
    for (missing, what, name) in unknown {
        if missing {
            lines.push(format!("  unknown {what} `{name}`"));
        }
    }
    if org_name.is_empty() {
        lines.push(match resource {
            Some((_, Some(_))) => "  no org given (the resource belongs to no org)".to_owned(),
            _ => "  no org given".to_owned(),
        });
    }
    let allow = match (u, x, p, resource) {
        (Some(_), Some(_), Some(_), Some((_, None))) => false,
        (Some(u), Some(x), Some(p), resource) => {
            let r = resource.and_then(|(_, r)| r);
            if explain {
                lines = t.explain_on(u, p, x, r).lines(t);
            }
            t.allow_on(u, p, x, r)
        }
        _ => false,
    };
    Answer {
        decision: if allow { "allow" } else { "deny" },
        user: q.user.clone(),
        org: org_name,
        permission: q.permission.clone(),
        resource: q.resource.clone(),
        explanation: if explain { lines } else { Vec::new() },
    }
}

fn print_answer(a: &Answer, format: OutFormat) {
    match format {
        OutFormat::Text => {
            let mut s = format!("{}\n", a.decision);
            // The first explanation line repeats the decision.
            let skip = usize::from(
                a.explanation
                    .first()
                    .is_some_and(|l| l.starts_with(a.decision)),
            );
            for l in a.explanation.iter().skip(skip) {
                s.push_str(l);
                s.push('\n');
            }
            super::out(&s);
        }
        OutFormat::Json => super::out(&format!("{}\n", super::json_text(a, false))),
    }
}

pub fn run(args: QueryArgs) -> u8 {
    let engine = match Engine::load(&args) {
        Ok(e) => e,
        Err(code) => return code,
    };
    if let Some(batch) = &args.batch {
        return run_batch(&engine, batch, args.format);
    }
    if let Some(code) = ask_other(&engine, &args) {
        return code;
    }
    // A resource of an org answers for its org: `--org` may be left out.
    let resource_org = args
        .resource
        .as_deref()
        .and_then(|r| engine.resource_org(r));
    let org = match (args.org.clone(), resource_org) {
        (Some(o), _) => Some(o),
        (None, Some(Some(o))) => Some(o),
        (None, Some(None)) => {
            super::err("error: the resource belongs to no org: give --org\n");
            return EXIT_USAGE;
        }
        (None, None) if args.resource.is_some() && !args.roles => Some(String::new()),
        (None, None) => None,
    };
    let (Some(user), Some(org)) = (args.user.clone(), org) else {
        super::err("error: give --user and --org (and --permission), or --batch FILE\n");
        return EXIT_USAGE;
    };
    if args.roles {
        return match engine.roles(&user, &org) {
            Ok(names) => {
                match args.format {
                    OutFormat::Text => {
                        super::out(&names.iter().map(|n| format!("{n}\n")).collect::<String>())
                    }
                    OutFormat::Json => super::out(&format!(
                        "{}\n",
                        serde_json::json!({"user": user, "org": org, "roles": names})
                    )),
                }
                EXIT_OK
            }
            Err(e) => {
                super::err(&format!("error: {e}\n"));
                EXIT_FINDINGS
            }
        };
    }
    let Some(permission) = args.permission.clone() else {
        super::err("error: give --permission MODULE:ACTION (or --roles)\n");
        return EXIT_USAGE;
    };
    print_answer(
        &engine.answer(
            &Question {
                user,
                org,
                permission,
                resource: args.resource.clone(),
            },
            args.explain,
        ),
        args.format,
    );
    EXIT_OK
}

/// `--who`, `--policies`, `--published`, `--can-assign`: the answer's exit
/// code, or `None` for the other questions.
fn ask_other(engine: &Engine, args: &QueryArgs) -> Option<u8> {
    let need = |flag: &str, v: &Option<String>| -> Result<String, u8> {
        v.clone().ok_or_else(|| {
            super::err(&format!("error: give {flag}\n"));
            EXIT_USAGE
        })
    };
    let asked = if args.who {
        let Ok(permission) = need("--permission MODULE:ACTION (with --who)", &args.permission)
        else {
            return Some(EXIT_USAGE);
        };
        if args.org.is_none() && args.resource.is_none() {
            super::err("error: give --org (or --resource) with --who\n");
            return Some(EXIT_USAGE);
        }
        let no_org = args
            .resource
            .as_deref()
            .is_some_and(|r| engine.resource_org(r) == Some(None));
        if args.org.is_none() && no_org {
            super::err("error: the resource belongs to no org: give --org\n");
            return Some(EXIT_USAGE);
        }
        Asked::Who {
            permission,
            org: args.org.clone(),
            resource: args.resource.clone(),
        }
    } else if args.policies {
        match (
            need("--user (with --policies)", &args.user),
            need("--org (with --policies)", &args.org),
        ) {
            (Ok(user), Ok(org)) => Asked::Policies { user, org },
            _ => return Some(EXIT_USAGE),
        }
    } else if args.published {
        match need("--org (with --published)", &args.org) {
            Ok(org) => Asked::Published {
                org,
                role: args.role.clone(),
            },
            Err(code) => return Some(code),
        }
    } else if args.can_assign {
        match (
            need("--by (with --can-assign)", &args.by),
            need("--role (with --can-assign)", &args.role),
            need("--user (with --can-assign)", &args.user),
            need("--org (with --can-assign)", &args.org),
        ) {
            (Ok(by), Ok(role), Ok(user), Ok(org)) => {
                let mut resources: std::collections::BTreeMap<String, Vec<String>> =
                    Default::default();
                for r in &args.resources {
                    let Some((dim, ids)) = r.split_once('=') else {
                        super::err(&format!(
                            "error: `--resources {r}`: give DIMENSION=ID[,ID...]\n"
                        ));
                        return Some(EXIT_USAGE);
                    };
                    resources
                        .entry(dim.to_owned())
                        .or_default()
                        .extend(ids.split(',').filter(|i| !i.is_empty()).map(str::to_owned));
                }
                Asked::CanAssign {
                    by,
                    role,
                    user,
                    org,
                    resources,
                }
            }
            _ => return Some(EXIT_USAGE),
        }
    } else {
        return None;
    };
    let told = engine.ask(&asked, args.explain);
    match args.format {
        OutFormat::Text => super::out(&told.text()),
        OutFormat::Json => super::out(&format!("{}\n", super::json_text(&told.json, false))),
    }
    Some(EXIT_OK)
}

/// One answer per JSON line, in order, in one process; output is flushed in
/// chunks so that a hundred thousand answers stream.
fn run_batch(engine: &Engine, path: &PathBuf, format: OutFormat) -> u8 {
    let reader: Box<dyn BufRead> = if path.as_os_str() == "-" {
        Box::new(std::io::BufReader::new(std::io::stdin()))
    } else {
        match std::fs::File::open(path) {
            Ok(f) => Box::new(std::io::BufReader::new(f)),
            Err(e) => {
                super::err(&format!("error: cannot read `{}`: {e}\n", path.display()));
                return EXIT_USAGE;
            }
        }
    };
    let mut out = String::new();
    for (n, line) in reader.lines().enumerate() {
        let line = match line {
            Ok(l) => l,
            Err(e) => {
                super::out(&out);
                super::err(&format!("error: cannot read `{}`: {e}\n", path.display()));
                return EXIT_USAGE;
            }
        };
        if line.trim().is_empty() {
            continue;
        }
        let q = match batch_question(&line) {
            Ok(q) => q,
            Err(e) => {
                super::out(&out);
                super::err(&format!(
                    "error: {}:{}: not a query: {e}\n",
                    path.display(),
                    n + 1
                ));
                return EXIT_USAGE;
            }
        };
        match q {
            BatchQuestion::Allow(q) => {
                let a = engine.answer(&q, false);
                match format {
                    OutFormat::Text => out.push_str(a.decision),
                    OutFormat::Json => out.push_str(&super::json_text(&a, false)),
                }
            }
            BatchQuestion::Other(q) => {
                let told = engine.ask(&q, false);
                match format {
                    OutFormat::Text => out.push_str(&told.batch_line()),
                    OutFormat::Json => out.push_str(&super::json_text(&told.json, false)),
                }
            }
        }
        out.push('\n');
        if out.len() > 1 << 16 {
            super::out(&out);
            out.clear();
        }
    }
    super::out(&out);
    EXIT_OK
}

enum BatchQuestion {
    Allow(Question),
    Other(Asked),
}

/// A batch line: `{"user","org","permission"}` (an `allow` question, as
/// before), or one with `"question"` naming its kind.
fn batch_question(line: &str) -> Result<BatchQuestion, serde_json::Error> {
    let value: serde_json::Value = serde_json::from_str(line)?;
    match value.get("question") {
        None => serde_json::from_value(value).map(BatchQuestion::Allow),
        Some(serde_json::Value::String(k)) if k == "allow" => {
            let mut value = value;
            if let Some(o) = value.as_object_mut() {
                o.remove("question");
            }
            serde_json::from_value(value).map(BatchQuestion::Allow)
        }
        Some(_) => serde_json::from_value(value).map(BatchQuestion::Other),
    }
}
