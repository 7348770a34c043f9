#!/usr/bin/env python3
"""Generates fixmux's compact FIX data dictionaries (C tables) from the FIX standard's facts.

Input: the FIX repository-style XML dictionaries (FIX42.xml, FIX44.xml, FIX50SP2.xml, FIXT11.xml)
shipped with the QuickFIX reference data. Output: one C source per supported version, holding
static const tables in the layout of fix_dict_tables.h, plus fix_dict_limits.h (sizes the
validator's stack buffers are built for). The output is a pure function of the input: hash
multipliers come from a fixed pseudo-random sequence, every list is sorted, so a regeneration
is byte-identical (tests/fixcodec/dict.cmake checks that with --check).

Usage:
  gen_dict.py [--spec DIR] [--out DIR] [--check]
    --spec  directory with the XML files (default: $FIXMUX_QUICKFIX_REF/spec or
            ../shared/reference/quickfix/spec relative to the repository root)
    --out   where to write (default: this script's directory)
    --check do not write; exit 1 and name the files whose content would change
"""
import argparse
import os
import sys
import xml.etree.ElementTree as ET

HERE = os.path.dirname(os.path.abspath(__file__))

# Field types as the validator knows them. The numeric ids are part of the table format
# (fix_dict_tables.h mirrors them); names are the XML type names.
TYPES = [
    "STRING", "CHAR", "BOOLEAN", "INT", "SEQNUM", "LENGTH", "NUMINGROUP", "TAGNUM",
    "DAYOFMONTH", "FLOAT", "QTY", "PRICE", "PRICEOFFSET", "AMT", "PERCENTAGE",
    "UTCTIMESTAMP", "UTCTIMEONLY", "UTCDATEONLY", "UTCDATE", "LOCALMKTDATE", "MONTHYEAR",
    "MULTIPLEVALUESTRING", "MULTIPLECHARVALUE", "MULTIPLESTRINGVALUE", "DATA", "XMLDATA",
    "CURRENCY", "EXCHANGE", "COUNTRY", "LANGUAGE", "LOCALMKTTIME", "TZTIMEONLY",
    "TZTIMESTAMP", "XID", "XIDREF",
]
TYPE_ID = {t: i for i, t in enumerate(TYPES)}

# Field flags (fix_dict_tables.h FIX_DF_*).
DF_HDR = 1       # standard header field
DF_TRL = 2       # standard trailer field
DF_SES = 4       # defined for session-level (admin) messages and the header/trailer
DF_APP = 8       # defined for application message bodies
DF_MULTI = 16    # multiple-value type: space-separated values, each checked against the enum
DF_PLAIN = 32    # no format to check and no enumeration: any non-empty value is valid
DF_GROUP = 64    # the NumInGroup tag of some repeating group

# Types whose values have no syntax the validator checks (strings by another name).
PLAIN_TYPES = {"STRING", "DATA", "XMLDATA", "CURRENCY", "EXCHANGE", "COUNTRY", "LANGUAGE",
               "LOCALMKTTIME", "TZTIMEONLY", "TZTIMESTAMP", "XID", "XIDREF"}

ADMIN_TYPES = {"0", "1", "2", "3", "4", "5", "A"}

LO_TAGS = 4096  # tags below this are found through a direct index, above by binary search
HT_TAGS = 1024  # header/trailer membership bitmap covers tags below this (fix_dict_tables.h)


class Ctx:
    """A validation context: the header, the trailer, a message body or a repeating group."""

    def __init__(self, members, delim=0, count_tag=0):
        # members: list of (tag, required, sub_ctx_id or 0) in definition order, no repeats
        self.members = members
        self.delim = delim
        self.count_tag = count_tag


def load(path):
    return ET.parse(path).getroot()


def is_req(node):
    return node.get("required", "N") in ("Y", "y")


