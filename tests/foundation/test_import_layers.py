"""One direction for every arrow: the import graph of ``m1gym``, read from the source with ``ast``.

Every import statement counts, module level or inside a function (a lazy import is still an arrow);
relative imports are resolved. Imports under ``if TYPE_CHECKING:`` do not count: they never run
(annotations only), and they are the usual way to name a type without an import cycle.

A module belongs to the part named by its first name under ``m1gym`` (``m1gym/genrm/judges.py`` is
part ``genrm``, ``m1gym/core.py`` is part ``core``) unless ``PART_OF`` says otherwise. The package file ``m1gym/__init__.py`` (the
public facade: it re-exports core and registry names) is no part: importing it is allowed anywhere.
Imports by name (``importlib.import_module("m1gym.envs.math")``, the registry's ``"module:Class"``
specs, the CLI's plugin list) are not arrows either: that is how a lower part reaches envs on use.
"""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

PKG = Path(__file__).resolve().parents[2] / "m1gym"

#: The allowed direction, bottom row first: a module may import parts of lower rows only, never a
#: sibling part of its own row, never a row above. DESIGN.md "Layout" in code form, read from the
#: code where the two differ: envs sit above genrm (envs/general scores with the GenRM judge, and
#: envs/code writes test suites with it), so genrm reaches envs only through the registry, by name;
#: the service's HTTP client sits low (PART_OF), the rest of the service above the trainer.
LAYERS: list[tuple[str, ...]] = [
    ("errors", "probe_answers", "catalogue", "lazy"),  # leaves: import nothing of m1gym (catalogue: data)
    ("core", "config"),                   # the shared vocabulary; the typed config loader
    ("registry",),                        # imports envs by name, on first use
    ("verifiers", "sandbox", "kernels",   # know nothing of envs, trainer or service
     "service.client"),                   # the HTTP client of a running `m1gym serve` (see PART_OF)
    ("probe", "gym_env"),                 # tools over any env, reached through the registry
    ("checker",),                         # runs the probe among its checks
    ("inference",),                       # model, tokenizer, rollout engines, serve-model; no rewards
    ("genrm",),                           # judges sample through inference
    ("envs",),                            # use verifiers, sandbox, genrm (general, code test generation)
    ("scoring",),                         # runs Environment.score in workers
    ("curriculum",),                      # pass-rate filter samples through inference
    ("trainer",),                         # uses curriculum, genrm, inference, scoring
    ("service",),                         # the reward service: scoring pool behind HTTP
    ("integrations",),                    # other trainers' reward functions over the service client
    ("cli",),                             # the top command line; sub-CLIs live in their parts
]
RANK = {part: i for i, row in enumerate(LAYERS) for part in row}

#: modules that belong to another part than their folder says, with the reason
PART_OF = {
    # a wire client over core types, not the service: the trainer's `scoring.backend: http` and
    # the integrations score through it; it imports no part of the server
    "m1gym.service.client": "service.client",
    # kept for old import paths and verl configs naming this file: a re-export of integrations
    "m1gym.service.adapters": "integrations",
}


# ---- the graph -------------------------------------------------------------------------------

