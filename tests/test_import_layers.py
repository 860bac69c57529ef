"""The import-layer contract of ``qa_bot``: no import cycles, and each module imports only from its own layer or
the layers below it. Function-local imports count like module-level ones (a lazy import does not hide a cycle).

Print the cycles and the imports that break a layer (nothing printed: the contract holds) with
``python tests/test_import_layers.py`` (from a checkout's root; or give the root as the argument).
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

# lowest first; a module may import from its own layer and the layers before it. A package (``qa_bot.store``) holds
# its modules; the most specific entry wins.
LAYERS: list[tuple[str, set[str]]] = [
    ("parsers of concepts (standard library only)", {"parse"}),
    ("foundation: types, settings, errors, text utilities",
     {"types", "settings", "errors", "text", "heap", "acronyms", "shorthand", "lexical", "ingest_report"}),
    ("load", {"load", "pdf", "webpage"}),
    ("chunk", {"chunk"}),
    ("embed and store", {"embed", "store"}),
    ("retrieve", {"retrieve", "subject"}),
    ("compose and verify", {"compose", "verify", "scorer", "coverage", "units"}),
    ("engine", {"engine", "llm", "rewrite"}),
    ("front ends", {"", "api", "api_limits", "keys", "audit", "feedback", "render", "openwebui", "cli", "mcp_server",
                    "langchain", "evaluate", "settings_doc"}),
]


def modules(root: Path) -> dict[str, Path]:
    out = {}
    for p in sorted((root / "qa_bot").rglob("*.py")):
        name = ".".join(p.relative_to(root).with_suffix("").parts)
        out[name.removesuffix(".__init__")] = p
    return out


def import_graph(root: Path = ROOT) -> dict[str, set[str]]:
    """module → the ``qa_bot`` modules it imports anywhere in its text (module level or inside a function). As
    Python runs it, ``from . import x`` imports the package (``__init__``) first: that is an edge to the package."""
    mods = modules(root)
    graph: dict[str, set[str]] = {m: set() for m in mods}
    for m, path in mods.items():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    package = m.split(".") if path.name == "__init__.py" else m.split(".")[:-1]
                    package = package[:len(package) - node.level + 1]
                    base = ".".join(package + ([base] if base else []))
                targets = [base] + [f"{base}.{a.name}" for a in node.names]
            else:
                continue
            for t in targets:
                while t and t not in mods:
                    t = t.rpartition(".")[0]
                if t and t != m:
                    graph[m].add(t)
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    out: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return sorted(out)


def layer_of(module: str) -> int | None:
    rel = module.removeprefix("qa_bot").removeprefix(".")
    parts = rel.split(".") if rel else [""]
    for n in range(len(parts), 0, -1):
        for i, (_, names) in enumerate(LAYERS):
            if ".".join(parts[:n]) in names:
                return i
    return None


def layer_violations(graph: dict[str, set[str]]) -> list[str]:
    problems = [f"{m} has no layer in tests/test_import_layers.py LAYERS" for m in graph if layer_of(m) is None]
    for m, deps in sorted(graph.items()):
        for d in sorted(deps):
            lm, ld = layer_of(m), layer_of(d)
            if lm is not None and ld is not None and ld > lm:
                problems.append(f"{m} ({LAYERS[lm][0]}) imports {d} ({LAYERS[ld][0]})")
    return problems


def test_no_import_cycles():
    found = cycles(import_graph())
    assert found == [], "import cycles (function-local imports included): " + "; ".join(" ↔ ".join(c) for c in found)


def test_modules_import_only_their_own_layer_and_below():
    assert layer_violations(import_graph()) == []


def test_callers_outside_the_package_import_modules_that_exist():
    """The web chat, benchmarks and tests import ``qa_bot`` modules inside functions too (the web chat's warm-up):
    a module moved or renamed is found here, not when that function first runs."""
    import qa_bot

    mods = modules(ROOT)
    missing = []
    for path in sorted([*ROOT.glob("ui/*.py"), *ROOT.glob("benchmarks/*.py"), *ROOT.glob("tests/*.py")]):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                wanted = [a.name for a in node.names if a.name.startswith("qa_bot")]
            elif isinstance(node, ast.ImportFrom) and not node.level and (node.module or "").startswith("qa_bot"):
                wanted = [node.module] + [f"{node.module}.{a.name}" for a in node.names if node.module == "qa_bot"
                                          and a.name not in qa_bot.__all__]
            else:
                continue
            missing += [f"{path.relative_to(ROOT)}:{node.lineno}: {w}" for w in wanted if w not in mods]
    assert missing == []


def test_the_check_sees_a_cycle_hidden_in_a_function(tmp_path):
    """A function-local import closing a cycle is found (the check would pass a cycle otherwise)."""
    pkg = tmp_path / "qa_bot"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "retrieve.py").write_text("from .compose import x\n")
    (pkg / "compose.py").write_text("def f():\n    from .retrieve import y\n")
    graph = import_graph(tmp_path)
    assert cycles(graph) == [["qa_bot.compose", "qa_bot.retrieve"]]
    assert layer_violations(graph) == ["qa_bot.retrieve (retrieve) imports qa_bot.compose (compose and verify)"]


if __name__ == "__main__":
    g = import_graph(Path(sys.argv[1]).resolve() if len(sys.argv) > 1 else ROOT)
    for c in cycles(g):
        print("cycle:", " ↔ ".join(c))
    for problem in layer_violations(g):
        print("layer:", problem)
