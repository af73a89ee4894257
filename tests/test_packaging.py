"""The installed shape: one import name, every data file shipped, and no import cycle."""
import ast
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _setup_folders() -> dict[str, str]:
    """setup.py's FOLDERS (each installed package and its folder), read without running setup()."""
    for node in ast.parse((ROOT / "setup.py").read_text()).body:
        if isinstance(node, ast.Assign) and [t.id for t in node.targets if isinstance(t, ast.Name)] == ["FOLDERS"]:
            return ast.literal_eval(node.value)
    raise AssertionError("setup.py names no FOLDERS")


FOLDERS = _setup_folders()


@pytest.fixture(scope="module")
def wheel_names(tmp_path_factory) -> set[str]:
    # Built from a copy: setuptools writes build/ and *.egg-info beside the sources.
    source = tmp_path_factory.mktemp("source")
    for name in ("setup.py", "pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, source / name)
    for folder in FOLDERS.values():
        shutil.copytree(ROOT / folder, source / folder, ignore=shutil.ignore_patterns("__pycache__"))
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation", "--no-index",
                    "-w", str(out), str(source)], check=True, capture_output=True)
    (wheel,) = out.glob("clipmill-*.whl")
    return set(zipfile.ZipFile(wheel).namelist())


def test_the_wheel_installs_only_the_clipmill_name(wheel_names):
    top_level = {name.split("/")[0] for name in wheel_names}
    assert {t for t in top_level if not t.endswith(".dist-info")} == {"clipmill"}


def test_every_module_and_data_file_is_in_the_wheel(wheel_names):
    for name, folder in FOLDERS.items():
        for path in (ROOT / folder).rglob("*"):
            if path.is_file() and "__pycache__" not in path.parts and path.suffix in {".py", ".yaml", ".mako", ".ini"}:
                installed = "/".join([*name.split("."), *path.relative_to(ROOT / folder).parts])
                assert installed in wheel_names, f"{path.relative_to(ROOT)} is not shipped as {installed}"


def _module_imports() -> dict[str, set[str]]:
    """Each clipmill module and the clipmill modules it imports anywhere in its body (an import
    inside a function is still a dependency: deferring it only hides a cycle)."""
    modules: dict[str, Path] = {}
    for name, folder in FOLDERS.items():
        for path in (ROOT / folder).rglob("*.py"):
            parts = [p for p in path.relative_to(ROOT / folder).with_suffix("").parts if p != "__init__"]
            modules[".".join([*name.split("."), *parts])] = path
    graph = {}
    for module, path in modules.items():
        named = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                named |= {node.module} | {f"{node.module}.{alias.name}" for alias in node.names}
            elif isinstance(node, ast.Import):
                named |= {alias.name for alias in node.names}
        graph[module] = {m for m in named if m in modules and m != module}
    return graph


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan, iteratively)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found = []
    for root in graph:
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, edges = work[-1]
            for nxt in edges:
                if nxt not in index:
                    index[nxt] = low[nxt] = len(index)
                    stack.append(nxt)
                    on_stack.add(nxt)
                    work.append((nxt, iter(sorted(graph[nxt]))))
                    break
                if nxt in on_stack:
                    low[node] = min(low[node], index[nxt])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    component = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        component.append(member)
                        if member == node:
                            break
                    if len(component) > 1:
                        found.append(sorted(component))
    return found


def test_no_import_cycle():
    assert _cycles(_module_imports()) == []


def test_the_cycle_finder_finds_a_cycle():
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_the_device_bundle_carries_the_generation_packages_the_device_lacks():
    """tests/benchmarks/device_bundle.py's part `a` is what every GPU benchmark of generation
    installs on the lent machine. Each package clipmill's generation path needs there must travel
    in it or be one the device keeps: diffusers and ftfy (the Wan pipelines), peft (diffusers
    loads and fuses every LoRA through it: without it the distilled paths fail at their first
    LoRA), torchao (`precision: fp8`); torch, transformers, accelerate and safetensors are the
    device's own."""
    from packaging.requirements import Requirement

    from tests.benchmarks import device_bundle

    carried = {device_bundle.norm(Requirement(req).name) for req in device_bundle.PARTS["a"]["reqs"]}
    for name in ("diffusers", "ftfy", "peft", "torchao", "torch", "transformers", "accelerate", "safetensors"):
        assert name in carried or device_bundle.kept(name), f"{name} reaches the device in no part"
    assert not device_bundle.PARTS["a"]["needs"]  # a call that installs a alone can run generation
