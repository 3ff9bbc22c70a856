use std::io::BufRead;
use std::path::PathBuf;

use clap::{Args, ValueEnum};
use trellis::diag::render::{self, Format};
use trellis::query::{decide, roles, Answer, Question};

use super::{InputArgs, EXIT_FINDINGS, EXIT_OK, EXIT_USAGE};

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum OutFormat {
    Text,
    Json,
}

#[derive(Args, Debug)]
pub struct QueryArgs {
    /// The policy set (a directory or file).
    path: PathBuf,
    #[arg(long)]
    user: Option<String>,
    #[arg(long)]
    org: Option<String>,
    /// `module:action`.
    #[arg(long)]
    permission: Option<String>,
    /// Print the derivation of the decision.
    #[arg(long)]
    explain: bool,
    /// Print the effective roles of the user at the org instead.
    #[arg(long)]
    roles: bool,
    /// JSON lines of {"user","org","permission"} (`-` for stdin); one answer per line.
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

pub fn run(args: QueryArgs) -> u8 {
    if is_table(&args.path) {
        return table::run(args);
    }
    let checked = match trellis::check_paths(std::slice::from_ref(&args.path), &args.input.limits())
    {
        Ok(c) => c,
        Err(e) => {
            super::err(&format!("error: {e}\n"));
            return EXIT_USAGE;
        }
    };
    if checked.diagnostics.has_errors() {
        super::err(&render::render(
            Format::Short,
            &checked.diagnostics,
            &checked.sources,
            false,
        ));
        super::err("error: the policy set has errors; no decision is made\n");
        return EXIT_FINDINGS;
    }
    let m = &checked.model;
    if let Some(batch) = &args.batch {
        return run_batch(m, &checked.sources, batch, args.format);
    }
    let (Some(user), Some(org)) = (args.user.clone(), args.org.clone()) else {
        super::err("error: give --user and --org (and --permission), or --batch FILE\n");
        return EXIT_USAGE;
    };
    if args.roles {
        match roles(m, &user, &org) {
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
                return EXIT_OK;
            }
            Err(e) => {
                super::err(&format!("error: {e}\n"));
                return EXIT_FINDINGS;
            }
        }
    }
    let Some(permission) = args.permission.clone() else {
        super::err("error: give --permission MODULE:ACTION (or --roles)\n");
        return EXIT_USAGE;
    };
    let q = Question {
        user,
        org,
        permission,
    };
    let a = decide(m, &checked.sources, &q, args.explain);
    match args.format {
        OutFormat::Text => {
            let mut s = format!("{}\n", a.decision);
            for l in a.explanation.iter().skip(usize::from(
                !a.explanation.is_empty() && a.explanation[0].starts_with(a.decision),
            )) {
                s.push_str(l);
                s.push('\n');
            }
            super::out(&s);
        }
        OutFormat::Json => super::out(&format!(
            "{}\n",
            serde_json::to_string(&a).unwrap_or_default()
        )),
    }
    EXIT_OK
}

fn run_batch(
    m: &trellis::model::Model,
    sources: &trellis::source::SourceMap,
    path: &PathBuf,
    format: OutFormat,
) -> u8 {
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
                super::err(&format!("error: cannot read `{}`: {e}\n", path.display()));
                return EXIT_USAGE;
            }
        };
        if line.trim().is_empty() {
            continue;
        }
        let q: Question = match serde_json::from_str(&line) {
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
        let a = decide(m, sources, &q, false);
        match format {
            OutFormat::Text => {
                out.push_str(a.decision);
                out.push('\n');
            }
            OutFormat::Json => {
                out.push_str(&serde_json::to_string(&a).unwrap_or_default());
                out.push('\n');
            }
        }
        if out.len() > 1 << 16 {
            super::out(&out);
            out.clear();
        }
    }
    super::out(&out);
    EXIT_OK
}

/// The same questions, answered from a compiled table.
mod table {
    use super::*;
    use trellis::table::Table;

