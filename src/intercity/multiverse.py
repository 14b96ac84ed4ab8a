r"""The multiverse: every claim of the scorecard under every defensible combination of choices.

The study reports one specification per claim. Here each claim of :data:`intercity.scorecard.CLAIMS`
that rests on regressions (the two claims about the map of transfers, C1 and C2, rest on no model:
none of these choices but the data source touches them, so they are left out) is re-checked under
every combination of the choices of :mod:`intercity.choices` that applies to it: its
*specifications*.

Which choices apply. A choice enters a claim's specifications when it changes one of the estimates
its checks name (:func:`fit_dimensions`): the data source, the period values and the sample always;
the transform when the transfer is the outcome (or the regressor, in the reverse-causality test,
where PPML does not apply); the controls when the study's model has them (a check written "without
controls" keeps none); the gradient when the sample is a gradient or "developed" half (the
population-gradient robustness keeps population); the distance tiers for the tier models; the
inference whenever a check asks for significance (a "largest of" check compares coefficients only).
A claim's specifications are the product of the values of its choices (parameter ``multiverse``),
except PPML, which goes through pyfixest and is crossed with the other fitted choices as
``multiverse.ppml`` says (default: only at the study's values).

Estimates. The distinct models behind all specifications (:func:`plan`) are fitted once each:
least squares through the exact fast engine (:func:`intercity.engine.fit`: all four clusterings
from one fit), batched into tasks by shared sample (:func:`tasks`: one task per data source,
period values, sample choice and gradient; within a task the engine differences each sample once
and fits every model on it), PPML through pyfixest ``fepois``; the tasks run on Dask
(:func:`intercity.sweep.run`: LocalCluster by default, ``scheduler:`` for an existing cluster).

Verdicts, per specification (:func:`evaluate`), with the scorecard's rules and words:
``check_result`` of each check (holds / fails / not identified: an estimate not identified, or no
p value under the specification's inference) and ``claim_result`` (holds when every check holds;
not identified when any estimate is; else fails); ``testable`` False with a ``reason`` when the
source cannot test the claim (:func:`untestable`: the synthetic world is not China; an outcome,
regressor or sample split resting on a proxy, constant or mostly imputed variable; an HSR measure
changing in fewer than :data:`MIN_VARYING_PAIRS` pairs of the sample); ``verdict`` = "not testable
on this source" when not testable, else ``claim_result``.

Identification (the rule of the estimates contract): a model is identified when its reported
regressor survives the within transformation and its residual degrees of freedom are at least the
number K of parameters estimated within pairs (regressors kept + period effects); a clustering's
p value is reported when the clusters holding a pair seen in both periods number at least K + 1.

The specification curve (:func:`curve`) and its joint test (:func:`permutation_test`) follow
Simonsohn, Simmons and Nelson (2020, Nature Human Behaviour 4, 1208-1214): the estimates of the
claim's principal check, sorted, with their intervals and the choices marked beneath; under the
null, the regressor of interest is permuted across the pairs of each sample (its path over the two
periods moves with the pair; :func:`intercity.engine.permutation_fit`), every specification re-run
on the same shuffled data, and two statistics compared with their permutation distribution: the
share of specifications whose estimate is significant (at the check's level, under the
specification's own inference) with the claimed sign, and the median estimate (in the claimed
direction; for a "not significant" or "largest" check, in the direction of the observed median).
p = (1 + #{permuted >= observed}) / (1 + R). PPML specifications are not in the test (each would
be R pyfixest fits); their count is reported.
"""

from __future__ import annotations

import itertools
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd

from intercity import cachekey, choices, engine, models, scorecard, sweep
from intercity.choices import DIMENSIONS, TRANSFER_OF

#: Choices that change the model fitted, in column order; ``inference`` changes only its p value.
FIT_DIMS: tuple[str, ...] = ("source", "transform", "controls", "gradient", "periods", "sample", "tiers")
#: Every choice, in the column order of the multiverse.
DIMS: tuple[str, ...] = ("source", "transform", "inference", "controls", "gradient", "periods", "sample", "tiers")
#: Value of a choice that does not apply to a claim.
NA = "n/a"
CLUSTERS: tuple[str, ...] = ("pair", "origin", "twoway", "dyadic")
#: Samples that split pairs by the gradient (which city is more developed).
GRADIENT_SAMPLES: dict[str, int] = {"down_gradient": 1, "developed": 1, "up_gradient": 0, "less_developed": 0}
POPULATION_SAMPLES: dict[str, int] = {"down_gradient_pop": 1, "up_gradient_pop": 0}
#: The scorecard's rules of what a source can test, shared (see :mod:`intercity.scorecard`).
MIN_VARYING_PAIRS: int = scorecard.MIN_VARYING_PAIRS
NOT_SOURCE = scorecard.NOT_SOURCE
NOT_IDENTIFIED = scorecard.NOT_IDENTIFIED
SYNTHETIC_REASON = scorecard.SYNTHETIC_REASON
PANEL_VARIABLES = scorecard.PANEL_VARIABLES
UNTESTABLE_KINDS = scorecard.UNTESTABLE_KINDS
#: Gradient choice -> the bundle variables the sample split rests on.
GRADIENT_BUNDLE: dict[str, tuple[str, ...]] = {"gdp_per_capita": ("gdp_per_capita",), "population": ("population",),
                                               "gdp": ("gdp_per_capita", "population")}
#: What the cached multiverse depends on besides its parameters and the transfers of each source.
MODULES: tuple[str, ...] = ("intercity.multiverse",)
DATA: tuple[str, ...] = ("data/reference/published_tables.csv",)


# ----------------------------------------------------------------------------- claims and estimates

def claims() -> tuple[scorecard.Claim, ...]:
    """The scorecard's claims that rest on regressions (every claim but the spatial ones)."""
    return tuple(c for c in scorecard.CLAIMS if c.spatial is None)


def _study_tier_labels() -> list[str]:
    e = choices.STUDY_TIERS_KM
    return [f"{a:g}-{b:g}" for a, b in zip(e, e[1:])]


@lru_cache(maxsize=1)
def _registry() -> tuple[tuple[str, models.Spec], ...]:
    return tuple((s.key, s) for s in models.published_specs() + models.tier_specs(_study_tier_labels()))


def registry() -> dict[str, models.Spec]:
    """Estimate key (``table:column``) -> the study's model (published rows, tier and synergy
    models on the study's tiers)."""
    return dict(_registry())


def tier_position(spec: models.Spec) -> int:
    """Position of a tier model's tier among the study's tiers (-1 for other models)."""
    return _study_tier_labels().index(spec.tier) if spec.tier else -1


def fit_dimensions(spec: models.Spec) -> tuple[str, ...]:
    """The fitted choices that change this model (see the module docstring), in :data:`FIT_DIMS` order."""
    dims = {"source", "periods", "sample"}
    if spec.dependent in TRANSFER_OF or "IT" in spec.regressors:
        dims.add("transform")
    if spec.controls:
        dims.add("controls")
    if spec.sample in GRADIENT_SAMPLES:
        dims.add("gradient")
    if spec.tier:
        dims.add("tiers")
    return tuple(d for d in FIT_DIMS if d in dims)


def transforms_for(spec: models.Spec, chosen: tuple[str, ...]) -> tuple[str, ...]:
    """The transforms of ``chosen`` that apply to this model (PPML only where the transfer is the outcome)."""
    if spec.dependent in TRANSFER_OF:
        return chosen
    if "IT" in spec.regressors:
        return tuple(t for t in chosen if t != "ppml")
    return ()


def claim_keys(claim: scorecard.Claim) -> list[str]:
    """Every estimate a claim's checks read (their keys and the keys they are compared with)."""
    return list(dict.fromkeys(k for ch in claim.checks for k in (ch.key, *ch.among)))


def principal(claim: scorecard.Claim) -> scorecard.Check:
    """The check whose estimate the claim's specification curve draws: the first sign check, else the
    first "not significant" check, else the first check."""
    for want in (("+", "-"), ("0",), ("max",)):
        for ch in claim.checks:
            if ch.expect in want:
                return ch
    raise ValueError(f"claim {claim.id} has no checks")


# ----------------------------------------------------------------------------- the choices of a build

@dataclass(frozen=True)
class Setup:
    """The values of every choice for one build: dimension -> values (the study's first; sources
    resolved), the PPML crossing rule, and per source the control columns the book leaves out
    (:func:`intercity.panel.controls_left_out`: constant or fully imputed on that source)."""

    values: dict[str, tuple[str, ...]]
    ppml: str
    shifted_tiers_km: tuple[float, ...]
    permutations: int
    seed: int
    curve_points: int
    left_out: dict[str, tuple[str, ...]] = field(default_factory=dict)

    def study_value(self, dim: str) -> str:
        return self.values[dim][0]


