"""The replication scorecard: each claim of the study's conclusions as an executable check.

A claim holds when all its checks hold. A check names one estimate (``table:column`` of
:func:`intercity.pipeline.estimates`) and what the claim needs of it:

- ``"+"`` / ``"-"``: the coefficient has that sign and is significant at ``level`` (two-sided);
- ``"0"``: the coefficient is not significant at ``level``;
- ``"max"``: the coefficient is the largest among the estimates named in ``among`` (those not
  identified in this build drop out of the comparison).

The published verdict applies the same checks to the deck's numbers: the parenthesis is read as a
t statistic or a standard error as :func:`intercity.models.paren_convention` decides (normal
approximation, p = erfc(|t| / sqrt 2)); when that reading is ambiguous, the printed stars bound p
(*** p < 0.01, ** p < 0.05, * p < 0.1, none p >= 0.1), which decides every check at these levels.
The distance-tier claims rest on figures without printed numbers, and the claims about the
spatial pattern of transfer on maps: their published verdict is "asserted" (counted as holding).
This build's verdict uses its own estimates (p from pyfixest, see :mod:`intercity.models`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from math import erfc, isnan, sqrt
from typing import Callable

import pandas as pd

from intercity import models, reference

#: Upper and lower bounds of p implied by printed stars.
_STAR_P = {"***": (0.0, 0.01), "**": (0.01, 0.05), "*": (0.05, 0.1), "": (0.1, 1.0)}


@dataclass(frozen=True)
class Check:
    """One condition on one estimate (see the module docstring)."""

    key: str
    expect: str
    level: float = 0.05
    among: tuple[str, ...] = ()

    def describe(self) -> str:
        t, c = self.key.rsplit(":", 1)
        where = f"{t} ({c})"
        if self.expect == "max":
            return f"{where} is the largest of {', '.join(self.among)}"
        if self.expect == "0":
            return f"{where}: not significant at {self.level:.0%}"
        return f"{where}: {'> 0' if self.expect == '+' else '< 0'}, p < {self.level:g}"


@dataclass(frozen=True)
class Claim:
    """A claim of the study, its section, and the checks that make it executable.

    ``spatial``: for claims about the map of transfers, a function of the regional net transfer
    (:func:`region_net`) returning (holds, numbers) instead of checks on estimates.
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
    near, regional, cross, strategic, remote = "0-200", "200-500", "500-1000", "1000-2000", "2000-4000"
    tiers = (near, regional, cross, strategic, remote)
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
              (_c(f"tier_{cross}:2", "max", among=tuple(f"tier_{t}:2" for t in tiers)),
               _c(f"tier_{cross}:4", "max", among=tuple(f"tier_{t}:4" for t in tiers)))),
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


def _verdict(results: list[bool | None]) -> str:
    if any(r is None for r in results):
        return "not available"
    return "holds" if all(results) else "fails"


def _numbers(keys: list[str], coef: dict, p: dict, stars: dict, extra: dict[str, str]) -> str:
    """'key: coef*** (detail; p = ...)' for each estimate a claim uses."""
    parts = []
    for k in dict.fromkeys(keys):
        if k not in coef:
            parts.append(f"{k}: not estimated")
        elif isnan(coef[k]):
            parts.append(f"{k}: not identified")
        else:
            pv = p.get(k, float("nan"))
            detail = ([extra[k]] if k in extra else []) + ["p from stars" if isnan(pv) else f"p = {pv:.3f}"]
            parts.append(f"{k}: {coef[k]:.3g}{stars.get(k, '')} ({'; '.join(detail)})")
    return "; ".join(parts)


def region_net(city_transfer: pd.DataFrame, cities: pd.DataFrame) -> pd.DataFrame:
    """Net transfer received (10k yuan) summed by region and period: region, period, net."""
    reg = cities[["city_id", "region"]].rename(columns={"city_id": "city"})
    merged = city_transfer.merge(reg, on="city", how="left", validate="many_to_one")
    return merged.groupby(["region", "period"], as_index=False)["net"].sum()


def scorecard(estimates: pd.DataFrame, regions: pd.DataFrame | None = None) -> pd.DataFrame:
    """One row per claim: the claim, the checks, the published numbers and verdict, this build's
    numbers and verdict, and whether they agree.

    ``estimates``: :func:`intercity.pipeline.estimates`; ``regions``: :func:`region_net` of this
    build (the spatial claims are "not available" without it).
    """
    pub = published_evidence()
    pub_coef, pub_p, pub_stars = pub["coef"].to_dict(), pub["p"].to_dict(), pub["stars"].to_dict()
    pub_extra = {k: f"parenthesis {r.paren:g} read as {r.paren_is}" for k, r in pub.iterrows()}
    ours = estimates.assign(key=estimates["table"] + ":" + estimates["column"].astype(str)).set_index("key")
    our_coef, our_p = ours["coef"].to_dict(), ours["p"].to_dict()
    our_stars = ours["stars"].fillna("").to_dict()
    our_extra = {k: f"se {r.se:.3g}" for k, r in ours.iterrows() if not pd.isna(r.se)}
    rows = []
    for c in CLAIMS:
        keys = [k for ch in c.checks for k in (ch.key,) + ch.among]
        if c.spatial is not None:
            pub_verdict, pub_numbers = "asserted", "maps only (no numbers printed)"
            if regions is None:
                ours_verdict, ours_numbers = "not available", "no regional transfer given"
            else:
                ok, ours_numbers = c.spatial(regions)
                ours_verdict = "holds" if ok else "fails"
        else:
            if c.figure_only:
                pub_verdict, pub_numbers = "asserted", "figure only (no numbers printed)"
            else:
                pub_verdict = _verdict([check_holds(ch, pub_coef, pub_p, pub_stars) for ch in c.checks])
                pub_numbers = _numbers(keys, pub_coef, pub_p, pub_stars, pub_extra)
            ours_verdict = _verdict([check_holds(ch, our_coef, our_p, our_stars) for ch in c.checks])
            ours_numbers = _numbers(keys, our_coef, our_p, our_stars, our_extra)
        expected = "holds" if pub_verdict == "asserted" else pub_verdict
        rows.append({"id": c.id, "section": c.section, "claim": c.claim,
                     "check": "; ".join(ch.describe() for ch in c.checks) or "see numbers",
                     "published_verdict": pub_verdict, "published_numbers": pub_numbers,
                     "this_build_verdict": ours_verdict, "this_build_numbers": ours_numbers,
                     "agree": "yes" if ours_verdict == expected else "no"})
    return pd.DataFrame(rows)


def summary(card: pd.DataFrame) -> dict[str, int]:
    """Counts for the prose: claims, reproduced (agree), holding on the printed numbers, failing on
    them, asserted (figures or maps only), not available in this build."""
    return {"claims": len(card), "reproduced": int((card["agree"] == "yes").sum()),
            "published_hold": int((card["published_verdict"] == "holds").sum()),
            "published_fail": int((card["published_verdict"] == "fails").sum()),
            "asserted": int((card["published_verdict"] == "asserted").sum()),
            "not_available": int((card["this_build_verdict"] == "not available").sum())}
