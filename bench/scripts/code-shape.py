#!/usr/bin/env python3
"""The shape of the code, as issue 9 measures it: production files over 600 lines, production
functions over 80 lines, `pub` items of the coldfront library, and import cycles between the
library's modules. Production = bench/src and targets/src without test modules (`tests.rs`,
`tests/`, `testing/`, `#[cfg(test)]` blocks). Usage: bench/scripts/code-shape.py [REPO_DIR]"""
import os, re, sys
from collections import defaultdict

root = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..", "..")
FN = re.compile(r"^\s*(pub(\([a-z: ]+\))?\s+)?(const\s+)?(async\s+)?(unsafe\s+)?fn\s+(\w+)")
PUB = re.compile(r"^\s*pub\s+(async\s+)?(unsafe\s+)?(fn|struct|enum|const|static|type|trait|mod|use)\b")

def is_test_path(p):
    parts = p.split(os.sep)
    return parts[-1] == "tests.rs" or "tests" in parts[:-1] or "testing" in parts[:-1] \
        or parts[-1] in ("fixtures.rs",) and False

def strip(line):
    line = re.sub(r'"(\\.|[^"\\])*"', '""', line)
    line = re.sub(r"'(\\.|[^'\\])'", "' '", line)
    return line.split("//")[0]

def production_lines(path):
    """Lines of the file with #[cfg(test)] items blanked."""
    lines = open(path, encoding="utf-8").read().split("\n")
    out, skip_depth, pending = [], None, False
    depth = 0
    for line in lines:
        s = strip(line)
        if skip_depth is None and re.match(r"^\s*#\[cfg\(test\)\]", line):
            pending = True
            out.append("")
            continue
        if pending and skip_depth is None:
            if "{" in s:
                skip_depth = depth
            elif s.strip().endswith(";"):
                pending = False
                out.append("")
                continue
        opens, closes = s.count("{"), s.count("}")
        depth += opens - closes
        if skip_depth is not None:
            out.append("")
            if depth <= skip_depth:
                skip_depth, pending = None, False
            continue
        out.append(line)
    return out

def functions(lines):
    res = []
    for i, line in enumerate(lines):
        m = FN.match(line)
        if not m:
            continue
        depth, started = 0, False
        for j in range(i, len(lines)):
            s = strip(lines[j])
            if not started and ";" in s and "{" not in s:
                break
            depth += s.count("{") - s.count("}")
            if "{" in s:
                started = True
            if started and depth <= 0:
                res.append((m.group(6), i + 1, j - i + 1))
                break
    return res

files, long_fns, pubs, graph = [], [], 0, defaultdict(set)
for crate in ("bench", "targets"):
    src = os.path.join(root, crate, "src")
    for dirpath, _, names in os.walk(src):
        for name in names:
            if not name.endswith(".rs"):
                continue
            path = os.path.join(dirpath, name)
            rel = os.path.relpath(path, root)
            if is_test_path(os.path.relpath(path, src)):
                continue
            lines = production_lines(path)
            n = len(open(path, encoding="utf-8").read().rstrip("\n").split("\n"))
            if n > 600:
                files.append((n, rel))
            for fname, line, length in functions(lines):
                if length > 80:
                    long_fns.append((length, f"{rel}:{line} {fname}"))
            if crate == "bench":
                pubs += sum(1 for l in lines if PUB.match(l))
                modpath = os.path.relpath(path, src)[:-3].split(os.sep)
                if modpath[-1] == "mod":
                    modpath = modpath[:-1]
                me = modpath[0] if modpath and modpath[0] not in ("lib", "main") else None
                text = "\n".join(lines)
                for used in re.findall(r"crate::(\w+)", text):
                    if me and used != me:
                        graph[me].add(used)
                # sibling imports inside a top-level module (report::data ↔ report::phases)
                if len(modpath) >= 2:
                    me2 = "::".join(modpath[:2])
                    for used in re.findall(r"(?:super|crate::" + modpath[0] + r")::(\w+)", text):
                        other = modpath[0] + "::" + used
                        if other != me2 and os.path.exists(os.path.join(src, modpath[0], used + ".rs")) or os.path.isdir(os.path.join(src, modpath[0], used)):
                            if other != me2:
                                graph[me2].add(other)

def cycles(graph):
    index, low, stack, on, out, i = {}, {}, [], set(), [], [0]
    def visit(v):
        index[v] = low[v] = i[0]; i[0] += 1; stack.append(v); on.add(v)
        for w in graph.get(v, ()):
            if w not in index:
                visit(w); low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop(); on.discard(w); comp.append(w)
                if w == v: break
            if len(comp) > 1: out.append(sorted(comp))
    for v in list(graph):
        if v not in index: visit(v)
    return out

print(f"production files over 600 lines: {len(files)}")
for n, rel in sorted(files, reverse=True): print(f"  {n:5} {rel}")
print(f"production functions over 80 lines: {len(long_fns)}")
for n, what in sorted(long_fns, reverse=True): print(f"  {n:5} {what}")
print(f"pub items in the coldfront library (bench/src): {pubs}")
cyc = cycles(graph)
print(f"import cycles between modules: {len(cyc)}")
for c in cyc: print("  " + " <-> ".join(c))
