#!/usr/bin/env bash
# Checks scripts/read_table.py (an independent reader written from
# docs/table-format.md) against the reference `trellis` release binary:
# for every bundled example (except `broken`), compile it, ask the same
# questions of `trellis query TABLE --batch` and of the reader, and fail on
# the first differences. Also checks that the reader refuses damaged tables.
#
# Needs: a built trellis binary (target/release/trellis, or $TRELLIS; this
# script never runs cargo), python3 (3.11+) with `xxhash` and PyYAML (pip;
# PyYAML only to read the examples' module catalogs). CI runs it.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TRELLIS="${TRELLIS:-$ROOT/target/release/trellis}"
READER="$ROOT/scripts/read_table.py"
WORK="$(mktemp -d "${TMPDIR:-/tmp}/read_table_test.XXXXXX")"
trap 'rm -rf "$WORK"' EXIT

[ -x "$TRELLIS" ] || { echo "missing $TRELLIS (build it first)" >&2; exit 1; }
fail=0

# Questions for one example: every user x org x permission, and for sets with
# resources every user x resource x permission at every org and with the org
# left out; plus a few unknown names. Also writes the user x org pairs.
gen_questions() { # DIR JSON QUERIES PAIRS
    python3 - "$@" <<'PY'
import json, os, sys, tomllib
import yaml

d, jpath, qpath, ppath = sys.argv[1:]
dump = json.load(open(jpath))
orgs = [o["id"] for o in dump["orgs"]]
users = [u["id"] for u in dump["users"]]
resources = [r["id"] for r in dump.get("resources", [])]

perms = []
for dirpath, dirnames, files in os.walk(d):
    dirnames[:] = sorted(x for x in dirnames if not x.startswith("."))
    for f in sorted(files):
        p = os.path.join(dirpath, f)
        if ".test." in f:
            continue
        if f.endswith((".yaml", ".yml")):
            doc = yaml.safe_load(open(p))
        elif f.endswith(".toml"):
            doc = tomllib.load(open(p, "rb"))
        else:
            continue
        if isinstance(doc, dict) and isinstance(doc.get("modules"), dict):
            for m, spec in doc["modules"].items():
                for a in (spec or {}).get("actions", []):
                    perms.append(f"{m}:{a}")
assert perms, f"no modules found in {d}"
perms = list(dict.fromkeys(perms))

qs = []
for u in users:
    for x in orgs:
        for p in perms:
            qs.append({"user": u, "org": x, "permission": p})
for u in users:
    for q in resources:
        for p in perms:
            qs.append({"user": u, "permission": p, "resource": q})
            for x in orgs:
                qs.append({"user": u, "org": x, "permission": p, "resource": q})
# unknown names: all deny
u0, x0, p0 = users[0], orgs[0], perms[0]
qs += [
    {"user": "no-such-user", "org": x0, "permission": p0},
    {"user": u0, "org": "no-such-org", "permission": p0},
    {"user": u0, "org": x0, "permission": "no-such-module:read"},
    {"user": u0, "org": x0, "permission": p0.split(":")[0] + ":no-such-action"},
    {"user": u0, "org": x0, "permission": p0, "resource": "no-such-resource"},
]
with open(qpath, "w") as f:
    for q in qs:
        f.write(json.dumps(q) + "\n")
with open(ppath, "w") as f:
    for u in users:
        for x in orgs:
            f.write(f"{u}\t{x}\n")
print(len(qs))
PY
}