class Builder:
    def __init__(self, version, begin_string):
        self.version = version
        self.begin_string = begin_string
        self.fields = {}        # tag -> dict(name, type, values, flags)
        self.ctxs = []          # list of Ctx; 0 header, 1 trailer
        self.ctx_ids = {}       # canonical key -> id
        self.msgs = []          # (msgtype, name, ctx id, admin)

    # -- fields -------------------------------------------------------------------------
    def add_fields(self, root, flags, override):
        for f in root.find("fields"):
            tag = int(f.get("number"))
            if tag in self.fields and not override:
                self.fields[tag]["flags"] |= flags
                continue
            values = [v.get("enum") for v in f]
            ftype = f.get("type")
            if ftype not in TYPE_ID:
                raise SystemExit("unknown field type %s for tag %d" % (ftype, tag))
            old = self.fields.get(tag)
            self.fields[tag] = {
                "name": f.get("name"),
                "type": ftype,
                "values": values,
                "flags": flags | (old["flags"] if old else 0),
            }

    # -- contexts -----------------------------------------------------------------------
    def intern_ctx(self, members, delim=0, count_tag=0):
        key = (tuple(members), delim, count_tag)
        if key in self.ctx_ids:
            return self.ctx_ids[key]
        cid = len(self.ctxs)
        self.ctxs.append(Ctx(members, delim, count_tag))
        self.ctx_ids[key] = cid
        return cid

    def expand(self, root, nodes, req_chain, names, out):
        """Flattens fields/components/groups of nodes into out: list of (tag, req, sub)."""
        comps = root.find("components")
        for n in nodes:
            kind = n.tag
            if kind == "field":
                out.append((names[n.get("name")], req_chain and is_req(n), 0))
            elif kind == "component":
                comp = comps.find("component[@name='%s']" % n.get("name"))
                if comp is None:
                    raise SystemExit("component %s not found" % n.get("name"))
                self.expand(root, list(comp), req_chain and is_req(n), names, out)
            elif kind == "group":
                count_tag = names[n.get("name")]
                sub = self.group_ctx(root, n, names, count_tag)
                out.append((count_tag, req_chain and is_req(n), sub))

    def group_ctx(self, root, node, names, count_tag):
        # Inside a group, "required" is relative to one instance: a member marked required
        # must be in every instance present, whether or not the group itself is required.
        members = []
        self.expand(root, list(node), True, names, members)
        members = dedupe(members)
        if not members:
            raise SystemExit("empty group %s" % node.get("name"))
        return self.intern_ctx(members, members[0][0], count_tag)

    def build(self, hdr_root, hdr_names, msg_roots):
        """hdr_root defines header and trailer; msg_roots: list of (root, names, admin_only)."""
        self.ctxs = [None, None]
        for sect in ("header", "trailer"):
            members = []
            self.expand(hdr_root, list(hdr_root.find(sect)), True, hdr_names, members)
            members = dedupe(members)
            flag = DF_HDR if sect == "header" else DF_TRL
            for tag, _, _ in members:
                self.fields[tag]["flags"] |= flag
            # Contexts 0 and 1 are the header and the trailer, whatever they contain.
            self.ctxs[0 if sect == "header" else 1] = Ctx(members, 0, 0)
        seen = set()
        for root, names, which in msg_roots:
            for m in root.find("messages"):
                mt = m.get("msgtype")
                admin = mt in ADMIN_TYPES or m.get("msgcat") == "admin"
                if which == "admin" and not admin or which == "app" and admin:
                    continue
                if mt in seen:
                    continue
                seen.add(mt)
                members = []
                self.expand(root, list(m), True, names, members)
                members = dedupe(members)
                cid = self.intern_ctx(members, 0, 0)
                self.msgs.append((mt, m.get("name"), cid, admin))


def dedupe(members):
    out, seen = [], set()
    for t, r, s in members:
        if t in seen:
            continue
        seen.add(t)
        out.append((t, r, s))
    return out


def names_of(root):
    return {f.get("name"): int(f.get("number")) for f in root.find("fields")}


# -- hashing ------------------------------------------------------------------------------
def lcg(seed):
    x = seed
    while True:
        x = (x * 6364136223846793005 + 1442695040888963407) & (2**64 - 1)
        yield ((x >> 32) | 1) & 0xFFFFFFFF


