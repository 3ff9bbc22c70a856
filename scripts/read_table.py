#!/usr/bin/env python3
"""An independent reader of trellis decision tables (format version 3).

Written from docs/table-format.md alone, to check that the document
suffices. Standard library only, plus `xxhash` (pip) for xxh3-64.

    python3 scripts/read_table.py TABLE --batch QUERIES.jsonl
    python3 scripts/read_table.py TABLE --roles-batch QUERIES.jsonl

Each line of QUERIES is a JSON object {"user","org","permission","resource"?};
the first form prints allow/deny per line, the second the user's roles at the
org (display names, comma-separated, sorted).
"""

import bisect
import json
import struct
import sys

import xxhash

MAGIC = b"TRELLIS\0"
MAJOR = 3
HEADER_LEN = 64
DIR_ENTRY_LEN = 24
NONE = 0xFFFF_FFFF

POLICY_BIT = 1 << 31
LOCKED_BIT = 1 << 30
RESTRICTED_BIT = 1 << 29
INDEX_MASK = 0x1FFF_FFFF


class TableError(Exception):
    """Any refusal to load (or to use) a table."""


class NotATable(TableError):
    pass


class Truncated(TableError):
    pass


class UnsupportedVersion(TableError):
    pass


class Corrupt(TableError):
    pass


class Malformed(TableError):
    """The directory or a structural invariant is broken."""


# id -> (name, item width)
SECTIONS = {
    1: ("str_blob", 1),
    2: ("str_off", 4),
    3: ("org_name", 4),
    4: ("org_sorted", 4),
    5: ("org_parent", 4),
    6: ("org_end", 4),
    7: ("org_rec", 4),
    8: ("member_grants", 4),
    9: ("org_grant_start", 4),
    10: ("org_grants", 4),
    11: ("org_grant_source", 4),
    12: ("user_rec", 4),
    13: ("user_home", 4),
    14: ("user_ident", 1),
    15: ("user_grants", 4),
    16: ("user_grant_source", 4),
    17: ("identity_name", 4),
    18: ("role_name", 4),
    19: ("role_name_sorted", 4),
    20: ("role_qualified", 4),
    21: ("role_qualified_sorted", 4),
    22: ("role_display", 4),
    23: ("role_flags", 4),
    24: ("role_approval", 4),
    25: ("role_identity", 8),
    26: ("assignable_start", 4),
    27: ("assignable_by", 4),
    28: ("closure_roles", 4),
    29: ("closure_perms", 4),
    30: ("role_pool", 8),
    31: ("pub_pool", 8),
    32: ("perm_pool", 8),
    33: ("module_name", 4),
    34: ("module_sorted", 4),
    35: ("module_first_perm", 4),
    36: ("module_gated", 4),
    37: ("perm_module", 4),
    38: ("perm_action", 4),
    39: ("policy_name", 4),
    40: ("policy_sorted", 4),
    41: ("policy_modules", 8),
    42: ("dim_name", 4),
    43: ("module_dim", 4),
    44: ("res_name", 4),
    45: ("res_dim", 4),
    46: ("res_org", 4),
    47: ("org_res_start", 4),
    48: ("org_res", 4),
    49: ("restr_start", 4),
    50: ("restr_entries", 4),
    51: ("restr_res", 4),
    52: ("role_restr", 4),
    53: ("role_req_start", 4),
    54: ("role_req", 4),
    55: ("restricted_items", 4),
    56: ("closure_part_start", 4),
    57: ("closure_parts", 4),
}
# Minor 1: the runs, present in every table of minor 1 or later.
RUN_SECTIONS = {
    58: ("user_run_rec", 4),
    59: ("user_runs", 4),
    60: ("member_runs", 4),
    61: ("runset_perms", 4),
    62: ("runset_start", 4),
    63: ("runset_items", 4),
}
RUN_UNPUBLISHED = 1 << 30
RUN_INCOMPLETE = 1 << 29

_FMT = {1: "B", 4: "I", 8: "Q"}


