"""The design lab: estimands by counterfactual, the inference methods, diagnosands, and the sweep on
Dask (cache, resume, LocalCluster, a real cluster at a scheduler address)."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from intercity import engine, lab, labdraw, models, params
from intercity import panel as panel_mod

INDEPENDENT = Path(__file__).with_name("independent") / "lab_size_cell.py"


def _params(lab_values: dict, knobs: dict | None = None, world: dict | None = None, **top) -> params.Params:
    return params.from_mapping({"data_source": "synthetic", "scale": 0.15, "seed": 1, "name": "labtest",
                                "lab": {"workers": 0, **lab_values}, "knobs": knobs or {}, "world": world or {},
                                **top})


def _spec(p: params.Params, setting: str | None = None, draw: int = 0) -> labdraw.DrawSpec:
    return next(s for s in lab.draw_specs(p) if (setting is None or s.setting == setting) and s.draw == draw)


def _model(key: str, tiers=("0-200",)) -> models.Spec:
    return next(s for s in labdraw.lab_specs(("baseline", "gradient", "tier"), list(tiers)) if s.key == key)


# ----------------------------------------------------------------------------- the estimand

@pytest.fixture(scope="module")
def small_world():
    p = _params({"scale": 0.12, "draws": 2, "settings": {"s": {}}})
    spec = _spec(p)
    return spec, labdraw.draw_world(spec)


def test_counterfactual_raises_only_treated_pairs_as_documented(small_world):
    spec, dw = small_world
    w = dw.world
    n = len(w.cities)
    last = f"{spec.periods[-1][0]}-{spec.periods[-1][1]}"
    for which, reg in (("hsr", "connectivity_HSR"), ("info", "connectivity_I")):
        eff = labdraw.counterfactual(dw, spec, which)
        share = len(eff) / (n * (n - 1))
        assert 0.05 < share < 0.15  # lab.treated_share = 0.1 of the pairs
        if which == "hsr":
            # +1 line in 2016 and 2017: the period average 2015-2017 rises by 2/3 of a line, both directions
            assert np.allclose(eff["dconn"], 2 / 3)
            ids = set(eff["pair_id"])
            o, d = np.divmod(np.array(sorted(ids)), n)
            assert set(d * n + o) == ids
        else:
            assert (eff["dconn"] > 0).all() and (eff["dconn"] < 1).all()
    # the raised years are those of the last period after its first year; the first period keeps its data
    assert labdraw.raised_years(spec.periods, w.years) == [2016, 2017]
    assert last == "2015-2017"


def test_no_planted_effect_means_an_estimand_of_exactly_zero():
    p = _params({"scale": 0.08, "draws": 2, "settings": {"none": {"hsr_trade_effect": 0, "info_trade_effect": 0}},
                 "methods": ["pair"]})
    spec = _spec(p)
    dw = labdraw.draw_world(spec)
    for which in ("hsr", "info"):
        eff = labdraw.counterfactual(dw, spec, which)
        assert (eff["dIT"] == 0).all() and (eff["dIT_direction"] == 0).all() and (eff["dconn"] != 0).any()
    # HSR moves trade only through its own knob and through the search index (hsr_info_effect)
    p2 = _params({"scale": 0.08, "draws": 2, "settings": {"info_only": {"hsr_trade_effect": 0}}})
    dw2 = labdraw.draw_world(_spec(p2))
    assert (labdraw.counterfactual(dw2, _spec(p2), "hsr")["dIT"] != 0).any()
    p3 = _params({"scale": 0.08, "draws": 2, "settings": {"info_only": {"hsr_trade_effect": 0, "hsr_info_effect": 0}}})
    dw3 = labdraw.draw_world(_spec(p3))
    assert (labdraw.counterfactual(dw3, _spec(p3), "hsr")["dIT"] == 0).all()


def test_large_planted_effect_in_a_small_world_is_recovered_within_its_interval():
    # 41 cities, HSR's trade effect 20 times the default (1.0 log-points per line-year); world seed 4
    p = _params({"scale": 0.15, "draws": 4, "settings": {"big": {"hsr_trade_effect": 20}},
                 "families": ["baseline", "gradient"], "methods": ["pair", "twoway"]})
    out = labdraw.run_draw(_spec(p, draw=3))["results"]
    hsr = out[out["regressor"] == "connectivity_HSR"]
    assert len(hsr) == 6 and hsr["identified"].all()  # baseline and both gradient halves, two clusterings
    for r in hsr.itertuples():
        assert r.estimand > 0 and r.ci95_low <= r.estimand <= r.ci95_high, (r.key, r.method)
        assert r.coef > 0 and r.p <= 0.05, (r.key, r.method)


# ----------------------------------------------------------------------------- inference methods

def test_estimate_is_the_engine_and_equals_pyfixest(small_world):
    import pyfixest as pf

    spec, dw = small_world
    specs = [_model("baseline_direction:4"), _model("gradient_scale:3")]
    est = labdraw.estimate(dw.panel, specs)
    for s, r in zip(specs, est.itertuples()):
        data = models.sample_rows(dw.panel, s.sample, s.tier)
        for c, vc in (("pair", {"CRV1": "pair_id"}), ("origin", {"CRV1": "origin"}),
                      ("twoway", {"CRV1": "origin+dest"})):
            fit = pf.feols(f"{s.dependent_column} ~ {s.rhs()} | pair_id + period", data, vcov=vc, ssc=engine.SSC,
                           fixef_rm="none", demeaner=pf.demeaners.MapDemeaner(fixef_tol=1e-12))
            reg = s.regressors[0]
            assert r.coef == pytest.approx(float(fit.coef()[reg]), rel=1e-7)
            assert getattr(r, f"se_{c}") == pytest.approx(float(fit.se()[reg]), rel=1e-6)


def test_permutation_statistic_is_the_fixed_effects_t_on_permuted_paths(small_world):
    """Permuting first differences across pairs = permuting connectivity paths in the panel; the
    statistic is pyfixest's pair-clustered t up to one constant small-sample factor."""
    import pyfixest as pf

    spec, dw = small_world
    s = _model("gradient_scale:3")
    fd = labdraw._fd(dw.pairs, s)
    y, x, q = labdraw._design(fd, s)
    ry = labdraw._residualise(q, y)
    data = models.sample_rows(dw.panel, s.sample, s.tier).copy()
    both = data.groupby("pair_id")["period"].transform("size") == 2
    rng = np.random.default_rng(0)
    ratios = []
    for k in range(3):
        perm = np.arange(len(fd)) if k == 0 else rng.permutation(len(fd))
        mine_b, mine_t = labdraw._pair_t(ry, labdraw._residualise(q, x[perm][:, None]))
        # move each pair's whole path (both periods) of connectivity_I to another pair
        source = dict(zip(fd["pair_id"], fd["pair_id"].to_numpy()[perm]))
        path = data.set_index(["pair_id", "period"])["connectivity_I"]
        permuted = data.copy()
        permuted.loc[both, "connectivity_I"] = [path[(source[pid], per)] for pid, per in
                                                zip(data.loc[both, "pair_id"], data.loc[both, "period"])]
        fit = pf.feols(f"IT ~ {s.rhs()} | pair_id + period", permuted, vcov={"CRV1": "pair_id"}, ssc=engine.SSC,
                       fixef_rm="none", demeaner=pf.demeaners.MapDemeaner(fixef_tol=1e-12))
        assert mine_b[0] == pytest.approx(float(fit.coef()["connectivity_I"]), rel=1e-7)
        ratios.append(mine_t[0] / float(fit.tstat()["connectivity_I"]))
    assert max(ratios) == pytest.approx(min(ratios), rel=1e-6) and ratios[0] > 1


