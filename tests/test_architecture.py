"""The shape of the code, checked on its source: apps depend on each other one way
(medbook ← members ← identity ← appointments ← billing ← records ← reports ← privacy ← triage
← interop, demo on top), there is no import cycle, and views reach the database only through
selectors and services.

Each rule is a function over source text, tried on a small violating example first, so that the
check itself is known to fail when the rule is broken."""

from __future__ import annotations

import ast
from collections.abc import Iterable
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
# Lower apps first: an app may import itself, medbook and the apps before it; nothing imports demo.
LAYERS = [
    "medbook",
    "members",
    "identity",
    "appointments",
    "billing",
    "records",
    "reports",
    "privacy",
    "triage",
    "interop",
    "demo",
]


def project_modules() -> dict[str, Path]:
    modules = {}
    for app in LAYERS:
        for path in sorted((ROOT / app).rglob("*.py")):
            if "migrations" in path.parts:
                continue
            parts = path.relative_to(ROOT).with_suffix("").parts
            name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
            modules[name] = path
    return modules


def imports_of(name: str, source: str, known: Iterable[str]) -> set[str]:
    """The project modules ``name`` imports anywhere in ``source`` (inside functions too), with
    the packages each import loads on the way."""
    known = set(known)
    is_package = name not in known or any(k.startswith(name + ".") for k in known)
    package = name if is_package else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*parts, base] if base else parts)
            targets = [base, *(f"{base}.{alias.name}" for alias in node.names)]
        else:
            continue
        for target in targets:
            while target and target not in known:
                target = target.rpartition(".")[0]
            while target:  # importing a.b.c runs a and a.b first
                if target != name and not name.startswith(target + "."):
                    found.add(target)
                target = target.rpartition(".")[0]
    return found


def import_graph(sources: dict[str, str]) -> dict[str, set[str]]:
    return {name: imports_of(name, text, sources) for name, text in sources.items()}


def layering_violations(graph: dict[str, set[str]]) -> list[str]:
    rank = {app: i for i, app in enumerate(LAYERS)}
    wrong = []
    for module, targets in sorted(graph.items()):
        app = module.split(".")[0]
        for target in sorted(targets):
            other = target.split(".")[0]
            if other == app:
                continue
            if other == "demo" or app == "medbook" or rank[other] > rank[app]:
                wrong.append(f"{module} imports {target}")
    return wrong


def import_cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected groups of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in graph.get(node, ()):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                cycles.append(sorted(group))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return cycles


def test_the_checks_catch_a_cycle_and_an_upward_import() -> None:
    graph = import_graph(
        {
            "members.models": "from members import services\n",
            "members.services": "def f():\n    from .models import Member\n",
            "medbook.urls": "from appointments.views import home\n",
            "members.views": "import billing.services\n",
            "billing.services": "from demo import data\n",
            "appointments.views": "",
            "demo.data": "",
        }
    )
    assert import_cycles(graph) == [["members.models", "members.services"]]
    assert layering_violations(graph) == [
        "billing.services imports demo",
        "billing.services imports demo.data",
        "medbook.urls imports appointments",
        "medbook.urls imports appointments.views",
        "members.views imports billing",
        "members.views imports billing.services",
    ]


@pytest.fixture(scope="module")
def graph() -> dict[str, set[str]]:
    return import_graph({name: path.read_text() for name, path in project_modules().items()})


def test_there_is_no_import_cycle(graph) -> None:
    assert import_cycles(graph) == []


def test_apps_import_only_downwards_and_medbook_imports_no_app(graph) -> None:
    assert layering_violations(graph) == []


# -- views reach the database only through selectors and services --------------------------------

ORM_ATTRIBUTES = {"objects", "_default_manager"}
ORM_CALLS = {
    "save",
    "delete",
    "filter",
    "exclude",
    "select_related",
    "prefetch_related",
    "values_list",
    "aggregate",
    "annotate",
    "select_for_update",
    "bulk_create",
    "get_or_create",
    "update_or_create",
}
ORM_FUNCTIONS = {"get_object_or_404", "get_list_or_404"}


def orm_in_view(source: str) -> list[str]:
    """Where ``source`` (a views module) touches the ORM itself: ``.objects``, a queryset
    method, ``.save()``/``.delete()``, or ``get_object_or_404``."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Attribute) and node.attr in ORM_ATTRIBUTES:
            found.append((node.lineno, f".{node.attr}"))
        elif isinstance(node, ast.Call):
            func = node.func
            if isinstance(func, ast.Attribute) and func.attr in ORM_CALLS:
                found.append((node.lineno, f".{func.attr}()"))
            elif isinstance(func, ast.Name) and func.id in ORM_FUNCTIONS:
                found.append((node.lineno, f"{func.id}()"))
    return [f"line {line}: {what}" for line, what in sorted(found)]


def views_modules() -> dict[str, Path]:
    return {
        name: path
        for name, path in project_modules().items()
        if path.name in {"views.py", "staff_views.py", "staff_accounts.py"}
        or path.parent.name == "views"
    }


def test_the_check_catches_orm_in_a_view() -> None:
    source = (
        "def page(request, pk):\n"
        "    item = get_object_or_404(Member, pk=pk)\n"
        "    rows = Message.objects.all()\n"
        "    item.save(update_fields=['name'])\n"
        "    request.member.messages.filter(read_at=None)\n"
    )
    assert orm_in_view(source) == [
        "line 2: get_object_or_404()",
        "line 3: .objects",
        "line 4: .save()",
        "line 5: .filter()",
    ]


def test_the_views_modules_are_found() -> None:
    names = set(views_modules())
    assert {"members.views", "appointments.views", "billing.staff_views"} <= names


@pytest.mark.parametrize("module", sorted(views_modules()))
def test_views_use_selectors_and_services_only(module: str) -> None:
    assert orm_in_view(views_modules()[module].read_text()) == []


def test_forms_live_in_forms_modules() -> None:
    """A form class is declared in a ``forms`` module, not in a views module."""
    found = []
    for name, path in views_modules().items():
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ClassDef) and any(
                (isinstance(base, ast.Attribute) and base.attr in {"Form", "ModelForm"})
                or (isinstance(base, ast.Name) and base.id.endswith("Form"))
                for base in node.bases
            ):
                found.append(f"{name}.{node.name}")
    assert found == []
