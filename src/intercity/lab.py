r"""The design lab: what the study's estimator can detect, by Monte Carlo over synthetic worlds.

For each knob setting of the parameter ``lab.settings`` (multipliers of the truth knobs
``knobs:``, see :mod:`intercity.knobs`) and each draw d, one synthetic world (seed ``lab.seed + d``,
``lab.scale`` of the study's cities, the book's periods and distance tiers) is built, its MRIO
solved, its pair panel formed (:func:`intercity.labdraw.draw_world`), and

1. **the estimand** measured by counterfactual re-solves (:func:`intercity.labdraw.counterfactual`): the
   connectivity of a random share ``lab.treated_share`` of pairs is raised in the *raised years*
   (the years of the last period after its first year: 2016 and 2017 for the study's periods, so
   only the last period's connectivity and the last MRIO year change), the MRIO re-solved, and for
   every treated pair the change of the dependent variable (IT, IT_direction) in the last period
   divided by the change of the regressor in that period: the effect *per unit* of the regressor,

   - connectivity_HSR (the period average of HSR lines serving both cities): ``lab.raise_hsr_lines``
     lines are added to an unordered pair in each raised year, so the regressor rises by
     lines x (raised years) / (years of the period), 2/3 of a line for the study's periods; the
     search index responds as the world's rule says (``hsr_info_effect``), so the estimand is the
     total effect of a line, which is what a model without the information regressor targets;
   - connectivity_I = ln(1 + period average of the daily search index): ln(1 + index) of an
     ordered pair rises by ``lab.raise_info_log`` in each raised year; the per-unit effect divides
     by the realised change of connectivity_I (a unit is one unit of the log, i.e. (1 + index)
     multiplied by e).

   Because each treated pair's outcome and regressor change only in the last period, this ratio is
   the within-pair slope that pair and period fixed effects would identify from those pairs. The
   regression itself learns from the pairs whose connectivity changed in the data (HSR reaches
   particular pairs, and the world's trade responds to connectivity accumulated over years), so
   its target can differ from this average over random pairs; the bias measures by how much. The
   estimand of a model is the
   mean over the treated pairs of its sample (both periods in the sample, in the tier) of that
   ratio; median and quantiles are kept beside it. Pairs that are not treated change too (trade
   shares are normalised over suppliers); their change is not part of the estimand. With both
   trade effects at zero the counterfactual changes nothing and the estimand is exactly 0.

2. **the estimates** of the study's models on the world's panel (:func:`intercity.labdraw.lab_specs`): the baseline
   (IT_direction on HSR or information, all pairs, with controls), the gradient models (IT, down-
   and up-gradient pairs) and the distance-tier models (IT within each tier and gradient half),
   each with the inference methods of ``lab.methods``:

   - ``pair``, ``origin``, ``twoway``: CRV1 t tests clustered by pair (the study), by origin city,
     and two-way by origin and destination city (small-sample factors of
     :data:`intercity.engine.SSC`), 95% intervals with t(G - 1) quantiles, estimated as the book does
     (:func:`intercity.models.fit_specs` on the exact engine, with the book's identification rule;
     :func:`intercity.labdraw.estimate`);
   - ``ri``: randomization inference by exact permutation (:func:`~intercity.labdraw.permutation_pvalue`):
     the regressor's path over the two periods is permuted across the pairs of the sample (with
     pair and period effects only its first difference matters), the model re-estimated, and the
     two-sided p value is (1 + #{|t*| >= |t|}) / (1 + R) with t the study's pair-clustered t
     (studentised, as pyfixest's ``ritest(type="randomization-t")``: permuting the bare
     coefficient over-rejects where connected pairs' outcomes vary more than others'); a test of
     the sharp null of no effect, no interval;
   - ``wild``: the wild cluster restricted bootstrap (WCR, Rademacher weights; Cameron, Gelbach and
     Miller 2008; MacKinnon and Webb 2017) on the first-differenced regression, clustered as
     ``lab.wild_cluster``; HSR models only (HSR varies in few pairs); no interval. It is the
     algorithm of ``wildboottest`` (which pyfixest's ``Feols.wildboottest`` runs), vectorised over
     replications (:func:`intercity.labdraw.wild_pvalue`): pyfixest's recompiles a numba kernel
     on every call (about 0.5 s a model) and forms a G x G matrix that pair clustering at full
     scale cannot hold; tests/test_lab.py shows both give the same p value under full enumeration,
     on first differences and on the fixed-effects model with pair and period dummies.

3. **the diagnosands** (:func:`diagnose`) that DeclareDesign's ``diagnose_design`` reports by
   default (Blair, Cooper, Coppock and Humphreys 2019): mean estimand, mean and SD of the estimate,
   bias, RMSE, power (rejection rate at 5%), coverage of the 95% interval and the type-S rate of
   Gelman and Carlin (2014) (share of significant estimates whose sign differs from the
   estimand's), each with its Monte Carlo standard error; under a zero estimand the rejection
   rate is the size.

Every draw is one task (:func:`intercity.labdraw.run_draw`) on ``dask.distributed`` (:func:`sweep`): a LocalCluster
of ``lab.workers`` processes by default, or the cluster at the ``scheduler:`` address; the client
caches each finished draw on disk under a key naming what determines it (:func:`draw_key`), so an
interrupted sweep resumes where it stopped.
"""