for dir in "$ROOT"/policies-examples/*/; do
    name="$(basename "$dir")"
    [ "$name" = broken ] && continue
    tbl="$WORK/$name.tbl"
    "$TRELLIS" compile "$dir" -o "$tbl" --json "$WORK/$name.json" >/dev/null 2>&1
    n="$(gen_questions "$dir" "$WORK/$name.json" "$WORK/$name.q" "$WORK/$name.pairs")"

    "$TRELLIS" query "$tbl" --batch "$WORK/$name.q" >"$WORK/$name.ref"
    python3 "$READER" "$tbl" --batch "$WORK/$name.q" >"$WORK/$name.out"
    if ! cmp -s "$WORK/$name.ref" "$WORK/$name.out"; then
        echo "FAIL $name: decisions differ (question, reference, reader):" >&2
        paste -d'\t' "$WORK/$name.q" "$WORK/$name.ref" "$WORK/$name.out" |
            awk -F'\t' '$2 != $3' | head -20 >&2
        fail=1
    fi
    allows="$(grep -c '^allow$' "$WORK/$name.ref" || true)"

    # roles(u, x) for every user x org
    while IFS=$'\t' read -r u x; do
        "$TRELLIS" query "$tbl" --user "$u" --org "$x" --roles --format json
        echo
    done <"$WORK/$name.pairs" |
        python3 -c 'import json,sys
for l in sys.stdin:
    if l.strip(): print(",".join(json.loads(l)["roles"]))' >"$WORK/$name.rref"
    python3 -c 'import json,sys
for l in open(sys.argv[1]):
    u, x = l.rstrip("\n").split("\t"); print(json.dumps({"user": u, "org": x}))' \
        "$WORK/$name.pairs" >"$WORK/$name.rq"
    python3 "$READER" "$tbl" --roles-batch "$WORK/$name.rq" >"$WORK/$name.rout"
    if ! cmp -s "$WORK/$name.rref" "$WORK/$name.rout"; then
        echo "FAIL $name: roles differ (user/org, reference, reader):" >&2
        paste -d'\t' "$WORK/$name.pairs" "$WORK/$name.rref" "$WORK/$name.rout" |
            awk -F'\t' '$3 != $4' | head -20 >&2
        fail=1
    fi
    # the same set compiled with --provenance answers the same
    "$TRELLIS" compile "$dir" -o "$WORK/$name.prov.tbl" --provenance >/dev/null 2>&1
    python3 "$READER" "$WORK/$name.prov.tbl" --batch "$WORK/$name.q" >"$WORK/$name.pout"
    if ! cmp -s "$WORK/$name.ref" "$WORK/$name.pout"; then
        echo "FAIL $name: the --provenance table answers differently" >&2
        fail=1
    fi
    echo "ok   $name: $n questions ($allows allow), $(wc -l <"$WORK/$name.pairs") role lists"
done

# Refusals, on the quickstart table.
src="$WORK/quickstart.tbl"
refuse() { # LABEL FILE EXPECTED-SUBSTRING
    local out
    if out="$(python3 "$READER" "$1" --batch /dev/null 2>&1)"; then
        echo "FAIL refusal $2: the reader accepted it" >&2; fail=1
    elif [[ "$out" != *"$3"* ]]; then
        echo "FAIL refusal $2: unexpected error: $out" >&2; fail=1
    else
        echo "ok   refuses $2: $out"
    fi
}
len="$(stat -c %s "$src")"
head -c $((len - 8)) "$src" >"$WORK/trunc.tbl"
refuse "$WORK/trunc.tbl" "a truncated copy" "truncated"
head -c 40 "$src" >"$WORK/trunc40.tbl"
refuse "$WORK/trunc40.tbl" "a copy cut inside the header" "truncated"
python3 - "$src" "$WORK/flip.tbl" "$WORK/major.tbl" <<'PY'
import sys
b = bytearray(open(sys.argv[1], "rb").read())
f = bytearray(b); f[len(f) // 2] ^= 0x01
open(sys.argv[2], "wb").write(f)
m = bytearray(b); m[8] = 4
open(sys.argv[3], "wb").write(m)
PY
refuse "$WORK/flip.tbl" "a copy with one flipped byte" "checksum"
refuse "$WORK/major.tbl" "a copy with major version 4" "version 4 is not supported"
printf 'not a table at all' >"$WORK/junk.tbl"
refuse "$WORK/junk.tbl" "a non-table" "not a trellis table"
# Accepted: a later minor version, and a section with an id this reader does
# not know (both with the checksum recomputed).
python3 - "$src" "$WORK/minor.tbl" "$WORK/extra.tbl" <<'PY'
import struct, sys, xxhash
def seal(b):
    struct.pack_into("<Q", b, 24, len(b))
    struct.pack_into("<Q", b, 40, xxhash.xxh3_64_intdigest(bytes(b[:40] + b[48:])))
    return b
b = bytearray(open(sys.argv[1], "rb").read())
m = bytearray(b); struct.pack_into("<H", m, 10, 9)
open(sys.argv[2], "wb").write(seal(m))
# insert directory entry id 1000 (24 bytes: every offset moves by 24, still
# a multiple of 8) pointing at 16 new bytes at the end
n = struct.unpack_from("<I", b, 32)[0]
dir_end = 64 + 24 * n
e = bytearray(b[:dir_end]) + bytearray(24) + b[dir_end:]
for i in range(n):
    off = struct.unpack_from("<Q", e, 64 + 24 * i + 8)[0]
    struct.pack_into("<Q", e, 64 + 24 * i + 8, off + 24)
while len(e) % 8: e.append(0)
struct.pack_into("<IIQQ", e, dir_end, 1000, 8, len(e), 2)
e += bytes(range(16))
struct.pack_into("<I", e, 32, n + 1)
open(sys.argv[3], "wb").write(seal(e))
PY
for f in minor extra; do
    if python3 "$READER" "$WORK/$f.tbl" --batch "$WORK/quickstart.q" >"$WORK/$f.out" &&
        cmp -s "$WORK/$f.out" "$WORK/quickstart.ref"; then
        echo "ok   accepts $f.tbl and answers the same"
    else
        echo "FAIL the reader does not read $f.tbl like the original" >&2; fail=1
    fi
    if ! "$TRELLIS" query "$WORK/$f.tbl" --batch "$WORK/quickstart.q" 2>&1 |
        cmp -s - "$WORK/quickstart.ref"; then
        echo "FAIL the reference does not read $f.tbl like the original" >&2; fail=1
    fi
done
# the reference refuses them too
for f in trunc flip major; do
    if "$TRELLIS" query "$WORK/$f.tbl" --batch /dev/null >/dev/null 2>&1; then
        echo "FAIL the reference accepted $f.tbl" >&2; fail=1
    fi
done

if [ "$fail" -ne 0 ]; then echo "FAILED" >&2; exit 1; fi
echo "all agree"
