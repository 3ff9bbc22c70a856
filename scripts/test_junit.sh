#!/usr/bin/env bash
# Reads trellis's JUnit reports with a JUnit consumer that CI systems' tools
# are built like (python's `junitparser`, from pip): `trellis test --format
# junit` on the quickstart example with a failing test file added, and
# `trellis check --format junit` on a set with errors and one with warnings.
# Fails on the first count, name, location or message that differs from
# what the test files and the sets say.
#
# Needs: a built trellis binary (target/debug/trellis, or $TRELLIS; this
# script never runs cargo) and python3 with `junitparser` (pip).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TRELLIS="$(realpath -m "${TRELLIS:-$ROOT/target/debug/trellis}")"
WORK="$(mktemp -d "${TMPDIR:-/tmp}/junit_test.XXXXXX")"
trap 'rm -rf "$WORK"' EXIT
[ -x "$TRELLIS" ] || { echo "missing $TRELLIS (build it first)" >&2; exit 1; }

cp "$ROOT"/policies-examples/quickstart/*.yaml "$ROOT"/policies-examples/quickstart/*.toml "$WORK/"
cat > "$WORK/more.test.yaml" <<'YAML'
tests:
  - name: alice reads templates
    user: alice
    org: atlantic
    allow: ["templates:read"]
  - name: bob exports finance
    user: bob
    org: atlantic
    allow: ["finance:export"]
diagnostics: [W103]
YAML
# Exit 1: failures. Anything else is a problem of its own.
status=0
(cd "$WORK" && "$TRELLIS" test --format junit > test.xml) || status=$?
[ "$status" -eq 1 ] || { echo "trellis test exited $status, not 1" >&2; exit 1; }
status=0
"$TRELLIS" check "$ROOT/tests/fixtures/mixed-five" --format junit > "$WORK/check.xml" || status=$?
[ "$status" -eq 1 ] || { echo "trellis check exited $status, not 1" >&2; exit 1; }
"$TRELLIS" check "$ROOT/tests/fixtures/warnings" --format junit > "$WORK/warnings.xml"
"$TRELLIS" check "$ROOT/tests/fixtures/mixed-five" --format short > "$WORK/check.short" 2>/dev/null || true

python3 - "$WORK" <<'PY'
import sys
from junitparser import JUnitXml, Failure, Error, Skipped

work = sys.argv[1]
problems = []
def expect(what, got, want):
    if got != want:
        problems.append(f"{what}: got {got!r}, want {want!r}")

xml = JUnitXml.fromfile(f"{work}/test.xml")
suites = {s.name: s for s in xml}
expect("test suites", sorted(suites), ["more.test.yaml", "quickstart.test.yaml"])
more = suites["more.test.yaml"]
expect("more: tests", more.tests, 3)
expect("more: failures", more.failures, 2)
cases = list(more)
expect("more: names", [c.name for c in cases],
       ["diagnostics", "alice reads templates", "bob exports finance"])
expect("more: lines", [c._elem.get("line") for c in cases], ["10", "2", "6"])
expect("more: files", {c._elem.get("file") for c in cases}, {"more.test.yaml"})
expect("more: passed", [c.is_passed for c in cases], [False, True, False])
fail = [r for r in cases[2].result if isinstance(r, Failure)]
expect("bob: failure message", fail[0].message if fail else None,
       "`bob` at `atlantic`: expected allow `finance:export`, got deny")
expect("bob: failure text starts", (fail[0].text or "").split(" ")[0] if fail else None,
       "more.test.yaml:6:5:")
diag = [r for r in cases[0].result if isinstance(r, Failure)]
expect("diagnostics: message", diag[0].message if diag else None,
       "expected diagnostics [W103], got [none]")
quick = suites["quickstart.test.yaml"]
expect("quickstart: tests", quick.tests, 5)
expect("quickstart: failures", quick.failures, 0)

xml = JUnitXml.fromfile(f"{work}/check.xml")
short = open(f"{work}/check.short").read().splitlines()
errors_by_file = {}
for line in short:
    if ": error[" in line:
        errors_by_file.setdefault(line.split(":")[0], []).append(line)
(suite,) = list(xml)
for case in suite:
    failures = [r for r in case.result if isinstance(r, Failure)]
    want = errors_by_file.get(case.name, [])
    expect(f"{case.name}: fails", bool(failures), bool(want))
    if failures:
        expect(f"{case.name}: failure lines", (failures[0].text or "").splitlines(), want)
expect("check: every file with errors has its case",
       sorted(set(errors_by_file) - {c.name for c in suite}), [])

xml = JUnitXml.fromfile(f"{work}/warnings.xml")
(suite,) = list(xml)
expect("warnings: failures", suite.failures, 0)
expect("warnings: some output", any(c.system_out for c in suite), True)

if problems:
    print("\n".join(problems), file=sys.stderr)
    sys.exit(1)
print("junitparser reads the reports as written")
PY