def resolve_sources(params) -> tuple[list[str], str]:
    """The data sources of the multiverse and a sentence saying how they were chosen.

    "configured": the build's source (``auto`` resolved); "available": synthetic, public when its
    input files can be had (mirror or download, as ``auto`` decides), and ceads when it is the
    build's source (it needs the user's own tables); or names. The build's source comes first.
    Raises ValueError naming a source that has no builder.
    """
    from intercity import bundle, sources as registry_mod

    configured = bundle.resolve_source(params)[0]
    out: list[str] = [configured]
    why: list[str] = []
    for v in params.multiverse.sources:
        if v == "configured":
            continue
        if v == "available":
            found = ["synthetic"]
            if "public" in registry_mod.REGISTRY:
                if bundle.resolve_source(params.model_copy(update={"data_source": "auto"}))[0] == "public":
                    found.append("public")
                else:
                    why.append("public left out: its input files cannot be had here")
            out += found
            continue
        if v not in registry_mod.REGISTRY:
            raise ValueError(f"multiverse.sources: {v!r} has no builder here; known: {sorted(registry_mod.REGISTRY)}")
        out.append(v)
    out = list(dict.fromkeys(out))
    text = (f"data sources: {', '.join(out)} (the build's own, {configured}, first; multiverse.sources = "
            f"{list(params.multiverse.sources)})" + (f"; {'; '.join(why)}" if why else ""))
    return out, text


def setup(params, sources: list[str], studies: dict | None = None) -> Setup:
    """:class:`Setup` of a parameter set (``params.multiverse``) with the resolved ``sources``;
    ``studies`` (source -> Study) give each source's left-out controls."""
    from intercity import panel as panel_mod

    mv = params.multiverse
    values = {"source": tuple(sources)}
    for field_name, dim in choices.PARAM_FIELDS.items():
        if dim != "source":
            values[dim] = tuple(getattr(mv, field_name))
    left = {src: tuple(f"{c}_{e}" for c in panel_mod.controls_left_out(st.data) for e in ("i", "j"))
            for src, st in (studies or {}).items()}
    return Setup(values, mv.ppml, tuple(mv.shifted_tiers_km), mv.permutations, mv.seed, mv.curve_points, left)


# ----------------------------------------------------------------------------- the models to fit

@dataclass(frozen=True)
class Rule:
    """A sample as conditions ``column == value`` on the variant panel (picklable for Dask)."""

    conditions: tuple[tuple[str, int], ...]

    def __call__(self, frame: pd.DataFrame) -> np.ndarray:
        mask = np.ones(len(frame), bool)
        for col, val in self.conditions:
            mask &= (frame[col] == val).to_numpy()
        return mask

    @property
    def name(self) -> str:
        return "&".join(f"{c}={v}" for c, v in self.conditions) or "all"


def _rule(spec: models.Spec, choice: dict[str, str]) -> Rule:
    cond: list[tuple[str, int]] = []
    grad = choice.get("gradient") or ""
    if spec.sample in GRADIENT_SAMPLES:
        cond.append((f"down_{grad}", GRADIENT_SAMPLES[spec.sample]))
    elif spec.sample in POPULATION_SAMPLES:
        cond.append(("down_population", POPULATION_SAMPLES[spec.sample]))
    elif spec.sample != "all":
        raise ValueError(f"{spec.key}: sample {spec.sample!r} has no rule in the multiverse")
    if choice["sample"] == "no_municipalities":
        cond.append(("municipality", 0))
    elif choice["sample"] == "no_gradient_flips":
        which = grad or ("population" if spec.sample in POPULATION_SAMPLES else "gdp_per_capita")
        cond.append((f"flip_{which}", 0))
    if spec.tier:
        cond.append((f"tier_{choice['tiers']}", tier_position(spec)))
    return Rule(tuple(cond))


def _model_columns(spec: models.Spec, choice: dict[str, str], labels: tuple[str, ...], left_out: tuple[str, ...] = ()):
    """(dependent column, regressors, controls, method) of a model under a choice of values;
    ``left_out``: control columns the book leaves out on this source."""
    tr = choice.get("transform") or ""
    if spec.dependent in TRANSFER_OF:
        dep = choices.column(spec.dependent, tr)
    elif spec.dependent == "IT_direction":
        dep = choices.column("IT", "direction")
    else:
        dep = spec.dependent_column
    regs = tuple(choices.column("IT", tr) if r == "IT" else r for r in spec.regressors)
    ctrl = choice.get("controls") or ""
    controls = {"": (), "none": (), "study": models.CONTROL_COLUMNS,
                "study_distance": models.CONTROL_COLUMNS + choices.distance_controls(labels)}[ctrl]
    return dep, regs, tuple(c for c in controls if c not in left_out), ("ppml" if tr == "ppml" else "ols")


def _grid(dims: tuple[str, ...], values: dict[str, tuple[str, ...]]) -> list[dict[str, str]]:
    return [dict(zip(dims, combo)) for combo in itertools.product(*(values[d] for d in dims))]


def _ppml_allowed(row: dict[str, str], s: Setup, dims: tuple[str, ...]) -> bool:
    """Whether a combination is a specification: PPML as ``multiverse.ppml`` says, and never with
    dyadic-robust errors (pyfixest has none for PPML)."""
    if row.get("transform") != "ppml":
        return True
    if s.ppml == "none" or row.get("inference") == "dyadic":
        return False
    if s.ppml == "all":
        return True
    return all(row[d] == s.study_value(d) for d in dims if d not in ("source", "transform", "inference"))


def plan(s: Setup, labels: tuple[str, ...]) -> pd.DataFrame:
    """Every distinct model the claims need: one row per fit with ``fit_id``, ``key``, the fitted
    choices (:data:`FIT_DIMS`; :data:`NA` where one does not apply), ``method`` (ols / ppml), the
    engine model (``dependent``, ``regressors`` and ``controls`` as tuples of variant-panel
    columns), the sample rule (``rule``, a :class:`Rule`) and ``permute`` (True for the principal
    checks' least-squares fits, which the permutation test re-runs). ``labels``: period labels."""
    reg = registry()
    principal_keys = {principal(c).key for c in claims()}
    rows = []
    for key in dict.fromkeys(k for c in claims() for k in claim_keys(c)):
        spec = reg[key]
        dims = fit_dimensions(spec)
        values = dict(s.values)
        if "transform" in dims:
            values["transform"] = transforms_for(spec, s.values["transform"])
        for choice in _grid(dims, values):
            if not _ppml_allowed(choice, s, dims):
                continue
            dep, regs, ctrl, method = _model_columns(spec, choice, labels, s.left_out.get(choice["source"], ()))
            rows.append({"key": key, **{d: choice.get(d, NA) for d in FIT_DIMS}, "method": method,
                         "dependent": dep, "regressors": regs, "controls_in": ctrl, "rule": _rule(spec, choice),
                         "hsr": _hsr_measure(spec),
                         "permute": key in principal_keys and method == "ols"})
    out = pd.DataFrame(rows)
    out.insert(0, "fit_id", np.arange(len(out)))
    return out


def _hsr_measure(spec: models.Spec) -> str:
    """The HSR column a check on this model rests on ("" when none; :func:`intercity.scorecard.hsr_measure`)."""
    return scorecard.hsr_measure(spec) or ""


# ----------------------------------------------------------------------------- tasks

@dataclass(frozen=True)
class Task:
    """Fits sharing a variant panel (source, period values) and a sample choice and gradient: one
    Dask task. ``fits``: the plan's rows (as records) to fit; ``permutations``/``seed``: the
    permutation test's R and seed."""

    source: str
    periods: str
    sample: str
    gradient: str
    method: str
    fits: tuple[dict, ...]
    clusters: tuple[str, ...]
    permutations: int = 0
    seed: int = 0

    @property
    def label(self) -> str:
        return f"{self.source}/{self.periods}/{self.sample}/{self.gradient or 'none'}/{self.method}"


def tasks(fits: pd.DataFrame, s: Setup) -> list[Task]:
    """The plan's fits batched into tasks by shared sample (see :class:`Task`)."""
    out = []
    for (src, per, smp, grad, method), sub in fits.groupby(["source", "periods", "sample", "gradient", "method"],
                                                         sort=True):
        out.append(Task(src, per, smp, grad if grad != NA else "", method, tuple(sub.to_dict("records")),
                        CLUSTERS, s.permutations if method == "ols" else 0, s.seed))
    return out


def _effective_clusters(panel: pd.DataFrame, mask: np.ndarray) -> dict[str, int]:
    """Clusters holding a pair seen in both periods among the rows of ``mask``, per clustering."""
    sub = panel.loc[mask, ["pair_id", "origin", "dest"]]
    twice = sub["pair_id"].map(sub["pair_id"].value_counts()) >= 2
    sub = sub[twice.to_numpy()]
    o, d = sub["origin"].nunique(), sub["dest"].nunique()
    return {"pair": sub["pair_id"].nunique(), "origin": o, "twoway": min(o, d),
            "dyadic": pd.unique(pd.concat([sub["origin"], sub["dest"]])).size}




