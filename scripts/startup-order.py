#!/usr/bin/env python3
"""The linker's symbol ordering file for the static binary (scripts/startup-order.sh).

Usage:
  startup-order.py order MAP CALLGRIND...   the functions run in each callgrind dump, in dump order
                                            and by address within a dump, one symbol per line
  startup-order.py coverage MAP ORDER       how many of ORDER's symbols MAP defines ("N M")

MAP is lld's link map (-Map) of the binary the callgrind dumps ran: it names every input section
(one per Rust function: rustc emits function sections) and the symbols in it, so addresses from a
stripped binary can be named. A section is named by the first symbol it defines; lld places the
section of every symbol listed, in the order listed, ahead of the rest of `.text`.
"""
import bisect
import re
import sys


def read_map(path):
    """Input sections of executable output sections: sorted starts, ends, and their symbols."""
    cols = None
    sections = []  # [start, end, [symbols]]
    in_text = False
    for line in open(path, encoding="utf-8", errors="replace"):
        if cols is None:
            if "VMA" in line and "Symbol" in line:
                cols = (line.index("Out"), line.index("In "), line.index("Symbol"))
            continue
        parts = line.split(None, 4)
        if len(parts) < 5:
            continue
        try:
            start, size = int(parts[0], 16), int(parts[2], 16)
        except ValueError:
            continue
        text = line.rstrip("\n")
        # Which column the name starts in: output section, input section or symbol.
        name_at = len(text) - len(parts[4].rstrip("\n"))
        name = parts[4].strip()
        if name_at < cols[1]:
            in_text = name.startswith(".text") or name == ".init" or name == ".fini"
        elif name_at < cols[2]:
            if in_text and size > 0:
                sections.append([start, start + size, []])
        elif in_text and sections and sections[-1][0] <= start < sections[-1][1]:
            sections[-1][2].append(name)
    sections.sort(key=lambda s: s[0])
    return sections


def executed(path, binary_hint):
    """Addresses of the instructions run in one callgrind dump (--dump-instr=yes,
    --compress-pos=no, --compress-strings=no), only those of objects whose path ends in
    `binary_hint`."""
    addrs = set()
    ours = False
    for line in open(path, encoding="utf-8", errors="replace"):
        if line.startswith("ob="):
            ours = line.rstrip("\n").endswith(binary_hint)
        elif ours and line.startswith("0x"):
            m = re.match(r"0x([0-9a-fA-F]+)", line)
            if m:
                addrs.add(int(m.group(1), 16))
    return addrs


def order(map_path, dumps):
    sections = read_map(map_path)
    starts = [s[0] for s in sections]
    seen, out = set(), []
    for dump in dumps:
        hit = set()
        for a in executed(dump, "fastmcp-server"):
            i = bisect.bisect_right(starts, a) - 1
            if i >= 0 and sections[i][0] <= a < sections[i][1] and sections[i][2]:
                hit.add(i)
        for i in sorted(hit):
            if i not in seen:
                seen.add(i)
                out.append(sections[i][2][0])
    return out


def defined(map_path):
    names = set()
    for s in read_map(map_path):
        names.update(s[2])
    return names


def main():
    if len(sys.argv) >= 4 and sys.argv[1] == "order":
        names = order(sys.argv[2], sys.argv[3:])
        if not names:
            sys.exit("startup-order: no executed function found in the map")
        print("\n".join(names))
    elif len(sys.argv) == 4 and sys.argv[1] == "coverage":
        have = defined(sys.argv[2])
        want = [l.strip() for l in open(sys.argv[3]) if l.strip()]
        print(sum(1 for w in want if w in have), len(want))
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
