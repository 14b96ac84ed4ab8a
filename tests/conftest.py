"""Shared fixtures: the ci parameter set and its study (built once per session, cached on disk),
and the ci book (every chapter executed on params/ci.yaml and rendered by the runner into
``_build/ci``: stage/ and html/), shared by tests/test_book.py and tests/test_browser.py so a
session builds it once."""

from __future__ import annotations

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

from pathlib import Path

import pytest

from intercity import book, params, paths, pipeline, runner
from intercity.sources import fetch

#: The public data mirror the tests read ($INTERCITY_DATA_MIRROR, else ../shared/data beside the
#: checkout). Tests that need it skip without it, except under CI (CI=true), where it must exist.
MIRROR = fetch.default_mirror()
needs_mirror = pytest.mark.skipif(
    MIRROR is None and not os.environ.get("CI"),
    reason="public data mirror absent (set INTERCITY_DATA_MIRROR or run `python -m intercity data fetch`)")

#: Where the ci book is built (git-ignored): the runner's own folder for the set "ci".
CI_BOOK = book.book_dir("ci")


@pytest.fixture(scope="session")
def ci_params() -> params.Params:
    return params.load(paths.PARAMS_DIR / "ci.yaml")


@pytest.fixture(scope="session")
def ci_study(ci_params, tmp_path_factory) -> pipeline.Study:
    return pipeline.study(ci_params, cache_dir=tmp_path_factory.mktemp("cache"))


@pytest.fixture(scope="session")
def ci_book() -> Path:
    """The ci book, built as a user builds it (``python -m intercity build --params params/ci.yaml``):
    every chapter executed into ``_build/ci/stage``, rendered into ``_build/ci/html``."""
    runner.build(paths.PARAMS_DIR / "ci.yaml", log=lambda _m: None)
    return CI_BOOK


@pytest.fixture(scope="session")
def staged(ci_book) -> Path:
    """The ci book's stage (what Sphinx read: _toc.yml, book/ with the executed notebooks)."""
    return ci_book / "stage"


@pytest.fixture(scope="session")
def html_root(ci_book) -> Path:
    """The rendered ci book."""
    return ci_book / "html"
