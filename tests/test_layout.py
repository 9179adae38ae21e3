"""The layout's promises, read from the source (tests/layout.py): no import cycle, Prefect only
in the CLI and flows/, and a method only in its own folder (and the registry's one line)."""

from __future__ import annotations

import ast

import pytest

from pipeline import methods
from tests.layout import ROOT, cycles, edges, imports_of, modules

METHOD_DIR = ROOT / "pipeline" / "methods"
FOLDERS = {f.name for f in METHOD_DIR.iterdir() if (f / "__init__.py").exists()}
# Dataset formats that share a method's name (the self-instruct seed file, Unnatural's release),
# and the one flow that chains two methods by name.
NAMES_ALLOWED = ("pipeline/formats/", "flows/chain.py")


def test_no_import_cycle_anywhere():
    found = cycles(edges("pipeline", "flows"))
    assert found == [], "\n".join(" <-> ".join(c) for c in found)


@pytest.mark.parametrize("name", sorted(modules("pipeline")))
def test_the_library_outside_the_cli_never_imports_prefect_or_flows(name):
    path = modules("pipeline")[name]
    if name.startswith("pipeline.cli"):
        return
    assert not imports_of(path) & {"prefect", "flows"}, path


def _string_constants(path):
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            yield node.lineno, node.value


def test_no_module_outside_a_method_folder_names_a_method():
    names = set(methods.names()) | FOLDERS
    found = []
    for path in {**modules("pipeline"), **modules("flows")}.values():
        rel = path.relative_to(ROOT).as_posix()
        inside = any(rel.startswith(f"pipeline/methods/{f}/") for f in FOLDERS)
        if inside or rel.startswith(NAMES_ALLOWED) or rel == "pipeline/methods/__init__.py":
            continue
        found += [
            f"{rel}:{line} {value!r}" for line, value in _string_constants(path) if value in names
        ]
    assert found == []


def test_the_registry_lists_every_folder_once():
    assert sorted(methods.FOLDERS) == sorted(FOLDERS) and len(set(methods.FOLDERS)) == len(FOLDERS)


@pytest.mark.parametrize("folder", sorted(FOLDERS))
def test_a_method_folder_imports_no_other_method_nor_the_registry(folder):
    own = f"pipeline.methods.{folder}"
    for e in edges("pipeline"):
        if e.source == own or e.source.startswith(own + "."):
            target = e.target
            assert target != "pipeline.methods", f"{e.source}:{e.line} imports the registry"
            if target.startswith("pipeline.methods.") and target != "pipeline.methods.spec":
                assert target.startswith(own), f"{e.source}:{e.line} imports {target}"
            assert not target.startswith(("pipeline.cli", "flows")), f"{e.source}:{e.line}"
