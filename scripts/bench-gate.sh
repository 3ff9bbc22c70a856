#!/usr/bin/env bash
# The pull-request gate, the access diff and compile on a tier's set, timed
# with /usr/bin/time (wall clock and peak memory), side by side with an
# older build (not a timed test):
#
#   BASELINE=/path/to/older/trellis bash scripts/bench-gate.sh [TIER_DIR] [RUNS]
#
# TIER_DIR defaults to target/bench/L (generated when missing). The set is
# copied into a fresh git repository with two commits: the base, and a
# change adding one user and an assignment to one tenant's file; and into a
# second with the base and a provider-wide change (a permission added to
# the provider's first role), gated as the provider ("wide"). Each round
# runs, in turn: the baseline; this build with its cache of parsed files
# warm; this build with an empty cache (cold); and, for compile, this build
# with --no-cache. Every command's output is compared with the baseline's
# (cmp; tables but for their header's input hash and checksum): a
# difference stops the script. Prints the median of RUNS rounds
# (default 3). The machine is noisy: compare within one run of the script.
set -euo pipefail
cd "$(dirname "$0")/.."
DIR="${1:-target/bench/L}"
RUNS="${2:-3}"
BASELINE="${BASELINE:?set BASELINE to the trellis binary to compare with}"
cargo build --release --quiet --bin trellis --example generate
T="$PWD/target/release/trellis"
if [ ! -f "$DIR/provider.yaml" ]; then
  tier="$(basename "$DIR")"
  target/release/examples/generate --tier "${tier:0:1}" --out "$DIR" >/dev/null
fi
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
REPO="$WORK/repo"
mkdir "$REPO"
cp -r "$DIR/provider.yaml" "$DIR/tenants" "$REPO/"
git() { command git -C "$REPO" -c user.name=bench -c user.email=bench@example.com "$@"; }
git init -q
git add -A
git commit -qm base
python3 - "$REPO/tenants/c1.yaml" <<'PY'
import re, sys
p = sys.argv[1]
s = open(p).read()
org = re.search(r"^scope: (\S+)", s, re.M).group(1)
s = s.replace("users:\n", f"users:\n  u-bench-gate: {{ org: {org} }}\n", 1)
role = re.search(r"role: ([\w.-]+)", s).group(1)
s = s.replace("assignments:\n", f"assignments:\n  - {{ role: {role}, user: u-bench-gate }}\n", 1)
open(p, "w").write(s)
PY
git commit -qam "one user and an assignment in tenants/c1.yaml"
# A provider-wide change, in a second repository: a permission added to the
# provider's first role (in the generated sets, one that many others
# include, held by about 135,000 users at L).
WIDE="$WORK/repo-wide"
git clone -q "$REPO" "$WIDE"
command git -C "$WIDE" reset -q --hard HEAD~1
python3 - "$WIDE/provider.yaml" <<'PY'
import re, sys
p = sys.argv[1]
s = open(p).read()
module, action = re.search(r"^modules:\n  ([\w.-]+): \{ actions: \[(\w+)", s, re.M).groups()
s = re.sub(r"^(roles:\n  [\w.-]+: \{[^\n]*?grants: \[)", rf'\1"{module}:{action}", ', s, count=1, flags=re.M)
open(p, "w").write(s)
PY
command git -C "$WIDE" -c user.name=bench -c user.email=bench@example.com commit -qam "a permission added to the provider's first role"

median() { sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
# One timed run: LABEL OUT BINARY ARGS...; records seconds and MB.
timed() {
  local label="$1" out="$2"
  shift 2
  (cd "${IN:-$REPO}" && /usr/bin/time -f "%e %M" -o "$WORK/time" "$@" >"$out" 2>"$WORK/stderr") || {
    [ $? -eq 1 ] || { echo "$label failed:" >&2; cat "$WORK/stderr" >&2; exit 1; }
  }
  read -r s kb <"$WORK/time"
  echo "$s" >>"$WORK/$label.s"
  echo $((kb / 1024)) >>"$WORK/$label.mb"
}
same() { cmp -s "$1" "$2" || { echo "different output: $1 $2" >&2; exit 1; }; }
# Two tables the same but for their header's input hash and checksum
# (bytes 16..24 and 40..48), which an older build may compute otherwise.
same_table() {
  python3 - "$1" "$2" <<'PY' || { echo "different tables: $1 $2" >&2; exit 1; }
import sys
a, b = (open(p, "rb").read() for p in sys.argv[1:3])
strip = lambda t: t[:16] + t[24:40] + t[48:]
sys.exit(0 if strip(a) == strip(b) else 1)
PY
}
report() { # LABEL...
  for label in "$@"; do
    [ -f "$WORK/$label.s" ] || continue
    printf '  %-18s %7.2f s %6d MB\n' "$label" "$(median <"$WORK/$label.s")" "$(median <"$WORK/$label.mb")"
  done
}

GATE=(check . --base HEAD~1 --actor c1 --format short --diff-format markdown --diff-out)
WIDE_GATE=(check . --base HEAD~1 --actor provider --format short --diff-format markdown --diff-out)
DIFF=(diff HEAD~1 HEAD --format markdown -o)
export TRELLIS_CACHE_DIR="$WORK/warm"
# Warm this build's cache (the set's path is the same in every round).
(cd "$REPO" && "$T" "${GATE[@]}" "$WORK/warmup.md" >/dev/null 2>&1) || true
(cd "$WIDE" && "$T" "${WIDE_GATE[@]}" "$WORK/warmup.md" >/dev/null 2>&1) || true
for _ in $(seq "$RUNS"); do
  for what in gate wide diff compile; do
    IN="$REPO"
    case "$what" in
      gate) args=("${GATE[@]}") ;;
      wide) args=("${WIDE_GATE[@]}"); IN="$WIDE" ;;
      diff) args=("${DIFF[@]}") ;;
      compile) args=(compile . -o) ;;
    esac
    TRELLIS_CACHE_DIR="$WORK/base-cache" timed "$what.baseline" "$WORK/out" "$BASELINE" "${args[@]}" "$WORK/$what.baseline"
    timed "$what.warm" "$WORK/out" "$T" "${args[@]}" "$WORK/$what.warm"
    rm -rf "$WORK/cold"
    TRELLIS_CACHE_DIR="$WORK/cold" timed "$what.cold" "$WORK/out" "$T" "${args[@]}" "$WORK/$what.cold"
    check=same
    [ "$what" = compile ] && check=same_table
    $check "$WORK/$what.baseline" "$WORK/$what.warm"
    $check "$WORK/$what.baseline" "$WORK/$what.cold"
    if [ "$what" = compile ]; then
      timed "$what.nocache" "$WORK/out" "$T" compile --no-cache . -o "$WORK/$what.nocache"
      same_table "$WORK/$what.baseline" "$WORK/$what.nocache"
    fi
  done
done
echo "$(git ls-files | wc -l) files; medians of $RUNS rounds; baseline $BASELINE"
for what in gate wide diff compile; do
  echo "$what:"
  report "$what.baseline" "$what.warm" "$what.cold" "$what.nocache"
done
