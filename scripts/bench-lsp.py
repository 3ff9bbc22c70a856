#!/usr/bin/env python3
"""The language server's edit latency, side by side for several binaries.

    python3 scripts/bench-lsp.py SET FILE EDITS BINARY [BINARY...]

Starts `BINARY lsp` on the policy set SET as an editor does, opens FILE
(a tenant file of the set) with a misspelt role, then edits its unsaved
buffer EDITS times, alternately fixing and misspelling the role. For each
edit: the milliseconds from sending `didChange` to receiving FILE's
`publishDiagnostics` (the whole set re-checked, debounce 0). The binaries
take turns, one edit each, so that a busy moment of the host falls on all
of them alike. Prints, per binary, the first check (didOpen) and the
median, minimum and maximum of the edits. The same measurement as
`cargo bench --bench lsp`, for comparing builds (`BASELINE` in
BENCHMARKS.md).
"""

import json
import os
import statistics
import subprocess
import sys
import time


class Server:
    def __init__(self, binary, uri):
        self.uri = uri
        self.p = subprocess.Popen(
            [binary, "lsp"], stdin=subprocess.PIPE, stdout=subprocess.PIPE
        )
        self.next = 1

    def send(self, msg):
        body = json.dumps(msg).encode()
        self.p.stdin.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)
        self.p.stdin.flush()

    def recv(self):
        length = None
        while True:
            line = self.p.stdout.readline()
            if not line:
                raise SystemExit("the server closed its output")
            line = line.strip()
            if not line:
                break
            if line.lower().startswith(b"content-length:"):
                length = int(line.split(b":")[1])
        return json.loads(self.p.stdout.read(length))

    def request(self, method, params):
        rid = self.next
        self.next += 1
        self.send({"jsonrpc": "2.0", "id": rid, "method": method, "params": params})
        while True:
            v = self.recv()
            if v.get("id") == rid and "method" not in v:
                return v

    def notify(self, method, params):
        self.send({"jsonrpc": "2.0", "method": method, "params": params})

    def published(self):
        while True:
            v = self.recv()
            if (
                v.get("method") == "textDocument/publishDiagnostics"
                and v["params"]["uri"] == self.uri
            ):
                return len(v["params"]["diagnostics"])

    def stop(self):
        self.request("shutdown", None)
        self.notify("exit", None)
        self.p.wait(timeout=60)


def main():
    if len(sys.argv) < 5:
        raise SystemExit(__doc__)
    root, file, edits, binaries = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4:]
    path = os.path.realpath(file)
    uri = "file://" + path
    text = open(path, encoding="utf-8").read()
    at = text.index("role: ") + len("role: ")
    end = min(i for i in (text.find(c, at) for c in ", }\n") if i >= 0)
    bad = text[:at] + text[at:end] + "-typo" + text[end:]
    servers, first = [], []
    for b in binaries:
        s = Server(b, uri)
        s.request(
            "initialize",
            {
                "processId": None,
                "rootUri": None,
                "capabilities": {},
                "initializationOptions": {"debounceMs": 0},
            },
        )
        s.notify("initialized", {})
        t = time.perf_counter()
        s.notify(
            "textDocument/didOpen",
            {"textDocument": {"uri": uri, "languageId": "yaml", "version": 1, "text": bad}},
        )
        if s.published() == 0:
            raise SystemExit(f"{b}: the misspelt role is not reported")
        first.append((time.perf_counter() - t) * 1000)
        servers.append(s)
    times = [[] for _ in binaries]
    for i in range(edits):
        body = text if i % 2 == 0 else bad
        for k, s in enumerate(servers):
            t = time.perf_counter()
            s.notify(
                "textDocument/didChange",
                {
                    "textDocument": {"uri": uri, "version": i + 2},
                    "contentChanges": [{"text": body}],
                },
            )
            n = s.published()
            times[k].append((time.perf_counter() - t) * 1000)
            if (n == 0) != (i % 2 == 0):
                raise SystemExit(f"{binaries[k]}: edit {i} published {n} diagnostics")
    for b, f, ts in zip(binaries, first, times):
        print(
            f"{b}: didOpen {f:.0f} ms; didChange -> publishDiagnostics median "
            f"{statistics.median(ts):.0f} ms (min {min(ts):.0f}, max {max(ts):.0f}, {len(ts)} edits)"
        )
    for s in servers:
        s.stop()


if __name__ == "__main__":
    main()
