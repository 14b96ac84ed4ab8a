"""Cache keys that name their inputs: the code modules and the data files a stage reads.

A stage (bundle, measurement, models) declares the package modules it runs and the project data
files it reads; its key hashes the source of those modules and of every package module they
import, directly or not (found by reading the import statements, lazy imports inside functions
included), the declared data files' bytes, and the parameters that matter to it. So a caption edit
in a figure module rebuilds nothing, while an edit of the published tables re-estimates the
models (as showyourwork has every output declare its inputs).
"""

from __future__ import annotations

import ast
import hashlib
import json
from functools import lru_cache
from pathlib import Path
from typing import Any, Iterable

from intercity import paths

PACKAGE = "intercity"
_ROOT = Path(__file__).resolve().parent


def module_file(name: str) -> Path | None:
    """The source file of package module ``name`` ("intercity.mrio"), or None if it is not one."""
    if name != PACKAGE and not name.startswith(PACKAGE + "."):
        return None
    parts = name.split(".")[1:]
    cands = [_ROOT / "__init__.py"] if not parts else [_ROOT.joinpath(*parts[:-1], parts[-1] + ".py"),
                                                      _ROOT.joinpath(*parts, "__init__.py")]
    return next((c for c in cands if c.is_file()), None)


def _imports(path: Path) -> set[str]:
    """Package modules imported anywhere in the file (module level or inside functions)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_bytes(), filename=str(path))):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found.update(f"{node.module}.{a.name}" for a in node.names)  # "from intercity import x"
    return {m for m in found if module_file(m) is not None}


@lru_cache(maxsize=None)
def closure(modules: tuple[str, ...]) -> tuple[str, ...]:
    """``modules`` and every package module they import, transitively; sorted names."""
    seen: set[str] = set()
    todo = [m for m in modules]
    while todo:
        m = todo.pop()
        if m in seen:
            continue
        f = module_file(m)
        if f is None:
            raise ValueError(f"{m!r} is not a module of the {PACKAGE} package")
        seen.add(m)
        parent = m.rsplit(".", 1)[0]
        if parent != m and parent not in seen and module_file(parent) is not None:
            todo.append(parent)  # a package's __init__ runs before its submodules
        todo.extend(_imports(f) - seen)
    return tuple(sorted(seen))


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def inputs(modules: Iterable[str], data_files: Iterable[str | Path] = ()) -> dict[str, str]:
    """{input name: sha256} for the closure of ``modules`` and the ``data_files`` (paths relative
    to the project root). A missing data file raises FileNotFoundError naming it."""
    out = {}
    for m in closure(tuple(sorted(set(modules)))):
        out[f"module {m}"] = _sha(module_file(m).read_bytes())
    for f in data_files:
        p = Path(f)
        full = p if p.is_absolute() else paths.PROJECT_ROOT / p
        if not full.is_file():
            raise FileNotFoundError(f"declared input {p} of a cached stage is missing")
        out[f"file {p.as_posix()}"] = _sha(full.read_bytes())
    return out


def key(stage: str, modules: Iterable[str], data_files: Iterable[str | Path] = (),
        parameters: Any = None, upstream: str = "") -> str:
    """Short sha256 naming a stage's inputs: its code closure, data files, parameters and the key of
    the stage it reads from (``upstream``)."""
    blob = json.dumps({"stage": stage, "inputs": inputs(modules, data_files), "parameters": parameters,
                       "upstream": upstream}, sort_keys=True, default=str).encode()
    return _sha(blob)[:16]
