"""The data sources through the whole pipeline: public at ci scale, and ``auto``'s resolution."""

from __future__ import annotations

import pytest

from intercity import bundle, params, pipeline, report
from intercity.sources import fetch

from conftest import needs_mirror



@pytest.fixture(scope="module")
def public_study(tmp_path_factory):
    p = params.from_mapping({"data_source": "public", "scale": 0.15, "seed": 5, "name": "ci_public"})
    return pipeline.study(p, cache_dir=tmp_path_factory.mktemp("pubcache"))


@needs_mirror
def test_public_source_runs_the_whole_pipeline_at_ci_scale(public_study):
    s = public_study
    n = len(s.data.cities)
    assert s.source == "public" and n == 41
    assert len(s.panel) == n * (n - 1) * 2
    assert (s.checks["national_gap"] < 1e-9).all() and s.checks["dense_gap"].max() < 1e-9
    est = pipeline.estimates(s)
    assert set(est["data_source"]) == {"public"}
    assert est.loc[est["table"] == "baseline_direction", "coef"].notna().all()
    realism = report.data_realism(s.data).set_index("variable")
    assert realism.loc["baidu_index", "status"] in ("real", "partial")
    assert realism.loc["college_per_pop", "status"] == "imputed"  # no public file has it
    assert realism.loc["hsr_lines", "status"] == "partial"
    banner = report.source_banner(s).data
    assert "PUBLIC data" in banner and "NOT the CEADs table" in banner


@needs_mirror
def test_auto_resolves_to_public_when_the_files_can_be_had(tmp_path):
    p = params.from_mapping({"data_source": "auto", "scale": 0.15, "seed": 5})
    source, note = bundle.resolve_source(p)
    assert source == "public" and "resolved to the public source" in note


def test_auto_falls_back_to_synthetic_with_a_visible_notice(tmp_path, monkeypatch):
    def no_files(*_a, **_k):
        raise fetch.FetchError("baidu_index/cities-c322.csv: not in data/raw and downloads are disabled")

    monkeypatch.setattr(fetch, "fetch", no_files)
    p = params.from_mapping({"data_source": "auto", "scale": 0.06, "seed": 5})
    b = bundle.load(p, cache_dir=tmp_path)
    assert b.source == "synthetic"
    assert "fell back to the synthetic world" in b.meta["resolution"]
    assert "cities-c322.csv" in b.meta["resolution"]
