#!/usr/bin/env python3
"""The import graph of the library's files (src/, without the binary): an edge A -> B when file A
names an item of file B (`crate::b::…`, `super::…`, or a parent's `pub use child::…`; a `mod b;`
declaration alone is not an import). Prints the cycles (strongly connected components of more than
one file). With --check, exits 1 unless the only cycle is the allowed one (ALLOWED).

Usage: scripts/layers.py [SRC] [-v] [--check]"""
import os, re, sys
args = [a for a in sys.argv[1:] if not a.startswith('-')]
root = args[0] if args else 'src'
# "A handler may register handlers": the context hands out the server handle, whose registries hold
# handlers that take a context.
ALLOWED = {'context', 'features', 'tools', 'resources', 'prompts'}
files = {}
for d, _, fs in os.walk(root):
    if '/bin' in d: continue
    for f in fs:
        if f.endswith('.rs'):
            p = os.path.join(d, f)
            rel = os.path.relpath(p, root)
            if rel in ('main.rs',): continue
            mod = rel[:-3]
            if mod.endswith('/mod'): mod = mod[:-4]
            if mod == 'lib': mod = ''
            files[mod] = p
def resolve(path_parts):
    # longest prefix that is a module file
    for i in range(len(path_parts), 0, -1):
        m = '/'.join(path_parts[:i])
        if m in files: return m
    return None
def strip(src):
    src = re.sub(r'//[^\n]*', '', src)      # comments (incl. doc)
    src = re.sub(r'#\[cfg\(test\)\]\s*mod tests\s*\{.*', '', src, flags=re.S)  # trailing tests
    return src
edges = {m: set() for m in files}
for m, p in files.items():
    src = strip(open(p).read())
    parts_self = m.split('/') if m else []
    # expand use crate::{a, b::c}
    for um in re.finditer(r'use\s+crate::\{([^;]*)\};', src, re.S):
        for item in re.split(r',(?![^{]*\})', um.group(1)):
            item = item.strip()
            name = re.match(r'[a-z_][a-z0-9_]*', item)
            if name:
                sub = re.match(r'([a-z_][a-z0-9_]*)(?:::([a-z_][a-z0-9_]*))?', item)
                t = resolve([x for x in sub.groups() if x])
                if t is not None and t != m: edges[m].add(t)
    # use crate::a::{b, c::D}: a/b and a/c when they are files, else a
    for um in re.finditer(r'crate::([a-z_][a-z0-9_]*)::\{([^;]*?)\}', src, re.S):
        for item in re.split(r',', um.group(2)):
            sub = re.match(r'\s*([a-z_][a-z0-9_]*)', item)
            t = resolve([um.group(1)] + ([sub.group(1)] if sub else []))
            if t is not None and t != m and t != '': edges[m].add(t)
    for mm in re.finditer(r'crate::([a-z_][a-z0-9_]*)(?:::([a-z_][a-z0-9_]*))?', src):
        t = resolve([x for x in mm.groups() if x])
        if t is not None and t != m and t != '': edges[m].add(t)
    for mm in re.finditer(r'\bsuper::\{?\s*([A-Za-z_][A-Za-z0-9_]*)', src):
        parent = parts_self[:-1]
        t = resolve(parent + [mm.group(1)]) or ('/'.join(parent) if '/'.join(parent) in files else None)
        if t is not None and t != m and t != '': edges[m].add(t)
    # a module naming its own child (`pub use child::X`, `child::f()`) imports it
    here = parts_self if (p.endswith('mod.rs') or p.endswith('lib.rs')) else parts_self
    for mm in re.finditer(r'^\s*(?:pub(?:\([a-z]+\))?\s+)?mod\s+([a-z_0-9]+)\s*;', src, re.M):
        child = mm.group(1)
        t = '/'.join(here + [child])
        if t in files and re.search(r'(?<![:\w])' + child + r'::', src):
            edges[m].add(t)
# Tarjan SCC
idx = {}; low = {}; st = []; on = set(); sccs = []; c = [0]
sys.setrecursionlimit(10000)
def sc(v):
    idx[v] = low[v] = c[0]; c[0] += 1; st.append(v); on.add(v)
    for w in edges[v]:
        if w not in idx: sc(w); low[v] = min(low[v], low[w])
        elif w in on: low[v] = min(low[v], idx[w])
    if low[v] == idx[v]:
        comp = []
        while True:
            w = st.pop(); on.discard(w); comp.append(w)
            if w == v: break
        sccs.append(comp)
for v in files:
    if v not in idx: sc(v)
cyc = [s for s in sccs if len(s) > 1]
print(f"{len(files)} files, {sum(len(e) for e in edges.values())} import edges, {len(cyc)} cycle(s)")
for s in cyc:
    print("  cycle:", ", ".join(sorted(x or 'lib' for x in s)))
    for a in sorted(s):
        print("     ", a, "->", ", ".join(sorted(b for b in edges[a] if b in s)))
if '-v' in sys.argv:
    for m in sorted(edges): print(m or 'lib', '->', ' '.join(sorted(edges[m])))
if '--check' in sys.argv:
    bad = [c for c in cyc if set(c) != ALLOWED]
    if bad:
        print("layers: FAIL: import cycles other than the allowed one")
        sys.exit(1)
    print("layers: ok")