def test_wild_bootstrap_equals_pyfixest_wildboottest_under_full_enumeration(small_world):
    """WCR11 with Rademacher weights over 8 origin clusters (all 256 sign vectors): our p value on
    first differences equals pyfixest's wildboottest on first differences and on the
    fixed-effects model (pair and period dummies), up to the two weight vectors that reproduce the
    data and so tie with the observed t."""
    import pyfixest as pf

    spec, dw = small_world
    s = models.Spec("lab", 1, "IT", ("connectivity_I",), "all", True)
    keep = sorted(dw.panel["origin"].unique())[:8]
    panel = dw.panel[dw.panel["origin"].isin(keep)].copy()
    pairs = labdraw.pair_differences(panel)
    fd = labdraw._fd(pairs, s)
    ours = labdraw.wild_pvalue(fd, s, 999, "origin", np.random.default_rng(0))
    data = fd.copy()
    data["cl"] = pd.factorize(data["origin"])[0]
    rhs = " + ".join(["connectivity_I", *models.CONTROL_COLUMNS])
    fd_fit = pf.feols(f"IT ~ {rhs}", data, vcov={"CRV1": "cl"})
    with pytest.warns(UserWarning, match="full_enumeration"):
        p_fd = float(fd_fit.wildboottest(reps=999, param="connectivity_I", cluster="cl", seed=1)["Pr(>|t|)"])
    panel["cl"] = pd.factorize(panel["origin"])[0]
    panel["pair_f"] = panel["pair_id"].astype(str)
    fe_fit = pf.feols(f"IT ~ {rhs} + C(pair_f) + C(period)", panel, vcov={"CRV1": "cl"})
    with pytest.warns(UserWarning, match="full_enumeration"):
        p_fe = float(fe_fit.wildboottest(reps=999, param="connectivity_I", cluster="cl", seed=1)["Pr(>|t|)"])
    # the weight vectors v = +1 and v = -1 give y* = y, so |t*| = |t| up to rounding: we count these
    # two ties as exceedances, wildboottest (|t*| > |t|) counts them or not by rounding
    ties = 2 / 2 ** 8
    for theirs in (p_fd, p_fe):
        assert min(abs(ours - theirs), abs(ours - ties - theirs)) < 1e-12, (ours, theirs)
    assert 0 < ours < 1