def _modules() -> dict[str, Path]:
    out = {}
    for path in sorted(PKG.rglob("*.py")):
        parts = list(path.relative_to(PKG.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        out[".".join(parts)] = path
    return out


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _import_nodes(tree: ast.AST):
    """Every Import / ImportFrom, in functions too, skipping the bodies of ``if TYPE_CHECKING:``."""
    stack = [tree]
    while stack:
        node = stack.pop()
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            yield node
            continue
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            stack.extend(node.orelse)
            continue
        stack.extend(ast.iter_child_nodes(node))


def _existing(name: str, modules: dict[str, Path]) -> str:
    """The longest prefix of a dotted name that is a module of the package."""
    while name not in modules and "." in name:
        name = name.rsplit(".", 1)[0]
    return name


def _targets(mod: str, is_pkg: bool, node: ast.Import | ast.ImportFrom, modules: dict[str, Path]) -> list[str]:
    if isinstance(node, ast.Import):
        return [_existing(a.name, modules) for a in node.names if a.name.split(".")[0] == "m1gym"]
    if node.level:  # relative: from the module's package, one level up per extra dot
        base = mod.split(".") if is_pkg else mod.split(".")[:-1]
        base = base[:len(base) - (node.level - 1)]
        source = ".".join(base + ([node.module] if node.module else []))
    else:
        source = node.module or ""
    if source.split(".")[0] != "m1gym":
        return []
    # `from pkg import name`: the submodule pkg.name when there is one, else pkg itself
    return [f"{source}.{a.name}" if f"{source}.{a.name}" in modules else _existing(source, modules)
            for a in node.names]


def _part(mod: str) -> str | None:
    if mod in PART_OF:
        return PART_OF[mod]
    names = mod.split(".")
    return names[1] if len(names) > 1 else None  # None: the m1gym facade


def _edges() -> list[tuple[str, str, str]]:
    """(importer, imported, "m1gym/path.py:line") for every import of an m1gym module."""
    modules = _modules()
    out = []
    for mod, path in modules.items():
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        for node in _import_nodes(tree):
            for target in _targets(mod, path.name == "__init__.py", node, modules):
                if target != mod:
                    out.append((mod, target, f"{path.relative_to(PKG.parent)}:{node.lineno}"))
    return sorted(set(out))


EDGES = _edges()


def _part_edges() -> dict[tuple[str, str], list[str]]:
    out: dict[tuple[str, str], list[str]] = defaultdict(list)
    for a, b, where in EDGES:
        pa, pb = _part(a), _part(b)
        if pa and pb and pa != pb:
            out[(pa, pb)].append(where)
    return dict(out)


def _cycles(graph: dict[str, set[str]]) -> list[set[str]]:
    """Strongly connected components with more than one node (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found = []
    nodes = sorted(set(graph) | {w for ws in graph.values() for w in ws})
    for root in nodes:
        if root in index:
            continue
        work = [(root, iter(sorted(graph.get(root, ()))))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            v, it = work[-1]
            w = next(it, None)
            if w is not None:
                if w not in index:
                    index[w] = low[w] = len(index)
                    stack.append(w)
                    on_stack.add(w)
                    work.append((w, iter(sorted(graph.get(w, ())))))
                elif w in on_stack:
                    low[v] = min(low[v], index[w])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[v])
            if low[v] == index[v]:
                comp = set()
                while True:
                    w = stack.pop()
                    on_stack.discard(w)
                    comp.add(w)
                    if w == v:
                        break
                if len(comp) > 1:
                    found.append(comp)
    return found


def _module_cycles() -> dict[frozenset[str], list[str]]:
    """Import circles between modules of the same part -> the arrows inside each circle."""
    graph: dict[str, set[str]] = defaultdict(set)
    for a, b, _ in EDGES:
        if _part(a) and _part(a) == _part(b):
            graph[a].add(b)
    out = {}
    for comp in _cycles(graph):
        out[frozenset(comp)] = [f"{a} -> {b} ({where})" for a, b, where in EDGES if a in comp and b in comp]
    return out


def _wrong_way() -> dict[tuple[str, str], list[str]]:
    return {(a, b): ws for (a, b), ws in _part_edges().items()
            if a in RANK and b in RANK and RANK[b] >= RANK[a]}


def _report(items: dict, what: str) -> str:
    lines = [what]
    for key, where in sorted(items.items(), key=lambda kv: str(kv[0])):
        lines.append(f"  {' -> '.join(key) if isinstance(key, tuple) else ', '.join(sorted(key))}:")
        lines.extend(f"    {w}" for w in where)
    return "\n".join(lines)


# ---- the tests -------------------------------------------------------------------------------

def test_the_graph_is_read():
    # a resolver that silently finds nothing would pass every test below
    parts = _part_edges()
    assert ("envs", "core") in parts and ("trainer", "inference") in parts
    assert len(EDGES) > 200


def test_every_part_has_a_place_in_the_layers():
    parts = {_part(m) for m in _modules()} - {None}
    missing = sorted(parts - set(RANK))
    assert not missing, (f"parts {missing} are not in LAYERS of {Path(__file__).name}: "
                         "put each in the row of what it may import (see DESIGN.md, Layout)")


def test_no_cycle_between_parts():
    edges = _part_edges()
    graph: dict[str, set[str]] = defaultdict(set)
    for a, b in edges:
        graph[a].add(b)
    cycles = _cycles(graph)
    bad = {(a, b): ws for (a, b), ws in edges.items() for c in cycles if a in c and b in c}
    assert not bad, _report(bad, "import cycles between parts (arrows inside each circle):")


def test_parts_import_downward_only():
    wrong = _wrong_way()
    rows = " < ".join("/".join(row) for row in LAYERS)
    assert not wrong, _report(wrong, f"imports against the allowed direction ({rows}):")


def test_no_import_circle_inside_a_part():
    cycles = _module_cycles()
    assert not cycles, _report(cycles, "import circles between modules of one part:")


def test_user_error_lives_low():
    import m1gym.cli
    import m1gym.errors

    assert m1gym.cli.UserError is m1gym.errors.UserError  # the old import path still works
    # sub-CLIs take it from m1gym.errors: none imports the top CLI (the layers test says so too)
    importers = sorted(where for a, b, where in EDGES if b == "m1gym.cli" and a != "m1gym.cli")
    assert not importers, f"these import m1gym.cli; import UserError from m1gym.errors: {importers}"


def test_inference_model_imports_no_upper_part():
    # at run time, package __init__ files included: loading a model must not drag in rewards or training
    env = {k: v for k, v in os.environ.items() if k != "M1GYM_NO_AUTOLOAD"}
    code = "import sys, m1gym.inference.model; print('\\n'.join(m for m in sys.modules if m.startswith('m1gym.')))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=300)
    assert out.returncode == 0, out.stderr
    upper = sorted(m for m in out.stdout.split() if m.split(".")[1] in ("trainer", "genrm", "envs", "service"))
    assert not upper, f"import m1gym.inference.model loads {upper}"