from __future__ import annotations

import math
import os
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

import numpy as np
import pandas as pd

from intercity import cachekey, labdraw, paths
from intercity import sweep as sweep_mod
from intercity.params import LAB_SETTINGS, STUDY_CITIES
from intercity.labdraw import ALPHA, DrawSpec, run_draw

if TYPE_CHECKING:
    from IPython.display import Markdown

    from intercity.params import Params

#: What the cached draws depend on beyond their :class:`~intercity.labdraw.DrawSpec`: the code a
#: draw runs (:mod:`intercity.labdraw` and every package module it imports) and the data files
#: that calibrate the world and define the models.
LAB_MODULES: tuple[str, ...] = ("intercity.labdraw",)
LAB_DATA: tuple[str, ...] = ("data/reference/descriptive_stats.csv", "data/reference/published_tables.csv")


# ----------------------------------------------------------------------------- configuration

def setting_truth(p: Params, setting: str) -> dict[str, float]:
    """The truth knobs of a setting: the ``knobs:`` values times the setting's multipliers."""
    base = p.knobs.model_dump()
    for k, factor in p.lab.settings[setting].items():
        base[k] = base[k] * factor
    return base


def draw_specs(p: Params) -> list[DrawSpec]:
    """Every draw of the sweep, settings in the order of ``lab.settings``, then draws."""
    lab = p.lab
    out = []
    for setting in lab.settings:
        truth = tuple(sorted(setting_truth(p, setting).items()))
        for d in range(lab.draws):
            out.append(DrawSpec(setting=setting, draw=d, seed=lab.seed + d, n_cities=lab.n_cities,
                                periods=tuple(tuple(x) for x in p.periods), tiers_km=tuple(p.distance_tiers_km),
                                truth=truth, world=tuple(sorted(p.world.model_dump().items())),
                                families=tuple(lab.families), methods=tuple(lab.methods),
                                permutations=lab.permutations, bootstrap=lab.bootstrap,
                                wild_cluster=lab.wild_cluster, treated_share=lab.treated_share,
                                raise_hsr_lines=lab.raise_hsr_lines, raise_info_log=lab.raise_info_log))
    return out


def draw_key(spec: DrawSpec) -> str:
    """Cache key of a draw: its determinants and the code and data files of the chain it runs."""
    return cachekey.key("lab-draw", LAB_MODULES, LAB_DATA, spec.determinants())


# ----------------------------------------------------------------------------- the sweep

def cache_dir(cache: Path | None = None) -> Path:
    """Folder of the cached draws (``<cache>/lab``)."""
    return Path(cache or paths.CACHE_DIR) / "lab"


def _files(directory: Path, key: str) -> dict[str, Path]:
    return {name: directory / f"{name}-{key}.parquet" for name in ("panel", "effects", "timing", "results")}


def _save(directory: Path, key: str, out: dict[str, pd.DataFrame]) -> None:
    """Write a draw's frames atomically, its results last (their presence marks the draw done)."""
    directory.mkdir(parents=True, exist_ok=True)
    for name, path in _files(directory, key).items():
        tmp = path.with_name(f"{path.name}.tmp-{os.getpid()}")
        out[name].to_parquet(tmp, index=False)
        os.replace(tmp, path)