def peak_memory_mib() -> float:
    """Peak resident memory of this process since it started its program, MiB: ``VmHWM`` of
    /proc/self/status (reset by exec, unlike ``ru_maxrss``, which keeps the parent's resident
    set counted between fork and exec), else ``ru_maxrss``."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        pass
    import resource

    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def run_task(panel: pd.DataFrame, task: Task) -> dict:
    """Fit a task's models on its variant panel: a frame of estimates (one row per fit) and, for the
    fits marked ``permute``, their permutation re-estimates (``fit_id``, ``coef`` (fits, R),
    ``p`` {clustering: (fits, R)}). Runs on a Dask worker."""
    t0 = time.perf_counter()
    fits = pd.DataFrame(list(task.fits))
    rules = {r.name: r for r in fits["rule"]}
    masks = {name: r(panel) for name, r in rules.items()}
    pr = None
    if task.method == "ppml":
        est = _ppml(panel, fits, masks, task.clusters)
    else:
        ms = [engine.Model(str(f.fit_id), f.dependent, tuple(f.regressors), tuple(f.controls_in), sample=f.rule.name)
              for f in fits.itertuples()]
        permute = fits["permute"].to_numpy(bool) if task.permutations else np.zeros(len(fits), bool)
        res, pr = engine.fit_and_permute(panel, ms, task.clusters, samples=rules, permute=permute,
                                         permutations=task.permutations, seed=task.seed, label=task.source)
        est = _from_engine(res, fits, task.clusters)
    # identification facts that need the sample: varying HSR pairs (effective clusters: the engine's
    # G_effective, or for PPML counted here)
    wanted = {(f.rule.name, f.hsr) for f in fits.itertuples() if f.hsr}
    varying = {(n, h): models.varying_pairs(panel.loc[masks[n], ["pair_id", h]], h) for n, h in wanted}
    est["varying_hsr"] = [varying[(f.rule.name, f.hsr)] if f.hsr else -1 for f in fits.itertuples()]
    _identify(est, task.clusters)
    out = {"estimates": est, "label": task.label, "seconds_fit": time.perf_counter() - t0}
    perm = fits[fits["permute"]]
    if pr is not None and len(pr.keys):
        ok = est.set_index("fit_id").loc[perm["fit_id"], "identified"].to_numpy()
        out["permuted"] = {"fit_id": perm["fit_id"].to_numpy(),
                           "coef": np.where(ok[:, None], pr.coef, np.nan).astype(np.float32),
                           "p": {c: np.where(ok[:, None], pr.p[c], np.nan).astype(np.float32) for c in task.clusters}}
    out["peak_mib"] = peak_memory_mib()
    return out


def _from_engine(res: pd.DataFrame, fits: pd.DataFrame, clusters: tuple[str, ...]) -> pd.DataFrame:
    cols = {"fit_id": fits["fit_id"].to_numpy(), "coef": res["coef"].to_numpy(float),
            "nobs": res["nobs"].to_numpy(), "n_pairs": res["n_pairs"].to_numpy(),
            "df_resid": res["df_resid"].to_numpy(), "rank": res["rank"].to_numpy(),
            "period_rank": res["period_rank"].to_numpy(), "note": res["note"].to_numpy(),
            "collinear": res["collinear"].to_numpy()}
    for c in clusters:
        for k in ("se", "p", "ci95_low", "ci95_high"):
            cols[f"{k}_{c}"] = res[f"{k}_{c}"].to_numpy(float)
        cols[f"note_{c}"] = res[f"note_{c}"].to_numpy()
        cols[f"g_eff_{c}"] = res[f"G_effective_{c}"].to_numpy()
    return pd.DataFrame(cols)


def _ppml(panel: pd.DataFrame, fits: pd.DataFrame, masks: dict[str, np.ndarray],
          clusters: tuple[str, ...]) -> pd.DataFrame:
    """PPML fits through pyfixest ``fepois`` (pair and period effects, CRV1 with the engine's
    small-sample convention :data:`intercity.engine.SSC`; dyadic-robust errors are not available for
    PPML: NaN with a note). Effective clusters are counted over the rows pyfixest kept."""
    import warnings

    import pyfixest as pf

    vcov = {"pair": {"CRV1": "pair_id"}, "origin": {"CRV1": "origin"}, "twoway": {"CRV1": "origin+dest"}}
    rows = []
    nan = float("nan")
    for f in fits.itertuples():
        data = panel.loc[masks[f.rule.name]]
        reg = f.regressors[0]
        row = {"fit_id": f.fit_id, "coef": nan, "nobs": len(data), "n_pairs": data["pair_id"].nunique(),
               "df_resid": -1, "rank": 0, "period_rank": int(data["period"].nunique() > 1), "note": "",
               "collinear": ""}
        for c in clusters:
            row.update({f"se_{c}": nan, f"p_{c}": nan, f"ci95_low_{c}": nan, f"ci95_high_{c}": nan, f"note_{c}": "",
                        f"g_eff_{c}": 0})
        fml = f"{f.dependent} ~ {' + '.join(tuple(f.regressors) + tuple(f.controls_in))} | pair_id + period"
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                fit = pf.fepois(fml, data, vcov=vcov["pair"], ssc=pf.ssc(**engine.SSC))
        except Exception as err:  # pyfixest raises for data PPML cannot fit (e.g. no variation left)
            row["note"] = f"not identified: PPML failed ({type(err).__name__}: {str(err).splitlines()[0][:120]})"
            rows.append(row)
            continue
        kept = list(fit.coef().index)
        used = fit._data
        row.update(nobs=int(fit._N), n_pairs=int(used["pair_id"].nunique()), rank=len(kept),
                   df_resid=int(fit._N) - int(used["pair_id"].nunique()) - row["period_rank"] - len(kept))
        eff = _effective_clusters(used, np.ones(len(used), bool))
        row.update({f"g_eff_{c}": eff[c] for c in clusters})
        if reg not in kept:
            row["note"] = f"not identified: {reg} has no variation within pairs in this sample"
            rows.append(row)
            continue
        row["coef"] = float(fit.coef()[reg])
        for c in clusters:
            if c not in vcov:
                row[f"note_{c}"] = "dyadic-robust errors are not available for PPML"
                continue
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                fit.vcov(vcov[c])
                se, p, ci = float(fit.se()[reg]), float(fit.pvalue()[reg]), fit.confint(alpha=0.05).loc[reg]
            if not np.isfinite(se):  # pyfixest returns NaN for a negative variance element
                row[f"note_{c}"] = f"negative {c} variance estimate: no standard error"
                continue
            row.update({f"se_{c}": se, f"p_{c}": p, f"ci95_low_{c}": float(ci.iloc[0]),
                        f"ci95_high_{c}": float(ci.iloc[1])})
        rows.append(row)
    return pd.DataFrame(rows)


def _identify(est: pd.DataFrame, clusters: tuple[str, ...]) -> None:
    """Apply the book's identification rule (:mod:`intercity.models`) in place: a model is
    identified when its reported regressor survives and df_resid >= K = k + r (regressors kept and
    identified period effects); a clustering's inference is kept only when its effective clusters
    G satisfy G - 1 >= K, and only when the HSR measure (``varying_hsr``; -1 when the fit has
    none) changes within at least :data:`intercity.models.MIN_VARYING_FOR_SE` pairs
    (``identified``, ``n_params`` = K, notes as the book's)."""
    K = est["rank"].to_numpy(np.int64) + est["period_rank"].to_numpy(np.int64)
    df_resid = est["df_resid"].to_numpy(np.int64)
    ok = np.isfinite(est["coef"].to_numpy(float)) & (df_resid >= K)
    notes = est["note"].astype(str).to_numpy().copy()
    for i in np.flatnonzero(np.isfinite(est["coef"].to_numpy(float)) & ~ok):
        notes[i] = (models.NO_DF if df_resid[i] <= 0 else
                    f"not identified (too few residual degrees of freedom: {df_resid[i]} for {K[i]} parameters)")
    est["identified"] = ok
    est["n_params"] = K
    est.loc[~ok, "coef"] = np.nan
    vary = est["varying_hsr"].to_numpy(np.int64) if "varying_hsr" in est else np.full(len(est), -1)
    lone = ok & (vary >= 0) & (vary < models.MIN_VARYING_FOR_SE)
    for i in np.flatnonzero(lone):
        notes[i] = "; ".join(filter(None, [notes[i], models.single_pair_note("the HSR measure", vary[i])]))
    est["note"] = notes
    for c in clusters:
        g = est[f"g_eff_{c}"].to_numpy(np.int64)
        few = ~ok | (g - 1 < K) | lone
        for k in ("se", "p", "ci95_low", "ci95_high"):
            est.loc[few, f"{k}_{c}"] = np.nan
        fewer = ok & (g - 1 < K)
        est.loc[fewer, f"note_{c}"] = [f"{c}-clustered SE not reported: {gg} clusters for {kk} parameters"
                                       for gg, kk in zip(g[fewer], K[fewer])]


# ----------------------------------------------------------------------------- running the sweep

def variant_panels(studies: dict, s: Setup) -> dict[tuple[str, str], pd.DataFrame]:
    """(source, period values) -> the variant panel (:func:`intercity.choices.variant_panel`)."""
    return {(src, per): choices.variant_panel(st, per, s.shifted_tiers_km)
            for src, st in studies.items() for per in s.values["periods"]}


def estimate(studies: dict, s: Setup, scheduler: str | None = None, workers: int = 1,
             log: Callable[[str], None] | None = None) -> tuple[pd.DataFrame, dict]:
    """Fit every model of the plan on Dask (:func:`intercity.sweep.run`): the plan with its
    estimates (one row per fit, sorted by ``fit_id``) and the permutation re-estimates of the
    principal fits (``fit_id`` (n,), ``coef`` (n, R), ``p`` {clustering: (n, R)})."""
    first = next(iter(studies.values()))
    labels = tuple(first.params.period_labels)
    fits = plan(s, labels)
    todo = tasks(fits, s)
    panels = variant_panels(studies, s)
    if log:
        log(f"multiverse: {len(fits):,} models ({(fits['method'] == 'ppml').sum():,} PPML) in {len(todo)} tasks "
            f"on {len(panels)} variant panels")
    results = sweep.run(run_task, [((t.source, t.periods), t) for t in todo], panels, scheduler=scheduler,
                        workers=workers, desc="multiverse tasks", log=log)
    est = pd.concat([r["estimates"] for r in results], ignore_index=True)
    timing = pd.DataFrame([{"task": r["label"], "models": len(r["estimates"]), "seconds": r["seconds_fit"],
                            "permuted": len(r.get("permuted", {}).get("fit_id", [])),
                            "peak_mib": r.get("peak_mib", np.nan)} for r in results])
    out = fits.drop(columns=["rule"]).assign(sample_rule=[r.name for r in fits["rule"]])
    out = out.merge(est, on="fit_id", how="left", validate="one_to_one").sort_values("fit_id", ignore_index=True)
    perm = [r["permuted"] for r in results if "permuted" in r]
    permuted = {}
    if perm:
        permuted = {"fit_id": np.concatenate([q["fit_id"] for q in perm]),
                    "coef": np.concatenate([q["coef"] for q in perm]),
                    "p": {c: np.concatenate([q["p"][c] for q in perm]) for c in CLUSTERS}}
    permuted["timing"] = timing
    return out, permuted


# ----------------------------------------------------------------------------- what a source can test

def source_facts(study) -> scorecard.SourceFacts:
    """What the scorecard knows of a study's source (variable kinds, stand-in MRIO), as
    :func:`intercity.scorecard.source_facts` without the book models' HSR counts (the multiverse
    counts varying pairs in each specification's own sample)."""
    p = study.params
    years = list(range(min(a for a, _ in p.periods), max(b for _, b in p.periods) + 1))
    meta = study.data.meta if isinstance(study.data.meta, dict) else {}
    standin = ""
    if study.source in scorecard.STANDIN_MRIO_SOURCES:
        standin = (meta.get("mrio") or {}).get("note") or f"the {study.source} source's MRIO is not the CEADs table"
    return scorecard.SourceFacts(source=study.source, variables=scorecard.variable_status(study.data, years),
                                 mrio_standin=standin)


def untestable(fits: pd.DataFrame, facts: dict[str, scorecard.SourceFacts]) -> list[str]:
    """Per fit, why its source cannot test a claim on it ("" when it can), by the scorecard's rules
    (:mod:`intercity.scorecard`): the synthetic world is not China; an outcome, regressor or sample
    split (the gradient choice's variables) resting on a proxy, constant or mostly imputed variable;
    the transfer as outcome or regressor on a stand-in MRIO whose trade shares do not respond to
    connectivity; an HSR measure changing in fewer than :data:`MIN_VARYING_PAIRS` pairs of the
    fit's own sample. ``facts``: source -> :func:`source_facts`."""
    reg = registry()
    out = []
    for f in fits.itertuples():
        fact = facts[f.source]
        few_varying = (f"{f.hsr} changes between periods in {f.varying_hsr} ordered pairs of the sample, fewer "
                       f"than {MIN_VARYING_PAIRS}") if 0 <= f.varying_hsr < MIN_VARYING_PAIRS else ""
        if f.source == "synthetic":
            out.append("; ".join(filter(None, [SYNTHETIC_REASON, few_varying])))
            continue
        spec = reg[f.key]
        why = []
        roles = [("outcome", spec.dependent, PANEL_VARIABLES.get(spec.dependent, ())),
                 ("regressor", spec.regressors[0], PANEL_VARIABLES.get(spec.regressors[0], ()))]
        if spec.sample in GRADIENT_SAMPLES:
            roles.append(("sample split", f"{spec.sample} by {f.gradient}", GRADIENT_BUNDLE[f.gradient]))
        elif spec.sample in POPULATION_SAMPLES:
            roles.append(("sample split", spec.sample, ("population",)))
        for role, what, variables in roles:
            for var in variables:
                kind, text = fact.kind(var)
                if kind in UNTESTABLE_KINDS:
                    why.append(f"{role} {what} rests on {var}, {text}")
        if fact.mrio_standin:
            for role, col in (("outcome", spec.dependent), ("regressor", spec.regressors[0])):
                if col == "IT" or col.startswith("IT_"):
                    why.append(f"{role} {col} measured from a stand-in MRIO whose inter-city trade shares do not "
                               f"respond to connectivity ({fact.mrio_standin})")
        if few_varying:
            why.append(few_varying)
        out.append("; ".join(why))
    return out


# ----------------------------------------------------------------------------- the specifications

def claim_dimensions(claim: scorecard.Claim, s: Setup) -> tuple[tuple[str, ...], dict[str, tuple[str, ...]]]:
    """The choices a claim's specifications cross (:data:`DIMS` order) and their values."""
    reg = registry()
    keys = claim_keys(claim)
    used = {d for k in keys for d in fit_dimensions(reg[k])}
    if any(ch.expect != "max" for ch in claim.checks):
        used.add("inference")
    values = dict(s.values)
    with_tr = [reg[k] for k in keys if "transform" in fit_dimensions(reg[k])]
    if with_tr:
        values["transform"] = tuple(t for t in s.values["transform"]
                                    if all(t in transforms_for(sp, s.values["transform"]) for sp in with_tr))
    return tuple(d for d in DIMS if d in used), values


def specifications(claim: scorecard.Claim, s: Setup) -> pd.DataFrame:
    """A claim's specifications: one row per combination of its choices (``spec`` 0, 1, ...), every
    choice a column (:data:`NA` where it does not apply), ``study_spec`` True for the study's own."""
    dims, values = claim_dimensions(claim, s)
    grid = [g for g in _grid(dims, values) if _ppml_allowed(g, s, dims)]
    frame = pd.DataFrame(grid, columns=list(dims))
    for d in DIMS:
        if d not in frame.columns:
            frame[d] = NA
    frame = frame[list(DIMS)]
    frame.insert(0, "spec", np.arange(len(frame)))
    study = np.ones(len(frame), bool)
    for d in dims:
        study &= (frame[d] == (s.values[d][0] if d != "source" else frame[d])).to_numpy()
    frame["study_spec"] = study
    return frame


def _fit_ids(spec_frame: pd.DataFrame, key: str, index: dict[tuple, int]) -> np.ndarray:
    """The fit of estimate ``key`` under each specification (by its fitted choices); ``index``:
    (key, fitted choices...) -> fit_id."""
    dims = fit_dimensions(registry()[key])
    cols = [spec_frame[d].to_numpy(object) if d in dims else np.full(len(spec_frame), NA, object) for d in FIT_DIMS]
    out = np.empty(len(spec_frame), np.int64)
    for i, t in enumerate(zip(*cols)):
        f = index.get((key, *t))
        if f is None:
            raise KeyError(f"no model of {key} for {dict(zip(FIT_DIMS, t))}")
        out[i] = f
    return out


def evaluate(fits: pd.DataFrame, s: Setup) -> pd.DataFrame:
    """The multiverse: one row per (claim check, specification) with the check's estimate under the
    specification's choices, its result, the claim's result and verdict (module docstring).

    ``fits``: :func:`estimate`'s frame with a ``reason`` column (:func:`untestable`). Columns: claim,
    section, spec, check, key, expect, level, the choices (:data:`DIMS`), study_spec, fit_id, method,
    coef, se, p, ci95_low, ci95_high (under the specification's inference; a "largest" check reads
    the study's clustering), nobs, n_pairs, identified, note, check_result, claim_result, testable,
    reason, verdict.
    """
    fits = fits.sort_values("fit_id", ignore_index=True)
    coef = fits["coef"].to_numpy(float)
    ident = fits["identified"].to_numpy(bool)
    stat = {(k, c): fits[f"{k}_{c}"].to_numpy(float) for k in ("se", "p", "ci95_low", "ci95_high") for c in CLUSTERS}
    reason = fits["reason"].to_numpy(object)
    notes = fits["note"].astype(str).to_numpy(object)
    cnotes = {c: fits[f"note_{c}"].astype(str).to_numpy(object) for c in CLUSTERS}
    method = fits["method"].to_numpy(object)
    nobs, npairs = fits["nobs"].to_numpy(), fits["n_pairs"].to_numpy()
    index = {t[0]: int(t[1]) for t in zip(zip(*(fits[c].to_numpy(object) for c in ("key", *FIT_DIMS))),
                                          fits["fit_id"].to_numpy())}
    frames = []
    for claim in claims():
        sp = specifications(claim, s)
        n = len(sp)
        ids = {k: _fit_ids(sp, k, index) for k in claim_keys(claim)}
        inf = sp["inference"].to_numpy(object)
        inf = np.where(inf == NA, s.values["inference"][0], inf)
        per_check, results = [], []
        for j, ch in enumerate(claim.checks, start=1):
            f = ids[ch.key]
            b = coef[f]
            p = np.full(n, np.nan)
            row = {k: np.full(n, np.nan) for k in ("se", "ci95_low", "ci95_high")}
            for c in CLUSTERS:
                on = inf == c
                p[on] = stat[("p", c)][f[on]]
                for k in row:
                    row[k][on] = stat[(k, c)][f[on]]
            ok = ident[f]
            if ch.expect == "max":
                among = np.column_stack([np.where(ident[ids[k]], coef[ids[k]], np.nan) for k in ch.among])
                n_ok = np.isfinite(among).sum(axis=1)
                evaluable = ok & (n_ok >= 2)
                holds = evaluable & (b >= np.nanmax(np.where(np.isfinite(among), among, -np.inf), axis=1))
            else:
                evaluable = ok & np.isfinite(p)
                sig = p < ch.level
                holds = evaluable & (~sig if ch.expect == "0" else sig & ((b > 0) if ch.expect == "+" else (b < 0)))
            result = np.where(~evaluable, NOT_IDENTIFIED, np.where(holds, "holds", "fails"))
            results.append(result)
            note = notes[f]
            if ch.expect != "max":
                cnote = np.full(n, "", object)
                for c in CLUSTERS:
                    on = inf == c
                    cnote[on] = cnotes[c][f[on]]
                note = np.where((note == "") & ~np.isfinite(p) & ok, cnote, note)
            per_check.append(pd.DataFrame({
                "claim": claim.id, "section": claim.section, "spec": sp["spec"].to_numpy(), "check": j,
                "key": ch.key, "expect": ch.expect, "level": ch.level, "describe": ch.describe(),
                **{d: sp[d].to_numpy() for d in DIMS}, "study_spec": sp["study_spec"].to_numpy(),
                "fit_id": f, "method": method[f], "coef": b, "se": row["se"], "p": p,
                "ci95_low": row["ci95_low"], "ci95_high": row["ci95_high"], "nobs": nobs[f],
                "n_pairs": npairs[f], "identified": ok, "note": note, "check_result": result}))
        res = np.column_stack(results)
        claim_result = np.where((res == NOT_IDENTIFIED).any(axis=1), NOT_IDENTIFIED,
                                np.where((res == "holds").all(axis=1), "holds", "fails"))
        all_ids = np.column_stack(list(ids.values()))
        memo: dict[tuple, str] = {}
        why = np.empty(n, object)
        for r, t in enumerate(map(tuple, all_ids)):
            if t not in memo:
                parts = [reason[i] for i in dict.fromkeys(t) if reason[i]]
                memo[t] = "; ".join(dict.fromkeys(x for part in parts for x in part.split("; ")))
            why[r] = memo[t]
        testable = why == ""
        verdict = np.where(testable, claim_result, NOT_SOURCE)
        for fr in per_check:
            fr["claim_result"] = claim_result
            fr["testable"] = testable
            fr["reason"] = why
            fr["verdict"] = verdict
        frames.extend(per_check)
    return pd.concat(frames, ignore_index=True)


# ----------------------------------------------------------------------------- the joint test

def _curve_rows(rows: pd.DataFrame, claim: scorecard.Claim) -> pd.DataFrame:
    """The rows of a claim's principal check (one per specification)."""
    ch = principal(claim)
    j = claim.checks.index(ch) + 1
    return rows[(rows["claim"] == claim.id) & (rows["check"] == j)]


def _direction(ch: scorecard.Check, coef: np.ndarray) -> float:
    if ch.expect in ("+", "-"):
        return 1.0 if ch.expect == "+" else -1.0
    med = np.nanmedian(coef) if np.isfinite(coef).any() else 0.0
    return 1.0 if med >= 0 else -1.0


def curve_test(coef: np.ndarray, p: np.ndarray, level: float, direction: float, perm_coef: np.ndarray,
               perm_p: np.ndarray) -> dict:
    """The joint test of one specification curve (Simonsohn, Simmons and Nelson 2020).

    ``coef``, ``p``: (specs,) observed estimates and p values (each under its specification's
    inference); ``perm_coef``, ``perm_p``: (specs, R) the same under R permutations of the
    regressor of interest; ``direction``: +1 or -1, the claimed sign. Statistics: the share of
    specifications with p < ``level`` and an estimate of the claimed sign, and the median estimate
    times ``direction`` (specifications without an estimate in a replication are left out of it).
    p values: (1 + #{replications at least as extreme}) / (1 + R), one-sided in the claimed
    direction. Returns share, median, p_share, p_median and the null distributions (arrays).
    """
    R = perm_coef.shape[1] if perm_coef.ndim == 2 else 0
    share = float(np.mean((p < level) & (direction * coef > 0))) if len(coef) else np.nan
    med = float(direction * np.median(coef)) if len(coef) else np.nan
    out = {"share": share, "median": med, "p_share": np.nan, "p_median": np.nan,
           "null_share": np.full(R, np.nan), "null_median": np.full(R, np.nan)}
    if not len(coef) or not R:
        return out
    valid = np.isfinite(perm_coef)
    sig = (perm_p < level) & (direction * perm_coef > 0) & valid
    n = valid.sum(axis=0)
    null_share = np.where(n > 0, sig.sum(axis=0) / np.maximum(n, 1), np.nan)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # a replication without any estimate: NaN
        null_med = direction * np.nanmedian(np.where(valid, perm_coef, np.nan), axis=0)
    out.update(null_share=null_share, null_median=null_med,
               p_share=float((1 + np.sum(null_share >= share - 1e-12)) / (1 + R)),
               p_median=float((1 + np.sum(null_med >= med)) / (1 + R)))
    return out


def permutation_test(rows: pd.DataFrame, permuted: dict, R: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The specification-curve test of every claim (:func:`curve_test`; module docstring): one row
    per claim with the principal check, direction, specifications in the test, observed share
    significant in the direction and median estimate, their permutation p values, R and the PPML
    specifications left out; and the null distribution (claim, replication, share, median)."""
    pos = {int(f): i for i, f in enumerate(permuted.get("fit_id", []))}
    tests, null = [], []
    for claim in claims():
        ch = principal(claim)
        cur = _curve_rows(rows, claim)
        ppml = int((cur["method"] == "ppml").sum())
        cur = cur[(cur["method"] == "ols") & cur["identified"] & np.isfinite(cur["p"].to_numpy(float))]
        b, pv = cur["coef"].to_numpy(float), cur["p"].to_numpy(float)
        d = _direction(ch, b)
        idx = np.array([pos.get(int(f), -1) for f in cur["fit_id"]], dtype=np.int64)
        if len(cur) and (idx >= 0).all() and R > 0:
            pc = permuted["coef"][idx].astype(float)
            pp = np.full_like(pc, np.nan)
            inf = cur["inference"].to_numpy(object)
            inf = np.where(inf == NA, DIMENSIONS["inference"].study, inf)  # as evaluate() reads p
            for c in CLUSTERS:
                on = inf == c
                pp[on] = permuted["p"][c][idx[on]]
        else:
            pc = pp = np.zeros((len(cur), 0))
        t = curve_test(b, pv, ch.level, d, pc, pp)
        tests.append({"claim": claim.id, "check": ch.describe(), "key": ch.key, "expect": ch.expect,
                      "level": ch.level, "direction": "+" if d > 0 else "-", "specs": len(cur), "ppml_left_out": ppml,
                      "share_significant": t["share"], "median": t["median"], "p_share": t["p_share"],
                      "p_median": t["p_median"], "R": pc.shape[1]})
        if pc.shape[1]:
            null.append(pd.DataFrame({"claim": claim.id, "replication": np.arange(1, pc.shape[1] + 1),
                                      "share": t["null_share"], "median": t["null_median"]}))
    return pd.DataFrame(tests), (pd.concat(null, ignore_index=True) if null else
                                 pd.DataFrame(columns=["claim", "replication", "share", "median"]))


# ----------------------------------------------------------------------------- the whole multiverse

@dataclass
class Result:
    """The multiverse of one build: ``rows`` (:func:`evaluate`, written to
    ``results/<set>/multiverse.parquet``), ``fits`` (one row per model fitted), ``tests`` and
    ``null`` (:func:`permutation_test`) and ``meta`` (sources, counts, seconds)."""

    rows: pd.DataFrame
    fits: pd.DataFrame
    tests: pd.DataFrame
    null: pd.DataFrame
    meta: dict = field(default_factory=dict)
    _summary: pd.DataFrame | None = field(default=None, repr=False)


def cache_key(study, sources: list[str], cache_dirs: list[str]) -> str:
    """Key of a cached multiverse: its code (closure of this module), the published tables, the
    parameters it reads and the transfers of every source (their cache folders' keys)."""
    from intercity import pipeline

    p = study.params
    ups = [pipeline.measurement_key(p, d) for d in cache_dirs]
    return cachekey.key("multiverse", MODULES, DATA,
                        {"multiverse": p.multiverse.model_dump(mode="json"), "sources": sources,
                         "periods": [list(x) for x in p.periods], "tiers": list(p.distance_tiers_km)},
                        upstream="|".join(ups))


def studies_for(study, sources: list[str], log: Callable[[str], None] | None = None) -> dict:
    """The :class:`intercity.pipeline.Study` of every source (the build's own reused)."""
    from intercity import pipeline

    out = {}
    cache_root = study.cache.parent if study.cache else None
    for src in sources:
        if src == study.source:
            out[src] = study
        else:
            if log:
                log(f"multiverse: building the {src} panel")
            other = study.params.model_copy(update={"data_source": src,
                                                    "ceads": study.params.ceads if src == "ceads" else None})
            out[src] = pipeline.study(other, cache_dir=cache_root, log=log)
    return out


def compute(study, log: Callable[[str], None] | None = None, workers: int | None = None) -> Result:
    """The multiverse of ``study``'s parameter set, computed (no cache): every source's panel,
    every model on Dask, the verdicts and the permutation test."""
    t0 = time.perf_counter()
    p = study.params
    sources, text = resolve_sources(p)
    studies = studies_for(study, sources, log)
    s = setup(p, sources, studies)
    t1 = time.perf_counter()
    fits, permuted = estimate(studies, s, p.scheduler, p.multiverse.workers if workers is None else workers, log)
    t2 = time.perf_counter()
    fits["reason"] = untestable(fits, {src: source_facts(st) for src, st in studies.items()})
    rows = evaluate(fits, s)
    tests, null = permutation_test(rows, permuted, s.permutations)
    t3 = time.perf_counter()
    timing = permuted.pop("timing")
    meta = {"sources": sources, "sources_text": text, "models": int(len(fits)), "curve_points": s.curve_points,
            "values": {d: list(v) for d, v in s.values.items()}, "ppml": s.ppml,
            "seconds_tasks": round(float(timing["seconds"].sum()), 2),
            "seconds_tasks_ppml": round(float(timing.loc[timing["task"].str.endswith("/ppml"), "seconds"].sum()), 2),
            "models_permuted": int(timing["permuted"].sum()),
            "peak_mib_tasks": float(timing["peak_mib"].max()),
            "models_ppml": int((fits["method"] == "ppml").sum()),
            "specifications": int(rows[["claim", "spec"]].drop_duplicates().shape[0]), "rows": int(len(rows)),
            "permutations": s.permutations, "seconds_panels": round(t1 - t0, 2), "seconds_models": round(t2 - t1, 2),
            "seconds_evaluate": round(t3 - t2, 2), "seconds": round(t3 - t0, 2)}
    if log:
        log(f"multiverse: {meta['specifications']:,} specifications of {len(claims())} claims, {meta['models']:,} "
            f"models, in {meta['seconds']:.1f} s")
    return Result(rows, fits, tests, null, meta)


def load(study, log: Callable[[str], None] | None = None) -> Result:
    """:func:`compute`, cached beside the build's bundle under :func:`cache_key`."""
    import json

    sources, _ = resolve_sources(study.params)
    dirs = []
    for src in sources:
        from intercity import bundle

        dirs.append(bundle.cache_key(study.params, src))
    key = cache_key(study, sources, dirs)
    base = (study.cache.parent if study.cache else Path(".")) / "multiverse"
    files = {n: base / f"{n}-{key}.parquet" for n in ("rows", "fits", "tests", "null")}
    meta_file = base / f"meta-{key}.json"
    if all(f.is_file() for f in files.values()) and meta_file.is_file():
        got = {n: pd.read_parquet(f) for n, f in files.items()}
        return Result(got["rows"], got["fits"], got["tests"], got["null"], json.loads(meta_file.read_text()))
    res = compute(study, log)
    base.mkdir(parents=True, exist_ok=True)
    fits = res.fits.copy()
    for c in ("regressors", "controls_in"):
        fits[c] = [", ".join(v) for v in fits[c]]
    from intercity.pipeline import _write_atomic

    for n, frame in (("rows", res.rows), ("fits", fits), ("tests", res.tests), ("null", res.null)):
        _write_atomic(frame, files[n])
    meta_file.write_text(json.dumps(res.meta, indent=2))
    res.fits = fits
    return res


# ----------------------------------------------------------------------------- what the chapter shows

def _pct(x: float) -> str:
    return "n/a" if not np.isfinite(x) else f"{100 * x:.0f}%"


def _spec_level(rows: pd.DataFrame, claim_id: str) -> pd.DataFrame:
    """One row per specification of a claim (its first check's row carries the claim's result)."""
    sub = rows[rows["claim"] == claim_id]
    return sub[sub["check"] == sub["check"].min()]


#: The analysis choices: every dimension but the data source. The data source is a stratum, not a
#: choice: no source of this build is the study's (CEADs tables of China), so pooling them into one
#: share, or calling the source the choice that "moves" a claim, would mix measurements of different
#: worlds. Shares, and the choice that moves a claim most, are computed within each source.
ANALYSIS_DIMS: tuple[str, ...] = tuple(d for d in DIMS if d != "source")
#: How the chapter names each source (a stratum).
SOURCE_WORDS = {"public": "the public data (a stand-in city MRIO: national tables regionalised)",
                "synthetic": "the synthetic world (not China)", "ceads": "the user's CEADs tables"}


def _source_words(src: str) -> str:
    return SOURCE_WORDS.get(src, f"the {src} source")


def influence(rows: pd.DataFrame, claim_id: str, source: str | None = None) -> pd.DataFrame:
    """How each analysis choice (:data:`ANALYSIS_DIMS`, not the data source) moves a claim within
    one data source (``source``; None: the rows must hold one source only, else ValueError): per
    crossed choice and value, the specifications, how many of them could be evaluated (claim result
    holds or fails) and the share in which it holds; ``range`` = the largest minus the smallest
    share over the choice's values."""
    spec = _spec_level(rows, claim_id)
    if source is not None:
        spec = spec[spec["source"] == source]
    elif spec["source"].nunique() > 1:
        raise ValueError(f"influence of claim {claim_id}: the rows hold sources {sorted(spec['source'].unique())}; "
                         "name one (the data source is a stratum, not a choice)")
    out = []
    for d in ANALYSIS_DIMS:
        vals = spec[d].unique()
        if len(vals) < 2:
            continue
        for v in DIMENSIONS[d].values if set(vals) <= set(DIMENSIONS[d].values) else vals:
            if v not in vals:
                continue
            sub = spec[spec[d] == v]
            ev = sub["claim_result"].isin(["holds", "fails"])
            out.append({"dimension": d, "value": v, "specs": len(sub), "evaluable": int(ev.sum()),
                        "share_holds": float((sub["claim_result"] == "holds").sum() / ev.sum()) if ev.any() else np.nan})
    frame = pd.DataFrame(out, columns=["dimension", "value", "specs", "evaluable", "share_holds"])
    rng = frame.groupby("dimension")["share_holds"].agg(lambda x: x.max() - x.min() if x.notna().sum() >= 2 else np.nan)
    frame["range"] = frame["dimension"].map(rng)
    return frame


def moves_most(rows: pd.DataFrame, claim_id: str, source: str | None = None) -> tuple[str, str]:
    """(dimension, sentence): the analysis choice whose values move the claim's share of holding
    specifications most within data source ``source`` (:func:`influence`; never the source
    itself), in words."""
    inf = influence(rows, claim_id, source)
    spec = _spec_level(rows, claim_id)
    if source is not None:
        spec = spec[spec["source"] == source]
    ev = spec["claim_result"].isin(["holds", "fails"])
    if inf["range"].notna().sum() == 0 or not ev.any():
        return "", (f"no choice can be judged: none of its {len(spec):,} specifications could be evaluated"
                    if not ev.any() else "no choice varies among its evaluable specifications")
    d = inf.loc[inf["range"].idxmax(), "dimension"]
    r = inf[(inf["dimension"] == d) & inf["share_holds"].notna()]
    if float(r["share_holds"].max() - r["share_holds"].min()) == 0:
        share = float((spec["claim_result"] == "holds").sum() / ev.sum())
        return "", f"no choice moves it: it holds in {_pct(share)} of the evaluable specifications under every value"
    hi, lo = r.loc[r["share_holds"].idxmax()], r.loc[r["share_holds"].idxmin()]
    w = DIMENSIONS[d].words
    return d, (f"the {DIMENSIONS[d].title}: it holds in {_pct(hi['share_holds'])} of the evaluable specifications "
               f"with {w.get(hi['value'], hi['value'])} and in {_pct(lo['share_holds'])} with "
               f"{w.get(lo['value'], lo['value'])}")


def source_summary(res: Result) -> pd.DataFrame:
    """One row per claim and data source (the sources in the build's order, its own first): the
    specifications on that source, how many are not testable on it, not identified, hold and fail;
    the share holding among those that could be evaluated (and among the testable ones); the
    study's own specification's result; and the analysis choice that moves the claim most on that
    source (:func:`moves_most`), in words. Nothing is pooled across sources."""
    rows = res.rows
    out = []
    for claim in claims():
        spec_all = _spec_level(rows, claim.id)
        for src in [s for s in res.meta["sources"] if s in set(spec_all["source"])]:
            spec = spec_all[spec_all["source"] == src]
            ev = spec["claim_result"].isin(["holds", "fails"])
            tv = ev & spec["testable"]
            holds = spec["claim_result"] == "holds"
            study = spec[spec["study_spec"] & spec["inference"].isin([NA, DIMENSIONS["inference"].study])]
            dim, words = moves_most(rows, claim.id, src)
            reasons = spec.loc[~spec["testable"], "reason"].value_counts()
            out.append({"claim": claim.id, "source": src, "specifications": len(spec),
                        "not_testable": int((~spec["testable"]).sum()),
                        "not_testable_reason": reasons.index[0] if len(reasons) else "",
                        "not_identified": int((spec["claim_result"] == NOT_IDENTIFIED).sum()),
                        "holds": int(holds.sum()), "fails": int((spec["claim_result"] == "fails").sum()),
                        "share_holds": float(holds.sum() / ev.sum()) if ev.any() else np.nan,
                        "share_holds_testable": float((holds & tv).sum() / tv.sum()) if tv.any() else np.nan,
                        "study_spec": "; ".join(sorted(set(study["claim_result"]))) or NA,
                        "moves_most": dim, "moves_most_words": words})
    return pd.DataFrame(out)


def source_sentence(r) -> str:
    """What the multiverse says of one claim on one source (a row of :func:`source_summary`)."""
    n, ev = r.specifications, r.holds + r.fails
    head = f"On {_source_words(r.source)}, {n:,} specifications"
    if r.not_testable == n:
        text = f"{head}: none of the {n:,} can be judged on this source ({r.not_testable_reason})"
        text += (f"; run anyway, its checks hold in {_pct(r.share_holds)} of the {ev:,} that could be evaluated"
                 if ev else "; none could be evaluated either")
    else:
        parts = [f"{r.not_testable:,} not testable on this source"] if r.not_testable else []
        if r.not_identified:
            parts.append(f"{r.not_identified:,} not identified")
        text = head + (f" ({'; '.join(parts)})" if parts else "")
        if ev:
            text += f": it holds in {_pct(r.share_holds)} of the {ev:,} that could be evaluated"
            if np.isfinite(r.share_holds_testable) and r.not_testable:
                text += f" and in {_pct(r.share_holds_testable)} of the testable ones"
        else:
            text += ": none could be evaluated"
    text += f"; under the study's choices it {r.study_spec if r.study_spec != NA else 'has no result'}"
    w = r.moves_most_words
    text += f"; the choice that moves it most there is {w}" if r.moves_most else f"; {w}"
    return text + "."


def claim_summary(res: Result) -> pd.DataFrame:
    """One row per claim: ``specifications_all`` on all sources; per source (the rows of
    :func:`source_summary`, here as "source: share" words in ``share_holds_by_source`` and
    ``not_testable_by_source``) the counts and shares; ``share_holds`` and ``moves_most`` of the build's
    own source (the first; shares are never pooled across sources: no source is the study's); the
    specification-curve test (share significant in the claimed direction, median, their
    permutation p values); and ``evidence``, the claim's sentence per source (:func:`source_sentence`)."""
    if res._summary is not None:
        return res._summary.copy()
    by = source_summary(res)
    tests = res.tests.set_index("claim")
    out = []
    for claim in claims():
        sub = by[by["claim"] == claim.id]
        own = sub.iloc[0]
        t = tests.loc[claim.id]
        out.append({"claim": claim.id, "section": claim.section, "text": claim.claim,
                    "specifications": int(own["specifications"]), "specifications_all": int(sub["specifications"].sum()),
                    "source": own["source"],
                    "not_testable": int(own["not_testable"]), "not_identified": int(own["not_identified"]),
                    "holds": int(own["holds"]), "fails": int(own["fails"]),
                    "share_holds": own["share_holds"], "share_holds_testable": own["share_holds_testable"],
                    "share_holds_by_source": "; ".join(f"{r.source}: {_pct(r.share_holds)}" for r in sub.itertuples()),
                    "not_testable_by_source": "; ".join(f"{r.source}: {r.not_testable:,} of {r.specifications:,}"
                                                        for r in sub.itertuples()),
                    "study_spec": "; ".join(f"{r.source}: {r.study_spec}" for r in sub.itertuples()),
                    "curve_specs": int(t["specs"]), "share_significant": t["share_significant"],
                    "p_share": t["p_share"], "median": t["median"], "p_median": t["p_median"],
                    "moves_most": own["moves_most"], "moves_most_words": f"on {own['source']}, {own['moves_most_words']}",
                    "evidence": " ".join(source_sentence(r) for r in sub.itertuples())})
    res._summary = pd.DataFrame(out)
    return res._summary.copy()


@dataclass
class Curve:
    """A claim's specification curve, ready to draw (:func:`intercity.figures.spec_curve`):
    ``frame`` (rank, coef, ci95_low, ci95_high, claim_result, study_spec and the crossed choices,
    sorted by coef), ``panel`` (dimension title -> [(value, label)] of the choices marked beneath),
    the ``check`` drawn, and counts (specifications, shown, not identified)."""

    claim: str
    check: str
    key: str
    frame: pd.DataFrame
    panel: dict[str, list[tuple[str, str]]]
    dims: list[str]
    specs: int
    shown: int
    not_identified: int
    level: float


def curve(res: Result, claim_id: str, max_points: int | None = None) -> Curve:
    """The specification curve of a claim's principal check (:func:`principal`): its identified
    estimates sorted, at most ``max_points`` drawn (every k-th in rank order, the study's own
    specifications always; default ``meta['curve_points']``)."""
    claim = next(c for c in claims() if c.id == claim_id)
    ch = principal(claim)
    cur = _curve_rows(res.rows, claim)
    ok = cur[cur["identified"] & np.isfinite(cur["coef"].to_numpy(float))].sort_values(
        ["coef", "spec"], kind="mergesort", ignore_index=True)
    ok.insert(0, "rank", np.arange(1, len(ok) + 1))
    limit = max_points or int(res.meta.get("curve_points", 500))
    if len(ok) > limit:
        keep = set(np.unique(np.round(np.linspace(0, len(ok) - 1, limit)).astype(int)).tolist())
        keep |= set(np.flatnonzero(ok["study_spec"].to_numpy()).tolist())
        ok = ok.iloc[sorted(keep)].reset_index(drop=True)
    dims = [d for d in DIMS if cur[d].nunique() > 1]
    present = {d: set(cur[d]) for d in dims}
    panel = {DIMENSIONS[d].title: [(v, DIMENSIONS[d].label(v)) for v in
                                   (DIMENSIONS[d].values if present[d] <= set(DIMENSIONS[d].values)
                                    else sorted(present[d])) if v in present[d]] for d in dims}
    return Curve(claim_id, ch.describe(), ch.key, ok, panel, dims, len(cur), len(ok),
                 int((~cur["identified"]).sum()), ch.level)


def headline(res: Result) -> dict[str, object]:
    """Numbers for the chapter's prose: specifications, models, claims, sources, rows, seconds,
    and, on the build's own source (``mv_own_source``; shares are per source, never pooled), how many
    claims hold in most of their evaluable specifications."""
    summ = claim_summary(res)
    m = res.meta
    return {"mv_specs": f"{m['specifications']:,}", "mv_models": f"{m['models']:,}",
            "mv_models_ppml": f"{m['models_ppml']:,}", "mv_rows": f"{m['rows']:,}", "mv_claims": str(len(summ)),
            "mv_sources": ", ".join(m["sources"]), "mv_seconds": f"{m['seconds']:.0f}",
            "mv_permutations": str(m["permutations"]), "mv_own_source": _source_words(m["sources"][0]),
            "mv_majority": str(int((summ["share_holds"] > 0.5).sum())),
            "mv_testable_claims": str(int((summ["not_testable"] < summ["specifications"]).sum())),
            "mv_robust": str(int((summ["share_holds"] >= 0.9).sum())),
            "mv_fragile": str(int(((summ["share_holds"] > 0.1) & (summ["share_holds"] < 0.9)).sum())),
            "mv_never": str(int((summ["share_holds"] <= 0.1).sum())),
            "mv_joint": str(int(((summ["p_share"] < 0.05) | (summ["p_median"] < 0.05)).sum()))}


def curves(res: Result) -> dict[str, Curve]:
    """:func:`curve` of every claim, by claim id."""
    return {c.id: curve(res, c.id) for c in claims()}


def curve_fields(c: Curve) -> dict[str, object]:
    """The caption fields of a curve's registered figure (``figures.FIGURES``)."""
    thinning = ("every specification" if c.shown >= c.specs - c.not_identified
                else f"every k-th in rank order and the study's own, of {c.specs - c.not_identified:,} identified")
    return {"check": c.check, "specs": f"{c.specs:,}", "shown": f"{c.shown:,}",
            "not_identified": f"{c.not_identified:,}", "thinning": thinning}


def choices_table(res: Result) -> pd.DataFrame:
    """The choices of this build: one row per choice with its values (the study's marked), and why
    the alternatives are defensible."""
    sources = res.meta["sources"]
    out = []
    for d in DIMS:
        dim = DIMENSIONS[d]
        vals = sources if d == "source" else res.meta["values"][d]
        shown = [f"{dim.words.get(v, v)}{' (the study)' if v == dim.study and d != 'source' else ''}" for v in vals]
        if d == "source":  # a stratum, not a choice: every result is given per source
            out.append({"choice": f"{dim.title} (a stratum, not a choice)", "values": "; ".join(shown),
                        "why": "None of these sources is the study's (the CEADs tables of China): each is analysed "
                               "apart, its shares never pooled with another's, and it is never the choice that "
                               "'moves' a claim. " + dim.why})
            continue
        out.append({"choice": dim.title, "values": "; ".join(shown), "why": dim.why})
    return pd.DataFrame(out)


def _fmt_p(p: float) -> str:
    """A p value in the book's format (:func:`intercity.formatting.pvalue`), "n/a" when missing."""
    from intercity import formatting

    return "n/a" if not np.isfinite(p) else formatting.pvalue(p)


def glue_values(res: Result) -> dict[str, str]:
    """Every number and sentence the chapter glues: :func:`headline`, and per claim ``mv_<id>_*``
    (claim, specs, share, share_testable, not_testable, not_identified, study, moves, p_share,
    p_median, share_sig, test): counts of the build's own source, ``share`` per source ("public: 40%; ...")."""
    out = dict(headline(res))
    summ = claim_summary(res)
    for r in summ.itertuples():
        k = f"mv_{r.claim}"
        out.update({f"{k}_claim": r.text, f"{k}_specs": f"{r.specifications:,}", f"{k}_share": r.share_holds_by_source,
                    f"{k}_share_testable": _pct(r.share_holds_testable), f"{k}_not_testable": f"{r.not_testable:,}",
                    f"{k}_not_identified": f"{r.not_identified:,}", f"{k}_study": r.study_spec or "n/a",
                    f"{k}_moves": r.moves_most_words, f"{k}_p_share": _fmt_p(r.p_share),
                    f"{k}_p_median": _fmt_p(r.p_median), f"{k}_share_sig": _pct(r.share_significant)})
    for r in summ.itertuples():
        out[f"mv_{r.claim}_text"] = claim_sentence(r)
    out["mv_sources_text"] = res.meta["sources_text"]
    out["mv_ppml_text"] = {"study": "only at the study's value of every other fitted choice",
                           "all": "with every other choice", "none": "nowhere (PPML left out)"}[res.meta["ppml"]]
    out["mv_reading"] = reading(res)
    out["mv_testable_text"] = testable_text(res)
    return out


def claim_sentence(r) -> str:
    """What the multiverse says of one claim (a row of :func:`claim_summary`), in words: per data
    source (a stratum: :func:`source_sentence`), then the specification-curve test."""
    text = r.evidence
    if r.curve_specs:
        text += (f" Specification-curve test over {r.curve_specs:,} least-squares specifications: "
                 f"{_pct(r.share_significant)} significant in the claimed direction (permutation p = "
                 f"{_fmt_p(r.p_share)}), median estimate {r.median:.3g} in that direction (p = {_fmt_p(r.p_median)}).")
    return text


def testable_text(res: Result) -> str:
    """Which specifications this build's sources can test, in words, source by source."""
    spec = res.rows[res.rows["check"] == 1].drop_duplicates(["claim", "spec"])
    parts = []
    for src in res.meta["sources"]:
        sub = spec[spec["source"] == src]
        n, bad = len(sub), int((~sub["testable"]).sum())
        if not n:
            continue
        if bad == n:
            reasons = sub["reason"].value_counts()
            parts.append(f"on {_source_words(src)}, none of the {n:,} specifications can be judged as a claim about "
                         f"China ({reasons.index[0]}): run anyway, they say what the study's design finds in these "
                         "data, not whether the study is right")
        else:
            parts.append(f"on {_source_words(src)}, {n - bad:,} of the {n:,} specifications are testable and {bad:,} "
                         "are not (a proxy, constant or mostly imputed variable, or too few pairs with varying HSR)")
    text = "; ".join(parts)
    return (text[:1].upper() + text[1:] + ". The data source is a stratum, not a choice: no source of this build is "
            "the study's CEADs tables of China, so every share is given per source and never pooled, and the choice "
            "that moves a claim most is sought among the analysis choices within each source.")


def reading(res: Result) -> str:
    """The chapter's reading in words, from the numbers of this build, source by source."""
    by = source_summary(res)
    n_claims = by["claim"].nunique()

    def ids(frame: pd.DataFrame) -> str:
        return ", ".join(frame["claim"]) if len(frame) else "none"

    out = []
    for src in res.meta["sources"]:
        sub = by[by["source"] == src]
        if sub.empty:
            continue
        ev = sub[sub["share_holds"].notna()]
        robust = ev[ev["share_holds"] >= 0.9]
        fragile = ev[(ev["share_holds"] > 0.1) & (ev["share_holds"] < 0.9)]
        never = ev[ev["share_holds"] <= 0.1]
        none = sub[sub["share_holds"].isna()]
        judged = "" if sub["not_testable"].lt(sub["specifications"]).any() else " (none can be judged on this source: run anyway)"
        movers = sub.loc[sub["moves_most"] != "", "moves_most"].value_counts()
        top = (f"the analysis choice that most often decides a claim there is the {DIMENSIONS[movers.index[0]].title} "
               f"({movers.iloc[0]} of {len(sub)} claims)" if len(movers) else "no analysis choice moves any claim there")
        out.append(f"On {_source_words(src)}{judged}, of the {len(sub)} claims, {len(robust)} hold in at least 90% of "
                   f"their evaluable specifications ({ids(robust)}), {len(fragile)} hold in some but not others "
                   f"({ids(fragile)}), and {len(never)} hold in at most 10% ({ids(never)})"
                   + (f"; {len(none)} cannot be evaluated in any specification ({ids(none)})" if len(none) else "")
                   + f"; {top}.")
    return " ".join(out) if out else f"None of the {n_claims} claims has a specification."


def summary_table(res: Result) -> pd.DataFrame:
    """:func:`source_summary` for the page: one row per claim and data source (a stratum, never
    pooled), specifications by verdict, the share holding (of those that could be evaluated, and of
    the testable ones), the study's choices on that source."""
    s = source_summary(res)
    return pd.DataFrame({
        "claim": s["claim"], "source": s["source"], "specs": s["specifications"], "not testable": s["not_testable"],
        "not identified": s["not_identified"], "holds": s["holds"], "fails": s["fails"],
        "holds, % of evaluable": [_pct(v) for v in s["share_holds"]],
        "holds, % of testable": [_pct(v) for v in s["share_holds_testable"]],
        "under the study's choices": s["study_spec"]})


def test_table(res: Result) -> pd.DataFrame:
    """The specification-curve test of every claim for the page: the check drawn, the
    least-squares specifications in the test, the share significant in the claimed direction and
    the median estimate (in that direction), each with its permutation p value (numbers left to
    the book's formatting: p values as p values, missing ones blank)."""
    t = res.tests
    return pd.DataFrame({
        "claim": t["claim"], "check drawn": t["check"], "specs": t["specs"].astype(int),
        "significant, claimed sign": [_pct(v) for v in t["share_significant"]],
        "p (share)": t["p_share"].astype(float), "median estimate": t["median"].astype(float),
        "p (median)": t["p_median"].astype(float)})
