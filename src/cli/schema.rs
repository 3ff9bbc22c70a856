use super::EXIT_OK;

pub fn run() -> u8 {
    super::out(&trellis::load::raw::policy_file_schema());
    EXIT_OK
}