def hash_slot(key, mult, bits):
    return ((key * mult) & 0xFFFFFFFF) >> (32 - bits)


def build_hash(keys):
    """Open addressing, linear probing, load <= 0.7. Returns (bits, mult, table of index+1)."""
    n = len(keys)
    bits = 1
    while (1 << bits) * 7 < 10 * n or (1 << bits) <= n:
        bits += 1
    best = None
    gen = lcg(0x5EED + n)
    for _ in range(24):
        mult = next(gen)
        size = 1 << bits
        table = [0] * size
        total = worst = 0
        for i, k in enumerate(keys):
            h = hash_slot(k, mult, bits)
            probes = 0
            while table[h]:
                h = (h + 1) & (size - 1)
                probes += 1
            table[h] = i + 1
            total += probes
            worst = max(worst, probes)
        score = (worst, total)
        if best is None or score < best[0]:
            best = (score, mult, table)
        if worst == 0:
            break
    return bits, best[1], best[2]


def pack_msgtype(mt):
    b = mt.encode()
    if not 1 <= len(b) <= 4:
        raise SystemExit("MsgType %r too long" % mt)
    k = 0
    for i, c in enumerate(b):
        k |= c << (8 * i)
    return k


# -- C output -----------------------------------------------------------------------------
def c_str(s):
    out = []
    for ch in s:
        if ch in '"\\':
            out.append("\\" + ch)
        elif 32 <= ord(ch) < 127:
            out.append(ch)
        else:
            out.append("\\%03o" % ord(ch))
    return '"' + "".join(out) + '"'


def emit_array(lines, ctype, name, items, per_line=12):
    lines.append("static const %s %s[%d] = {" % (ctype, name, max(len(items), 1)))
    if not items:
        lines.append("\t0,")
    for i in range(0, len(items), per_line):
        lines.append("\t" + ", ".join(items[i:i + per_line]) + ",")
    lines.append("};")
    lines.append("")


def value_sort_key(v):
    b = v.encode()
    return (len(b), b)


