#!/usr/bin/env bash
# Seeds fuzz/corpus/load/ (gitignored) for the `load` target: every policy and
# test file in the repository, plus a few hostile inputs. Each seed is the
# selector byte (0x00: .yaml, 0x01: .toml) followed by the file's bytes.
# Run from anywhere: bash fuzz/seed-corpus.sh
set -euo pipefail
cd "$(dirname "$0")/.."
out=fuzz/corpus/load
mkdir -p "$out"

seed() { # seed NAME SELECTOR(0|1) < content
    { printf "\\x0$2"; cat; } > "$out/$1"
}

find tests/fixtures tests/scenarios policies-examples -type f \
    \( -name '*.yaml' -o -name '*.yml' -o -name '*.toml' \) | sort | while read -r f; do
    case "$f" in *.toml) sel=1 ;; *) sel=0 ;; esac
    seed "repo-$(echo "$f" | tr '/' '_')" "$sel" < "$f"
done

rep() { local s=""; for ((i = 0; i < $2; i++)); do s+="$1"; done; printf '%s' "$s"; }

# Nesting: just under and just over Limits::max_depth (64), flow and block.
{ rep '[' 63; rep ']' 63; } | seed yaml-flow-depth-63 0
{ rep '[' 65; rep ']' 65; } | seed yaml-flow-depth-65 0
{ rep '{a: ' 65; printf 1; rep '}' 65; } | seed yaml-flow-map-depth-65 0
for ((i = 0; i < 70; i++)); do rep ' ' "$i"; printf 'k%d:\n' "$i"; done | seed yaml-block-depth-70 0
for ((i = 0; i < 70; i++)); do rep ' ' "$i"; printf -- '- \n'; done | seed yaml-seq-depth-70 0
{ printf 'a = '; rep '[' 65; rep ']' 65; printf '\n'; } | seed toml-array-depth-65 1
{ printf 'a = '; rep '{b = ' 65; printf 1; rep '}' 65; printf '\n'; } | seed toml-inline-depth-65 1
{ printf '['; rep 'a.' 100; printf 'b]\nc = 1\n'; } | seed toml-header-dotted-100 1
{ rep 'a.' 100; printf 'b = 1\n'; } | seed toml-key-dotted-100 1
printf 'a = """x""""\nb = [1, ["]"], {c = "}"}]\n# [[[[\n' | seed toml-strings-brackets 1

# Anchors and aliases: billion laughs, aliases that stack nesting, odd uses.
cat <<'Y' | seed yaml-billion-laughs 0
scope: provider
a: &a [x, x, x, x, x, x, x, x, x, x]
b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]
c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]
d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]
e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]
f: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e, *e]
g: &g [*f, *f, *f, *f, *f, *f, *f, *f, *f, *f]
Y
{
    printf 'scope: provider\nx0: &a0 '; rep '[' 60; printf 'z'; rep ']' 60; printf '\n'
    for i in 1 2 3 4 5 6 7 8; do
        printf 'x%d: &a%d ' "$i" "$i"; rep '[' 60; printf '*a%d' $((i - 1)); rep ']' 60; printf '\n'
    done
} | seed yaml-alias-depth-stack 0
cat <<'Y' | seed yaml-alias-odd 0
scope: &s provider
base: &base {actions: [read, write], gated: true}
modules:
  *s : x
  m1: *base
  m2:
    <<: *base
    gated: false
  ? [complex, key]
  : 1
  m3: *undefined
Y
cat <<'Y' | seed yaml-alias-self 0
scope: provider
roles: &r
  admin:
    grants: *r
Y
printf 'scope: provider\n---\nscope: acme\n...\n' | seed yaml-multi-doc 0
printf 'scope: !!str provider\nroles: !!map {a: !!seq [1], b: !custom x}\n%%YAML 1.2\n' | seed yaml-tags 0
printf 'scope: "provider"\n"scope": provider\nusers: {u: {org: 007, attributes: {k: 1e400}}}\n' | seed yaml-dup-and-numbers 0
printf 'scope = "provider"\n[users.u]\norg = 0x7f\nattributes = {k = 1979-05-27T07:32:00Z}\n[[automatic]]\ngrant = [{roles = ["a"], at = [{descendants = "any"}]}]\n' | seed toml-types 1
printf 'scope: provider\n\xff\xfe\n' | seed yaml-bad-utf8 0
printf 'scope = "\xc3"\n' | seed toml-bad-utf8 1
printf '\xef\xbb\xbfscope: provider\r\nusers:\r\n  u: {org: acme}\r\n' | seed yaml-bom-crlf 0
printf 'scope: provider\nname: "caf\xc3\xa9 \xf0\x9f\x98\x80" \t# \xe2\x80\xa8 x\nlong: \xf0\x9f\x98\x80\xf0\x9f\x98\x80 [a, b]\n' | seed yaml-multibyte 0
echo "seeded $(ls "$out" | wc -l) inputs into $out"
