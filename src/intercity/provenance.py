"""What a build was made from: the git commit, the input files with their sha256, the software.

Used by the reproducibility chapter and by the runner (``results/<set>/inputs.csv``,
``results/<set>/environment.csv``). Nothing here changes the build.
"""

from __future__ import annotations

import hashlib
import os
import platform
import subprocess
import sys
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import pandas as pd

from intercity import paths

#: Files of the repository every build reads besides the source's inputs (published numbers,
#: the map, the data manifest), relative to the project root.
PROJECT_FILES: tuple[str, ...] = ("data/reference/published_tables.csv", "data/reference/descriptive_stats.csv",
                                  "data/derived/city_boundaries.json", "data/manifest.csv")


def sha256(path: Path) -> str:
    """Hex sha256 of a file's bytes (read in 1 MiB blocks)."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def git_commit(root: Path | None = None) -> dict[str, str]:
    """The checkout's commit: ``commit`` (full hash), ``branch``, ``dirty`` ("yes" with the number of
    changed files, or "no"); every value "unknown" when ``root`` is not a git checkout or git is
    missing."""
    root = Path(root or paths.PROJECT_ROOT)

    def git(*args: str) -> str:
        return subprocess.run(["git", "-C", str(root), *args], capture_output=True, text=True,
                              check=True, timeout=30).stdout.strip()

    try:
        commit = git("rev-parse", "HEAD")
        branch = git("rev-parse", "--abbrev-ref", "HEAD")
        changed = [line for line in git("status", "--porcelain", "--untracked-files=no").splitlines() if line]
    except (OSError, subprocess.SubprocessError):
        return {"commit": "unknown", "branch": "unknown", "dirty": "unknown"}
    return {"commit": commit, "branch": branch,
            "dirty": f"yes ({len(changed)} tracked files changed)" if changed else "no"}


def input_files(study, root: Path | None = None) -> pd.DataFrame:
    """Every file the build read: the source's inputs (``meta["inputs"]``: data/raw paths of the
    data manifest, sha256-verified on every build) and :data:`PROJECT_FILES`, with columns
    file, role, sha256, action (copied / downloaded / present for inputs; "read" for project files)."""
    root = Path(root or paths.PROJECT_ROOT)
    rows = [{"file": f"data/raw/{r['path']}", "role": f"input of the {study.source} source",
             "sha256": r["sha256"], "action": r.get("action", "")}
            for r in (study.data.meta.get("inputs") or [])]
    for rel in PROJECT_FILES:
        f = root / rel
        rows.append({"file": rel, "role": "project file", "sha256": sha256(f) if f.is_file() else "missing",
                     "action": "read"})
    return pd.DataFrame(rows, columns=["file", "role", "sha256", "action"])


#: The direct dependencies shown (requirements.txt pins them exactly).
PACKAGES: tuple[str, ...] = ("jupyter-book", "sphinx", "myst-nb", "numpy", "scipy", "pandas", "pyarrow", "pyfixest",
                             "pydantic", "papermill", "plotly", "matplotlib", "shapely", "cpca")


def environment(root: Path | None = None) -> pd.DataFrame:
    """The code and machine of the build: the git commit (:func:`git_commit`), Python, platform,
    CPU count, BLAS threads and the versions of :data:`PACKAGES` (columns item, value)."""
    git = git_commit(root)
    rows = [("git commit", git["commit"]), ("git branch", git["branch"]),
            ("uncommitted changes to tracked files", git["dirty"]),
            ("python", sys.version.split()[0]), ("platform", platform.platform()),
            ("cpu cores", str(os.cpu_count())),
            ("OPENBLAS_NUM_THREADS", os.environ.get("OPENBLAS_NUM_THREADS", "unset"))]
    for name in PACKAGES:
        try:
            rows.append((name, version(name)))
        except PackageNotFoundError:
            rows.append((name, "not installed"))
    return pd.DataFrame(rows, columns=["item", "value"])