def is_cached(directory: Path, key: str) -> bool:
    return _files(directory, key)["results"].is_file()


def load_draw(directory: Path, key: str, what: str = "results") -> pd.DataFrame:
    """A cached frame of a draw: results, panel, effects or timing."""
    return pd.read_parquet(_files(directory, key)[what])


def sweep(p: Params, cache: Path | None = None, log: Callable[[str], None] | None = None,
          on_draw: Callable[[DrawSpec], None] | None = None) -> pd.DataFrame:
    """Every draw of the design lab, computed where not cached; one row per (setting, draw, model,
    method) with the draw's estimate, inference and estimand.

    Draws not in the cache run as tasks on ``dask.distributed``: on the cluster at ``p.scheduler``
    when given, else on a LocalCluster of ``p.lab.workers`` single-threaded worker processes
    (``lab.workers: 0`` runs them in a plain loop in this process). The client writes each draw to
    the cache as it finishes (``on_draw(spec)`` is called after), so an interrupted sweep resumes.
    """
    log = log or (lambda _m: None)
    specs = draw_specs(p)
    directory = cache_dir(cache)
    keys = {s: draw_key(s) for s in specs}
    todo = [s for s in specs if not is_cached(directory, keys[s])]
    log(f"lab: {len(specs)} draws ({len(p.lab.settings)} knob settings x {p.lab.draws}), {p.lab.n_cities} cities "
        f"each; {len(specs) - len(todo)} cached, {len(todo)} to compute")
    if todo:
        _compute(p, todo, directory, keys, log, on_draw)
    frames = []
    for s in specs:
        r = load_draw(directory, keys[s])
        r.insert(0, "draw_key", keys[s])
        r.insert(0, "draw", s.draw)
        r.insert(0, "setting", s.setting)
        frames.append(r)
    return pd.concat(frames, ignore_index=True)


def _compute(p: Params, todo: list[DrawSpec], directory: Path, keys: dict, log, on_draw) -> None:
    """Run the draws ``todo`` through :func:`intercity.sweep.run` (Dask, or a plain loop with
    ``lab.workers: 0``), saving each draw to the cache as it finishes, then calling ``on_draw``."""

    def done(i: int, out: dict[str, pd.DataFrame]) -> None:
        _save(directory, keys[todo[i]], out)
        if on_draw:
            on_draw(todo[i])

    sweep_mod.run(run_draw, todo, scheduler=p.scheduler, workers=p.lab.workers, desc="lab", unit="draw", log=log,
                  on_result=done, keep=False)


# ----------------------------------------------------------------------------- the diagnosands

#: Columns that identify a row of :func:`diagnose` (one per knob setting, model and method).
ROW_KEYS: tuple[str, ...] = ("setting", "family", "key", "dependent", "regressor", "sample", "tier", "method")


def _wilson(k: int, n: int, z: float = 1.959963984540054) -> tuple[float, float]:
    """Wilson score 95% interval of a binomial proportion k / n."""
    if n == 0:
        return math.nan, math.nan
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return max(0.0, centre - half), min(1.0, centre + half)


def _mean_se(x: np.ndarray) -> tuple[float, float]:
    if len(x) == 0:
        return math.nan, math.nan
    return float(x.mean()), float(x.std(ddof=1) / math.sqrt(len(x))) if len(x) > 1 else math.nan


def _rate_se(hits: np.ndarray) -> tuple[float, float]:
    n = len(hits)
    if n == 0:
        return math.nan, math.nan
    r = float(hits.mean())
    return r, math.sqrt(r * (1 - r) / n)


