#!/usr/bin/env bash
# CI for the Python package: build and install it the documented way
# (`pip install bindings/python`) into a fresh virtual environment, then run
# its pytest tests against the trellis binary ($TRELLIS, default
# target/release/trellis; built here with cargo if missing). Any step that
# cannot be done fails the run: nothing is skipped.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
PYTHON="${PYTHON:-python3}"
TARGET="${CARGO_TARGET_DIR:-$ROOT/target}"
TRELLIS="${TRELLIS:-$TARGET/release/trellis}"
# Absolute: the tests run from bindings/python.
export TRELLIS="$(realpath -m "$TRELLIS")"

command -v "$PYTHON" >/dev/null || {
    echo "bindings/python: no $PYTHON: install Python 3.9 or newer (with venv and pip)" >&2
    exit 1
}
"$PYTHON" -c 'import sys, venv; sys.exit(sys.version_info < (3, 9))' || {
    echo "bindings/python: $PYTHON is older than 3.9 or has no venv module" >&2
    exit 1
}
command -v cargo >/dev/null || {
    echo "bindings/python: no cargo: install a Rust toolchain (rustup)" >&2
    exit 1
}
if [ ! -x "$TRELLIS" ]; then
    (cd "$ROOT" && cargo build --release --locked --bin trellis)
fi

VENV="$(mktemp -d "${TMPDIR:-/tmp}/trellis-python-ci.XXXXXX")"
trap 'rm -rf "$VENV"' EXIT
"$PYTHON" -m venv "$VENV"
PIP=("$VENV/bin/python" -m pip --disable-pip-version-check)
"${PIP[@]}" install --quiet --upgrade pip
# maturin builds the extension with cargo (the workspace's Cargo.lock).
"${PIP[@]}" install --quiet "$HERE" pytest pyyaml numpy
"$VENV/bin/python" -c 'import trellis; print("bindings/python: trellis", trellis.__version__, "installed")'
cd "$HERE"
export TRELLIS_CI=1
"$VENV/bin/python" -m pytest -q -p no:cacheprovider tests
