"""Shared fixtures: the ci parameter set and its study (built once per session, cached on disk),
and the ci-scale book (notebooks executed into ``_build/ci``, then built to HTML), shared by
tests/test_book.py and tests/test_browser.py so a session stages and builds it once."""

from __future__ import annotations

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from intercity import params, paths, pipeline, runner
from intercity.sources import fetch

#: The public data mirror the tests read ($INTERCITY_DATA_MIRROR, else ../shared/data beside the
#: checkout). Tests that need it skip without it, except under CI (CI=true), where it must exist.
MIRROR = fetch.default_mirror()
needs_mirror = pytest.mark.skipif(
    MIRROR is None and not os.environ.get("CI"),
    reason="public data mirror absent (set INTERCITY_DATA_MIRROR or run `python -m intercity data fetch`)")

#: Where the ci-scale book is staged and built (git-ignored).
STAGE = paths.PROJECT_ROOT / "_build" / "ci"


@pytest.fixture(scope="session")
def ci_params() -> params.Params:
    return params.load(paths.PARAMS_DIR / "ci.yaml")


@pytest.fixture(scope="session")
def ci_study(ci_params, tmp_path_factory) -> pipeline.Study:
    return pipeline.study(ci_params, cache_dir=tmp_path_factory.mktemp("cache"))


@pytest.fixture(scope="session")
def staged() -> Path:
    """A copy of the book sources with the notebooks executed on params/ci.yaml."""
    shutil.rmtree(STAGE, ignore_errors=True)
    (STAGE / "book").mkdir(parents=True)
    for name in ("_config.yml", "_toc.yml"):
        shutil.copy(paths.PROJECT_ROOT / name, STAGE / name)
    for f in paths.BOOK_DIR.glob("*"):
        if f.suffix in (".md", ".bib"):
            shutil.copy(f, STAGE / "book" / f.name)
    runner.build(paths.PARAMS_DIR / "ci.yaml", out_dir=STAGE / "book", log=lambda _m: None)
    return STAGE


@pytest.fixture(scope="session")
def book_build(staged) -> subprocess.CompletedProcess:
    """``jupyter-book build -W -n --keep-going`` of the staged book (HTML in ``_build/html``)."""
    return subprocess.run([str(Path(sys.executable).with_name("jupyter-book")), "build", str(staged),
                           "-W", "-n", "--keep-going"], capture_output=True, text=True, timeout=900)