def generate(b, sym):
    fields = b.fields
    tags = sorted(fields)
    fidx = {t: i for i, t in enumerate(tags)}
    lines = []
    lines.append("/* Generated by fixcodec/dict/gen_dict.py from the FIX standard's XML dictionaries: "
                 "do not edit. */")
    lines.append('#include "fix_dict_tables.h"')
    lines.append("")

    # Names pool: field names, then message names.
    pool = bytearray()
    pool_off = {}

    def intern(s):
        if s not in pool_off:
            pool_off[s] = len(pool)
            pool.extend(s.encode() + b"\0")
        return pool_off[s]

    # Enumerations, deduplicated by value set. Enum 0 is "no enumeration".
    enum_ids = {(): 0}
    enums = [((), 0, 0)]      # (values, first, count) of multi-byte values
    enum_vals = []            # packed (offset << 8 | len) into the value pool
    vpool = bytearray()
    voff = {}

    def add_enum(values):
        key = tuple(sorted(set(values), key=value_sort_key))
        if key in enum_ids:
            return enum_ids[key]
        multi = [v for v in key if len(v.encode()) != 1]
        first = len(enum_vals)
        for v in multi:
            if v not in voff:
                voff[v] = len(vpool)
                vpool.extend(v.encode())
            enum_vals.append("0x%xu" % ((voff[v] << 8) | len(v.encode())))
        enum_ids[key] = len(enums)
        enums.append((key, first, len(multi)))
        return enum_ids[key]

    hdr_ctx, trl_ctx = b.ctxs[0], b.ctxs[1]
    hdr_slot = {t: i for i, t in enumerate(sorted(m[0] for m in hdr_ctx.members))}
    trl_slot = {t: i for i, t in enumerate(sorted(m[0] for m in trl_ctx.members))}
    if len(hdr_slot) > 64 or len(trl_slot) > 64:
        raise SystemExit("header/trailer larger than 64 fields")

    count_tags = {c.count_tag for c in b.ctxs if c.count_tag > 0}
    for c in b.ctxs:
        count_tags.update(t for t, _, sub in c.members if sub)
    frecs = []
    frec_of = {}
    name_offs = []
    for t in tags:
        f = fields[t]
        values = f["values"]
        if t == 35:
            values = []   # MsgType is checked against the message table, not an enum
        if any(" " in v for v in values):
            # A description, not a value (FIX.4.2 SettlLocation lists "ISO Country Code"):
            # the list is open, so the field is checked as its type only.
            values = []
        flags = f["flags"]
        if f["type"] in ("MULTIPLEVALUESTRING", "MULTIPLECHARVALUE", "MULTIPLESTRINGVALUE"):
            flags |= DF_MULTI
        if f["type"] in PLAIN_TYPES and not values:
            flags |= DF_PLAIN
        if t in count_tags:
            flags |= DF_GROUP
        slot = hdr_slot.get(t, trl_slot.get(t, 0))
        eid = add_enum(values) if values else 0
        frecs.append("{%d, %d, %d, 0, %d}" % (TYPE_ID[f["type"]], flags, slot, eid))
        frec_of[t] = frecs[-1]
        name_offs.append("%du" % intern(f["name"]))

    lo_n = min(LO_TAGS, tags[-1] + 1)
    lo = ["0"] * lo_n
    hi_tags, hi_idx = [], []
    for t in tags:
        if t < lo_n:
            lo[t] = str(fidx[t] + 1)
        else:
            hi_tags.append("%du" % t)
            hi_idx.append(str(fidx[t] + 1))

    # Contexts: hash tables of members, slot records sorted by tag, required bitmaps.
    ctx_recs, hents, slots, reqw = [], [], [], []
    max_words = max_group_words = 1
    for c in b.ctxs:
        ms = sorted(c.members, key=lambda m: m[0])
        order = {m[0]: i for i, m in enumerate(c.members)}
        bits, mult, table = build_hash([m[0] for m in ms])
        hoff = len(hents)
        for e in table:
            hents.append(str(e - 1) if e else "0xffff")
        soff = len(slots)
        for t, _, sub in ms:
            slots.append("{%d, %d, %d, %s}" % (t, sub, order[t], frec_of[t]))
        words = (len(ms) + 63) // 64
        max_words = max(max_words, words)
        if c.count_tag > 0:
            max_group_words = max(max_group_words, words)
        roff = len(reqw)
        for w in range(words):
            v = 0
            for i, (t, r, _) in enumerate(ms[w * 64:(w + 1) * 64]):
                if r:
                    v |= 1 << i
            reqw.append("0x%016xull" % v)
        ctx_recs.append("{%d, %d, %d, %du, %d, %d, 0, %d, %d}" % (
            hoff, soff, roff, mult, len(ms), bits, c.delim, max(c.count_tag, 0)))

    # Group nesting depth (header groups included).
    depth_memo = {}

    def depth(cid):
        if cid not in depth_memo:
            depth_memo[cid] = 0
            d = 0
            for _, _, sub in b.ctxs[cid].members:
                if sub:
                    d = max(d, 1 + depth(sub))
            depth_memo[cid] = d
        return depth_memo[cid]
    max_depth = max(depth(i) for i in range(len(b.ctxs)))

    ht = [0] * (HT_TAGS // 64)
    for t in list(hdr_slot) + list(trl_slot):
        if t < HT_TAGS:
            ht[t // 64] |= 1 << (t % 64)

    msgs = sorted(b.msgs, key=lambda m: m[0].encode())
    mkeys = [pack_msgtype(m[0]) for m in msgs]
    mbits, mmult, mtable = build_hash(mkeys)
    mrecs = []
    for (mt, name, cid, admin), k in zip(msgs, mkeys):
        mrecs.append("{0x%xu, %d, %d, 0, %du}" % (k, cid, 1 if admin else 0, intern(name)))

    # Single-byte enumeration values as 128-bit sets, multi-byte ones as sorted lists.
    erecs = []
    for key, first, count in enums:
        lo_bits = hi_bits = 0
        for v in key:
            bv = v.encode()
            if len(bv) == 1 and bv[0] < 128:
                if bv[0] < 64:
                    lo_bits |= 1 << bv[0]
                else:
                    hi_bits |= 1 << (bv[0] - 64)
        erecs.append("{{0x%016xull, 0x%016xull}, %d, %d}" % (lo_bits, hi_bits, first, count))

    P = "d_"
    emit_array(lines, "uint16_t", P + "lo", lo, 16)
    emit_array(lines, "uint32_t", P + "hi_tags", hi_tags, 10)
    emit_array(lines, "uint16_t", P + "hi_idx", hi_idx, 12)
    emit_array(lines, "uint32_t", P + "tags", ["%du" % t for t in tags], 12)
    emit_array(lines, "struct fix_dict_field", P + "fields", frecs, 6)
    emit_array(lines, "uint32_t", P + "name_off", name_offs, 10)
    emit_array(lines, "struct fix_dict_enum", P + "enums", erecs, 2)
    emit_array(lines, "uint32_t", P + "enum_vals", enum_vals, 8)
    emit_array(lines, "uint16_t", P + "hents", hents, 16)
    emit_array(lines, "struct fix_dict_slot", P + "slots", slots, 6)
    emit_array(lines, "uint64_t", P + "req", reqw, 3)
    emit_array(lines, "struct fix_dict_ctx", P + "ctxs", ctx_recs, 2)
    emit_array(lines, "struct fix_dict_msg", P + "msgs", mrecs, 3)
    emit_array(lines, "uint16_t", P + "mt_hash", [str(x) for x in mtable], 16)
    emit_array(lines, "uint64_t", P + "ht", ["0x%016xull" % w for w in ht], 3)

    def pool_lines(name, data):
        lines.append("static const char %s[] =" % name)
        text = data.decode("latin-1")
        chunks = [text[i:i + 90] for i in range(0, len(text), 90)] or [""]
        for ch in chunks:
            lines.append("\t" + c_str(ch))
        lines.append("\t;")
        lines.append("")

    # The pools are single string literals, longer than the 4095 bytes ISO C asks compilers
    # to support; gcc and clang have no such limit.
    lines.append("#pragma GCC diagnostic push")
    lines.append('#pragma GCC diagnostic ignored "-Woverlength-strings"')
    pool_lines(P + "names", bytes(pool))
    pool_lines(P + "vpool", bytes(vpool))
    lines.append("#pragma GCC diagnostic pop")
    lines.append("")

    lines.append("const struct fix_dict %s = {" % sym)
    lines.append("\t.ver = %s," % b.version)
    lines.append("\t.begin_string = %s," % c_str(b.begin_string))
    lines.append("\t.lo = %slo, .n_lo = %d," % (P, lo_n))
    lines.append("\t.hi_tags = %shi_tags, .hi_idx = %shi_idx, .n_hi = %d," % (P, P, len(hi_tags)))
    lines.append("\t.tags = %stags, .fields = %sfields, .name_off = %sname_off, .n_fields = %d,"
                 % (P, P, P, len(tags)))
    lines.append("\t.enums = %senums, .enum_vals = %senum_vals, .vpool = %svpool," % (P, P, P))
    lines.append("\t.hents = %shents, .slots = %sslots, .req = %sreq, .ctxs = %sctxs, .n_ctxs = %d,"
                 % (P, P, P, P, len(ctx_recs)))
    lines.append("\t.msgs = %smsgs, .n_msgs = %d, .mt_hash = %smt_hash, .mt_mult = %du, .mt_bits = %d,"
                 % (P, len(mrecs), P, mmult, mbits))
    lines.append("\t.names = %snames, .ht = %sht," % (P, P))
    lines.append("\t.reject_reasons = 0x%xu," % reject_mask(b))
    lines.append("};")
    lines.append("")
    stats = {
        "depth": max_depth, "words": max_words, "group_words": max_group_words,
        "fields": len(tags), "ctxs": len(ctx_recs), "msgs": len(mrecs),
        "hents": len(hents), "slots": len(slots), "enums": len(erecs),
    }
    return "\n".join(lines), stats


def reject_mask(b):
    """Bit r set when SessionRejectReason(373) = r is defined in this version (r < 32)."""
    f = b.fields.get(373)
    m = 0
    for v in (f["values"] if f else []):
        if v.isdigit() and int(v) < 32:
            m |= 1 << int(v)
    return m


def build_all(spec):
    out = {}
    stats = {}
    for ver, fname, begin, sym in (("FIX_VER_42", "FIX42.xml", "FIX.4.2", "fix_dict_fix42"),
                                   ("FIX_VER_44", "FIX44.xml", "FIX.4.4", "fix_dict_fix44")):
        root = load(os.path.join(spec, fname))
        b = Builder(ver, begin)
        b.add_fields(root, DF_SES | DF_APP, True)
        names = names_of(root)
        b.build(root, names, [(root, names, "all")])
        out[sym], stats[sym] = generate(b, sym)
    # FIXT.1.1: the session layer's header, trailer and admin messages come from FIXT11.xml,
    # application messages from FIX50SP2.xml. A field FIXT11.xml defines keeps that definition.
    t = load(os.path.join(spec, "FIXT11.xml"))
    a = load(os.path.join(spec, "FIX50SP2.xml"))
    b = Builder("FIX_VER_T11", "FIXT.1.1")
    b.add_fields(a, DF_APP, True)
    b.add_fields(t, DF_SES, True)
    b.build(t, names_of(t), [(t, names_of(t), "admin"), (a, names_of(a), "app")])
    out["fix_dict_fixt11"], stats["fix_dict_fixt11"] = generate(b, "fix_dict_fixt11")
    return out, stats


def limits_header(stats):
    depth = max(s["depth"] for s in stats.values())
    words = max(s["words"] for s in stats.values())
    gwords = max(s["group_words"] for s in stats.values())
    return "\n".join([
        "/* Generated by fixcodec/dict/gen_dict.py: do not edit. Sizes of the validator's",
        " * on-stack state, the largest any generated dictionary needs. */",
        "#ifndef FIX_DICT_LIMITS_H",
        "#define FIX_DICT_LIMITS_H",
        "",
        "#define FIX_DICT_MAX_DEPTH %d       /* deepest repeating-group nesting */" % depth,
        "#define FIX_DICT_MAX_WORDS %d       /* 64-bit words of the largest context's slot bitmap */"
        % words,
        "#define FIX_DICT_MAX_GROUP_WORDS %d /* the same for repeating groups only */" % gwords,
        "",
        "#endif",
        "",
    ])


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    default_ref = os.environ.get("FIXMUX_QUICKFIX_REF",
                                 os.path.join(HERE, "..", "..", "..", "shared", "reference",
                                              "quickfix"))
    ap.add_argument("--spec", default=os.path.join(default_ref, "spec"))
    ap.add_argument("--out", default=HERE)
    ap.add_argument("--check", action="store_true")
    ap.add_argument("--stats", action="store_true")
    args = ap.parse_args()

    files, stats = build_all(args.spec)
    outputs = {name + ".c": text for name, text in files.items()}
    outputs["fix_dict_limits.h"] = limits_header(stats)
    if args.stats:
        for k, v in sorted(stats.items()):
            print(k, v)
    changed = []
    for name, text in sorted(outputs.items()):
        path = os.path.join(args.out, name)
        old = None
        if os.path.exists(path):
            with open(path, encoding="latin-1") as f:
                old = f.read()
        if old != text:
            changed.append(name)
            if not args.check:
                with open(path, "w", encoding="latin-1", newline="\n") as f:
                    f.write(text)
    if args.check:
        if changed:
            print("out of date (run fixcodec/dict/gen_dict.py): " + ", ".join(changed))
            return 1
        print("dictionaries up to date")
    return 0


if __name__ == "__main__":
    sys.exit(main())
