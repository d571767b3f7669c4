"""The import graph of daivi_data: no cycle, and the layers point one way.

The graph is read from the source: every `import`, also the ones inside functions (a
deferred import hides a cycle from Python, not from the reader); not the ones under
`if TYPE_CHECKING:`. A package's `__main__.py` (its command line) is a node of its own:
nothing imports it, so it can close no cycle, as Python sees it. The cycle the issue named,
aws.credentials -> governance -> lakeformation -> aws.credentials, ran through governance's
command line and lakeformation's deferred import of the credential provider (for a retry
config, now in aws/clients.py).
"""

from __future__ import annotations

import ast
from pathlib import Path

from daivi_data.settings import PROJECT_ROOT

PACKAGE = "daivi_data"


def _module_name(path: Path) -> str:
    parts = path.relative_to(PROJECT_ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {_module_name(p): p for p in sorted((PROJECT_ROOT / PACKAGE).rglob("*.py"))}


def _known(name: str) -> str | None:
    """The daivi_data module a dotted name lives in (a name imported from a module counts as that module)."""
    while name and name not in MODULES:
        name = name.rpartition(".")[0]
    return name or None


def _is_type_checking(node: ast.AST) -> bool:
    return isinstance(node, ast.If) and ast.unparse(node.test).endswith("TYPE_CHECKING")


def _import_nodes(node: ast.AST):
    """Every import statement under `node`, at any depth, except under `if TYPE_CHECKING:`."""
    for child in ast.iter_child_nodes(node):
        if isinstance(child, ast.Import | ast.ImportFrom):
            yield child
        elif not _is_type_checking(child):
            yield from _import_nodes(child)


def _imported(path: Path, package: str) -> set[str]:
    """The dotted names a file imports (a name imported from a module: the module, or the submodule it names)."""
    found: set[str] = set()
    for node in _import_nodes(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
            continue
        base = node.module or ""
        if node.level:  # relative: from the package of this file
            anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
            base = ".".join([*anchor, base] if base else anchor)
        found |= {f"{base}.{alias.name}" if f"{base}.{alias.name}" in MODULES else base for alias in node.names}
    return found


def import_graph() -> dict[str, set[str]]:
    """daivi_data module -> the daivi_data modules it imports."""
    graph: dict[str, set[str]] = {name: set() for name in MODULES}
    for name, path in MODULES.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        targets = {_known(n) for n in _imported(path, package) if n == PACKAGE or n.startswith(PACKAGE + ".")}
        graph[name] |= {t for t in targets if t and t != name}
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def arrows(graph: dict[str, set[str]], source: str, targets: tuple[str, ...]) -> list[str]:
    """Every import from a module under `source` to a module under one of `targets`."""
    def under(name: str, prefix: str) -> bool:
        return name == prefix or name.startswith(prefix + ".")

    return sorted(f"{a} -> {b}" for a, deps in graph.items() if under(a, source)
                  for b in deps if any(under(b, t) for t in targets))


GRAPH = import_graph()


def test_the_graph_sees_deferred_imports_and_command_lines():
    assert "daivi_data.governance" in GRAPH["daivi_data.aws.credentials"]
    assert "daivi_data.lakeformation" in GRAPH["daivi_data.governance.__main__"]  # the plan|apply command line
    assert "daivi_data.aws.clients" in GRAPH["daivi_data.lakeformation"]  # inside connect()
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_lakeformation_reaches_aws_without_the_credential_provider():
    # The arrow that closed aws.credentials -> governance -> lakeformation -> aws.credentials.
    assert arrows(GRAPH, "daivi_data.lakeformation", ("daivi_data.aws.credentials",)) == []


def test_no_module_imports_a_command_line():
    assert not [f"{a} -> {b}" for a, deps in GRAPH.items() for b in deps if b.endswith(".__main__")]


def test_no_import_cycle_among_daivi_data_modules():
    assert cycles(GRAPH) == []


ANALYSIS = ("daivi_data.cost_analysis", "daivi_data.cur_analysis", "daivi_data.inventory_analysis")


def test_queries_do_not_import_the_pandas_analysis_modules():
    assert arrows(GRAPH, "daivi_data.queries", ANALYSIS) == []


def test_ingest_does_not_import_demo():
    assert arrows(GRAPH, "daivi_data.ingest", ("daivi_data.demo",)) == []


def test_ingest_does_not_import_queries():
    assert arrows(GRAPH, "daivi_data.ingest", ("daivi_data.queries",)) == []
