"""Shared fixtures: the ci parameter set and its study (built once per session, cached on disk)."""

from __future__ import annotations

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import pytest

from intercity import params, paths, pipeline


@pytest.fixture(scope="session")
def ci_params() -> params.Params:
    return params.load(paths.PARAMS_DIR / "ci.yaml")


@pytest.fixture(scope="session")
def ci_study(ci_params, tmp_path_factory) -> pipeline.Study:
    return pipeline.study(ci_params, cache_dir=tmp_path_factory.mktemp("cache"))