def diagnose_group(g: pd.DataFrame, alpha: float = ALPHA) -> dict:
    """The diagnosands of one (setting, model, method) over its draws, each with its Monte Carlo
    standard error (``_mcse``).

    Draws count when the estimate, the p value and the estimand are finite (``n_draws``; the
    others are ``n_failed``: model not identified in that world, or a clustered variance that is
    not positive). With R draws, estimates b_r and estimands e_r:
    true_effect = mean e_r; mean_estimate = mean b_r; sd_estimate = sd b_r; bias = mean(b_r - e_r);
    rmse = sqrt(mean (b_r - e_r)^2); rejection_rate = share of p_r <= alpha (power; the size where
    the truth is zero); coverage = share of 95% intervals holding e_r (methods with an interval);
    type_s = among significant draws, the share whose sign differs from the estimand's (Gelman and
    Carlin 2014; not defined when the truth is zero). Monte Carlo standard errors: sd / sqrt(R) for
    means, sqrt(r (1 - r) / R) for rates (over the significant draws for type S),
    sd / sqrt(2 (R - 1)) for the SD and the delta method sd((b - e)^2) / (2 rmse sqrt(R)) for the
    RMSE; rejection rates also get a Wilson 95% interval. ``null``: every estimand is exactly 0.
    """
    ok = np.isfinite(g["coef"].to_numpy(float)) & np.isfinite(g["p"].to_numpy(float)) & np.isfinite(
        g["estimand"].to_numpy(float))
    v = g[ok]
    b, e, p = v["coef"].to_numpy(float), v["estimand"].to_numpy(float), v["p"].to_numpy(float)
    n = len(v)
    out: dict[str, Any] = {"n_draws": n, "n_failed": int((~ok).sum())}
    out["null"] = bool(n > 0 and np.all(e == 0))
    out["true_effect"], out["true_effect_mcse"] = _mean_se(e)
    for q in ("q10", "q50", "q90"):
        col = f"estimand_{q}"
        out[f"true_{q}"] = float(v[col].mean()) if n else math.nan
    out["mean_estimate"], out["mean_estimate_mcse"] = _mean_se(b)
    out["sd_estimate"] = float(b.std(ddof=1)) if n > 1 else math.nan
    out["sd_estimate_mcse"] = out["sd_estimate"] / math.sqrt(2 * (n - 1)) if n > 1 else math.nan
    err = b - e
    out["bias"], out["bias_mcse"] = _mean_se(err)
    out["rmse"] = float(np.sqrt(np.mean(err ** 2))) if n else math.nan
    out["rmse_mcse"] = (float(np.std(err ** 2, ddof=1) / (2 * out["rmse"] * math.sqrt(n)))
                        if n > 1 and out["rmse"] > 0 else math.nan)
    reject = p <= alpha
    out["rejection_rate"], out["rejection_rate_mcse"] = _rate_se(reject)
    out["rejection_low"], out["rejection_high"] = _wilson(int(reject.sum()), n)
    lo, hi = v["ci95_low"].to_numpy(float), v["ci95_high"].to_numpy(float)
    has_ci = np.isfinite(lo) & np.isfinite(hi)
    if n and has_ci.all():
        out["coverage"], out["coverage_mcse"] = _rate_se((lo <= e) & (e <= hi))
    else:
        out["coverage"], out["coverage_mcse"] = math.nan, math.nan
    sig = reject
    if out["null"] or not sig.any():
        out["type_s"], out["type_s_mcse"] = math.nan, math.nan
    else:
        out["type_s"], out["type_s_mcse"] = _rate_se(np.sign(b[sig]) != np.sign(e[sig]))
    out["n_significant"] = int(sig.sum())
    return out


def diagnose(draws: pd.DataFrame, alpha: float = ALPHA) -> pd.DataFrame:
    """One row per (knob setting, model, inference method): the diagnosands of
    :func:`diagnose_group` over the draws of :func:`sweep`, rows in the order of the sweep."""
    rows = []
    for key, g in draws.groupby(list(ROW_KEYS), sort=False, dropna=False):
        rows.append({**dict(zip(ROW_KEYS, key)), **diagnose_group(g, alpha)})
    return pd.DataFrame(rows)


def summary_columns() -> list[str]:
    """The columns of ``design_lab.csv`` in order."""
    return [*ROW_KEYS, "n_draws", "n_failed", "null", "true_effect", "true_effect_mcse", "true_q10", "true_q50",
            "true_q90", "mean_estimate", "mean_estimate_mcse", "sd_estimate", "sd_estimate_mcse", "bias", "bias_mcse",
            "rmse", "rmse_mcse", "rejection_rate", "rejection_rate_mcse", "rejection_low", "rejection_high",
            "coverage", "coverage_mcse", "type_s", "type_s_mcse", "n_significant"]


# ----------------------------------------------------------------------------- results and the chapter

#: Files written to ``results/<set>/``: the diagnosands and every draw's estimates.
RESULT_FILES: dict[str, str] = {"summary": "design_lab.csv", "draws": "design_lab_draws.csv"}


