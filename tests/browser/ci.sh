#!/usr/bin/env bash
# CI for `trellis site` in a real browser: Debian's chromium (installed
# with apt-get when missing), driven by playwright-core (`npm ci` from
# package-lock.json) with node's test runner, against sites built by the
# trellis binary ($TRELLIS, default target/debug/trellis). Screenshots of
# the main pages go to docs/site/. Any step that cannot be done fails the
# run: nothing is skipped.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
TARGET="${CARGO_TARGET_DIR:-$ROOT/target}"
TRELLIS="${TRELLIS:-$TARGET/debug/trellis}"
export TRELLIS="$(realpath -m "$TRELLIS")"
export CHROMIUM="${CHROMIUM:-/usr/bin/chromium}"

if [ ! -x "$CHROMIUM" ]; then
    if command -v apt-get >/dev/null; then
        SUDO=""
        [ "$(id -u)" = 0 ] || SUDO="sudo"
        $SUDO apt-get update -qq || true
        $SUDO apt-get install -y -qq chromium >/dev/null || {
            echo "tests/browser: chromium could not be installed (apt-get install -y chromium)" >&2
            exit 1
        }
    fi
    [ -x "$CHROMIUM" ] || {
        echo "tests/browser: no chromium at $CHROMIUM: install Debian's chromium or set CHROMIUM" >&2
        exit 1
    }
fi
"$CHROMIUM" --headless --no-sandbox --version >/dev/null 2>&1 || {
    echo "tests/browser: $CHROMIUM does not run" >&2
    exit 1
}
command -v node >/dev/null && command -v npm >/dev/null || {
    echo "tests/browser: node and npm are needed (apt-get install -y nodejs npm)" >&2
    exit 1
}
if [ ! -x "$TRELLIS" ]; then
    (cd "$ROOT" && cargo build --locked --bin trellis)
fi

cd "$HERE"
npm ci --no-audit --no-fund
npm test