def words(n):
    """W(n) = max(1, ceil(n / 64))."""
    return max(1, (n + 63) // 64)


def _require(cond, what):
    if not cond:
        raise Malformed("malformed table: " + what)


def _offsets(arr, name, count, end_limit):
    """An offset array of `count + 1` items: starts at 0, non-decreasing,
    last <= end_limit."""
    _require(len(arr) == count + 1, f"{name} has {len(arr)} items, expected {count + 1}")
    _require(arr[0] == 0, f"{name} does not start at 0")
    for i in range(count):
        _require(arr[i] <= arr[i + 1], f"{name} decreases at {i}")
    _require(arr[-1] <= end_limit, f"{name} ends past its array")


def _all_below(arr, name, limit, none_ok=False):
    for i, v in enumerate(arr):
        if none_ok and v == NONE:
            continue
        _require(v < limit, f"{name}[{i}] = {v} out of range (< {limit})")


class Table:
    def __init__(self, data):
        self._load(bytes(data))

    @classmethod
    def open(cls, path):
        with open(path, "rb") as f:
            return cls(f.read())

    # ------------------------------------------------------------ loading
    def _load(self, b):
        n = len(b)
        # 1. magic, then a whole header
        if n < 8 or b[:8] != MAGIC:
            raise NotATable("not a trellis table (bad magic)")
        if n < HEADER_LEN:
            raise Truncated(f"truncated table: {n} bytes, shorter than the 64-byte header")
        major, minor, flags, input_hash, file_len, count, first_user, checksum, ident_w = (
            struct.unpack_from("<HHIQQIIQI", b, 8)
        )
        # 2. major version
        if major != MAJOR:
            raise UnsupportedVersion(
                f"table format version {major} is not supported; recompile it"
            )
        # 3. length
        if file_len != n:
            raise Truncated(f"truncated table: header says {file_len} bytes, file has {n}")
        # 4. checksum: xxh3-64 seed 0 over bytes 0..40 then 48..end
        h = xxhash.xxh3_64(seed=0)
        h.update(b[0:40])
        chunk = 1 << 20
        for off in range(48, n, chunk):
            h.update(b[off:min(n, off + chunk)])
        if h.intdigest() != checksum:
            raise Corrupt("corrupt table: checksum mismatch")
        self.minor = minor
        self.flags = flags
        self.input_hash = input_hash
        self.first_user_name = first_user
        self.ident_width = ident_w

        # 5. directory
        dir_end = HEADER_LEN + count * DIR_ENTRY_LEN
        _require(dir_end <= n, "the directory does not fit in the file")
        entries = {}
        prev = None
        for i in range(count):
            sid, width, off, items = struct.unpack_from("<IIQQ", b, HEADER_LEN + i * DIR_ENTRY_LEN)
            _require(prev is None or sid > prev, f"directory ids do not increase at entry {i}")
            prev = sid
            entries[sid] = (width, off, items)
        s = {}
        wanted = dict(SECTIONS)
        if minor >= 1:
            wanted.update(RUN_SECTIONS)
        for sid, (name, width) in wanted.items():
            _require(sid in entries, f"section {sid} ({name}) is missing")
            w, off, items = entries[sid]
            _require(w == width, f"section {sid} ({name}) has width {w}, expected {width}")
            _require(off % 8 == 0, f"section {sid} ({name}) offset {off} is not a multiple of 8")
            _require(off >= dir_end, f"section {sid} ({name}) starts inside the header or directory")
            _require(off + items * width <= n, f"section {sid} ({name}) runs past the end of the file")
            if width == 1:
                s[name] = b[off:off + items]
            else:
                s[name] = list(struct.unpack_from(f"<{items}{_FMT[width]}", b, off))
        self.s = s
        self._blob = s["str_blob"]

        # 6. structural invariants (not the "(records)" ones)
        self._check_structure()

    def _check_structure(self):
        s = self.s
        # Strings
        off = s["str_off"]
        _require(len(off) >= 1, "str_off is empty")
        _require(off[0] == 0, "str_off does not start at 0")
        for i in range(len(off) - 1):
            _require(off[i] <= off[i + 1], f"str_off decreases at {i}")
        _require(off[-1] <= len(s["str_blob"]), "str_off ends past str_blob")
        self.strings = len(off) - 1

        # Derived counts and widths
        self.orgs = orgs = len(s["org_name"])
        self.users = users = len(s["user_home"])
        self.nroles = roles = len(s["role_flags"])
        self.identities = idents = len(s["identity_name"])
        self.modules = modules = len(s["module_name"])
        self.perms = perms = len(s["perm_module"])
        self.policies = policies = len(s["policy_name"])
        self.dims = dims = len(s["dim_name"])
        self.resources = resources = len(s["res_name"])
        self.role_words = words(roles)
        self.perm_words = words(perms)
        self.module_words = words(modules)
        self.identity_words = words(idents)

        # Pools (needed by other checks)
        for name, w in (("role_pool", self.role_words), ("pub_pool", self.role_words),
                        ("perm_pool", self.perm_words)):
            _require(len(s[name]) % w == 0, f"{name} length is not a multiple of {w}")
        self.role_sets = len(s["role_pool"]) // self.role_words
        self.pub_sets = len(s["pub_pool"]) // self.role_words
        self.perm_sets = len(s["perm_pool"]) // self.perm_words

        # Orgs
        for name in ("org_name", "org_parent", "org_end"):
            _require(len(s[name]) == orgs, f"{name} has {len(s[name])} items, expected {orgs}")
        _all_below(s["org_sorted"], "org_sorted", orgs)
        for o in range(orgs):
            p = s["org_parent"][o]
            _require(p == NONE or p < o, f"org_parent[{o}] = {p} does not come before it")
            e = s["org_end"][o]
            _require(o < e <= orgs, f"org_end[{o}] = {e} out of range")
        mg = s["member_grants"]
        _require(len(mg) % 3 == 0, "member_grants is not a multiple of 3")
        _require(len(mg) >= 3 and mg[-3:] == [NONE, NONE, NONE],
                 "member_grants does not end with a terminator")
        mg_grants = len(mg) // 3
        rec = s["org_rec"]
        _require(len(rec) == 3 * orgs, f"org_rec has {len(rec)} items, expected {3 * orgs}")
        for o in range(orgs):
            pub, start, end = rec[3 * o:3 * o + 3]
            _require(pub < self.pub_sets, f"org_rec[{o}] publication set {pub} out of pub_pool")
            _require(start <= end, f"org_rec[{o}] member range start > end")
            _require(end < mg_grants and mg[3 * end:3 * end + 3] == [NONE, NONE, NONE],
                     f"org_rec[{o}] member range has no terminator at its end")
        _offsets(s["org_grant_start"], "org_grant_start", orgs, len(s["org_grants"]) // 3)
        src = s["org_grant_source"]
        _require(not src or len(src) == len(s["org_grants"]) // 3,
                 "org_grant_source does not have one item per org grant")

        # Users
        ur = s["user_rec"]
        _require(len(ur) == 2 * (users + 1), f"user_rec has {len(ur)} items, expected {2 * (users + 1)}")
        _require(ur[0] == 0, "user_rec does not start at 0")
        ug = s["user_grants"]
        _require(len(ug) % 3 == 0, "user_grants is not a multiple of 3")
        _require(ur[2 * users] == len(ug) // 3, "user_rec's last pair does not end user_grants")
        _require(self.first_user_name + users <= self.strings, "user names run past the strings")
        _require(self.ident_width in (1, 2, 4), f"identity width {self.ident_width} is not 1, 2 or 4")
        _require(len(s["user_ident"]) == users * self.ident_width,
                 "user_ident is not users x identity width bytes")

        # Roles
        for name in ("role_name", "role_qualified", "role_display", "role_approval"):
            _require(len(s[name]) == roles, f"{name} has {len(s[name])} items, expected {roles}")
        for name in ("role_name_sorted", "role_qualified_sorted"):
            _all_below(s[name], name, roles)
        _require(len(s["role_identity"]) == roles * self.identity_words,
                 "role_identity is not roles x identity words")
        _offsets(s["assignable_start"], "assignable_start", roles, len(s["assignable_by"]))
        _all_below(s["assignable_by"], "assignable_by", roles)
        for name, sets in (("closure_roles", self.role_sets), ("closure_perms", self.perm_sets)):
            _require(len(s[name]) == idents * roles, f"{name} is not identities x roles items")
            _all_below(s[name], name, sets, none_ok=True)

        # Catalog
        _offsets(s["module_first_perm"], "module_first_perm", modules, perms)
        _require(s["module_first_perm"][-1] == perms, "module_first_perm does not end at len(perm_module)")
        for name in ("module_gated", "module_dim"):
            _require(len(s[name]) == modules, f"{name} has {len(s[name])} items, expected {modules}")
        _require(len(s["perm_action"]) == perms, "perm_action is not one per permission")
        _all_below(s["module_sorted"], "module_sorted", modules)
        _all_below(s["policy_sorted"], "policy_sorted", policies)
        _all_below(s["perm_module"], "perm_module", modules)
        _require(len(s["policy_modules"]) == policies * self.module_words,
                 "policy_modules is not policies x module words")

        # Resources and restrictions
        _all_below(s["module_dim"], "module_dim", dims, none_ok=True)
        _require(len(s["res_dim"]) == resources, "res_dim is not one per resource")
        _require(len(s["res_org"]) == resources, "res_org is not one per resource")
        _all_below(s["res_dim"], "res_dim", dims)
        _all_below(s["res_org"], "res_org", orgs, none_ok=True)
        if not (len(s["res_name"]) == 0 and len(s["org_res_start"]) == 0):
            _offsets(s["org_res_start"], "org_res_start", orgs, len(s["org_res"]))
        _all_below(s["org_res"], "org_res", resources)
        re_ = s["restr_entries"]
        _require(len(re_) % 3 == 0, "restr_entries is not a multiple of 3")
        self.restrictions = len(s["restr_start"]) - 1
        _require(self.restrictions >= 0, "restr_start is empty")
        _offsets(s["restr_start"], "restr_start", self.restrictions, len(re_) // 3)
        for i in range(0, len(re_), 3):
            d, a, z = re_[i:i + 3]
            _require(d < dims, f"restriction entry {i // 3} has an invalid dimension")
            _require(a <= z <= len(s["restr_res"]), f"restriction entry {i // 3} range is invalid")
        _all_below(s["restr_res"], "restr_res", resources)
        _require(len(s["role_restr"]) == roles, "role_restr is not one per role")
        _all_below(s["role_restr"], "role_restr", self.restrictions, none_ok=True)
        _offsets(s["role_req_start"], "role_req_start", roles, len(s["role_req"]))
        _all_below(s["role_req"], "role_req", dims)
        ri = s["restricted_items"]
        _require(len(ri) % 2 == 0, "restricted_items has an odd length")
        for i in range(0, len(ri), 2):
            _require(ri[i] < roles, f"restricted_items pair {i // 2} has an invalid role")
            _require(ri[i + 1] < self.restrictions, f"restricted_items pair {i // 2} has an invalid restriction")
        cp = s["closure_parts"]
        _require(len(cp) % 2 == 0, "closure_parts has an odd length")
        _offsets(s["closure_part_start"], "closure_part_start", idents * roles, len(cp) // 2)
        for i in range(0, len(cp), 2):
            _require(cp[i] < self.perm_sets, f"closure_parts pair {i // 2} has an invalid set")
            _require(cp[i + 1] < self.restrictions, f"closure_parts pair {i // 2} has an invalid restriction")

        # Runs (minor 1)
        self.runs = "user_run_rec" in s
        if self.runs:
            rec = s["user_run_rec"]
            _require(len(rec) == (users + 1) * 3, "user_run_rec has the wrong length")
            _require(rec[0] == 0, "user_run_rec does not start at 0")
            _require(len(s["user_runs"]) % 3 == 0, "user_runs is not a multiple of 3")
            _require(rec[3 * users] == len(s["user_runs"]) // 3, "user_run_rec does not end at the user runs")
            mr = s["member_runs"]
            _require(len(mr) % 3 == 0, "member_runs is not a multiple of 3")
            _require(not mr or mr[-3:] == [NONE] * 3, "member_runs does not end with a terminator")
            st = s["runset_start"]
            _require(len(st) >= 1, "runset_start is empty")
            self.runsets = len(st) - 1
            _offsets(st, "runset_start", self.runsets, len(s["runset_items"]))
            rp = s["runset_perms"]
            _require(len(rp) == self.runsets * idents, "runset_perms has the wrong length")
            _all_below(rp, "runset_perms", self.perm_sets, none_ok=True)

    # ------------------------------------------------------------ helpers
    def string(self, k):
        off = self.s["str_off"]
        return bytes(self._blob[off[k]:off[k + 1]]).decode("utf-8")

    def _sbytes(self, k):
        off = self.s["str_off"]
        return bytes(self._blob[off[k]:off[k + 1]])

    def _in_set(self, pool, w, sid, i):
        return (self.s[pool][sid * w + i // 64] >> (i % 64)) & 1 == 1

    def _find_sorted(self, sorted_arr, name_arr, name):
        """Binary search of `name` in `sorted_arr` (numbers sorted by the
        string name_arr[number])."""
        key = name.encode("utf-8")
        lo, hi = 0, len(sorted_arr)
        while lo < hi:
            mid = (lo + hi) // 2
            v = self._sbytes(name_arr[sorted_arr[mid]])
            if v < key:
                lo = mid + 1
            elif v > key:
                hi = mid
            else:
                return sorted_arr[mid]
        return None

    def _find_numbered(self, name_of, count, name):
        """Binary search over entities numbered in name order."""
        key = name.encode("utf-8")
        lo, hi = 0, count
        while lo < hi:
            mid = (lo + hi) // 2
            v = self._sbytes(name_of(mid))
            if v < key:
                lo = mid + 1
            elif v > key:
                hi = mid
            else:
                return mid
        return None

    # lookups -------------------------------------------------------------
    def user(self, name):
        return self._find_numbered(lambda u: self.first_user_name + u, self.users, name)

    def user_name(self, u):
        return self.string(self.first_user_name + u)

    def org(self, name):
        return self._find_sorted(self.s["org_sorted"], self.s["org_name"], name)

    def resource(self, name):
        return self._find_numbered(lambda q: self.s["res_name"][q], self.resources, name)

    def role_by_qualified(self, name):
        return self._find_sorted(self.s["role_qualified_sorted"], self.s["role_qualified"], name)

    def permission(self, name):
        """`module:action` -> permission number, or None."""
        if ":" not in name:
            return None
        mod, action = name.split(":", 1)
        m = self._find_sorted(self.s["module_sorted"], self.s["module_name"], mod)
        if m is None:
            return None
        fp = self.s["module_first_perm"]
        for p in range(fp[m], fp[m + 1]):
            if self.string(self.s["perm_action"][p]) == action:
                return p
        return None

    def ident(self, u):
        w = self.ident_width
        return int.from_bytes(self.s["user_ident"][u * w:(u + 1) * w], "little")

    # restrictions ----------------------------------------------------------
    def _restr_list(self, k, d):
        """The resource list of restriction k for dimension d, or None when
        k does not name d."""
        s = self.s
        st = s["restr_start"]
        e = s["restr_entries"]
        for i in range(st[k], st[k + 1]):
            if e[3 * i] == d:
                return s["restr_res"][e[3 * i + 1]:e[3 * i + 2]]
        return None

    @staticmethod
    def _contains(lst, q):
        i = bisect.bisect_left(lst, q)
        return i < len(lst) and lst[i] == q

    # grants ------------------------------------------------------------
    @staticmethod
    def _covering(arr, start, end, x):
        """Triples arr[start..end) (end None: to the [NONE]*3 terminator),
        sorted by lo, that cover org x: stops at the first lo > x."""
        g = start
        while end is None or g < end:
            if 3 * g + 3 > len(arr):
                raise IndexError("a grant list runs past its array")
            lo, hi, item = arr[3 * g:3 * g + 3]
            if lo > x:  # a terminator's lo is NONE
                break
            if lo <= x < hi:
                yield lo, hi, item
            g += 1

    def _reaching(self, u, x):
        """The grants (lo, hi, item) that reach user u at org x."""
        s = self.s
        ur = s["user_rec"]
        yield from self._covering(s["user_grants"], ur[2 * u], ur[2 * u + 2], x)
        yield from self._covering(s["member_grants"], ur[2 * u + 1], None, x)

    def _decode(self, item):
        """-> ('policy', n) or ('role', r, restriction-or-None)."""
        if item & POLICY_BIT:
            return ("policy", item & INDEX_MASK)
        idx = item & INDEX_MASK
        if item & RESTRICTED_BIT:
            ri = self.s["restricted_items"]
            return ("role", ri[2 * idx], ri[2 * idx + 1])
        return ("role", idx, None)

    # ------------------------------------------------------------ answering
    def allow_numbers(self, u, p, x, q=None):
        s = self.s
        m = s["perm_module"][p]
        D = s["module_dim"][m]
        if q is not None:
            if D == NONE or s["res_dim"][q] != D:
                return False
            if s["res_org"][q] not in (NONE, x):
                return False
        given = False
        opened = False
        for _lo, _hi, item in self._reaching(u, x):
            d = self._decode(item)
            if d[0] == "policy":
                pol = d[1]
                if self._in_set("policy_modules", self.module_words, pol, m):
                    opened = True
                continue
            if given:
                continue
            given = self._role_gives(item, u, p, x, q)
        gated = s["module_gated"][m] != 0
        return given and (not gated or opened)

    def _runs(self, u, x):
        """The runs (own, entry) that reach user u at org x."""
        s = self.s
        rec = s["user_run_rec"]
        for _lo, _hi, e in self._covering(s["user_runs"], rec[3 * u], rec[3 * u + 3], x):
            yield True, e
        for _lo, _hi, e in self._covering(s["member_runs"], rec[3 * u + 1], None, x):
            yield False, e

    def allow_numbers_by_runs(self, u, p, x, q=None):
        """allow() from the runs (minor 1), as the document's second recipe."""
        s = self.s
        ident = s["user_run_rec"][3 * u + 2]
        m = s["perm_module"][p]
        D = s["module_dim"][m]
        if q is not None:
            if D == NONE or s["res_dim"][q] != D:
                return False
            if s["res_org"][q] not in (NONE, x):
                return False
        given = False
        opened = False
        for own, e in self._runs(u, x):
            if e & POLICY_BIT:
                if self._in_set("policy_modules", self.module_words, e & INDEX_MASK, m):
                    opened = True
                continue
            if given:
                continue
            rs = e & INDEX_MASK
            if own and not e & (RUN_UNPUBLISHED | RUN_INCOMPLETE):
                # an own run without flags names its permission set
                given = self._in_set("perm_pool", self.perm_words, rs, p)
            elif not e & RUN_UNPUBLISHED:
                F = s["runset_perms"][rs * self.identities + ident]
                given = F != NONE and self._in_set("perm_pool", self.perm_words, F, p)
            if not given and e & (RUN_UNPUBLISHED | RUN_INCOMPLETE):
                st = s["runset_start"]
                for item in s["runset_items"][st[rs]:st[rs + 1]]:
                    if self._role_gives(item, u, p, x, q):
                        given = True
                        break
        gated = s["module_gated"][m] != 0
        return given and (not gated or opened)

    def _role_gives(self, item, u, p, x, q):
        """Step 5 for one role grant item."""
        s = self.s
        ident = self.ident(u)
        m = s["perm_module"][p]
        D = s["module_dim"][m]
        _, r, G = self._decode(item)
        if not self._in_set("pub_pool", self.role_words, s["org_rec"][3 * x], r):
            return False
        c = ident * self.nroles + r
        F = s["closure_perms"][c]
        in_F = F != NONE and self._in_set("perm_pool", self.perm_words, F, p)
        if D == NONE:
            return in_F
        if q is None:
            return (G is None or self._restr_list(G, D) is None) and in_F
        if G is not None:
            lst = self._restr_list(G, D)
            if lst is not None and not self._contains(lst, q):
                return False
        if in_F:
            return True
        cps = s["closure_part_start"]
        cp = s["closure_parts"]
        for i in range(cps[c], cps[c + 1]):
            S, K = cp[2 * i], cp[2 * i + 1]
            if self._in_set("perm_pool", self.perm_words, S, p):
                lst = self._restr_list(K, D)
                if lst is not None and self._contains(lst, q):
                    return True
        return False

    def allow(self, user, permission, org, resource=None):
        """By names; unknown names answer False."""
        u = self.user(user)
        p = self.permission(permission)
        if u is None or p is None:
            return False
        q = None
        if resource is not None:
            q = self.resource(resource)
            if q is None:
                return False
        if org is None or org == "":
            if q is None:
                return False
            x = self.s["res_org"][q]
            if x == NONE:
                return False
        else:
            x = self.org(org)
            if x is None:
                return False
        try:
            answer = self.allow_numbers(u, p, x, q)
            # A table with runs must answer the same from them.
            if self.runs and self.allow_numbers_by_runs(u, p, x, q) != answer:
                raise Malformed(f"the runs and the grant lists disagree on {user} {permission} {org} {resource}")
            return answer
        except IndexError as e:  # only a table written wrongly on purpose
            raise Malformed(f"malformed table: index out of range ({e})") from None

    def roles_numbers(self, u, x):
        s = self.s
        ident = self.ident(u)
        pubset = s["org_rec"][3 * x]
        held = set()
        for _lo, _hi, item in self._reaching(u, x):
            d = self._decode(item)
            if d[0] != "role":
                continue
            r = d[1]
            if not self._in_set("pub_pool", self.role_words, pubset, r):
                continue
            cr = s["closure_roles"][ident * self.nroles + r]
            if cr == NONE:
                continue
            for h in range(self.nroles):
                if self._in_set("role_pool", self.role_words, cr, h):
                    held.add(h)
        return held

    def roles(self, user, org):
        """Display names of the roles `user` holds at `org`, sorted."""
        u = self.user(user)
        x = self.org(org)
        if u is None or x is None:
            return []
        names = [self.string(self.s["role_display"][h]) for h in self.roles_numbers(u, x)]
        return sorted(names, key=lambda n: n.encode("utf-8"))

    def published(self, role_qualified_name, org):
        r = self.role_by_qualified(role_qualified_name)
        x = self.org(org)
        if r is None or x is None:
            return False
        return self._in_set("pub_pool", self.role_words, self.s["org_rec"][3 * x], r)


def _iter_queries(path):
    f = sys.stdin if path == "-" else open(path, encoding="utf-8")
    with f:
        for line in f:
            line = line.strip()
            if not line:
                continue
            yield json.loads(line)


def main(argv=None):
    import argparse

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("table")
    g = ap.add_mutually_exclusive_group(required=True)
    g.add_argument("--batch", help="JSON lines of queries; prints allow/deny per line")
    g.add_argument("--roles-batch", help="JSON lines of {user, org}; prints roles per line")
    args = ap.parse_args(argv)
    try:
        t = Table.open(args.table)
    except TableError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    except OSError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    out = sys.stdout
    try:
        if args.batch:
            for qd in _iter_queries(args.batch):
                ok = t.allow(qd.get("user", ""), qd.get("permission", ""), qd.get("org"),
                             qd.get("resource"))
                out.write("allow\n" if ok else "deny\n")
        else:
            for qd in _iter_queries(args.roles_batch):
                out.write(",".join(t.roles(qd.get("user", ""), qd.get("org", ""))) + "\n")
    except TableError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