def run(p: Params, cache: Path | None = None, log: Callable[[str], None] | None = None) -> dict[str, pd.DataFrame]:
    """The sweep (:func:`sweep`) and its diagnosands (:func:`diagnose`)."""
    draws = sweep(p, cache, log)
    return {"draws": draws, "summary": diagnose(draws)[summary_columns()]}


def write(p: Params, directory: Path, cache: Path | None = None,
          log: Callable[[str], None] | None = None) -> list[Path]:
    """Run the lab and write ``design_lab.csv`` (one row per setting, model and method) and
    ``design_lab_draws.csv`` (one row per draw, model and method) to ``directory``."""
    out = run(p, cache, log)
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for what, name in RESULT_FILES.items():
        out[what].to_csv(directory / name, index=False)
        written.append(directory / name)
    return written


def load(p: Params, results_dir: Path | None = None, cache: Path | None = None) -> dict[str, pd.DataFrame]:
    """The lab's results for the chapter: read from ``results/<set>/`` when the build wrote them
    (and they hold this parameter set's draws), else computed (:func:`run`, cached draws)."""
    directory = Path(results_dir or paths.RESULTS_DIR / p.name)
    files = {what: directory / name for what, name in RESULT_FILES.items()}
    if all(f.is_file() for f in files.values()):
        out = {what: pd.read_csv(f, keep_default_na=False, na_values=[""]) for what, f in files.items()}
        expected = {(s.setting, draw_key(s)) for s in draw_specs(p)}
        have = set(zip(out["draws"]["setting"], out["draws"]["draw_key"]))
        if have == expected:
            for frame in out.values():
                frame["tier"] = frame["tier"].astype(object).fillna("").astype(str)
            return out
    return run(p, cache)


# ----------------------------------------------------------------------------- words, tables, glue

#: Inference methods in words (tables and prose).
METHOD_LABELS: dict[str, str] = {
    "pair": "CRV1 by pair (the study)",
    "origin": "CRV1 by origin city",
    "twoway": "two-way CRV1 (origin and destination city)",
    "ri": "randomization inference (permuted paths)",
    "wild": "wild cluster bootstrap (WCR)",
}
_REG_WORDS = {"connectivity_HSR": "HSR", "connectivity_I": "information"}
_SAMPLE_WORDS = {"all": "all pairs", "down_gradient": "down-gradient", "up_gradient": "up-gradient"}
#: (z_0.975 + z_0.80): the minimum detectable effect of a two-sided 5% test with 80% power is this
#: many standard deviations of the estimator (Bloom 1995).
MDE_FACTOR = 1.959963984540054 + 0.8416212335729143


def model_label(row) -> str:
    """"IT on HSR, down-gradient" / "IT_direction on information, all pairs" / with the tier."""
    tier = f", {row['tier']} km" if isinstance(row["tier"], str) and row["tier"] else ""
    return f"{row['dependent']} on {_REG_WORDS[row['regressor']]}{tier}, {_SAMPLE_WORDS[row['sample']]}"


def setting_label(p: Params, setting: str) -> str:
    """A knob setting in words: its name and what it multiplies ("info_x2: info_trade_effect x2")."""
    mult = p.lab.settings[setting]
    if not mult:
        return f"{setting} (knobs as set)"
    return f"{setting} (" + ", ".join(f"{k} x{v:g}" for k, v in mult.items()) + ")"


def _pm(value: float, se: float, pct: bool = False) -> str:
    if not np.isfinite(value):
        return ""
    if pct:
        return f"{100 * value:.0f}%" + (f" ± {100 * se:.0f}" if np.isfinite(se) else "")
    return f"{value:.3g}" + (f" ± {se:.2g}" if np.isfinite(se) else "")


def banner(p: Params) -> "Markdown":
    """The chapter's data note: the lab's synthetic worlds, whatever the book's own data source."""
    from IPython.display import Markdown

    specs = draw_specs(p)
    n = p.lab.n_cities
    text = (f"```{{admonition}} Built on SYNTHETIC worlds\n:class: warning\n"
            f"This chapter draws its own synthetic worlds, whatever data the rest of the book is built on: "
            f"{p.lab.draws} worlds for each of {len(p.lab.settings)} knob settings ({len(specs)} in all), "
            f"{n} cities each ({n * (n - 1):,} ordered pairs x {len(p.periods)} periods; lab scale "
            f"{p.lab.scale:g} of the study's 273 cities), world seeds {p.lab.seed} to {p.lab.seed + p.lab.draws - 1}. "
            f"Parameter set `{p.name}`; the numbers say what the study's design can detect in such worlds, "
            f"nothing about China.\n```")
    return Markdown(text)


