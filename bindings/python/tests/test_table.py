"""The Python package answers as `trellis query` does.

For each bundled example: compile it with the trellis binary ($TRELLIS, or
target/release/trellis of the repository), ask every user x org x
permission (and, for sets with resources, every user x resource x
permission, at every org and with the org left out) of both
`trellis query TABLE --batch` and `trellis.Table`, and compare; the same
for the effective roles of every user x org. Then the shared question file
(bindings/questions/NAME.jsonl, answered by C and Node too) and the error
paths.
"""

import json
import os
import pathlib
import subprocess
import threading

import pytest
import yaml

import trellis

ROOT = pathlib.Path(__file__).resolve().parents[3]
EXAMPLES = ["quickstart", "cloud-ops"]


def trellis_bin() -> str:
    path = os.environ.get("TRELLIS") or str(ROOT / "target" / "release" / "trellis")
    if not os.access(path, os.X_OK):
        pytest.fail(f"no trellis binary at {path}: build it (cargo build --release) or set TRELLIS")
    return path


def permissions_of(example: pathlib.Path) -> list[str]:
    perms = []
    for path in sorted(example.rglob("*.yaml")):
        if ".test." in path.name:
            continue
        doc = yaml.safe_load(path.read_text())
        if isinstance(doc, dict) and isinstance(doc.get("modules"), dict):
            for module, spec in doc["modules"].items():
                for action in (spec or {}).get("actions", []):
                    perms.append(f"{module}:{action}")
    assert perms, f"no modules in {example}"
    return list(dict.fromkeys(perms))


class Example:
    def __init__(self, name: str, tmp: pathlib.Path):
        self.name = name
        self.bin = trellis_bin()
        src = ROOT / "policies-examples" / name
        self.path = tmp / f"{name}.tbl"
        dump = tmp / f"{name}.json"
        subprocess.run(
            [self.bin, "compile", str(src), "-o", str(self.path), "--json", str(dump)],
            check=True,
            capture_output=True,
        )
        self.dump = json.loads(dump.read_text())
        self.users = [u["id"] for u in self.dump["users"]]
        self.orgs = [o["id"] for o in self.dump["orgs"]]
        self.resources = [r["id"] for r in self.dump.get("resources", [])]
        self.perms = permissions_of(src)
        qs = [
            {"user": u, "org": x, "permission": p}
            for u in self.users
            for x in self.orgs
            for p in self.perms
        ]
        for u in self.users:
            for q in self.resources:
                for p in self.perms:
                    qs.append({"user": u, "permission": p, "resource": q})
                    for x in self.orgs:
                        qs.append({"user": u, "org": x, "permission": p, "resource": q})
        u0, x0, p0 = self.users[0], self.orgs[0], self.perms[0]
        self.unknown = [
            {"user": "no-such-user", "org": x0, "permission": p0},
            {"user": u0, "org": "no-such-org", "permission": p0},
            {"user": u0, "org": x0, "permission": "no-such-module:read"},
            {"user": u0, "org": x0, "permission": p0.split(":")[0] + ":no-such-action"},
            {"user": u0, "org": x0, "permission": "no-colon"},
            {"user": u0, "org": x0, "permission": p0, "resource": "no-such-resource"},
        ]
        self.questions = qs + self.unknown
        batch = tmp / f"{name}.q"
        batch.write_text("".join(json.dumps(q) + "\n" for q in self.questions))
        out = subprocess.run(
            [self.bin, "query", str(self.path), "--batch", str(batch)],
            check=True,
            capture_output=True,
            text=True,
        ).stdout.split()
        assert len(out) == len(self.questions)
        assert set(out) <= {"allow", "deny"}
        self.expected = [a == "allow" for a in out]
        self.table = trellis.Table.open(self.path)


@pytest.fixture(scope="session", params=EXAMPLES)
def ex(request, tmp_path_factory) -> Example:
    return Example(request.param, tmp_path_factory.mktemp(request.param))


def ask(table, q) -> bool:
    return table.allow(q["user"], q["permission"], q.get("org"), q.get("resource"))


def test_every_question_as_trellis_query(ex):
    got = [ask(ex.table, q) for q in ex.questions]
    wrong = [(q, e) for q, g, e in zip(ex.questions, got, ex.expected) if g != e]
    assert not wrong, f"{len(wrong)} of {len(got)} differ, e.g. {wrong[:5]}"
    # The comparison means something: both answers occur.
    assert any(got) and not all(got)
    print(f"{ex.name}: {len(got)} questions, {sum(got)} allow")


