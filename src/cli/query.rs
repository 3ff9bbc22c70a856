use std::io::BufRead;
use std::path::PathBuf;

use clap::{Args, ValueEnum};
use trellis::diag::render::{self, Format};
use trellis::query::{decide, roles, Question};

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

pub fn run(args: QueryArgs) -> u8 {
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