def pooled_rate(draws: pd.DataFrame, keys: list[str], method: str, settings: list[str],
                alpha: float = ALPHA) -> tuple[float, float, int]:
    """Rejection rate pooled over models ``keys`` and ``settings`` for one method, with its Monte
    Carlo standard error computed over worlds (the models of one world are not independent): per
    world the share of its models that reject, then mean and sd / sqrt(worlds). Returns (rate, se,
    worlds)."""
    sub = draws[draws["key"].isin(keys) & (draws["method"] == method) & draws["setting"].isin(settings)]
    sub = sub[np.isfinite(sub["p"].to_numpy(float)) & np.isfinite(sub["coef"].to_numpy(float))]
    if sub.empty:
        return math.nan, math.nan, 0
    per_world = (sub["p"] <= alpha).groupby([sub["setting"], sub["draw"]]).mean().to_numpy(float)
    n = len(per_world)
    se = float(per_world.std(ddof=1) / math.sqrt(n)) if n > 1 else math.nan
    return float(per_world.mean()), se, n


def null_settings(summary: pd.DataFrame, key: str) -> list[str]:
    """The settings in which the model's true effect is exactly zero."""
    s = summary[(summary["key"] == key) & summary["null"].astype(bool)]
    return list(dict.fromkeys(s["setting"]))


def rejection_table(p: Params, summary: pd.DataFrame, families: tuple[str, ...]) -> pd.DataFrame:
    """Size and power: one row per (model, method), one column per knob setting holding the
    rejection rate at 5% ± its Monte Carlo standard error (size where the setting's true effect is
    zero, marked in the header), and the number of worlds."""
    sub = summary[summary["family"].isin(families)]
    rows = []
    settings = list(p.lab.settings)
    for (key, method), g in sub.groupby(["key", "method"], sort=False):
        g = g.set_index("setting")
        first = g.iloc[0]
        row = {"model": model_label(first), "inference": METHOD_LABELS[method]}
        for s in settings:
            if s not in g.index:
                row[s] = ""
                continue
            r = g.loc[s]
            row[s] = _pm(r["rejection_rate"], r["rejection_rate_mcse"], True)
        row["worlds"] = int(g["n_draws"].min())
        rows.append(row)
    out = pd.DataFrame(rows)
    nulls = set(summary.loc[summary["null"].astype(bool), "setting"])
    return out.rename(columns={s: f"{s}: {'size' if s in nulls else 'power'}" for s in settings})


def diagnosis_table(summary: pd.DataFrame, setting: str, families: tuple[str, ...]) -> pd.DataFrame:
    """DeclareDesign's diagnosands for one setting: per (model, method) the true effect, mean and SD
    of the estimate, bias, RMSE, coverage, power and type-S rate, each ± Monte Carlo s.e."""
    sub = summary[(summary["setting"] == setting) & summary["family"].isin(families)]
    rows = []
    for r in sub.to_dict("records"):
        rows.append({"model": model_label(r), "inference": METHOD_LABELS[r["method"]],
                     "true effect": _pm(r["true_effect"], r["true_effect_mcse"]),
                     "mean estimate": _pm(r["mean_estimate"], r["mean_estimate_mcse"]),
                     "SD of estimate": _pm(r["sd_estimate"], r["sd_estimate_mcse"]),
                     "bias": _pm(r["bias"], r["bias_mcse"]), "RMSE": _pm(r["rmse"], r["rmse_mcse"]),
                     "coverage": _pm(r["coverage"], r["coverage_mcse"], True),
                     "power": _pm(r["rejection_rate"], r["rejection_rate_mcse"], True),
                     "type S": _pm(r["type_s"], r["type_s_mcse"], True), "worlds": int(r["n_draws"])})
    return pd.DataFrame(rows)