def test_randomization_inference_holds_its_size_without_an_effect(tmp_path):
    """40 synthetic worlds without any effect: the studentised permutation test rejects at 5% in a
    share of (world, model) cases within Monte Carlo error of 5% (2.58 standard errors, computed
    over worlds)."""
    p = _params({"scale": 0.12, "draws": 40, "settings": {"none": {"hsr_trade_effect": 0, "info_trade_effect": 0}},
                 "families": ["baseline", "gradient"], "methods": ["ri"], "permutations": 99})
    draws = lab.sweep(p, cache=tmp_path)
    keys = list(dict.fromkeys(draws["key"]))
    rate, se, worlds = lab.pooled_rate(draws, keys, "ri", ["none"])
    assert worlds == 40 and se > 0
    assert abs(rate - 0.05) <= 2.58 * se, (rate, se)
    assert (draws["estimand"] == 0).all()


# ----------------------------------------------------------------------------- diagnosands

def test_diagnosands_by_hand():
    g = pd.DataFrame({"coef": [1.0, 3.0, -1.0, 2.0, np.nan], "estimand": [1.0, 1.0, 1.0, 1.0, 1.0],
                      "p": [0.5, 0.01, 0.02, 0.04, np.nan], "ci95_low": [0.0, 2.0, -2.0, 0.5, np.nan],
                      "ci95_high": [2.0, 4.0, 0.0, 3.5, np.nan],
                      **{f"estimand_{q}": [1.0] * 5 for q in ("q10", "q50", "q90")}})
    d = lab.diagnose_group(g)
    assert d["n_draws"] == 4 and d["n_failed"] == 1 and not d["null"]
    err = np.array([0.0, 2.0, -2.0, 1.0])
    assert d["bias"] == pytest.approx(0.25) and d["bias_mcse"] == pytest.approx(err.std(ddof=1) / 2)
    assert d["rmse"] == pytest.approx(math.sqrt(9 / 4))
    assert d["mean_estimate"] == pytest.approx(1.25) and d["sd_estimate"] == pytest.approx(np.std([1, 3, -1, 2], ddof=1))
    assert d["rejection_rate"] == pytest.approx(0.75) and d["rejection_rate_mcse"] == pytest.approx(math.sqrt(.75 * .25 / 4))
    assert d["coverage"] == pytest.approx(0.5)  # [0, 2] and [0.5, 3.5] hold 1
    assert d["type_s"] == pytest.approx(1 / 3) and d["n_significant"] == 3
    lo, hi = d["rejection_low"], d["rejection_high"]
    assert lo < 0.75 < hi
    null = lab.diagnose_group(g.assign(estimand=0.0))
    assert null["null"] and math.isnan(null["type_s"])


# ----------------------------------------------------------------------------- the sweep

def _tiny(**lab_values) -> params.Params:
    return _params({"scale": 0.06, "draws": 2, "families": ["baseline"], "methods": ["pair", "ri"],
                    "permutations": 19, "settings": {"no_effect": {"hsr_trade_effect": 0, "info_trade_effect": 0},
                                                     "default": {}}, **lab_values})


def test_interrupted_sweep_reuses_its_finished_draws(tmp_path):
    p = _tiny()
    done = []

    def stop_after_two(spec):
        done.append(spec)
        if len(done) == 2:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        lab.sweep(p, cache=tmp_path, on_draw=stop_after_two)
    files = sorted(lab.cache_dir(tmp_path).glob("results-*.parquet"))
    assert len(files) == 2
    stamps = {f: f.stat().st_mtime_ns for f in files}
    again = []
    out = lab.sweep(p, cache=tmp_path, on_draw=again.append)
    assert len(again) == 2 and {(s.setting, s.draw) for s in again}.isdisjoint({(s.setting, s.draw) for s in done})
    assert all(f.stat().st_mtime_ns == t for f, t in stamps.items())
    fresh = lab.sweep(p, cache=tmp_path / "fresh")
    pd.testing.assert_frame_equal(out, fresh)


