#!/usr/bin/env bash
# Per-decision cost from every language, beside the Rust library's (not a
# timed test): one table, the same questions, one run. Builds in release
# the runtime's example (crates/trellis-table/examples/bench_decide.rs),
# the C library with a C program against it, the Python package into a
# temporary venv (`pip install bindings/python`, with numpy) and the Node
# addon (`napi build --release`), then times each form of call over every
# question (medians of PASSES passes) and prints one table with the ratio
# to Rust's figure of the same kind (by handle, by name).
#
#   bash scripts/bench-bindings.sh [--resources] [--instructions] [TIER_DIR] [PASSES]
#
# TIER_DIR defaults to target/bench/M (generated when missing). The
# questions are the first 100,000 of its queries.jsonl that name no
# resource, or with --resources the first 100,000 that do. The programs
# run ROUNDS times (default 3) one after the other, so that a neighbour's
# load falls on all of them alike; each row is the median of its rounds'
# medians. With --instructions, each call is also counted with valgrind
# (cachegrind, no cache simulation) over the first 10,000 questions: the
# instructions of 5 passes less those of 1 (each after an untimed pass),
# per decision, which the host's load does not move.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT="$PWD"
RESOURCES=0
INSTRUCTIONS=0
while [ $# -gt 0 ]; do
  case "$1" in
    --resources) RESOURCES=1; shift ;;
    --instructions) INSTRUCTIONS=1; shift ;;
    *) break ;;
  esac
done
ROUNDS="${ROUNDS:-3}"
DIR="${1:-target/bench/M}"
PASSES="${2:-7}"
N="${N:-100000}"
TARGET="${CARGO_TARGET_DIR:-$ROOT/target}"
PYTHON="${PYTHON:-python3}"
for tool in cc node npm "$PYTHON"; do
  command -v "$tool" >/dev/null || { echo "bench-bindings: $tool is missing" >&2; exit 1; }
done

echo "== building (release)" >&2
cargo build --release --quiet --bin trellis --example generate
cargo build --release --quiet -p trellis-table --example bench_decide
cargo build --release --quiet -p trellis-c
T="$TARGET/release/trellis"
if [ ! -f "$DIR/provider.yaml" ]; then
  tier="$(basename "$DIR")"
  "$TARGET/release/examples/generate" --tier "${tier:0:1}" --out "$DIR" >/dev/null
fi

WORK="$(mktemp -d "${TMPDIR:-/tmp}/trellis-bench-bindings.XXXXXX")"
trap 'rm -rf "$WORK"' EXIT
"$T" compile "$DIR" -o "$WORK/table.tbl" >/dev/null 2>&1
# The questions as TSV (user, permission, org, resource), read alike by
# every language's program.
"$PYTHON" - "$DIR/queries.jsonl" "$WORK/q.tsv" "$N" "$RESOURCES" <<'PY'
import json, sys
src, dst, n, resources = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4] == "1"
out = []
for line in open(src):
    if not line.strip():
        continue
    q = json.loads(line)
    if ("resource" in q) != resources:
        continue
    fields = [q["user"], q["permission"], q.get("org") or "", q.get("resource") or ""]
    if any("\t" in f or "\n" in f for f in fields):
        continue
    out.append("\t".join(fields))
    if len(out) == n:
        break
open(dst, "w").write("\n".join(out) + "\n")
PY
COUNT="$(wc -l <"$WORK/q.tsv")"

cc -O2 -std=c11 -I bindings/c/include scripts/bench-bindings/bench_decide.c \
  -L "$TARGET/release" -ltrellis_c -Wl,-rpath,"$TARGET/release" -o "$WORK/bench_c"

echo "== installing the Python package into a venv" >&2
"$PYTHON" -m venv "$WORK/venv"
"$WORK/venv/bin/python" -m pip install --quiet --disable-pip-version-check ./bindings/python numpy

echo "== building the Node addon (release)" >&2
(cd bindings/node
 [ -d node_modules/@napi-rs/cli ] || npm ci --no-audit --no-fund >/dev/null
 # trellis.node is what index.js loads first: the release build replaces
 # whatever `npm run build` left there.
 npx napi build --release --dts native.d.ts >/dev/null 2>&1)

echo "== measuring: $COUNT questions, $PASSES passes each, $ROUNDS rounds" >&2
programs() { # PASSES QUESTIONS: every program, one line per call
  "$TARGET/release/examples/bench_decide" "$WORK/table.tbl" "$2" "$1"
  "$WORK/bench_c" "$WORK/table.tbl" "$2" "$1"
  "$WORK/venv/bin/python" scripts/bench-bindings/bench_decide.py "$WORK/table.tbl" "$2" "$1"
  node scripts/bench-bindings/bench_decide.js "$WORK/table.tbl" "$2" "$1"
}
LOAD_BEFORE="$(cut -d' ' -f1-3 /proc/loadavg)"
: >"$WORK/results"
for round in $(seq "$ROUNDS"); do
  programs "$PASSES" "$WORK/q.tsv" | awk -v r="$round" '{print r, NR, $0}' >>"$WORK/results"