def detectability(p: Params, summary: pd.DataFrame) -> pd.DataFrame:
    """For each published baseline and gradient coefficient the lab estimates: the published value,
    the SD of the estimator over the worlds without an effect (its sampling SD), the minimum
    detectable effect MDE = 2.80 SD (two-sided 5% test, 80% power; Bloom 1995) and whether the
    published coefficient reaches it. Columns: key, model, published, sd, sd_mcse, mde, detectable."""
    from intercity import reference

    pub = reference.published_tables()
    pub["key"] = pub["table"] + ":" + pub["column"].astype(str)
    first = summary.drop_duplicates("key").set_index("key")
    rows = []
    for key in [k for k in first.index if first.loc[k, "family"] in ("baseline", "gradient")]:
        nulls = null_settings(summary, key)
        pr = pub[pub["key"] == key]
        if not nulls or pr.empty:
            continue
        s = summary[(summary["key"] == key) & (summary["setting"] == nulls[0])].iloc[0]
        coef = float(pr["coef"].iloc[0])
        mde = MDE_FACTOR * float(s["sd_estimate"])
        rows.append({"key": key, "model": model_label(first.loc[key].to_dict() | {"tier": ""}),
                     "published": coef, "stars": "" if pd.isna(pr["stars"].iloc[0]) else str(pr["stars"].iloc[0]),
                     "sd": float(s["sd_estimate"]), "sd_mcse": float(s["sd_estimate_mcse"]), "mde": mde,
                     "detectable": bool(abs(coef) >= mde) if np.isfinite(mde) else False})
    return pd.DataFrame(rows)


def detectability_table(p: Params, summary: pd.DataFrame) -> pd.DataFrame:
    """:func:`detectability` in words for the page."""
    d = detectability(p, summary)
    return pd.DataFrame({"model": d["model"], "published coefficient": [f"{c:g}{s}" for c, s in zip(d["published"], d["stars"])],
                         "SD of the estimator (no effect)": [_pm(a, b) for a, b in zip(d["sd"], d["sd_mcse"])],
                         "minimum detectable effect (80% power)": [f"{m:.3g}" for m in d["mde"]],
                         "published effect detectable?": ["yes" if x else "no" for x in d["detectable"]]})


def _join(words: list[str]) -> str:
    if not words:
        return "none"
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]