    fn answer(t: &Table, q: &Question, explain: bool) -> Answer {
        let (u, x, p) = (t.user(&q.user), t.org(&q.org), t.permission(&q.permission));
        let mut lines = Vec::new();
        let allow = match (u, x, p) {
            (Some(u), Some(x), Some(p)) => {
                if explain {
                    lines = t.explain(u, p, x);
                }
                t.allow(u, p, x)
            }
            _ => {
                if u.is_none() {
                    lines.push(format!("  unknown user `{}`", q.user));
                }
                if x.is_none() {
                    lines.push(format!("  unknown org `{}`", q.org));
                }
                if p.is_none() {
                    lines.push(format!("  unknown permission `{}`", q.permission));
                }
                false
            }
        };
        Answer {
            decision: if allow { "allow" } else { "deny" },
            user: q.user.clone(),
            org: q.org.clone(),
            permission: q.permission.clone(),
            explanation: if explain { lines } else { Vec::new() },
        }
    }

    pub fn run(args: QueryArgs) -> u8 {
        let t = match Table::open(&args.path) {
            Ok(t) => t,
            Err(e) => {
                super::super::err(&format!("error: {}: {e}\n", args.path.display()));
                return EXIT_USAGE;
            }
        };
        if let Some(batch) = &args.batch {
            let reader: Box<dyn BufRead> = if batch.as_os_str() == "-" {
                Box::new(std::io::BufReader::new(std::io::stdin()))
            } else {
                match std::fs::File::open(batch) {
                    Ok(f) => Box::new(std::io::BufReader::new(f)),
                    Err(e) => {
                        super::super::err(&format!(
                            "error: cannot read `{}`: {e}\n",
                            batch.display()
                        ));
                        return EXIT_USAGE;
                    }
                }
            };
            let mut out = String::new();
            for (n, line) in reader.lines().enumerate() {
                let Ok(line) = line else {
                    super::super::err(&format!("error: cannot read `{}`\n", batch.display()));
                    return EXIT_USAGE;
                };
                if line.trim().is_empty() {
                    continue;
                }
                let q: Question = match serde_json::from_str(&line) {
                    Ok(q) => q,
                    Err(e) => {
                        super::super::out(&out);
                        super::super::err(&format!(
                            "error: {}:{}: not a query: {e}\n",
                            batch.display(),
                            n + 1
                        ));
                        return EXIT_USAGE;
                    }
                };
                let a = answer(&t, &q, false);
                match args.format {
                    OutFormat::Text => out.push_str(a.decision),
                    OutFormat::Json => out.push_str(&serde_json::to_string(&a).unwrap_or_default()),
                }
                out.push('\n');
                if out.len() > 1 << 16 {
                    super::super::out(&out);
                    out.clear();
                }
            }
            super::super::out(&out);
            return EXIT_OK;
        }
        let (Some(user), Some(org)) = (args.user.clone(), args.org.clone()) else {
            super::super::err("error: give --user and --org (and --permission), or --batch FILE\n");
            return EXIT_USAGE;
        };
        if args.roles {
            let (Some(u), Some(x)) = (t.user(&user), t.org(&org)) else {
                super::super::err("error: unknown user or org\n");
                return EXIT_FINDINGS;
            };
            let names: Vec<String> = t
                .roles(u, x)
                .into_iter()
                .map(|r| t.role_name(r).to_owned())
                .collect();
            match args.format {
                OutFormat::Text => {
                    super::super::out(&names.iter().map(|n| format!("{n}\n")).collect::<String>())
                }
                OutFormat::Json => super::super::out(&format!(
                    "{}\n",
                    serde_json::json!({"user": user, "org": org, "roles": names})
                )),
            }
            return EXIT_OK;
        }
        let Some(permission) = args.permission.clone() else {
            super::super::err("error: give --permission MODULE:ACTION (or --roles)\n");
            return EXIT_USAGE;
        };
        let a = answer(
            &t,
            &Question {
                user,
                org,
                permission,
            },
            args.explain,
        );
        match args.format {
            OutFormat::Text => {
                let mut s = format!("{}\n", a.decision);
                for l in a.explanation.iter().skip(usize::from(
                    a.explanation
                        .first()
                        .is_some_and(|l| l.starts_with(a.decision)),
                )) {
                    s.push_str(l);
                    s.push('\n');
                }
                super::super::out(&s);
            }
            OutFormat::Json => super::super::out(&format!(
                "{}\n",
                serde_json::to_string(&a).unwrap_or_default()
            )),
        }
        EXIT_OK
    }
}
