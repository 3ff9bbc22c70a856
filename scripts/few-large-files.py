#!/usr/bin/env python3
"""The "few large files" shape of a generated tier, for benchmarks:

    python3 scripts/few-large-files.py target/bench/L target/bench/Lbig 3

The YAML tenant files that hold only orgs, users and assignments are merged
into N provider-scope files of tens of MB (`big-K.yaml`); every other file
(the provider's, TOML tenants, tenants with roles or publications) is
copied as it is. The set grants the same access as the original (the
provider may declare what a tenant declares; `trellis diff` of the two
reports no change at L), so the two shapes can be timed side by side.
"""
import os
import re
import shutil
import sys

src, dst, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
shutil.rmtree(dst, ignore_errors=True)
os.makedirs(os.path.join(dst, "tenants"))
shutil.copy(os.path.join(src, "provider.yaml"), os.path.join(dst, "provider.yaml"))
sections = {"orgs": [], "users": [], "assignments": []}
for name in sorted(os.listdir(os.path.join(src, "tenants"))):
    path = os.path.join(src, "tenants", name)
    text = open(path).read()
    keys = set(re.findall(r"^([a-z]+)[:=]", text, re.M))
    if not name.endswith(".yaml") or keys - {"scope", *sections}:
        shutil.copy(path, os.path.join(dst, "tenants", name))
        continue
    current = None
    for line in text.splitlines(True):
        if not line.startswith(" "):
            current = line.split(":")[0]
        else:
            sections[current].append(line)
for k in range(n):
    with open(os.path.join(dst, f"big-{k}.yaml"), "w") as f:
        f.write("scope: provider\n")
        for name, lines in sections.items():
            f.write(f"{name}:\n")
            f.writelines(lines[k * len(lines) // n:(k + 1) * len(lines) // n])
