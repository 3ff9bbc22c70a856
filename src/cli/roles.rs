use std::path::PathBuf;

use clap::{Args, ValueEnum};

use super::{InputArgs, EXIT_OK, EXIT_USAGE};

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum RolesFormat {
    Human,
    Json,
}

#[derive(Args, Debug)]
pub struct RolesArgs {
    /// The org whose role list to show.
    #[arg(long)]
    org: String,
    /// Only roles whose name or description contains this (case ignored).
    #[arg(long)]
    search: Option<String>,
    /// The policy set (default: the current directory).
    path: Option<PathBuf>,
    #[arg(long, value_enum, default_value_t = RolesFormat::Human)]
    format: RolesFormat,
    #[command(flatten)]
    input: InputArgs,
}

pub fn run(args: RolesArgs) -> u8 {
    let paths = super::default_paths(args.path.into_iter().collect());
    let checked = match super::load_clean(&paths, &args.input, "no role list") {
        Ok(c) => c,
        Err(code) => return code,
    };
    let Some(&x) = checked.model.org_index.get(&args.org) else {
        super::err(&format!("error: unknown org `{}`\n", args.org));
        return EXIT_USAGE;
    };
    let rows = trellis::role_list::role_list(&checked.model, x, args.search.as_deref());
    match args.format {
        RolesFormat::Human => super::out(&trellis::role_list::human(&args.org, &rows)),
        RolesFormat::Json => super::out(&format!(
            "{}\n",
            super::json_text(&serde_json::json!({ "org": args.org, "roles": rows }), true)
        )),
    }
    EXIT_OK
}
