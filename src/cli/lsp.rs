//! `trellis lsp`: the language server, on stdin and stdout.

use super::{EXIT_OK, EXIT_USAGE};

pub fn run() -> u8 {
    match trellis::lsp::run_stdio() {
        Ok(()) => EXIT_OK,
        Err(e) => {
            super::err(&format!("error: trellis lsp: {e}\n"));
            EXIT_USAGE
        }
    }
}
