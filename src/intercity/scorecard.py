"""The replication scorecard: each claim of the study's conclusions as an executable check, and a
verdict that says whether this build's source can test it at all.

Checks
------
A claim holds when all its checks hold. A check names one estimate (``table:column`` of
:func:`intercity.pipeline.estimates`) and what the claim needs of it:

- ``"+"`` / ``"-"``: the coefficient has that sign and is significant at ``level`` (two-sided);
- ``"0"``: the coefficient is not significant at ``level``;
- ``"max"``: the coefficient is the largest among the estimates named in ``among`` (identified
  ones; at least two must be).

The published verdict applies the same checks to the deck's numbers: the parenthesis is read as a
t statistic or a standard error as :func:`intercity.models.paren_convention` decides (normal
approximation, p = erfc(|t| / sqrt 2)); when that reading is ambiguous, the printed stars bound p
(*** p < 0.01, ** p < 0.05, * p < 0.1, none p >= 0.1), which decides every check at these levels.
The distance-tier claims rest on figures without printed numbers, and the claims about the
spatial pattern of transfer on maps: their published verdict is "asserted".

Verdicts of this build (:data:`VERDICTS`), one per clustering of the standard errors (the study's
pair clustering and two-way clustering by origin and destination city, columns ``p_pair`` and
``p_twoway`` of the estimates contract), and a headline one for ``params.cluster``. The first rule
that applies decides:

1. **not testable with these tiers**: a distance-tier claim names a study tier (0-200, 200-500,
   500-1000, 1000-2000, 2000-4000 km) that no tier of ``params.distance_tiers_km`` matches
   (:func:`match_tiers`). Tier claims are written against the study's tiers and evaluated on the
   parameter tiers that match them, never on labels.
2. **not testable on this source**, with every reason that applies:

   - *synthetic source*: the synthetic world is not China, so no claim about China is testable on
     it. The checks still run and are shown (``checks_pair``, ``checks_twoway``): they say what
     the study's design finds in a world whose truth is known, not whether the study is right.
   - *proxy or constant variable*: the outcome, the reported regressor or the variable that
     splits the sample (GDP per capita for the gradient and "developed" halves, population for the
     population gradient) is, on this source, another quantity standing in for the study's
     variable (any value of provenance ``proxy``), a constant (one value over the cities and years
     of the periods), or mostly imputed (more than half of its values ``imputed``). On the public
     source: fixed assets = GDP x a national ratio, liquid assets = deposits, patents = research
     employment, urbanisation = registered share (``meta["variables"]`` gives each sentence). Panel
     columns map to bundle variables by :data:`PANEL_VARIABLES` (the estimates contract). A proxy
     or constant **control** does not make a claim untestable: it changes what is held fixed, not
     what the claim is about (constant controls are left out of the formula by the models); the
     claim's ``source_note`` says which controls are proxies.
   - *stand-in MRIO*: the public source's MRIO is a documented stand-in for the CEADs tables
     (``meta["mrio"]["note"]``): its inter-city trade shares come from a distance-gravity model on
     real city output, demand and provincial sector output, and do NOT respond to connectivity. So
     (a) a claim about WHERE industry moved (C1, C2: the net transfer received by region) reads the
     geography of that assumption rather than a measurement; and (b) every claim whose check rests
     on an estimate with the transfer IT (or a sector group's IT) as its outcome or regressor asks
     whether connectivity between two cities moves industry between THEM, a pair-level channel the
     stand-in has switched off by construction: within a pair, its IT changes only as the two
     cities' real output and demand change and are spread over buyers by distance (city effects
     explain about two thirds of the within-pair change of IT at full public scale, the rest is
     that spreading). A "fails" there would be earned by the construction, not by the data, so
     these claims are not testable on this source; their numbers are shown (``checks_<c>``) as what
     real city output changes, spread by gravity, line up with - not scored. Claims whose outcome
     and regressor do not involve IT (the mechanism tables) are judged on their own variables.
   - *HSR measure varying in too few pairs*: an estimate whose reported regressor is HSR
     connectivity (or the HSR x information product), or whose outcome is HSR connectivity (the
     reverse-causality test), is identified with pair effects only by the ordered pairs in which
     that measure changes between periods in the estimation sample. Cluster-robust (CRV1)
     inference is only as good as the clusters that carry the regressor's variation: with few
     "treated" clusters the t test over-rejects however many clusters there are (MacKinnon and
     Webb 2017, J. Applied Econometrics 32(2), who also find the rule of thumb that about 42-50
     clusters suffice true at best for balanced clusters; Cameron and Miller 2015, J. Human
     Resources 50(2), count fewer than 20-50 clusters as "few"). So a check on such an estimate
     needs at least :data:`MIN_VARYING_PAIRS` = 50 varying pairs, the upper end of that range
     (:func:`varying_pairs` counts them).
   - *no pairs*: the estimate is absent (a parameter tier without pairs in this build).
3. **not identified**: an estimate a check needs has ``identified == False`` (saturated fit, or a
   regressor collinear with the fixed effects), or no p value under that clustering (a two-way
   variance that is not positive in a tiny sample); the reason quotes the model's note.
4. **holds** / **fails** on this build's coefficient and the clustering's p value.

The headline counts (:func:`headline`) say how many claims are testable on this source, how many
of those hold under each clustering, and how many the study's own numbers support.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from math import erfc, isnan, sqrt
from typing import Callable, Mapping

import numpy as np
import pandas as pd

from intercity import formatting, models, reference, schema, variables
from intercity import tables as tables_mod
from intercity.panel import CONTROLS, tier_labels

#: Upper and lower bounds of p implied by printed stars.
_STAR_P = {"***": (0.0, 0.01), "**": (0.01, 0.05), "*": (0.05, 0.1), "": (0.1, 1.0)}
#: The clusterings every claim gets a verdict under (the estimates contract's column suffixes).
CLUSTERINGS: tuple[str, ...] = ("pair", "twoway")
CLUSTER_WORDS = {"pair": "pair-clustered", "twoway": "two-way (origin and destination city) clustered"}
#: Verdicts of this build, in the order the rules apply (see the module docstring).
NOT_TIERS, NOT_SOURCE, NOT_IDENTIFIED = ("not testable with these tiers", "not testable on this source",
                                         "not identified")
VERDICTS: tuple[str, ...] = ("holds", "fails", NOT_IDENTIFIED, NOT_SOURCE, NOT_TIERS)
#: Fewest ordered pairs whose HSR measure changes between periods for a check on it (docstring).
MIN_VARYING_PAIRS: int = 50
#: The study's distance tiers, km (the deck's tier names: proximal, regional, cross-regional,
#: strategic, remote).
STUDY_TIERS_KM: tuple[float, ...] = (0.0, 200.0, 500.0, 1000.0, 2000.0, 4000.0)
STUDY_TIERS: tuple[str, ...] = tuple(tier_labels(STUDY_TIERS_KM))
#: Panel column (city columns without their _i/_j suffix) -> bundle variables it is built from.
PANEL_VARIABLES: dict[str, tuple[str, ...]] = {
    "factor_labor": ("employment", "population"), "factor_fcapital": ("fixed_assets",),
    "factor_ccapital": ("liquid_assets",), "factor_flc": ("fixed_assets", "employment"),
    "factor_clc": ("liquid_assets", "employment"), "factor_tech": ("patents",),
    "edl": ("gdp_per_capita",), "ul": ("urbanization",), "fil": ("fdi_gdp",),
    "hcl": ("college_per_pop",), "ftl": ("trade_gdp",), "gel": ("gov_exp_gdp",),
    "connectivity_HSR": ("hsr_lines",), "connectivity_I": ("baidu_index",),
    "connectivity_double": ("hsr_lines", "baidu_index"),
}
#: Sample name -> the bundle variable that splits it.
SAMPLE_VARIABLES: dict[str, str] = {
    "down_gradient": "gdp_per_capita", "up_gradient": "gdp_per_capita", "developed": "gdp_per_capita",
    "less_developed": "gdp_per_capita", "down_gradient_pop": "population", "up_gradient_pop": "population"}
#: Kinds of variable (:func:`variable_status`) that cannot carry a claim's outcome, regressor or split.
UNTESTABLE_KINDS: tuple[str, ...] = ("proxy", "constant", "imputed")
#: Sources whose MRIO is a stand-in for the CEADs tables (the reason is the source's own
#: ``meta["mrio"]["note"]``).
STANDIN_MRIO_SOURCES: tuple[str, ...] = ("public",)
#: Why a claim on the transfer IT is not testable on a stand-in MRIO (the scorecard's reasons
#: follow it with the stand-in's description in parentheses).
STANDIN_WHY = ("measured from a stand-in MRIO whose inter-city trade shares do not respond to connectivity, so a "
               "pair-level effect of connectivity cannot show in it")
#: What a coefficient on IT measured from the stand-in MRIO reflects instead (the public source's
#: stand-in: national tables regionalised with city sector structure, trade from a gravity model).
STANDIN_BUILDS_IN = ("what the stand-in builds in: city growth passed through its regionalisation and its "
                     "distance-gravity trade model")
SYNTHETIC_REASON = "the synthetic world is not China, so no claim about China is testable on synthetic data"


def estimate_label(key: str) -> str:
    """Readable words for an estimate key ``<table>:<column>``: the registered title of a study
    table (:data:`intercity.tables.TABLES`) with the model column, e.g. "Direction of transfer (3)"
    for ``baseline_direction:3``; "distance tier 2000-4000 km (1)" for ``tier_2000-4000:1``;
    "synergy, 2000-4000 km (1)" for ``synergy_2000-4000:1``. A key without a column, or of an
    unknown table, keeps its table part unchanged (no estimate loses its name)."""
    table, _, column = key.rpartition(":")
    if not table:
        table, column = key, ""
    if table in tables_mod.TABLE_BY_ID:
        words = tables_mod.TABLE_BY_ID[table].title
    elif table.startswith("tier_"):
        words = f"distance tier {table[5:]} km"
    elif table.startswith("synergy_"):
        words = f"synergy, {table[8:]} km"
    else:
        words = table
    return f"{words} ({column})" if column else words


def fake_origin(fake: Mapping) -> str:
    """How the fake CEADs tables were made and where they lie (``fake``: :func:`intercity.schema.fake_ceads`)."""
    return ("the synthetic world written in the CEADs layouts by python -m intercity data fake-ceads, from "
            + ", ".join(fake.get("folders", [])))


def fake_reason(meta) -> str:
    """Why no claim is testable on the FAKE CEADs tables (:func:`intercity.schema.fake_ceads` of a
    bundle's ``meta``), naming their folder; '' otherwise."""
    fake = schema.fake_ceads(meta)
    if not fake:
        return ""
    return (f"the CEADs tables of this build are the FAKE ones ({fake_origin(fake)}), and the synthetic world "
            "is not China, so no claim about China is testable on them")


def source_words(source) -> tuple[str, str]:
    """(name, reason) of a build's source, given by name or as a :class:`intercity.pipeline.Study`:
    the name for the prose ("synthetic", "public", "ceads", or "fake CEADs" when the ceads tables are
    the fake) and why no claim about China is testable on it (:data:`SYNTHETIC_REASON`,
    :func:`fake_reason`), or '' when claims may be."""
    if isinstance(source, str):
        return source, SYNTHETIC_REASON if source == "synthetic" else ""
    if source.source == "synthetic":
        return "synthetic", SYNTHETIC_REASON
    reason = fake_reason(source.data.meta)
    return ("fake CEADs" if reason else source.source), reason


@dataclass(frozen=True)
class Check:
    """One condition on one estimate (see the module docstring)."""

    key: str
    expect: str
    level: float = 0.05
    among: tuple[str, ...] = ()

    def describe(self) -> str:
        where = estimate_label(self.key)
        if self.expect == "max":
            return f"{where} is the largest of {', '.join(estimate_label(k) for k in self.among)}"
        if self.expect == "0":
            return f"{where}: not significant at {self.level:.0%}"
        return f"{where}: {'> 0' if self.expect == '+' else '< 0'}, p < {self.level:g}"


@dataclass(frozen=True)
class Claim:
    """A claim of the study, its section, and the checks that make it executable.

    ``spatial``: for claims about the map of transfers, a function of the regional net transfer
    (:func:`region_net`) returning (holds, numbers) instead of checks on estimates. Tier checks
    name the study's tiers (``tier_200-500:3``); :func:`resolve` maps them to the parameter tiers.
    """

    id: str
    section: str
    claim: str
    checks: tuple[Check, ...] = ()
    spatial: Callable[[pd.DataFrame], tuple[bool, str]] | None = field(default=None, compare=False)

    @property
    def figure_only(self) -> bool:
        """True when the deck shows this claim in figures without printed coefficients."""
        return self.spatial is not None or any(c.key.startswith(("tier_", "synergy_")) for c in self.checks)


def _c(key: str, expect: str, level: float = 0.05, among: tuple[str, ...] = ()) -> Check:
    return Check(key, expect, level, among)


def _central_collapse(net: pd.DataFrame) -> tuple[bool, str]:
    first = net[net["period"] == net["period"].min()].set_index("region")["net"]
    text = "; ".join(f"{r} {first.get(r, float('nan')) / 1e4:,.0f}" for r in ("east", "central", "west", "northeast"))
    return bool(first.get("central", 0) < 0 < first.get("east", 0)), f"first period, 100M yuan: {text}"


def _westward_shift(net: pd.DataFrame) -> tuple[bool, str]:
    inland = net[net["region"].isin(["central", "west"])].groupby("period")["net"].sum().sort_index()
    text = "; ".join(f"{p} {v / 1e4:,.0f}" for p, v in inland.items())
    return bool(len(inland) >= 2 and inland.iloc[-1] > inland.iloc[0]), f"central + west, 100M yuan: {text}"


def _tier_claims() -> tuple[Claim, ...]:
    near, regional, cross, strategic, remote = STUDY_TIERS
    return (
        Claim("F1", "Distance", "HSR's siphoning effect dominates the proximal and regional tiers "
              "(HSR raises up-gradient transfer within 500 km; 90% level, as the deck's figure)",
              (_c(f"tier_{near}:3", "+", 0.1), _c(f"tier_{regional}:3", "+", 0.1))),
        Claim("F2", "Distance", "HSR shifts to bidirectional exchange in the strategic tier (1000-2000 km)",
              (_c(f"tier_{strategic}:1", "+", 0.1), _c(f"tier_{strategic}:3", "+", 0.1))),
        Claim("F3", "Distance", "HSR becomes directional (down-gradient) transfer in the remote tier",
              (_c(f"tier_{remote}:1", "+", 0.1),)),
        Claim("F4", "Distance", "Information's diffusion follows an inverted U with distance, peaking in "
              "the cross-regional tier (500-1000 km), on both gradients",
              (_c(f"tier_{cross}:2", "max", among=tuple(f"tier_{t}:2" for t in STUDY_TIERS)),
               _c(f"tier_{cross}:4", "max", among=tuple(f"tier_{t}:4" for t in STUDY_TIERS)))),
        Claim("F5", "Distance", "HSR and information connectivity act in synergy in the remote tier, "
              "down-gradient (positive interaction, p < 0.01)", (_c(f"synergy_{remote}:1", "+", 0.01),)),
    )


CLAIMS: tuple[Claim, ...] = (
    Claim("C1", "Characteristics", "2012-2015: 'central collapse and coastal agglomeration' (the central "
          "region a net source of transfer, the east a net recipient)", spatial=_central_collapse),
    Claim("C2", "Characteristics", "Transfer then accelerates towards the central and western regions "
          "(their net transfer received rises between the periods)", spatial=_westward_shift),
    Claim("B1", "Baseline", "HSR connectivity raises the probability of outward transfer, with or without controls",
          (_c("baseline_direction:1", "+"), _c("baseline_direction:2", "+"))),
    Claim("B2", "Baseline", "Information connectivity raises the probability of outward transfer, with or "
          "without controls", (_c("baseline_direction:3", "+"), _c("baseline_direction:4", "+"))),
    Claim("B3", "Baseline", "HSR: one-way siphoning (it raises transfer from less to more developed cities, "
          "not the reverse)", (_c("gradient_scale:2", "+"), _c("gradient_scale:1", "0"))),
    Claim("B4", "Baseline", "Information: two-way diffusion, stronger along the gradient",
          (_c("gradient_scale:3", "+"), _c("gradient_scale:4", "+"),
           _c("gradient_scale:3", "max", among=("gradient_scale:3", "gradient_scale:4")))),
    Claim("B5", "Baseline", "HSR draws labour- and capital-intensive industries to developed cities",
          (_c("heterogeneity_labor:2", "+"), _c("heterogeneity_capital:2", "+"))),
    Claim("B6", "Baseline", "Information moves labour-intensive industries to less developed cities "
          "(local clustering)", (_c("heterogeneity_labor:3", "+"), _c("heterogeneity_labor:4", "-"))),
    Claim("B7", "Baseline", "Information diffuses technology-intensive industries down the gradient only",
          (_c("heterogeneity_tech:3", "+"), _c("heterogeneity_tech:4", "0"))),
    Claim("R1", "Robustness", "With a population gradient, HSR's effect stays one-way (up-gradient)",
          (_c("robust_population_gradient:2", "+"), _c("robust_population_gradient:1", "0"))),
    Claim("R2", "Robustness", "With a population gradient, information's effect stays two-way",
          (_c("robust_population_gradient:3", "+"), _c("robust_population_gradient:4", "+"))),
    Claim("R3", "Robustness", "No reverse causality: transfer does not predict either connectivity",
          tuple(_c(f"robust_reverse_causality:{k}", "0") for k in (1, 2, 3, 4))),
    Claim("M1", "Mechanism", "HSR concentrates labour and fixed capital in developed cities",
          (_c("mechanism_labor:1", "+"), _c("mechanism_fixed_capital:1", "+"))),
    Claim("M2", "Mechanism", "HSR does not raise developed cities' capital intensity (capital per worker)",
          (_c("mechanism_fixed_capital:2", "0"), _c("mechanism_liquid_capital:2", "0"))),
    Claim("M3", "Mechanism", "Information redirects labour and fixed capital to less developed cities",
          (_c("mechanism_labor:4", "+"), _c("mechanism_fixed_capital:7", "+"), _c("mechanism_fixed_capital:8", "+"))),
    Claim("M4", "Mechanism", "Information reduces developed cities' path dependence on fixed capital",
          (_c("mechanism_fixed_capital:4", "-"),)),
    Claim("M5", "Mechanism", "Information raises liquid assets in developed and less developed cities",
          (_c("mechanism_liquid_capital:3", "+"), _c("mechanism_liquid_capital:7", "+"))),
    Claim("M6", "Mechanism", "Information enables technology co-creation in both city types",
          (_c("mechanism_tech:3", "+"), _c("mechanism_tech:4", "+"))),
    Claim("M7", "Mechanism", "HSR has no significant effect on the shared (technology) factor",
          (_c("mechanism_tech:1", "0"), _c("mechanism_tech:2", "0"))),
) + _tier_claims()
CLAIM_BY_ID: dict[str, Claim] = {c.id: c for c in CLAIMS}


def p_from_t(t: float) -> float:
    """Two-sided normal p value of a t statistic."""
    return erfc(abs(t) / sqrt(2))


def published_evidence() -> pd.DataFrame:
    """Published cells with the parenthesis reading, the implied t and p (NaN when ambiguous)."""
    pub = reference.published_tables()
    pub["stars"] = pub["stars"].fillna("")
    pub["key"] = pub["table"] + ":" + pub["column"].astype(str)
    pub["paren_is"] = [models.paren_convention(c, p, s) for c, p, s in zip(pub["coef"], pub["paren"], pub["stars"])]
    pub["t"] = [p if k == "t" else c / p if k == "se" else float("nan")
                for c, p, k in zip(pub["coef"], pub["paren"], pub["paren_is"])]
    pub["p"] = [float("nan") if isnan(t) else p_from_t(t) for t in pub["t"]]
    return pub.set_index("key")


def check_holds(check: Check, coef: dict[str, float], p: dict[str, float], stars: dict[str, str]) -> bool | None:
    """Whether ``check`` holds on these numbers (None when an estimate is missing or not identified).

    ``p[key]`` may be NaN when only ``stars[key]`` is known (the published ambiguous cells).
    """
    if check.key not in coef or isnan(coef[check.key]):
        return None
    if check.expect == "max":  # estimates not identified drop out of the comparison
        others = [coef[k] for k in check.among if k in coef and not isnan(coef[k])]
        return None if len(others) < 2 else coef[check.key] >= max(others)
    pv = p.get(check.key, float("nan"))
    if isnan(pv):
        low, high = _STAR_P[stars.get(check.key, "")]
        significant = high <= check.level
    else:
        significant = pv < check.level
    if check.expect == "0":
        return not significant
    return significant and (coef[check.key] > 0 if check.expect == "+" else coef[check.key] < 0)


# ----------------------------------------------------------------------------- distance tiers

@dataclass(frozen=True)
class TierMatch:
    """How one study tier is matched by the parameter tiers: ``tiers`` (parameter tier labels,
    empty when none matches), ``how`` ("same tier", "covered by", "split over", "no match") and
    ``detail`` (why, in words)."""

    study: str
    tiers: tuple[str, ...]
    how: str
    detail: str


def match_tiers(edges_km: tuple[float, ...] | list[float]) -> dict[str, TierMatch]:
    """Match each study tier [a, b) km to the parameter tiers (edges ``edges_km``, km).

    Rule: (1) *covered by* one parameter tier [c, d) with c <= a and b <= d, when at least half
    of that tier's range lies inside [a, b) (so the estimate is mostly about the study tier, and a
    parameter tier stands for one study tier at most; "same tier" when [c, d) = [a, b));
    (2) *split over* the parameter tiers inside [a, b) when a and b are both parameter edges (the
    parameter tiers partition the study tier exactly): a "+", "-" or "0" check must then hold in
    every part, a "max" check holds when the largest coefficient is in one of the parts;
    (3) otherwise *no match*: the claim is "not testable with these tiers".
    """
    edges = [float(e) for e in edges_km]
    param = list(zip(edges, edges[1:]))
    label = lambda a, b: f"{a:g}-{b:g}"  # noqa: E731  (as panel.tier_labels)
    out = {}
    for a, b in zip(STUDY_TIERS_KM, STUDY_TIERS_KM[1:]):
        study = label(a, b)
        cover = [(c, d) for c, d in param if c <= a and b <= d]
        if cover:
            c, d = cover[0]
            inside = (b - a) / (d - c)
            if (c, d) == (a, b):
                out[study] = TierMatch(study, (study,), "same tier", f"the parameter tier {study} km is the study's")
            elif inside >= 0.5:
                out[study] = TierMatch(study, (label(c, d),), "covered by",
                                       f"the parameter tier {label(c, d)} km covers it ({inside:.0%} of its range "
                                       "inside the study tier)")
            else:
                out[study] = TierMatch(study, (), "no match",
                                       f"the parameter tier {label(c, d)} km covers it but lies mostly outside it "
                                       f"({inside:.0%} inside)")
            continue
        if a in edges and b in edges:
            parts = tuple(label(c, d) for c, d in param if a <= c and d <= b)
            out[study] = TierMatch(study, parts, "split over",
                                   f"the parameter tiers {', '.join(parts)} km partition it")
            continue
        over = [label(c, d) for c, d in param if c < b and d > a]
        out[study] = TierMatch(study, (), "no match",
                               (f"the parameter tiers {', '.join(over)} km cross its bounds" if over
                                else "no parameter tier reaches it"))
    return out


def tier_matching(edges_km) -> pd.DataFrame:
    """:func:`match_tiers` as a table: study tier, parameter tiers, how, detail."""
    return pd.DataFrame([{"study tier (km)": m.study, "parameter tiers (km)": ", ".join(m.tiers) or "none",
                          "match": m.how, "detail": m.detail} for m in match_tiers(edges_km).values()])


def _tier_key(key: str) -> tuple[str, str, str] | None:
    """(table prefix, tier label, column) of a tier or synergy estimate key, else None."""
    table, col = key.rsplit(":", 1)
    for prefix in ("tier_", "synergy_"):
        if table.startswith(prefix):
            return prefix, table[len(prefix):], col
    return None


def resolve(claim: Claim, matches: Mapping[str, TierMatch]) -> tuple[list[list[Check]], str]:
    """The claim's checks on this build's estimate keys, as a conjunction of disjunctions (each
    inner list holds when any of its checks holds), and "" - or ([], reason) when a study tier
    the claim names has no match (:func:`match_tiers`)."""
    named = {t[1] for ch in claim.checks for k in (ch.key, *ch.among) if (t := _tier_key(k))}
    unmatched = [t for t in STUDY_TIERS if t in named and not matches[t].tiers]
    if unmatched:
        return [], "; ".join(f"study tier {t} km: {matches[t].detail}" for t in unmatched)
    groups: list[list[Check]] = []
    for ch in claim.checks:
        t = _tier_key(ch.key)
        if t is None:
            groups.append([ch])
            continue
        prefix, study, col = t
        parts = [f"{prefix}{p}:{col}" for p in matches[study].tiers]
        if ch.expect == "max":
            among = tuple(f"{tk[0]}{p}:{tk[2]}" for k in ch.among if (tk := _tier_key(k))
                          for p in matches[tk[1]].tiers)
            groups.append([Check(p, "max", ch.level, among) for p in parts])
        else:
            groups.extend([Check(p, ch.expect, ch.level)] for p in parts)
    return groups, ""


# ----------------------------------------------------------------------------- what the source can test

_SPECS: dict[str, models.Spec] = {}


def spec_for(key: str) -> models.Spec:
    """The registered model spec of an estimate key (published rows, tier and synergy models)."""
    if not _SPECS:
        _SPECS.update({s.key: s for s in models.published_specs()})
    if key not in _SPECS and (t := _tier_key(key)):
        _SPECS.update({s.key: s for s in models.tier_specs([t[1]])})
    if key not in _SPECS:
        raise KeyError(f"estimate {key!r} is not a registered model (table:column)")
    return _SPECS[key]


def hsr_measure(spec: models.Spec) -> str | None:
    """The HSR column a check on this spec rests on: the reported regressor when it is HSR
    connectivity or the HSR x information product, or the outcome when it is HSR connectivity."""
    if spec.regressors[0] in ("connectivity_HSR", "connectivity_double"):
        return spec.regressors[0]
    return "connectivity_HSR" if spec.dependent == "connectivity_HSR" else None


def varying_pairs(panel: pd.DataFrame, spec: models.Spec) -> int:
    """Ordered pairs of the estimation sample whose HSR measure (:func:`hsr_measure`) takes more
    than one value over the periods (rows with a non-finite outcome, regressor or control
    dropped, as the fit drops them; a pair in one period of the sample only counts nothing)."""
    measure = hsr_measure(spec)
    if measure is None:
        raise ValueError(f"{spec.key}: no HSR measure in this model")
    rows = models.sample_rows(panel, spec.sample, spec.tier)
    cols = [spec.dependent_column, *spec.regressors] + (list(models.CONTROL_COLUMNS) if spec.controls else [])
    ok = np.isfinite(rows[cols].to_numpy(dtype=float)).all(axis=1)
    n = rows.loc[ok].groupby("pair_id", sort=False)[measure].nunique()
    return int((n > 1).sum())


def variable_status(data, years: list[int] | None = None) -> pd.DataFrame:
    """What each bundle variable is on this source: one row per variable with its table, kind,
    the shares of its values that are proxy and imputed, and the source's sentence on it.

    Kind, first that applies: "synthetic" (any value generated), "proxy" (any value another
    quantity standing in), "constant" (one value over the rows), "imputed" (more than half of
    the values imputed), else "measured". ``years``: the years the periods average (default all).
    """
    meta = data.meta if isinstance(data.meta, dict) else {}
    notes = dict(meta.get("variables", {}))
    rows = []
    for table, frame in (("city_year", data.city_year), ("pair_year", data.pair_year)):
        sub = frame if years is None else frame[frame["year"].isin(years)]
        for col in [c for c in frame.columns if c.startswith("prov_")]:
            var = col[len("prov_"):]
            share = sub[col].astype(str).value_counts(normalize=True)
            proxy, imputed = float(share.get("proxy", 0.0)), float(share.get("imputed", 0.0))
            values = pd.to_numeric(sub[var], errors="coerce").dropna()
            kind = ("synthetic" if share.get("synthetic", 0.0) > 0 else "proxy" if proxy > 0
                    else "constant" if values.round(12).nunique() <= 1 else "imputed" if imputed > 0.5
                    else "measured")
            rows.append({"variable": var, "table": table, "kind": kind, "share_proxy": proxy,
                         "share_imputed": imputed, "note": notes.get(var, "")})
    return pd.DataFrame(rows, columns=["variable", "table", "kind", "share_proxy", "share_imputed", "note"])


@dataclass
class SourceFacts:
    """What the scorecard needs to know about the source of this build.

    ``source``: "synthetic", "public", "ceads"...; ``variables``: :func:`variable_status`;
    ``mrio_standin``: "" or why the MRIO is a stand-in; ``varying_pairs``: estimate key ->
    :func:`varying_pairs` for the estimates with an HSR measure; ``tiers_km``: the parameter
    set's tier edges; ``min_varying_pairs``: the threshold (:data:`MIN_VARYING_PAIRS`);
    ``synthetic``: why no claim about China is testable on the source (the synthetic world, or the
    fake CEADs tables written from it: :func:`source_words`), '' when claims may be.
    """

    source: str
    variables: pd.DataFrame
    mrio_standin: str = ""
    varying_pairs: Mapping[str, int] = field(default_factory=dict)
    tiers_km: tuple[float, ...] = STUDY_TIERS_KM
    min_varying_pairs: int = MIN_VARYING_PAIRS
    synthetic: str = ""

    def __post_init__(self) -> None:
        if not self.synthetic and self.source == "synthetic":
            self.synthetic = SYNTHETIC_REASON

    def kind(self, variable: str) -> tuple[str, str]:
        """(kind, sentence) of a bundle variable ("measured", "" when the source lacks it)."""
        row = self.variables[self.variables["variable"] == variable]
        if row.empty:
            return "measured", ""
        r = row.iloc[0]
        if r["kind"] == "proxy":
            text = f"a proxy on this source ({r['share_proxy']:.0%} of values)"
        elif r["kind"] == "imputed":
            text = f"imputed for {r['share_imputed']:.0%} of its values on this source"
        else:
            text = f"{r['kind']} on this source"
        return str(r["kind"]), text + (f": {r['note']}" if r["note"] else "")


def source_facts(study, keys: list[str] | None = None) -> SourceFacts:
    """:class:`SourceFacts` of a :class:`intercity.pipeline.Study`; ``keys``: the estimates whose
    varying HSR pairs to count (default: every published, tier and synergy model of the build)."""
    from intercity import pipeline

    p = study.params
    years = list(range(min(a for a, _ in p.periods), max(b for _, b in p.periods) + 1))
    meta = study.data.meta if isinstance(study.data.meta, dict) else {}
    standin = ""
    if study.source in STANDIN_MRIO_SOURCES:
        standin = (meta.get("mrio") or {}).get("note") or f"the {study.source} source's MRIO is not the CEADs table"
    if keys is None:
        specs = models.published_specs() + models.tier_specs(pipeline.tiers_present(study.panel, p))
    else:
        specs = [spec_for(k) for k in keys]
    counts = {s.key: varying_pairs(study.panel, s) for s in specs if hsr_measure(s) is not None}
    return SourceFacts(source=study.source, variables=variable_status(study.data, years), mrio_standin=standin,
                       varying_pairs=counts, tiers_km=tuple(p.distance_tiers_km), synthetic=source_words(study)[1])


def _untestable(key: str, facts: SourceFacts) -> list[tuple[str, str, str]]:
    """Why the estimate ``key`` cannot carry a claim on this source, as (what, its words, where)
    triples: a proxy, constant or mostly imputed variable under its outcome, reported regressor or
    sample split (what = the variable), or an HSR measure varying in too few pairs (what = the
    measure). :func:`_reasons` joins them into sentences."""
    spec = spec_for(key)
    found = []
    if facts.source != "synthetic":
        roles = [("outcome", spec.dependent), ("regressor", spec.regressors[0])]
        if spec.sample in SAMPLE_VARIABLES:
            roles.append(("sample split", spec.sample))
        for role, column in roles:
            variables = (SAMPLE_VARIABLES[spec.sample],) if role == "sample split" else PANEL_VARIABLES.get(column, ())
            for var in variables:
                kind, text = facts.kind(var)
                if kind in UNTESTABLE_KINDS:
                    found.append((var, text, f"{role} {column}"))
    if facts.mrio_standin:
        for role, column in (("outcome", spec.dependent), ("regressor", spec.regressors[0])):
            if column == "IT" or column.startswith("IT_"):
                found.append(("mrio:standin", facts.mrio_standin, f"{role} {column}"))
    measure = hsr_measure(spec)
    if key in facts.varying_pairs and facts.varying_pairs[key] < facts.min_varying_pairs:
        found.append((f"hsr:{measure}", "", f"{estimate_label(key)}: {facts.varying_pairs[key]:,} pairs"))
    return found


def _reasons(found: list[tuple[str, str, str]], facts: SourceFacts) -> list[str]:
    """Sentences from :func:`_untestable` triples, one per variable or HSR measure."""
    by: dict[str, tuple[str, list[str]]] = {}
    for what, text, where in found:
        by.setdefault(what, (text, []))[1].append(where)
    out = []
    for what, (text, where) in by.items():
        where = list(dict.fromkeys(where))
        if what.startswith("hsr:"):
            out.append(f"{variables.label(what[4:])} changes between periods in fewer than {facts.min_varying_pairs} ordered pairs "
                       f"of the estimation sample ({'; '.join(where)})")
        elif what == "mrio:standin":
            out.append(f"{', '.join(where)} {STANDIN_WHY} ({text})")
        else:
            out.append(f"{', '.join(where)} rest{'s' if len(where) == 1 else ''} on {what}, {text}")
    return out


def _control_note(keys: list[str], facts: SourceFacts, estimates: pd.DataFrame) -> str:
    """Which controls of these estimates are proxies, constant or imputed, and which were left out."""
    if facts.source == "synthetic" or not any(spec_for(k).controls for k in keys):
        return ""
    by_kind: dict[str, list[str]] = {}
    for c in CONTROLS:
        kind, _ = facts.kind(PANEL_VARIABLES[c][0])
        if kind in UNTESTABLE_KINDS:
            by_kind.setdefault(kind, []).append(f"{c} ({PANEL_VARIABLES[c][0]})")
    out = ""
    if by_kind:
        out = ("controls that are not the study's on this source: "
               + "; ".join(f"{kind}: {', '.join(cs)}" for kind, cs in by_kind.items())
               + " (a proxy or constant control does not make a claim untestable)")
    if "controls_out" in estimates.columns and len(estimates):
        left = estimates.loc[estimates["key"].isin(keys), "controls_out"].dropna().astype(str)
        left = sorted({x.strip() for v in left for x in v.split(";") if x.strip()})
        if left:
            out += ("; " if out else "") + "left out: " + "; ".join(left)
    return out


# ----------------------------------------------------------------------------- this build's numbers

@dataclass
class _Numbers:
    """This build's numbers under one clustering, by estimate key."""

    coef: dict[str, float]
    p: dict[str, float]
    stars: dict[str, str]
    se: dict[str, float]
    identified: dict[str, bool]
    note: dict[str, str]
    missing: str = ""  # why the estimates carry no p for this clustering ("" when they do)


def _numbers_for(estimates: pd.DataFrame, cluster: str) -> _Numbers:
    """Coefficients, p values, stars and identification of ``estimates`` (the contract's columns
    ``p_<cluster>``, ``se_<cluster>``, ``stars_<cluster>``, ``identified``). Estimates made before
    the contract carry one clustering in ``p``/``se``/``stars`` (``cluster`` names it)."""
    if estimates.empty or "coef" not in estimates.columns:
        return _Numbers({}, {}, {}, {}, {}, {})
    est = estimates.copy()
    if "key" not in est.columns:
        est["key"] = est["table"] + ":" + est["column"].astype(str)
    est = est.set_index("key")
    nan = pd.Series(np.nan, index=est.index)
    missing = ""
    if f"p_{cluster}" in est.columns:
        p, se, st = est[f"p_{cluster}"], est.get(f"se_{cluster}", nan), est.get(f"stars_{cluster}", nan)
    elif "p" in est.columns and "cluster" in est.columns and (est["cluster"] == cluster).all():
        p, se, st = est["p"], est.get("se", nan), est.get("stars", nan)
    else:
        p, se, st = nan, nan, nan
        missing = f"these estimates carry no {CLUSTER_WORDS[cluster]} p value"
    coef = est["coef"].astype(float)
    ident = est["identified"].astype(bool) if "identified" in est.columns else coef.notna()
    note = est["note"].fillna("").astype(str) if "note" in est.columns else pd.Series("", index=est.index)
    st = st.astype(object).where(st.notna(), "")
    return _Numbers(coef.to_dict(), p.astype(float).to_dict(), st.astype(str).to_dict(),
                    se.astype(float).to_dict(), ident.to_dict(), note.to_dict(), missing)


def _fmt_p(p: float) -> str:
    """"p < 0.001" or "p = 0.012" (:func:`intercity.formatting.pvalue`); "p n/a" when missing."""
    text = formatting.pvalue(p)
    return "p n/a" if not text else f"p {text}" if text.startswith("<") else f"p = {text}"


def _describe_numbers(keys: list[str], nums: dict[str, _Numbers]) -> str:
    """'key: coef (pair se, p; two-way se, p)' for each estimate a claim uses."""
    parts = []
    first = next(iter(nums.values()))
    for k in dict.fromkeys(keys):
        if k not in first.coef:
            parts.append(f"{estimate_label(k)}: not estimated")
        elif not first.identified.get(k, True) or isnan(first.coef[k]):
            parts.append(f"{estimate_label(k)}: not identified")
        else:
            detail = "; ".join(f"{c}: se {n.se.get(k, float('nan')):.3g}, {_fmt_p(n.p.get(k, float('nan')))}"
                               for c, n in nums.items())
            parts.append(f"{estimate_label(k)}: {first.coef[k]:.3g} ({detail})")
    return "; ".join(parts)


def _judge(groups: list[list[Check]], n: _Numbers, cluster: str) -> tuple[str, str]:
    """(result, reason) of a claim's checks on one clustering's numbers: holds, fails, not
    identified, or "not estimated" when an estimate is absent."""
    checks = [ch for g in groups for ch in g]
    absent = [ch.key for ch in checks if ch.key not in n.coef]
    if absent:
        return "not estimated", ("not estimated in this build: "
                                 + ", ".join(estimate_label(k) for k in dict.fromkeys(absent)))
    bad = [k for k in dict.fromkeys(ch.key for ch in checks) if not n.identified.get(k, False) or isnan(n.coef[k])]
    if bad:
        return NOT_IDENTIFIED, "; ".join(f"{estimate_label(k)}: {n.note.get(k) or 'not identified'}" for k in bad)
    if n.missing and any(ch.expect != "max" for ch in checks):
        return NOT_IDENTIFIED, n.missing
    no_p = [ch.key for ch in checks if ch.expect != "max" and isnan(n.p.get(ch.key, float("nan")))]
    if no_p:
        return NOT_IDENTIFIED, "; ".join(f"{estimate_label(k)}: no {CLUSTER_WORDS[cluster]} p (the variance is not positive in "
                                         "this sample)" for k in dict.fromkeys(no_p))
    coef = {k: v for k, v in n.coef.items() if n.identified.get(k, False)}
    for ch in checks:
        if ch.expect == "max" and len([k for k in ch.among if k in coef and not isnan(coef[k])]) < 2:
            return NOT_IDENTIFIED, f"{estimate_label(ch.key)}: fewer than two identified estimates to compare"
    failing = [g for g in groups if not any(check_holds(ch, coef, n.p, n.stars) for ch in g)]
    if not failing:
        return "holds", f"every check holds with {CLUSTER_WORDS[cluster]} errors"
    text = []
    for g in failing:
        for ch in g:
            detail = f"coefficient {coef[ch.key]:.3g}" + ("" if ch.expect == "max" else f", {_fmt_p(n.p[ch.key])}")
            text.append(f"{ch.describe()} does not hold ({detail})")
    return "fails", "; ".join(text)


# ----------------------------------------------------------------------------- the scorecard

def scorecard(estimates: pd.DataFrame, facts: SourceFacts, regions: pd.DataFrame | None = None,
              cluster: str = "pair", min_varying_pairs: int | None = None) -> pd.DataFrame:
    """One row per claim (:data:`CLAIMS`): the claim, its checks on this build's estimates, the
    published numbers and verdict, whether this source can test it, and this build's verdict and
    reason under each clustering (:data:`CLUSTERINGS`) and for ``cluster`` (the headline).

    ``estimates``: :func:`intercity.pipeline.estimates` (the estimates contract);
    ``facts``: :func:`source_facts`; ``regions``: :func:`region_net` of this build (the spatial
    claims are not estimated without it). Columns: id, section, claim, check, tiers,
    published_verdict, published_numbers, testable ("yes"/"no"), not_testable_reason,
    checks_<c> (what the checks give, testable or not), verdict_<c>, reason_<c> for c in pair and
    twoway, cluster, verdict, reason, this_build_numbers, source_note, mrio_standin (the stand-in
    MRIO's description when the claim is not testable because of it, else "").
    """
    if cluster not in CLUSTERINGS:
        raise ValueError(f"cluster {cluster!r} is invalid: allowed {list(CLUSTERINGS)}")
    if min_varying_pairs is not None:
        facts = SourceFacts(facts.source, facts.variables, facts.mrio_standin, facts.varying_pairs,
                            facts.tiers_km, min_varying_pairs)
    pub = published_evidence()
    pub_coef, pub_p, pub_stars = pub["coef"].to_dict(), pub["p"].to_dict(), pub["stars"].to_dict()
    pub_extra = {k: f"parenthesis {r.paren:g} read as {r.paren_is}" for k, r in pub.iterrows()}
    nums = {c: _numbers_for(estimates, c) for c in CLUSTERINGS}
    matches = match_tiers(facts.tiers_km)
    rows = []
    for c in CLAIMS:
        row = {"id": c.id, "section": c.section, "claim": c.claim}
        # the published verdict: the study's own numbers, on the study's tiers
        if c.figure_only:
            row["published_verdict"] = "asserted"
            row["published_numbers"] = ("maps only (no numbers printed)" if c.spatial is not None
                                        else "figure only (no numbers printed)")
        else:
            results = [check_holds(ch, pub_coef, pub_p, pub_stars) for ch in c.checks]
            row["published_verdict"] = ("not printed" if any(r is None for r in results)
                                        else "holds" if all(results) else "fails")
            keys = [k for ch in c.checks for k in (ch.key,) + ch.among]
            row["published_numbers"] = _published_numbers(keys, pub_coef, pub_p, pub_stars, pub_extra)
        # what the source can test
        reasons: list[str] = []
        tier_reason = ""
        if c.spatial is not None:
            groups = []
            row["check"] = "see numbers (net transfer received by region)"
            row["tiers"] = ""
            if facts.synthetic:
                reasons.append(facts.synthetic)
            if facts.mrio_standin:
                reasons.append(f"a claim about where industry moved, read from a stand-in MRIO: {facts.mrio_standin}")
            if regions is None:
                checks = {k: ("not estimated", "no regional transfer given") for k in CLUSTERINGS}
                numbers = "no regional transfer given"
            else:
                ok, numbers = c.spatial(regions)
                checks = {k: ("holds" if ok else "fails", numbers) for k in CLUSTERINGS}
            row["source_note"] = ""
        else:
            groups, tier_reason = resolve(c, matches)
            used = [ch for g in groups for ch in g]
            keys = list(dict.fromkeys(k for ch in used for k in (ch.key, *ch.among)))
            row["check"] = "; ".join((" or ".join(ch.describe() for ch in g)) for g in groups) or \
                "; ".join(ch.describe() for ch in c.checks)
            named = [t for t in STUDY_TIERS if any((tk := _tier_key(k)) and tk[1] == t
                                                   for ch in c.checks for k in (ch.key, *ch.among))]
            row["tiers"] = "; ".join(f"study {t} km -> {', '.join(matches[t].tiers) or 'none'}" for t in named)
            if facts.synthetic:
                reasons.append(facts.synthetic)
            reasons.extend(_reasons([x for k in dict.fromkeys(ch.key for ch in used) for x in _untestable(k, facts)],
                                    facts))
            absent = [k for k in dict.fromkeys(ch.key for ch in used) if k not in nums["pair"].coef]
            if absent and not estimates.empty:
                reasons.append("no estimate in this build (no pairs in its sample): " + ", ".join(map(estimate_label, absent)))
            checks = {k: _judge(groups, nums[k], k) if groups else ("", "") for k in CLUSTERINGS}
            numbers = _describe_numbers(keys, nums) if keys else ""
            row["source_note"] = _control_note(list(dict.fromkeys(ch.key for ch in used)), facts, estimates)
        reasons = list(dict.fromkeys(reasons))
        row["testable"] = "no" if (tier_reason or reasons) else "yes"
        row["not_testable_reason"] = tier_reason or "; ".join(reasons)
        for k in CLUSTERINGS:
            result, why = checks[k]
            row[f"checks_{k}"] = result
            if tier_reason:
                verdict, reason = NOT_TIERS, tier_reason
            elif reasons:
                verdict, reason = NOT_SOURCE, "; ".join(reasons)
            elif result == "not estimated":
                verdict, reason = NOT_SOURCE, why
            else:
                verdict, reason = result, why
            row[f"verdict_{k}"], row[f"reason_{k}"] = verdict, reason
        row["cluster"] = cluster
        row["verdict"], row["reason"] = row[f"verdict_{cluster}"], row[f"reason_{cluster}"]
        row["this_build_numbers"] = numbers
        row["mrio_standin"] = (facts.mrio_standin if facts.mrio_standin
                               and facts.mrio_standin in row["not_testable_reason"] else "")
        rows.append(row)
    cols = ["id", "section", "claim", "check", "tiers", "published_verdict", "published_numbers", "testable",
            "not_testable_reason", *(f"checks_{k}" for k in CLUSTERINGS),
            *(f"{x}_{k}" for k in CLUSTERINGS for x in ("verdict", "reason")),
            "cluster", "verdict", "reason", "this_build_numbers", "source_note", "mrio_standin"]
    return pd.DataFrame(rows)[cols]


def _published_numbers(keys: list[str], coef: dict, p: dict, stars: dict, extra: dict[str, str]) -> str:
    """'key: coef*** (parenthesis read as ...; p = ...)' for each published estimate a claim uses."""
    parts = []
    for k in dict.fromkeys(keys):
        if k not in coef:
            parts.append(f"{estimate_label(k)}: not printed")
            continue
        pv = p.get(k, float("nan"))
        detail = ([extra[k]] if k in extra else []) + ["p from stars" if isnan(pv) else _fmt_p(pv)]
        parts.append(f"{estimate_label(k)}: {coef[k]:.3g}{stars.get(k, '')} ({'; '.join(detail)})")
    return "; ".join(parts)


def region_net(city_transfer: pd.DataFrame, cities: pd.DataFrame) -> pd.DataFrame:
    """Net transfer received (10k yuan) summed by region and period: region, period, net."""
    reg = cities[["city_id", "region"]].rename(columns={"city_id": "city"})
    merged = city_transfer.merge(reg, on="city", how="left", validate="many_to_one")
    return merged.groupby(["region", "period"], as_index=False)["net"].sum()


def for_study(study, estimates: pd.DataFrame | None = None, facts: SourceFacts | None = None) -> pd.DataFrame:
    """The scorecard of a :class:`intercity.pipeline.Study` (its estimates, :func:`source_facts`,
    regional net transfer and headline clustering ``params.cluster``); ``estimates`` and ``facts``
    default to the study's own."""
    from intercity import pipeline

    est = pipeline.estimates(study) if estimates is None else estimates
    return scorecard(est, source_facts(study) if facts is None else facts,
                     region_net(study.city_transfer(), study.data.cities), study.params.cluster)


# ----------------------------------------------------------------------------- counts and words

def headline(card: pd.DataFrame) -> dict[str, int]:
    """Counts for the prose: claims; testable on this source; of those, holding, failing and not
    identified under each clustering (``hold_pair``, ``fail_twoway``, ...) and under the headline
    one (``hold``); not testable on this source / with these tiers; the study's own numbers:
    ``published_support`` (holding on printed numbers or asserted from figures and maps),
    ``published_hold``, ``published_fail``, ``published_asserted`` (figures and maps without printed
    numbers), ``published_printed`` (the others: resting on printed coefficients), and ``published_support_testable``
    (of the testable claims); ``checks_hold_<c>``: claims whose checks hold on this build's numbers
    whether or not the source can test them (what the design finds in a synthetic world)."""
    testable = card["testable"] == "yes"
    support = card["published_verdict"].isin(["holds", "asserted"])
    out = {"claims": len(card), "testable": int(testable.sum()),
           "not_testable_source": int((card["verdict"] == NOT_SOURCE).sum()),
           "not_testable_tiers": int((card["verdict"] == NOT_TIERS).sum()),
           "hold": int((testable & (card["verdict"] == "holds")).sum()),
           "published_support": int(support.sum()),
           "published_hold": int((card["published_verdict"] == "holds").sum()),
           "published_fail": int((card["published_verdict"] == "fails").sum()),
           "published_asserted": int((card["published_verdict"] == "asserted").sum()),
           "published_printed": int((card["published_verdict"] != "asserted").sum()),
           "published_support_testable": int((support & testable).sum())}
    for c in CLUSTERINGS:
        v = card[f"verdict_{c}"]
        out[f"hold_{c}"] = int((testable & (v == "holds")).sum())
        out[f"fail_{c}"] = int((testable & (v == "fails")).sum())
        out[f"not_identified_{c}"] = int((testable & (v == NOT_IDENTIFIED)).sum())
        out[f"checks_hold_{c}"] = int((card[f"checks_{c}"] == "holds").sum())
    return out


def rule_sentence(card: pd.DataFrame, source) -> str:
    """One sentence on what "testable" means for this build's source (a name or a Study:
    :func:`source_words`)."""
    n = headline(card)
    name, reason = source_words(source)
    if reason and name != "synthetic":
        return (f"This build is on the {name} source: {reason}. The checks still run: on its numbers "
                f"{n['checks_hold_pair']} of the {n['claims']} claims' checks hold with pair-clustered errors and "
                f"{n['checks_hold_twoway']} with two-way clustered errors, which says what the study's design finds "
                "where the truth is known, not whether the study is right.")
    source = name
    if source == "synthetic":
        return ("This build is on the synthetic source, and the synthetic world is not China: no claim about China "
                f"is testable on it. The checks still run: on this synthetic world's numbers {n['checks_hold_pair']} "
                f"of the {n['claims']} claims' checks hold with pair-clustered errors and {n['checks_hold_twoway']} "
                "with two-way clustered errors, which says what the study's design finds where the truth is known, "
                "not whether the study is right.")
    return (f"A claim is not testable on the {source} source when it rests on a proxy, constant or mostly imputed "
            "outcome (or regressor, or sample split), on the transfer (or its map) measured from a stand-in MRIO "
            "whose trade shares do not respond to connectivity, or on an HSR measure that "
            f"changes in fewer than {MIN_VARYING_PAIRS} pairs: {n['not_testable_source']} of the {n['claims']} claims "
            f"are not testable on this source, and {n['not_testable_tiers']} not testable with this parameter set's "
            "distance tiers.")


def claim_sentence(row: Mapping) -> str:
    """This build's verdict on one claim, in words, under both clusterings (for the Readings)."""
    vp, vt = row["verdict_pair"], row["verdict_twoway"]

    def both(a: str, b: str) -> str:
        return f"{a} with both clusterings" if a == b else f"{a} with pair-clustered and {b} with two-way clustered errors"

    if vp in (NOT_SOURCE, NOT_TIERS):
        ran = row["checks_pair"], row["checks_twoway"]
        tail = f" (not scored: run anyway, its checks give: {both(*ran)})" if ran[0] else ""
        return f"{vp}, because {row['reason_pair']}{tail}"
    if vp == vt:
        if vp == NOT_IDENTIFIED:
            return f"not identified: {row['reason_pair']}"
        return f"{vp} with the study's pair-clustered errors and with two-way clustered errors" + (
            f" ({row['reason_pair']})" if vp == "fails" else "")
    words = {"holds": "holds", "fails": "fails", NOT_IDENTIFIED: "is not identified"}
    return (f"{words[vp]} with the study's pair-clustered errors" + (f" ({row['reason_pair']})" if vp != "holds" else "")
            + f" but {words[vt]} with two-way clustered errors"
            + (f" ({row['reason_twoway']})" if vt != "holds" else ""))


def verdict_counts(card: pd.DataFrame) -> pd.DataFrame:
    """Per section of the study: claims, testable, holding and failing under each clustering,
    not identified (pair), not testable (source, tiers), and the published basis: claims on printed
    coefficients whose checks hold or fail on the study's own numbers, and claims asserted from
    figures and maps only."""
    rows = []
    for section, sub in card.groupby("section", sort=False):
        t = sub["testable"] == "yes"
        rows.append({"section": section, "claims": len(sub), "testable": int(t.sum()),
                     "hold (pair)": int((t & (sub["verdict_pair"] == "holds")).sum()),
                     "hold (two-way)": int((t & (sub["verdict_twoway"] == "holds")).sum()),
                     "fail (pair)": int((t & (sub["verdict_pair"] == "fails")).sum()),
                     "fail (two-way)": int((t & (sub["verdict_twoway"] == "fails")).sum()),
                     "not identified (pair)": int((sub["verdict_pair"] == NOT_IDENTIFIED).sum()),
                     "not testable: source": int((sub["verdict"] == NOT_SOURCE).sum()),
                     "not testable: tiers": int((sub["verdict"] == NOT_TIERS).sum()),
                     "published: printed, checks hold": int((sub["published_verdict"] == "holds").sum()),
                     "published: printed, checks fail": int((sub["published_verdict"] == "fails").sum()),
                     "published: figures only (asserted)": int((sub["published_verdict"] == "asserted").sum())})
    return pd.DataFrame(rows)


def claims_table(card: pd.DataFrame) -> pd.DataFrame:
    """Per claim (one row each, as ``card``): id, section, the claim, the published verdict and this
    build's under pair and two-way clustering."""
    return card[["id", "section", "claim", "published_verdict", "verdict_pair", "verdict_twoway"]].rename(
        columns={"published_verdict": "published", "verdict_pair": "this build, pair-clustered",
                 "verdict_twoway": "this build, two-way clustered"}).reset_index(drop=True)


def checks_table(card: pd.DataFrame) -> pd.DataFrame:
    """Per claim: its checks, and the numbers behind them as published and in this build."""
    return card[["id", "check", "published_numbers", "this_build_numbers"]].reset_index(drop=True)


def reasons_table(card: pd.DataFrame) -> pd.DataFrame:
    """Per claim: why it is not testable, or the reason of each clustering's verdict, what the
    checks give when run anyway, and the note on the controls."""
    return pd.DataFrame({"id": card["id"], "testable": card["testable"],
                         "not testable because": [
                             refer_standin(t, m, "stand-in MRIO, see note 1 under Claim by claim")
                             for t, m in zip(card["not_testable_reason"], card.get("mrio_standin", [""] * len(card)))],
                         "not scored: checks run anyway (pair / two-way)": card["checks_pair"] + " / " + card["checks_twoway"],
                         "pair-clustered": card["reason_pair"].where(card["testable"] == "yes", ""),
                         "two-way clustered": card["reason_twoway"].where(card["testable"] == "yes", ""),
                         "controls": card["source_note"]})


def varying_table(facts: SourceFacts) -> pd.DataFrame:
    """Per estimate with an HSR measure: the measure, the ordered pairs in which it changes between
    periods in the estimation sample, and whether that is enough (:data:`MIN_VARYING_PAIRS`); the
    estimate and measure in words (:func:`estimate_label`)."""
    rows = [{"estimate": estimate_label(k), "HSR measure": variables.label(hsr_measure(spec_for(k)) or ""),
             "pairs where it changes": n,
             f"at least {facts.min_varying_pairs}": "yes" if n >= facts.min_varying_pairs else "no"}
            for k, n in facts.varying_pairs.items()]
    return pd.DataFrame(rows, columns=["estimate", "HSR measure", "pairs where it changes",
                                       f"at least {facts.min_varying_pairs}"])


#: How a page's rows refer to the stand-in MRIO's description, given once per page.
STANDIN_REF = "stand-in MRIO, see note 1"


def refer_standin(text: str, standin: str, ref: str = STANDIN_REF) -> str:
    """``text`` with the stand-in MRIO's description ``standin`` (the scorecard's ``mrio_standin``)
    replaced by a reference to the page's note, "(stand-in MRIO, see note 1)": the description
    (some 90 words) is given once per page, not in every claim's reason."""
    if not standin or not text:
        return text
    return text.replace(f" ({standin})", f" ({ref})").replace(f": {standin}", f" ({ref})")


def standin_note(card: pd.DataFrame, n: int = 1) -> str:
    """The page's note on the stand-in MRIO ("Note 1 (stand-in MRIO): ..."), "" when no claim of
    ``card`` is untestable because of it."""
    notes = [x for x in dict.fromkeys(card["mrio_standin"]) if x] if "mrio_standin" in card else []
    return f"Note {n} (stand-in MRIO): {notes[0]}" if notes else ""


def section_table(card: pd.DataFrame, section: str) -> pd.DataFrame:
    """The claims of one section of the study: id, claim, published verdict, verdict under each
    clustering, and the reason (not testable: why; else the headline clustering's reason), the
    stand-in MRIO's description replaced by a reference to the note under the chapter's Reading
    (:func:`refer_standin`)."""
    sub = card[card["section"] == section]
    if sub.empty:
        raise KeyError(f"no claims in section {section!r}; known: {sorted(card['section'].unique())}")
    return pd.DataFrame({"id": sub["id"], "claim": sub["claim"], "published": sub["published_verdict"],
                         "pair-clustered": sub["verdict_pair"], "two-way clustered": sub["verdict_twoway"],
                         "why": [refer_standin(r.not_testable_reason or r.reason, getattr(r, "mrio_standin", ""),
                                               "stand-in MRIO, see note 1 under the Reading")
                                 for r in sub.itertuples()]})


def table_note(facts: SourceFacts, table: str) -> str:
    """The opening of a published table's note: when its outcome is a proxy, constant or imputed on
    this source, a sentence saying so (then its claims are not testable on this source); else its
    registered title (:func:`estimate_label`, e.g. "Fixed capital" for ``mechanism_fixed_capital``),
    which :func:`intercity.tables.note` leaves to the caption's title."""
    rows = reference.published_tables()
    deps = list(dict.fromkeys(rows.loc[rows["table"] == table, "dependent"]))
    name = estimate_label(table)
    bad: dict[str, tuple[str, list[str]]] = {}
    for d in deps:
        for var in PANEL_VARIABLES.get(d, ()):
            kind, text = facts.kind(var)
            if kind in UNTESTABLE_KINDS:
                bad.setdefault(var, (text, []))[1].append(d)
    notes = [f"{', '.join(outs)} on {var}, {text}" for var, (text, outs) in bad.items()]
    if not notes:
        return name
    return "Outcome not the study's on this source, so its claims are not testable here: " + "; ".join(notes)


def reverse_causality_comment(card: pd.DataFrame) -> str:
    """A comment on the reverse-causality test (claim R3) for the robustness chapter: whether this
    build agrees with the study that transfer predicts neither connectivity, and what it means
    when it does not."""
    r = card.set_index("id").loc["R3"]
    vp, vt = r["verdict_pair"], r["verdict_twoway"]
    if vp in (NOT_SOURCE, NOT_TIERS):
        text = (f"The reverse-causality test cannot speak for or against the study on this source: it is {vp}, "
                f"because {r['reason_pair']}.")
        ran = {c: r[f"checks_{c}"] for c in CLUSTERINGS}
        if set(ran.values()) <= {"holds", "fails"}:
            said = {"holds": "transfer predicts neither connectivity", "fails": "transfer does predict connectivity"}
            if ran["pair"] == ran["twoway"]:
                text += (f" Run anyway, on this build's numbers {said[ran['pair']]} with pair-clustered or two-way "
                         "clustered errors")
            else:
                text += (f" Run anyway, on this build's numbers {said[ran['pair']]} with pair-clustered errors and "
                         f"{said[ran['twoway']].removeprefix('transfer ')} with two-way clustered errors")
            text += ": what the study's design finds in these data, not a verdict on the study."
        return text
    failed = [c for c in CLUSTERINGS if r[f"verdict_{c}"] == "fails"]
    if failed:
        words = " and ".join(CLUSTER_WORDS[c] for c in failed)
        return ("Contrary to the study, transfer does predict connectivity in this build with "
                f"{words} errors ({r[f'reason_{failed[0]}']}). The reverse causality the study rules out cannot "
                "be ruled out on these data: the baseline coefficients may mix connectivity drawing transfer "
                "with transfer drawing connectivity, and read as associations, not effects.")
    if vp == vt == "holds":
        return ("As the study reports, transfer predicts neither connectivity in this build, with pair-clustered "
                "or two-way clustered errors (a test with little power where a connectivity measure changes in "
                "few pairs).")
    return f"The reverse-causality test is {claim_sentence(r)}."


def distance_findings(estimates: pd.DataFrame, facts: SourceFacts, level: float = 0.1) -> dict[str, str]:
    """Answers to the distance chapter's question, in words, from the tier and synergy models.

    For HSR and information connectivity, on each gradient half, the tier models that can carry
    a finding (identified; for HSR, at least ``facts.min_varying_pairs`` varying pairs) are read in
    distance order: the tiers where the coefficient is positive and significant at ``level`` (the
    deck's 90% intervals) under each clustering, the tier of the largest coefficient, and whether
    the effect *fades with distance*: its coefficient in the farthest such tier is smaller than in
    the nearest. The synergy: the tiers where the HSR x information interaction (synergy models,
    columns 1 and 4) is positive and significant at ``level``, and those where it can be tested.
    Keys: ``dist_hsr``, ``dist_info`` (a sentence each), ``dist_hsr_fades``, ``dist_info_fades``
    ("yes, on both gradient halves", "yes, on one gradient half", "no", "cannot be told on this build"),
    ``dist_synergy`` (a sentence).
    """
    tiers = tier_labels(facts.tiers_km)
    nums = {c: _numbers_for(estimates, c) for c in CLUSTERINGS}
    n0 = nums["pair"]

    def usable(key: str) -> bool:
        if key not in n0.coef or not n0.identified.get(key, False) or isnan(n0.coef[key]):
            return False
        return facts.varying_pairs.get(key, facts.min_varying_pairs) >= facts.min_varying_pairs

    def sig(keys: list[tuple[str, str]], c: str, sign: int = 1) -> str:
        if nums[c].missing:
            return f"no tier known ({nums[c].missing})"
        hit = [t for t, k in keys if sign * nums[c].coef[k] > 0 and nums[c].p.get(k, float("nan")) < level]
        return ", ".join(hit) if hit else "no tier"

    out = {}
    for name, cols in (("hsr", (1, 3)), ("info", (2, 4))):
        parts, fades = [], []
        for col, half in zip(cols, ("down-gradient", "up-gradient")):
            keys = [(f"{t} km", f"tier_{t}:{col}") for t in tiers if usable(f"tier_{t}:{col}")]
            if len(keys) < 2:
                parts.append(f"{half}, fewer than two distance tiers can carry a finding")
                continue
            (near, kn), (far, kf) = keys[0], keys[-1]
            peak = max(keys, key=lambda tk: n0.coef[tk[1]])[0]
            fade = n0.coef[kf] < n0.coef[kn]
            fades.append(fade)
            parts.append(f"{half}, positive and significant at {level:.0%} in {sig(keys, 'pair')} with pair-clustered "
                         f"errors and in {sig(keys, 'twoway')} with two-way clustered errors, largest in the {peak} "
                         f"tier, and {'smaller' if fade else 'not smaller'} in the farthest tier ({far}: "
                         f"{n0.coef[kf]:.3g}) than in the nearest ({near}: {n0.coef[kn]:.3g})")
        text = "; ".join(parts)
        out[f"dist_{name}"] = text[0].upper() + text[1:] + "."
        out[f"dist_{name}_fades"] = ("cannot be told on this build" if not fades else
                                     "yes, on both gradient halves" if all(fades) and len(fades) == 2 else
                                     "yes, on one gradient half" if any(fades) else "no")
    syn = [(f"{t} km {half}-gradient", f"synergy_{t}:{col}") for t in tiers for col, half in ((1, "down"), (4, "up"))]
    testable = [(t, k) for t, k in syn if usable(k)]
    if not testable:
        out["dist_synergy"] = ("No tier can carry a finding on the HSR x information interaction (identified, with "
                               f"at least {facts.min_varying_pairs} pairs where the product changes).")
    else:
        out["dist_synergy"] = (f"The HSR x information interaction can be tested in {len(testable)} of the "
                               f"{len(syn)} tier x gradient halves; it is positive and significant at {level:.0%} "
                               f"in {sig(testable, 'pair')} with pair-clustered errors and in {sig(testable, 'twoway')} "
                               f"with two-way clustered errors, and negative and significant in "
                               f"{sig(testable, 'pair', -1)} (pair) and {sig(testable, 'twoway', -1)} (two-way).")
    return out


#: The mechanism chapter's outcomes (panel columns of the origin city's factors).
MECHANISM_OUTCOMES: tuple[str, ...] = ("factor_labor", "factor_fcapital", "factor_ccapital", "factor_flc",
                                       "factor_clc", "factor_tech")


def outcomes_sentence(facts: SourceFacts, outcomes: tuple[str, ...] = MECHANISM_OUTCOMES) -> str:
    """One sentence on which of ``outcomes`` rest on a proxy, constant or mostly imputed variable on
    this source (their claims are then not testable on it)."""
    if facts.source == "synthetic":
        return ("On the synthetic source every outcome is generated: the models run, and no claim about China "
                "is testable on them.")
    bad: dict[str, tuple[str, list[str]]] = {}
    for o in outcomes:
        for var in PANEL_VARIABLES[o]:
            kind, text = facts.kind(var)
            if kind in UNTESTABLE_KINDS:
                bad.setdefault(var, (text, []))[1].append(o)
    if not bad:
        return f"On the {facts.source} source every one of these outcomes rests on measured variables."
    parts = [f"{', '.join(outs)} on {var}, {text}" for var, (text, outs) in bad.items()]
    return (f"On the {facts.source} source these outcomes rest on variables that are not the study's: "
            + "; ".join(parts) + ". Claims on them are not testable on this source, and the tables say so in "
            "their captions.")