def shared_questions(name: str) -> list[dict]:
    """The shared question file (bindings/questions/NAME.jsonl): each line a
    question and the `allow` that `trellis query` answered."""
    path = ROOT / "bindings" / "questions" / f"{name}.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines() if line]


def test_shared_question_file(ex):
    qs = shared_questions(ex.name)
    assert qs, f"no questions for {ex.name}"
    for i, q in enumerate(qs, 1):
        assert isinstance(q["allow"], bool), (i, q)
        assert ask(ex.table, q) is q["allow"], (i, q)
    expected = [q["allow"] for q in qs]
    got = ex.table.allow_many(
        [q["user"] for q in qs],
        [q["permission"] for q in qs],
        [q.get("org") for q in qs],
        [q.get("resource") for q in qs],
    )
    assert got == expected
    assert any(expected) and not all(expected)
    print(f"{ex.name}: {len(qs)} shared questions, {sum(expected)} allow")


def test_resources_are_asked(ex):
    if ex.name == "cloud-ops":
        assert ex.resources, "cloud-ops declares resources"


def test_unknown_names_deny(ex):
    for q in ex.unknown:
        assert ask(ex.table, q) is False, q
    assert ex.table.user("no-such-user") is None
    assert ex.table.org("no-such-org") is None
    assert ex.table.permission("no-such-module:read") is None
    assert ex.table.roles("no-such-user", ex.orgs[0]) == []
    assert ex.table.who("no-such-module:read", ex.orgs[0]) == []
    assert ex.table.allow_handles(10**9, 0, 0) is False
    assert ex.table.allow_handles(-1, 0, 0) is False


def test_allow_many_equals_allow(ex):
    qs = ex.questions
    got = ex.table.allow_many(
        [q["user"] for q in qs],
        [q["permission"] for q in qs],
        [q.get("org") for q in qs],
        [q.get("resource") for q in qs],
    )
    assert isinstance(got, list)
    assert got == [ask(ex.table, q) for q in qs]
    assert got == ex.expected
    plain = [q for q in qs if "resource" not in q]
    assert ex.table.allow_many(
        [q["user"] for q in plain], [q["permission"] for q in plain], [q["org"] for q in plain]
    ) == [ask(ex.table, q) for q in plain]
    with pytest.raises(ValueError):
        ex.table.allow_many(["a"], ["b", "c"], ["x"])
    with pytest.raises(TypeError):
        ex.table.allow_many("alice", "m:a", "x")


def handles(t, q):
    u, p = t.user(q["user"]), t.permission(q["permission"])
    x = t.org(q["org"]) if q.get("org") else None
    r = t.resource(q["resource"]) if q.get("resource") else None
    return u, p, x, r


def test_handles_equal_names(ex):
    t = ex.table
    for q in ex.questions:
        u, p, x, r = handles(t, q)
        if None in (u, p) or (q.get("org") and x is None) or (q.get("resource") and r is None):
            continue
        assert t.allow_handles(u, p, x, r) == ask(t, q), q


def test_allow_many_numpy(ex):
    # CI installs numpy (ci.sh sets TRELLIS_CI): there a missing numpy fails.
    np = pytest.importorskip("numpy") if not os.environ.get("TRELLIS_CI") else __import__("numpy")
    t = ex.table
    known = [q for q in ex.questions if None not in handles(t, q)[:2]]
    known = [q for q in known if not (q.get("org") and t.org(q["org"]) is None)]
    known = [q for q in known if not (q.get("resource") and t.resource(q["resource"]) is None)]
    hs = [handles(t, q) for q in known]
    col = lambda i: np.array([-1 if h[i] is None else h[i] for h in hs], dtype=np.int64)
    got = t.allow_many(col(0), col(1).astype(np.uint32), col(2), col(3))
    assert isinstance(got, np.ndarray) and got.dtype == np.bool_
    assert got.tolist() == [ask(t, q) for q in known]


def test_roles_as_trellis_query(ex):
    for u in ex.users:
        for x in ex.orgs:
            out = subprocess.run(
                [ex.bin, "query", str(ex.path), "--user", u, "--org", x, "--roles", "--format", "json"],
                check=True,
                capture_output=True,
                text=True,
            ).stdout
            assert ex.table.roles(u, x) == json.loads(out)["roles"], (u, x)
    print(f"{ex.name}: {len(ex.users) * len(ex.orgs)} role lists")


