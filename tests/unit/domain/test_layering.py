"""The layers as ARCHITECTURE.md draws them, read from the source (AST, nothing imported): the
domain knows no adapter (`avp.store`) and no Google or Firebase class, calls none of the Firestore
facade's raw document methods (it asks repositories: `store.of(Kind)`, `uow.of(Kind)`), and knows
nothing of the pipeline, so `avp.domain` and `avp.pipeline` have no import cycle. Imports inside
functions count too: a lazy import is still a dependency."""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

import avp

PACKAGE = Path(avp.__file__).resolve().parent
FORBIDDEN_IN_DOMAIN = ("avp.store", "google", "firebase_admin")
# The Firestore facade's document vocabulary (avp.store.Store) and a raw transaction's: called on
# `store` or a transaction, they bypass the typed records.
RAW_METHODS = {"get", "create", "set", "update", "delete", "find", "find_one", "query", "paginate", "count", "get_many",
               "set_many", "transaction", "ref", "collection", "increment", "update_together", "delete_where"}
RAW_RECEIVERS = {"store", "txn", "transaction"}


def _modules(package: str) -> dict[str, Path]:
    root = PACKAGE / package
    return {f"avp.{package}." + ".".join(p.relative_to(root).with_suffix("").parts).removesuffix(".__init__"): p
            for p in sorted(root.rglob("*.py"))}


def _imports(module: str, path: Path) -> set[str]:
    """Every module name `path` imports, anywhere in it (relative imports resolved)."""
    names = set()
    package = module if path.name == "__init__.py" else module.rsplit(".", 1)[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = package.split(".")[:len(package.split(".")) - node.level + 1]
                base = ".".join([*parent, *([base] if base else [])])
            # `from avp.domain import jobs` imports avp.domain.jobs: name both.
            names.add(base)
            names.update(f"{base}.{alias.name}" for alias in node.names)
    return names


def _within(name: str, prefix: str) -> bool:
    return name == prefix or name.startswith(prefix + ".")


DOMAIN = _modules("domain")
PIPELINE = _modules("pipeline")


def test_the_scan_sees_the_packages() -> None:
    assert {"avp.domain.jobs", "avp.domain.records", "avp.domain.ports"} <= DOMAIN.keys()
    assert "avp.pipeline.steps" in PIPELINE
    assert "avp.domain.records" in _imports("avp.domain.jobs", DOMAIN["avp.domain.jobs"]) \
        or "avp.domain.ports" in _imports("avp.domain.jobs", DOMAIN["avp.domain.jobs"])


@pytest.mark.parametrize("module", sorted(DOMAIN))
def test_the_domain_imports_no_adapter_and_no_google_class(module: str) -> None:
    bad = sorted(n for n in _imports(module, DOMAIN[module]) if any(_within(n, f) for f in FORBIDDEN_IN_DOMAIN))
    assert not bad, f"{module} imports {bad}: take a port (avp.domain.ports / records) and let an adapter do it"


def _raw_calls(path: Path) -> list[str]:
    calls = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in RAW_METHODS:
            receiver = node.func.value
            named = receiver.id if isinstance(receiver, ast.Name) else getattr(receiver, "attr", None)
            if named in RAW_RECEIVERS:
                calls.append(f"{path.name}:{node.lineno} {named}.{node.func.attr}(")
    return calls


def test_the_raw_call_scan_finds_them(tmp_path: Path) -> None:
    source = tmp_path / "m.py"
    source.write_text("def f(store, txn, uow):\n    store.get('a/b')\n    txn.update(ref, {})\n"
                      "    store.of(Kind).get('b')\n    uow.jobs.get('j')\n    self.store.paginate('c', [], ('x', 'asc'), 1, 2)\n")
    assert sorted(_raw_calls(source)) == ["m.py:2 store.get(", "m.py:3 txn.update(", "m.py:6 store.paginate("]


@pytest.mark.parametrize("module", sorted(DOMAIN))
def test_the_domain_asks_repositories_not_the_raw_store(module: str) -> None:
    calls = _raw_calls(DOMAIN[module])
    assert not calls, f"raw store calls: {calls}; use store.of(Kind) / store.atomically(lambda uow: ...)"


def test_the_domain_does_not_import_the_pipeline() -> None:
    """The pipeline's steps are entry points on top of the domain; an edge back would be a cycle."""
    back = {m: sorted(n for n in _imports(m, p) if _within(n, "avp.pipeline")) for m, p in DOMAIN.items()}
    assert not {m: names for m, names in back.items() if names}


def test_no_import_cycle_between_domain_and_pipeline_modules() -> None:
    """No cycle through both packages, module by module (a pipeline module reaching the domain and
    back to itself)."""
    graph = {m: {n for n in _imports(m, p) if n in DOMAIN or n in PIPELINE} for m, p in {**DOMAIN, **PIPELINE}.items()}
    for start in PIPELINE:
        seen, stack = set(), list(graph[start])
        while stack:
            node = stack.pop()
            if node == start:
                pytest.fail(f"{start} imports itself back through {sorted(seen)}")
            if node not in seen:
                seen.add(node)
                stack.extend(graph.get(node, ()))