def test_dask_localcluster_and_plain_loop_give_identical_results(tmp_path):
    loop = lab.sweep(_tiny(workers=0), cache=tmp_path / "loop")
    dask = lab.sweep(_tiny(workers=2), cache=tmp_path / "dask")
    pd.testing.assert_frame_equal(loop, dask, check_exact=True)
    pids = {int(pd.read_parquet(f)["pid"].iloc[0]) for f in lab.cache_dir(tmp_path / "dask").glob("timing-*.parquet")}
    assert os.getpid() not in pids  # computed in the cluster's worker processes


def _wait_for(path: Path, timeout: float) -> None:
    t0 = time.monotonic()
    while not path.is_file():
        if time.monotonic() - t0 > timeout:
            raise TimeoutError(f"{path} did not appear in {timeout} s")
        time.sleep(0.2)


def test_sweep_runs_on_a_real_cluster_at_its_scheduler_address(tmp_path):
    from dask.distributed import Client

    dask_cli = str(Path(sys.executable).with_name("dask"))
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1"}
    sched_file = tmp_path / "scheduler.json"
    procs = [subprocess.Popen([dask_cli, "scheduler", "--host", "127.0.0.1", "--port", "0", "--no-dashboard",
                               "--scheduler-file", str(sched_file)], env=env, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)]
    try:
        _wait_for(sched_file, 60)
        address = json.loads(sched_file.read_text())["address"]
        assert address.startswith("tcp://127.0.0.1:")
        for k in range(2):
            procs.append(subprocess.Popen([dask_cli, "worker", address, "--nthreads", "1", "--no-nanny",
                                           "--no-dashboard", "--name", f"lab-test-{k}"], env=env,
                                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        with Client(address, timeout="30s") as client:
            client.wait_for_workers(2, timeout=90)
            worker_pids = set(client.run(os.getpid).values())
        lines: list[str] = []
        p = params.from_mapping({**_tiny().to_dict(), "scheduler": address})
        out = lab.sweep(p, cache=tmp_path / "cluster", log=lines.append)
        assert any(f"Dask cluster at {address}" in line for line in lines)
        ran = {int(pd.read_parquet(f)["pid"].iloc[0])
               for f in lab.cache_dir(tmp_path / "cluster").glob("timing-*.parquet")}
        assert ran and ran <= worker_pids
        loop = lab.sweep(_tiny(), cache=tmp_path / "loop")
        pd.testing.assert_frame_equal(out, loop, check_exact=True)
    finally:
        for proc in reversed(procs):
            proc.terminate()
        for proc in procs:
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=10)


# ----------------------------------------------------------------------------- results and the check

def test_results_files_and_an_independent_recount_of_one_size_cell(tmp_path):
    p = _params({"scale": 0.12, "draws": 6, "settings": {"no_effect": {"hsr_trade_effect": 0, "info_trade_effect": 0}},
                 "families": ["gradient"], "methods": ["pair"]})
    written = lab.write(p, tmp_path / "results", cache=tmp_path / "cache")
    assert [f.name for f in written] == ["design_lab.csv", "design_lab_draws.csv"]
    summary = pd.read_csv(tmp_path / "results" / "design_lab.csv")
    assert list(summary.columns) == lab.summary_columns()
    assert len(summary) == 4 and (summary["n_draws"] == 6).all() and summary["null"].all()
    for cols in (["true_effect", "mean_estimate", "bias", "rmse", "coverage", "rejection_rate", "n_draws"],):
        assert summary[cols].notna().all().all()
    run = subprocess.run([sys.executable, str(INDEPENDENT), "--results", str(tmp_path / "results"),
                          "--cache", str(tmp_path / "cache"), "--model", "gradient_scale:3"],
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stdout + run.stderr
    check = json.loads(run.stdout)
    assert check["worlds"] == 6 and check["max_relative_coef_gap"] < 1e-6
    assert "intercity" not in INDEPENDENT.read_text().split('"""', 2)[2]  # imports nothing of the package


def test_load_reads_the_written_results_of_this_parameter_set(tmp_path):
    p = _tiny()
    lab.write(p, tmp_path / "res", cache=tmp_path / "cache")
    got = lab.load(p, results_dir=tmp_path / "res", cache=tmp_path / "cache")
    assert len(got["summary"]) == len(pd.read_csv(tmp_path / "res" / "design_lab.csv"))
    values = lab.glue_values(p, got)
    assert values["lab_cities"] == "16" and values["lab_null_settings"] == "no_effect"
    assert all(isinstance(v, str) and v for v in values.values())