def test_who_and_policies(ex):
    t = ex.table
    for x in ex.orgs:
        for p in ex.perms:
            assert t.who(p, x) == [u for u in ex.users if t.allow(u, p, x)]
        for u in ex.users:
            assert all(isinstance(name, str) for name in t.policies(u, x))
    for q in ex.resources:
        for p in ex.perms:
            assert t.who(p, resource=q) == [u for u in ex.users if t.allow(u, p, resource=q)]


def test_published_and_can_assign(ex):
    t = ex.table
    for u in ex.users:
        for x in ex.orgs:
            for r in t.roles(u, x):
                assert t.role(r) is not None
                assert t.published(r, x)
    assert t.published("no-such-role", ex.orgs[0]) is False
    assert t.can_assign(ex.users[0], "no-such-role", ex.users[0], ex.orgs[0]) is False
    assert t.can_assign(ex.users[0], "x", ex.users[0], ex.orgs[0], {"no-such-dim": ["q"]}) is False
    # can_assign answers a bool for every admin x role x user at the first org.
    roles = sorted({r for u in ex.users for x in ex.orgs for r in t.roles(u, x)})
    for a in ex.users:
        for r in roles:
            assert isinstance(t.can_assign(a, r, ex.users[-1], ex.orgs[0]), bool)


def test_explain(ex):
    t = ex.table
    for q, expected in zip(ex.questions, ex.expected):
        e = ask_explain = t.explain(q["user"], q["permission"], q.get("org"), q.get("resource"))
        assert e["allowed"] == expected, q
        assert e["decision"] == ("allow" if expected else "deny")
        assert isinstance(e["lines"], list) and all(isinstance(s, str) for s in e["lines"])
        for step in ask_explain["steps"]:
            assert step["kind"] in {"no_grant", "grant", "gate", "other_dimension", "other_org"}
            if step["kind"] == "grant":
                assert step["effect"] in {"gives", "restricted", "not_published", "other"}
    e = t.explain("no-such-user", ex.perms[0], ex.orgs[0])
    assert e["decision"] == "deny" and e["unknown"] == ["unknown user `no-such-user`"]


def test_explain_lines_as_trellis_query(ex):
    t = ex.table
    for q in ex.questions[:: max(1, len(ex.questions) // 40)]:
        if "resource" in q or q in ex.unknown:
            continue
        out = subprocess.run(
            [ex.bin, "query", str(ex.path), "--user", q["user"], "--org", q["org"],
             "--permission", q["permission"], "--explain", "--format", "json"],
            capture_output=True,
            text=True,
        ).stdout
        ref = json.loads(out)
        got = t.explain(q["user"], q["permission"], q["org"])
        assert got["decision"] == ref["decision"], q
        if "explanation" in ref:
            assert got["lines"] == ref["explanation"], q


def test_threads_share_a_table(ex):
    t, qs = ex.table, ex.questions
    args = ([q["user"] for q in qs], [q["permission"] for q in qs],
            [q.get("org") for q in qs], [q.get("resource") for q in qs])
    results = [None] * 4

    def run(i):
        results[i] = t.allow_many(*args)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(4)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert all(r == ex.expected for r in results)


def test_properties(ex):
    t = ex.table
    assert t.input_hash == ex.dump["input_hash"]
    assert t.user_count == len(ex.users) and t.org_count == len(ex.orgs)
    assert repr(t).startswith("<trellis.Table input_hash=" + t.input_hash)
    assert trellis.Table.from_bytes(ex.path.read_bytes()).input_hash == t.input_hash


def test_corrupt_tables_raise(ex, tmp_path):
    assert issubclass(trellis.TableError, Exception)
    good = ex.path.read_bytes()
    cases = {
        "flipped": good[:100] + bytes([good[100] ^ 0xFF]) + good[101:],
        "truncated": good[: len(good) // 2],
        "empty": b"",
        "not a table": b"hello, world\n" * 20,
        "tail cut": good[:-1],
    }
    for label, data in cases.items():
        path = tmp_path / "bad.tbl"
        path.write_bytes(data)
        with pytest.raises(trellis.TableError) as err:
            trellis.Table.open(path)
        assert str(err.value), label
        with pytest.raises(trellis.TableError):
            trellis.Table.from_bytes(data)
    with pytest.raises(trellis.TableError, match="cannot read"):
        trellis.Table.open(tmp_path / "missing.tbl")
    with pytest.raises(trellis.TableError, match="checksum"):
        trellis.Table.from_bytes(cases["flipped"])
