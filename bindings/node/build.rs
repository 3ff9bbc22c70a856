//! Links the addon as Node expects (napi-build sets the platform's flags).

fn main() {
    napi_build::setup();
}
