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
import os
from functools import lru_cache
from pathlib import Path
from typing import Any, Iterable, Mapping

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


#: Files at least this large have their sha256 remembered by :func:`file_sha256`.
MEMO_MIN_BYTES: int = 16 * 2 ** 20


def _memo_path() -> Path:
    return Path(paths.CACHE_DIR) / "sha256-memo.json"


def file_sha256(path: str | Path) -> str:
    """sha256 of a file's bytes, read in 8 MiB chunks (never the whole file in memory).

    For files of at least :data:`MEMO_MIN_BYTES` (a user's CEADs tables: about 1.4 GB a year at
    full size) the digest is remembered in ``<cache>/sha256-memo.json`` under the file's absolute
    path, size, modification time (ns) and inode, as ``git`` and ``make`` trust a file's stat: a
    file written again gets a new modification time and is hashed again. So the ten notebooks of a
    build, each computing the bundle's cache key, hash a large file once. Raises
    FileNotFoundError naming the path.
    """
    p = Path(path)
    st = p.stat()
    memo_key = None
    if st.st_size >= MEMO_MIN_BYTES:
        memo_key = f"{p.resolve()}|{st.st_size}|{st.st_mtime_ns}|{st.st_ino}"
        try:
            memo = json.loads(_memo_path().read_text())
        except (OSError, ValueError):
            memo = {}
        if memo_key in memo:
            return memo[memo_key]
    h = hashlib.sha256()
    with p.open("rb") as fh:
        while chunk := fh.read(8 * 2 ** 20):
            h.update(chunk)
    digest = h.hexdigest()
    if memo_key is not None:
        try:
            memo = json.loads(_memo_path().read_text())
        except (OSError, ValueError):
            memo = {}
        memo[memo_key] = digest
        _memo_path().parent.mkdir(parents=True, exist_ok=True)
        tmp = _memo_path().with_name(f"{_memo_path().name}.tmp-{os.getpid()}")
        tmp.write_text(json.dumps(memo, indent=0, sort_keys=True))
        os.replace(tmp, _memo_path())
    return digest


def inputs(modules: Iterable[str], data_files: Iterable[str | Path] = (),
           named_files: Mapping[str, str | Path] | None = None) -> dict[str, str]:
    """{input name: sha256} for the closure of ``modules``, the ``data_files`` (paths relative
    to the project root) and ``named_files`` ({name: path}: files named by what they are, not
    where they lie, e.g. a user's CEADs table "ceads.mrio.2012", so moving them keeps the key).
    A missing data file raises FileNotFoundError naming it."""
    out = {}
    for m in closure(tuple(sorted(set(modules)))):
        out[f"module {m}"] = _sha(module_file(m).read_bytes())
    for f in data_files:
        p = Path(f)
        full = p if p.is_absolute() else paths.PROJECT_ROOT / p
        if not full.is_file():
            raise FileNotFoundError(f"declared input {p} of a cached stage is missing")
        out[f"file {p.as_posix()}"] = file_sha256(full)
    for name, f in (named_files or {}).items():
        p = Path(f)
        if not p.is_file():
            raise FileNotFoundError(f"declared input {name} ({p}) of a cached stage is missing")
        out[f"input {name}"] = file_sha256(p)
    return out


def key(stage: str, modules: Iterable[str], data_files: Iterable[str | Path] = (),
        parameters: Any = None, upstream: str = "", named_files: Mapping[str, str | Path] | None = None) -> str:
    """Short sha256 naming a stage's inputs: its code closure, data files (and ``named_files``),
    parameters and the key of the stage it reads from (``upstream``)."""
    blob = json.dumps({"stage": stage, "inputs": inputs(modules, data_files, named_files), "parameters": parameters,
                       "upstream": upstream}, sort_keys=True, default=str).encode()
    return _sha(blob)[:16]
