#!/usr/bin/env bash
# CI for the Node package: build it the documented way (`npm ci`, then
# `npm run build`, which is `napi build` over cargo and the workspace's
# Cargo.lock), load it with `require('./bindings/node')` from the repository
# root, then run its tests with node's test runner against the trellis
# binary ($TRELLIS, default target/release/trellis; built here with cargo
# if missing). Any step that cannot be done fails the run: nothing is
# skipped.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
TARGET="${CARGO_TARGET_DIR:-$ROOT/target}"
TRELLIS="${TRELLIS:-$TARGET/release/trellis}"
# Absolute: the tests run from bindings/node.
export TRELLIS="$(realpath -m "$TRELLIS")"

command -v node >/dev/null || {
    echo "bindings/node: no node: install Node.js 20.17 or newer with npm (apt-get install -y nodejs npm)" >&2
    exit 1
}
command -v npm >/dev/null || {
    echo "bindings/node: no npm: install npm beside node (apt-get install -y npm)" >&2
    exit 1
}
# @napi-rs/cli 3 runs on Node.js ^20.17, ^22.13 or >= 23.5.
node -e '
  const [a, b] = process.versions.node.split(".").map(Number)
  process.exit(a > 20 || (a === 20 && b >= 17) ? 0 : 1)
' || {
    echo "bindings/node: node $(node --version) is older than 20.17: install a newer Node.js" >&2
    exit 1
}
command -v cargo >/dev/null || {
    echo "bindings/node: no cargo: install a Rust toolchain (rustup)" >&2
    exit 1
}
if [ ! -x "$TRELLIS" ]; then
    (cd "$ROOT" && cargo build --release --locked --bin trellis)
fi

cd "$HERE"
# The build tool, exactly as package-lock.json pins it.
npm ci --no-audit --no-fund
rm -f trellis.node
npm run build
[ -f trellis.node ] || {
    echo "bindings/node: npm run build wrote no trellis.node" >&2
    exit 1
}
(cd "$ROOT" && node -e '
  const trellis = require("./bindings/node")
  console.log("bindings/node: trellis", trellis.version, "built")
')
npm test
# The declarations type what the tests call (tsc, from package-lock.json).
npm run check:types
