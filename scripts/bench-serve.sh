#!/usr/bin/env bash
# Load benchmark of `trellis serve` with wrk on loopback (not a timed test):
# single questions over keep-alive connections at full load and at lower
# concurrency, then batches of 1,000, side by side with `trellis query
# --batch` on the same questions. Prints medians of RUNS runs.
#
#   bash scripts/bench-serve.sh [TIER_DIR] [RUNS]
#
# TIER_DIR defaults to target/bench/M (generated when missing). Needs wrk
# (apt-get install wrk) and a release build (built here). With
# BASELINE=/path/to/an/older/trellis, every load is run against both
# servers in turn (baseline, then this build, RUNS times) and both medians
# are printed with their ratio: the machine is noisy, so compare within one
# run of the script, never across runs.
set -euo pipefail
cd "$(dirname "$0")/.."
DIR="${1:-target/bench/M}"
RUNS="${2:-3}"
DURATION="${DURATION:-10s}"
command -v wrk >/dev/null || { echo "wrk is missing: apt-get install -y wrk" >&2; exit 1; }
cargo build --release --quiet --bin trellis --example generate
T=target/release/trellis
BASELINE="${BASELINE:-}"
if [ ! -f "$DIR/provider.yaml" ]; then
  tier="$(basename "$DIR")"
  target/release/examples/generate --tier "${tier:0:1}" --out "$DIR" >/dev/null
fi
WORK="$(mktemp -d)"
SERVER=""
trap '[ -z "$SERVER" ] || kill "$SERVER" 2>/dev/null || true; rm -rf "$WORK"' EXIT
"$T" compile "$DIR" -o "$WORK/table.tbl" >/dev/null 2>&1
# Questions with an org (the generator's, resource lines left out).
grep -v '"resource"' "$DIR/queries.jsonl" | head -n 100000 >"$WORK/q.jsonl"
N="$(wc -l <"$WORK/q.jsonl")"

start_server() { # BINARY: starts it, sets SERVER and ADDR
  : >"$WORK/serve.log"
  "$1" serve "$WORK/table.tbl" --listen 127.0.0.1:0 --no-watch 2>"$WORK/serve.log" &
  SERVER=$!
  for _ in $(seq 50); do grep -q listening "$WORK/serve.log" && break; sleep 0.1; done
  ADDR="$(sed -n 's/^trellis serve: listening on http:\/\///p' "$WORK/serve.log" | head -1)"
  [ -n "$ADDR" ] || { echo "$1 serve did not start:" >&2; cat "$WORK/serve.log" >&2; exit 1; }
}
stop_server() {
  kill "$SERVER"; wait "$SERVER" 2>/dev/null || true; SERVER=""
}

# wrk scripts: one question per request (rotating through 10,000), or
# batches of 1,000 (rotating through 20).
python3 - "$WORK" <<'PY'
import json, sys
work = sys.argv[1]
lines = [l.strip() for l in open(f"{work}/q.jsonl") if l.strip()]
def lua_str(s):
    return "[==[" + s + "]==]"
single = lines[:10000]
with open(f"{work}/single.lua", "w") as f:
    f.write("wrk.method = 'POST'\nwrk.headers['Content-Type'] = 'application/json'\nlocal bodies = {\n")
    f.write(",\n".join(lua_str(l) for l in single))
    f.write("\n}\nlocal i = 0\nrequest = function()\n  i = i % #bodies + 1\n  return wrk.format(nil, '/v1/allow', nil, bodies[i])\nend\n")
with open(f"{work}/batch.lua", "w") as f:
    f.write("wrk.method = 'POST'\nwrk.headers['Content-Type'] = 'application/json'\nlocal bodies = {\n")
    batches = []
    for b in range(20):
        qs = lines[b * 1000:(b + 1) * 1000]
        batches.append(lua_str('{"questions":[' + ",".join(qs) + "]}"))
    f.write(",\n".join(batches))
    f.write("\n}\nlocal i = 0\nrequest = function()\n  i = i % #bodies + 1\n  return wrk.format(nil, '/v1/allow/batch', nil, bodies[i])\nend\n")
PY

median() { sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
# rate and p99 (ms) of one wrk run
run_wrk() { # CONNECTIONS SCRIPT
  wrk -t2 -c"$1" -d"$DURATION" --latency -s "$2" "http://$ADDR" >"$WORK/wrk.out"
  rate="$(awk '/Requests\/sec/ {print $2}' "$WORK/wrk.out")"
  p99="$(awk '$1=="99%" {v=$2; if (v ~ /us$/) {sub(/us/,"",v); v=v/1000} else if (v ~ /ms$/) {sub(/ms/,"",v)} else if (v ~ /s$/) {sub(/s/,"",v); v=v*1000}; print v}' "$WORK/wrk.out")"
  errors="$(awk '/Non-2xx|Socket errors/ {print}' "$WORK/wrk.out")"
  [ -z "$errors" ] || { echo "wrk saw errors: $errors" >&2; exit 1; }
  echo "$rate $p99"
}
# One load: RUNS rounds, each running wrk against the baseline (if any)
# and then this build, each on a freshly started server.
report() { # LABEL CONNECTIONS SCRIPT ANSWERS_PER_REQUEST
  : >"$WORK/rates.new"; : >"$WORK/p99s.new"; : >"$WORK/rates.old"; : >"$WORK/p99s.old"
  for _ in $(seq "$RUNS"); do
    for which in ${BASELINE:+old} new; do
      if [ "$which" = old ]; then start_server "$BASELINE"; else start_server "$T"; fi
      read -r rate p99 < <(run_wrk "$2" "$3")
      stop_server
      echo "$rate" >>"$WORK/rates.$which"; echo "$p99" >>"$WORK/p99s.$which"
    done
  done
  r="$(median <"$WORK/rates.new")"; p="$(median <"$WORK/p99s.new")"
  printf '%-34s %10.0f req/s %12.0f answers/s  p99 %7.3f ms' "$1" "$r" "$(echo "$r * $4" | bc -l)" "$p"
  if [ -n "$BASELINE" ]; then
    ro="$(median <"$WORK/rates.old")"; po="$(median <"$WORK/p99s.old")"
    printf '   baseline %12.0f answers/s  p99 %7.3f ms  (%.2fx)' "$(echo "$ro * $4" | bc -l)" "$po" "$(echo "$r / $ro" | bc -l)"
  fi
  printf '\n'
}

echo "table: $(stat -c %s "$WORK/table.tbl") bytes, $N questions; $RUNS runs of $DURATION each, medians${BASELINE:+; baseline $BASELINE}"
report "single, 64 connections" 64 "$WORK/single.lua" 1
report "single, 4 connections" 4 "$WORK/single.lua" 1
report "single, 2 connections" 2 "$WORK/single.lua" 1
report "batches of 1000, 8 connections" 8 "$WORK/batch.lua" 1000

: >"$WORK/cli"
for _ in $(seq "$RUNS"); do
  start="$(date +%s.%N)"
  "$T" query "$WORK/table.tbl" --batch "$WORK/q.jsonl" >/dev/null
  end="$(date +%s.%N)"
  echo "$N / ($end - $start)" | bc -l >>"$WORK/cli"
done
printf '%-34s %35.0f answers/s (process start and table load included)\n' "trellis query --batch" "$(median <"$WORK/cli")"