done
LOAD_AFTER="$(cut -d' ' -f1-3 /proc/loadavg)"

# Instructions per decision: valgrind's count of 5 passes less 1's.
: >"$WORK/instructions"
if [ "$INSTRUCTIONS" = 1 ]; then
  command -v valgrind >/dev/null || { echo "bench-bindings: --instructions needs valgrind" >&2; exit 1; }
  head -n 10000 "$WORK/q.tsv" >"$WORK/q10k.tsv"
  NI="$(wc -l <"$WORK/q10k.tsv")"
  irefs() { # PASSES LABEL PROGRAM...
    local passes="$1" label="$2"; shift 2
    TRELLIS_BENCH_ONLY="$label" valgrind --tool=cachegrind --cache-sim=no \
      --cachegrind-out-file=/dev/null "$@" "$WORK/table.tbl" "$WORK/q10k.tsv" "$passes" 2>&1 >/dev/null |
      awk '/I *refs:/ {gsub(",", "", $NF); print $NF}'
  }
  count() { # LANGUAGE LABEL PROGRAM...
    local lang="$1" label="$2"; shift 2
    echo "== counting instructions: $label" >&2
    local one three
    one="$(irefs 1 "$label" "$@")"; five="$(irefs 5 "$label" "$@")"
    echo "$lang $label $(( (five - one) / (4 * NI) ))" >>"$WORK/instructions"
  }
  R="$TARGET/release/examples/bench_decide"
  P=("$WORK/venv/bin/python" scripts/bench-bindings/bench_decide.py)
  # V8's background threads (GC, compiler) run on timers, so under
  # valgrind's slowness they would add work by the second: one thread.
  J=(node --single-threaded scripts/bench-bindings/bench_decide.js)
  count rust allow_on "$R"; count rust NameIndex+allow_on "$R"
  count c trellis_allow_on "$WORK/bench_c"; count c trellis_allow_names "$WORK/bench_c"
  for l in allow_handles allow "allow_many(lists of names)" "allow_many(numpy int64)"; do count python "$l" "${P[@]}"; done
  for l in allowHandles allow "allowMany(array of names)" "allowMany(Uint32Array)"; do count node "$l" "${J[@]}"; done
fi

echo "table: $(stat -c %s "$WORK/table.tbl") bytes; $COUNT questions ($([ "$RESOURCES" = 1 ] && echo "on resources" || echo "at orgs")); medians of $ROUNDS rounds of $PASSES passes; load average $LOAD_BEFORE before, $LOAD_AFTER after"
# Columns: round, row, language, kind, label words..., ns, allowed.
awk -v ifile="$WORK/instructions" '
  BEGIN { while ((getline line < ifile) > 0) { k = line; sub(/ [0-9-]+$/, "", k); val = line; sub(/.* /, "", val); ins[k] = val } }
  { row = $2; lang[row] = $3; kind[row] = $4
    label = $5; for (i = 6; i < NF - 1; i++) label = label " " $i; name[row] = label
    ns[row, ++n[row]] = $(NF - 1); allowed[row] = allowed[row] " " $NF; rows = row > rows ? row : rows }
  END {
    for (r = 1; r <= rows; r++) {
      # the median of the rounds (insertion sort of a few values)
      for (i = 1; i <= n[r]; i++) v[i] = ns[r, i]
      for (i = 2; i <= n[r]; i++) { x = v[i]; for (j = i - 1; j >= 1 && v[j] > x; j--) v[j + 1] = v[j]; v[j + 1] = x }
      med[r] = v[int((n[r] + 1) / 2)]; lo[r] = v[1]; hi[r] = v[n[r]]
      key = lang[r] " " name[r]
      inst[r] = (key in ins) ? ins[key] : "-"
      if (lang[r] == "rust") { rust[kind[r]] = med[r]; rusti[kind[r]] = inst[r] }
    }
    printf "%-7s %-7s %-28s %9s %17s %7s %8s %7s %7s\n", "lang", "kind", "call", "ns/dec", "(rounds min-max)", "x Rust", "instr", "x Rust", "allowed"
    for (r = 1; r <= rows; r++) {
      split(allowed[r], a, " ")
      ri = (inst[r] != "-" && rusti[kind[r]] != "-" && rusti[kind[r]] > 0) ? sprintf("%.2f", inst[r] / rusti[kind[r]]) : "-"
      printf "%-7s %-7s %-28s %9.1f %17s %7.2f %8s %7s %7d\n", lang[r], kind[r], name[r], med[r], sprintf("(%.0f-%.0f)", lo[r], hi[r]), med[r] / rust[kind[r]], inst[r], ri, a[1]
    }
  }' "$WORK/results"
# Every program must have given the same answers.
if [ "$(awk '{print $NF}' "$WORK/results" | sort -u | wc -l)" != 1 ]; then
  echo "bench-bindings: the languages disagree on how many questions are allowed" >&2
  exit 1
fi
