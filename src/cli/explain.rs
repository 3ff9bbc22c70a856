use clap::Args;
use trellis::diag::Code;

use super::{EXIT_OK, EXIT_USAGE};

#[derive(Args, Debug)]
pub struct ExplainArgs {
    /// A diagnostic code, e.g. E008.
    code: String,
}

pub fn run(args: ExplainArgs) -> u8 {
    match Code::parse(&args.code) {
        Some(code) => {
            super::out(code.explanation());
            EXIT_OK
        }
        None => {
            let all: Vec<&str> = Code::ALL.iter().map(|c| c.as_str()).collect();
            super::err(&format!(
                "error: unknown code `{}`; codes: {}\n",
                args.code,
                all.join(", ")
            ));
            EXIT_USAGE
        }
    }
}