def glue_values(p: Params, results: dict[str, pd.DataFrame]) -> dict[str, str]:
    """Every number of the chapter's prose, as text (names ``lab_*``)."""
    summary, draws = results["summary"], results["draws"]
    lab = p.lab
    n = lab.n_cities
    out = {"lab_draws": f"{lab.draws}", "lab_settings_n": f"{len(lab.settings)}",
           "lab_total": f"{lab.draws * len(lab.settings)}", "lab_cities": f"{n}",
           "lab_study_cities": f"{STUDY_CITIES}", "lab_pairs": f"{n * (n - 1):,}",
           "lab_scale": f"{lab.scale:g}", "lab_treated": f"{100 * lab.treated_share:g}%",
           "lab_raise_hsr": f"{lab.raise_hsr_lines}", "lab_raise_info": f"{lab.raise_info_log:g}",
           "lab_permutations": f"{lab.permutations}", "lab_bootstrap": f"{lab.bootstrap}",
           "lab_wild_cluster": "origin city" if lab.wild_cluster == "origin" else "pair",
           "lab_settings": _join([setting_label(p, s) for s in lab.settings]),
           "lab_knob_hsr": f"{p.knobs.hsr_trade_effect:g}", "lab_knob_info": f"{p.knobs.info_trade_effect:g}",
           "lab_knob_hsr_info": f"{p.knobs.hsr_info_effect:g}",
           "lab_methods": _join([METHOD_LABELS[m] for m in lab.methods])}
    years = list(range(min(p.mrio_years) - 1, max(p.mrio_years) + 1))
    raised = labdraw.raised_years(p.periods, years)
    a, b = p.periods[-1]
    step = Fraction(lab.raise_hsr_lines * len(raised), b - a + 1)
    out["lab_mde_factor"] = f"{MDE_FACTOR:.2f}"
    out["lab_raised_years"] = _join([str(y) for y in raised])
    out["lab_hsr_step"] = f"{step.numerator}/{step.denominator}" if step.denominator > 1 else f"{step.numerator}"
    head = [k for k in dict.fromkeys(summary["key"]) if summary.loc[summary["key"] == k, "family"].iloc[0]
            in ("baseline", "gradient")]
    nulls = sorted({s for k in head for s in null_settings(summary, k)}, key=list(lab.settings).index)
    trusted, liberal = [], []
    for m in METHOD_LABELS:
        keys = [k for k in head if m != "wild" or "HSR" in model_label(summary[summary["key"] == k].iloc[0])]
        rate, se, worlds = pooled_rate(draws, keys, m, nulls) if m in lab.methods else (math.nan, math.nan, 0)
        out[f"lab_size_{m}"] = (f"{100 * rate:.0f}% (Monte Carlo s.e. {100 * se:.0f} points, {worlds} worlds)"
                                if np.isfinite(rate) else "not available (not run, or no setting without an effect)")
        if np.isfinite(rate) and np.isfinite(se):
            (trusted if rate - 2 * se <= ALPHA else liberal).append(METHOD_LABELS[m])
    out["lab_null_settings"] = _join(nulls) if nulls else "none"
    out["lab_trusted"] = _join(trusted)
    out["lab_liberal"] = _join(liberal)
    # the prose names the default grid's settings; a grid without one of them says so
    for reg, word in (("connectivity_I", "info"), ("connectivity_HSR", "hsr")):
        keys = [k for k in head if summary.loc[summary["key"] == k, "regressor"].iloc[0] == reg]
        for s in dict.fromkeys([*LAB_SETTINGS, *lab.settings]):
            for m in ("pair", "twoway", "ri"):
                rate, se, worlds = (pooled_rate(draws, keys, m, [s]) if m in lab.methods and s in lab.settings
                                    else (math.nan, math.nan, 0))
                out[f"lab_power_{word}_{s}_{m}"] = (f"{100 * rate:.0f}% (± {100 * se:.0f})"
                                                    if np.isfinite(rate) else "not run")
            t = summary[(summary["setting"] == s) & summary["key"].isin(keys)].drop_duplicates("key")
            out[f"lab_truth_{word}_{s}"] = (_join([f"{model_label(r)} {r['true_effect']:.3g}"
                                                   for r in t.to_dict("records")]) if len(t) else "not run")
            out[f"lab_estimate_{word}_{s}"] = (_join([f"{model_label(r)} {r['mean_estimate']:.3g} (true "
                                                      f"{r['true_effect']:.3g})" for r in t.to_dict("records")])
                                               if len(t) else "not run")
    d = detectability(p, summary)
    out["lab_detectable_n"] = f"{int(d['detectable'].sum())}" if len(d) else "0"
    out["lab_detectable_of"] = f"{len(d)}"
    out["lab_detectable"] = _join(list(d.loc[d["detectable"], "model"])) if len(d) else "none"
    out["lab_undetectable"] = _join(list(d.loc[~d["detectable"], "model"])) if len(d) else "none"
    return out


def source_line(p: Params) -> str:
    """"Data: ..." for the lab's figures (the synthetic worlds, not the book's bundle)."""
    return (f"Data: SYNTHETIC worlds of the design lab (parameter set {p.name}, {p.lab.draws} worlds per knob "
            f"setting, {p.lab.n_cities} cities each).")


def figure_data(p: Params, results: dict[str, pd.DataFrame], family: str) -> dict[str, Any]:
    """Arguments of :func:`intercity.figures.lab_estimates` for one model family (baseline or
    gradient): each world's estimate (the coefficient, the same under every method) and the truth."""
    draws = results["draws"]
    sub = draws[(draws["family"] == family) & (draws["method"] == draws["method"].iloc[0])]
    keys = list(dict.fromkeys(sub["key"]))
    first = sub.drop_duplicates("key").set_index("key")
    short = {"connectivity_HSR": "HSR", "connectivity_I": "information"}
    side = {"all": "", "down_gradient": ", down", "up_gradient": ", up"}
    labels = {k: short[first.loc[k, "regressor"]] + side[first.loc[k, "sample"]] for k in keys}
    dep = "IT_direction" if family == "baseline" else "IT"
    return {"draws": sub, "keys": keys, "model_labels": labels,
            "setting_labels": {s: s.replace("_", " ") for s in p.lab.settings},
            "title": f"{family.capitalize()} models: estimates in each world and the true effect",
            "ylabel": f"coefficient (effect on {dep} per unit of connectivity)"}

