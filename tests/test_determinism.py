"""Two cold builds from the same inputs give byte-identical results (issue 11): the ci parameter
set built twice, each from an empty cache, writes the same models, scorecard, ledger, transfers
and panel, the same design lab (every draw computed afresh in each build) and the same multiverse
(its summary per claim, permutation test included), byte for byte."""

from __future__ import annotations

import pytest

from intercity import pipeline, runner

FILES = ("models.csv", "models_all.csv", "scorecard.csv", "ledger.csv", "city_transfer.csv", "bundle_summary.csv",
         "design_lab.csv", "design_lab_draws.csv", "multiverse_claims.csv")


@pytest.mark.slow
def test_two_cold_builds_are_byte_identical(ci_params, tmp_path):
    written = []
    for k in (1, 2):
        s = pipeline.study(ci_params, cache_dir=tmp_path / f"cache{k}")
        out = tmp_path / f"results{k}"
        runner.write_results(s, out)
        s.panel.to_csv(out / "panel.csv", index=False)
        written.append(out)
    for name in FILES + ("panel.csv",):
        a, b = (d / name for d in written)
        assert a.read_bytes() == b.read_bytes(), name
