"""Per-decision cost of the Python package (scripts/bench-bindings.sh; not a test).

    python bench_decide.py TABLE QUESTIONS.tsv [PASSES]

QUESTIONS: ``user TAB permission TAB org TAB resource`` a line (org or
resource empty for none). Each form of call is timed PASSES times (default
7) over every question; prints ``python KIND LABEL MEDIAN_NS ALLOWED`` per
form, as the Rust example does (TRELLIS_BENCH_ONLY=LABEL: that form alone,
PASSES may be 0).
"""

import os
import statistics
import sys
import time

import trellis

try:
    import numpy as np
except ImportError:  # the script installs it; without it, no array row
    np = None


def main():
    table_path, questions = sys.argv[1], sys.argv[2]
    passes = int(sys.argv[3]) if len(sys.argv) > 3 else 7
    t = trellis.Table.open(table_path)
    users, perms, orgs, ress = [], [], [], []
    with open(questions) as f:
        for line in f:
            line = line.rstrip("\n")
            if not line:
                continue
            u, p, x, q = (line.split("\t") + ["", "", "", ""])[:4]
            users.append(u)
            perms.append(p)
            orgs.append(x or None)
            ress.append(q or None)
    n = len(users)

    def h(v):
        return -1 if v is None else v

    hu = [h(t.user(u)) for u in users]
    hp = [h(t.permission(p)) for p in perms]
    hq = [None if q is None else h(t.resource(q)) for q in ress]
    hx = [None if x is None else h(t.org(x)) for x in orgs]
    any_resource = any(q is not None for q in ress)

    only = os.environ.get("TRELLIS_BENCH_ONLY")

    def measure(kind, label, f):
        if only is not None and only != label:
            return
        if passes == 0:
            return
        times, allowed = [], f()  # one untimed pass, for the caches
        for _ in range(passes):
            start = time.perf_counter_ns()
            allowed = f()
            times.append((time.perf_counter_ns() - start) / n)
        print(f"python {kind} {label} {statistics.median(times):.1f} {allowed}", flush=True)

    allow, allow_handles = t.allow, t.allow_handles
    measure("handle", "allow_handles", lambda: sum(
        allow_handles(u, p, x, q) for u, p, x, q in zip(hu, hp, hx, hq)))
    measure("name", "allow", lambda: sum(
        allow(u, p, x, q) for u, p, x, q in zip(users, perms, orgs, ress)))
    res_arg = ress if any_resource else None
    measure("name", "allow_many(lists of names)", lambda: sum(
        t.allow_many(users, perms, orgs, res_arg)))
    if np is not None:
        au = np.array(hu, dtype=np.int64)
        ap = np.array(hp, dtype=np.int64)
        ax = np.array([-1 if x is None else x for x in hx], dtype=np.int64)
        aq = np.array([-1 if q is None else q for q in hq], dtype=np.int64) if any_resource else None
        measure("handle", "allow_many(numpy int64)", lambda: int(
            t.allow_many(au, ap, ax, aq).sum()))


main()
