"""One table of every variable of the book: name, study name, definition, unit, source, built in.

:data:`VARIABLES` is the single place a variable is described; the glossary page of the book
(:func:`glossary`) and every readable label of a regressor, outcome or sample (:func:`label`)
come from it. Kinds:

- ``bundle``: the StudyData bundle's city-year and pair-year variables (:mod:`intercity.schema`),
  as a source delivers them (which values are observed, proxied or imputed is said per value in
  the data realism table, not here);
- ``outcome``: the transfer measures (:mod:`intercity.transfer`) and the mechanism outcomes;
- ``connectivity``: the connectivity regressors; ``control``: the study's city controls, entered
  for the origin (``_i``) and the destination (``_j``); ``panel``: keys, distance and gradient
  flags of the pair panel (:mod:`intercity.panel`);
- ``sample``: the named subsamples of :data:`intercity.models.SAMPLES`.

"study name" is the symbol the study's deck prints ("" when the deck has none). A city variable
``x`` of the panel appears as ``x_i`` (origin) and ``x_j`` (destination); :func:`label` reads the
suffix. The money unit of the transfer is a parameter (``money_unit``, default 10k yuan).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import pandas as pd


@dataclass(frozen=True)
class Variable:
    """One variable: ``name`` as in the code and data, ``label`` (a few readable words for tables),
    ``study_name`` (the deck's symbol or ""), ``definition`` (one or two sentences), ``unit``
    ("" for none; "1" for a ratio or indicator), ``source`` (where its inputs come from),
    ``built_in`` (the function that builds it), ``kind`` (see the module docstring)."""

    name: str
    label: str
    study_name: str
    definition: str
    unit: str
    source: str
    built_in: str
    kind: str


_YB = "city statistical yearbooks (study); public panels or imputed (public source); generated (synthetic)"

#: The bundle (city-year) variables each panel variable is built from (as
#: :data:`intercity.scorecard.PANEL_VARIABLES`, for the controls too); a bundle variable is its own input.
INPUTS: dict[str, tuple[str, ...]] = {
    "factor_labor": ("employment", "population"), "factor_fcapital": ("fixed_assets",),
    "factor_ccapital": ("liquid_assets",), "factor_flc": ("fixed_assets", "employment"),
    "factor_clc": ("liquid_assets", "employment"), "factor_tech": ("patents",), "edl": ("gdp_per_capita",),
    "ul": ("urbanization",), "fil": ("fdi_gdp",), "hcl": ("college_per_pop",), "ftl": ("trade_gdp",),
    "gel": ("gov_exp_gdp",), "pop": ("population",)}
#: What each city-year variable is on the public source: real, a proxy (of what, by what) or imputed
#: (:data:`intercity.sources.city_stats.VARIABLE_SOURCES` in short; a test keeps the two in step).
PUBLIC_NATURE: dict[str, str] = {
    "gdp_per_capita": "real: nominal GDP / resident population (G-P panels)",
    "population": "real: resident population (G-P panel; gaps interpolated)",
    "fdi_gdp": "real: FDI (G-P panel) / GDP; partial, gaps imputed",
    "employment": "real: persons employed in urban units (yearbook); partial, gaps imputed",
    "urbanization": "proxy of the urbanisation rate: registered population of the urban districts / of the whole city",
    "fixed_assets": "proxy of net fixed assets, GDP-derived: nominal GDP x the national capital-formation ratio",
    "liquid_assets": "proxy of liquid assets: year-end deposits of financial institutions",
    "patents": "proxy, NOT patent counts: persons employed in scientific research and technical services",
    "college_per_pop": "imputed: the study's published median, one constant for every city and year",
    "trade_gdp": "imputed: the study's published median, one constant for every city and year",
    "gov_exp_gdp": "imputed: the study's published median, one constant for every city and year",
}
#: A few words for what a proxy measures, for labels ("(proxy: ...)").
PROXY_WHAT: dict[str, str] = {
    "fixed_assets": "GDP-derived", "liquid_assets": "bank deposits",
    "patents": "persons employed in research and technical services",
    "urbanization": "urban-district share of registered population"}


def _yb(*inputs: str) -> str:
    """The source of a variable built from city-year variables ``inputs``, per data source."""
    public = "; ".join(f"{c}: {PUBLIC_NATURE[c]}" if len(inputs) > 1 else PUBLIC_NATURE[c] for c in inputs)
    return (f"study: city statistical yearbooks. Public source: {public}. Synthetic: generated. CEADs: the user's "
            "city panel where given, else as the public source")
_MRIO = "city MRIO tables 2012, 2015, 2017 (study: CEADs; public source: a regionalised stand-in; synthetic)"

VARIABLES: tuple[Variable, ...] = (
    # ------------------------------------------------------------------ outcomes
    Variable("IT", "industrial transfer (IT)", "IT",
             "Signed log of the transfer T from origin i to destination j in the period: "
             "sign(T) ln(1 + |T|), T = change in the output of j induced by i's final demand "
             "(positive: outflow from i; negative: backflow).", "signed log of money_unit",
             _MRIO, "intercity.transfer.pair_transfer", "outcome"),
    Variable("transfer", "transfer (T)", "",
             "The transfer T from origin i to destination j in the period: the change in the output of j "
             "induced by i's final demand, summed over sectors (negative: backflow).", "10k yuan", _MRIO,
             "intercity.transfer.pair_transfer", "outcome"),
    *(Variable(f"transfer_{g}", f"transfer, {w} industries", "",
               f"T restricted to the {w} sector group.", "10k yuan", _MRIO, "intercity.transfer.pair_transfer",
               "outcome") for g, w in (("labor", "labour-intensive"), ("capital", "capital-intensive"),
                                       ("tech", "technology-intensive"))),
    Variable("IT_direction", "direction of transfer", "IT_direction",
             "1 if the transfer from i to j is positive (outflow), else 0.", "1 (indicator)",
             _MRIO, "intercity.transfer.pair_transfer", "outcome"),
    Variable("IT_labor", "transfer, labour-intensive industries", "IT_labor",
             "IT restricted to the labour-intensive sector group (agriculture, forestry, livestock, "
             "fishery products and services).", "signed log of money_unit", _MRIO,
             "intercity.transfer.pair_transfer", "outcome"),
    Variable("IT_capital", "transfer, capital-intensive industries", "IT_capital",
             "IT restricted to the capital-intensive sector group (production and supply of "
             "electricity and heat).", "signed log of money_unit", _MRIO,
             "intercity.transfer.pair_transfer", "outcome"),
    Variable("IT_tech", "transfer, technology-intensive industries", "IT_tech",
             "IT restricted to the technology-intensive sector group (information transmission, "
             "software and IT services).", "signed log of money_unit", _MRIO,
             "intercity.transfer.pair_transfer", "outcome"),
    Variable("factor_labor", "labour intensity", "factor_labor",
             "Employed workers / resident population of the city, period average.", "1 (ratio)",
             _YB, "intercity.panel.city_period", "outcome"),
    Variable("factor_fcapital", "fixed capital (log)", "factor_fcapital",
             "ln of the net fixed asset balance, period average.", "ln(10k yuan)", _YB,
             "intercity.panel.city_period", "outcome"),
    Variable("factor_ccapital", "liquid capital (log)", "factor_ccapital",
             "ln of the liquid asset balance, period average.", "ln(10k yuan)", _YB,
             "intercity.panel.city_period", "outcome"),
    Variable("factor_flc", "fixed capital per worker (log)", "factor_flc",
             "ln(net fixed assets / employed workers), period average.", "ln(10k yuan per 10k persons)",
             _YB, "intercity.panel.city_period", "outcome"),
    Variable("factor_clc", "liquid capital per worker (log)", "factor_clc",
             "ln(liquid assets / employed workers), period average.", "ln(10k yuan per 10k persons)",
             _YB, "intercity.panel.city_period", "outcome"),
    Variable("factor_tech", "patent applications (log)", "factor_tech",
             "ln(1 + patent applications of the city), period average.", "ln(count)", _YB,
             "intercity.panel.city_period", "outcome"),
    # ------------------------------------------------------------------ connectivity
    Variable("connectivity_HSR", "HSR connectivity", "connectivity_HSR",
             "Number of high-speed-rail lines serving both cities' stations, period average of the "
             "yearly counts.", "lines", "HSR lines with opening dates (study; public rail line lists; "
             "synthetic rollout)", "intercity.panel.build", "connectivity"),
    Variable("connectivity_I", "information connectivity", "connectivity_I",
             "ln(1 + daily average Baidu search index from city i to city j), period average.",
             "ln(index)", "Baidu city-to-city search index (study and public source; synthetic)",
             "intercity.panel.build", "connectivity"),
    Variable("connectivity_double", "HSR x information", "",
             "connectivity_HSR x connectivity_I: the synergy term of model (5).", "lines x ln(index)",
             "as its two factors", "intercity.panel.build", "connectivity"),
    # ------------------------------------------------------------------ controls
    Variable("edl", "GDP per capita", "edl", "Regional GDP per capita, period average of yearly values.",
             "10k yuan", _YB, "intercity.panel.city_period", "control"),
    Variable("ul", "urbanisation", "ul", "Share of the population that is urban at year end, period average.",
             "1 (share)", _YB, "intercity.panel.city_period", "control"),
    Variable("fil", "FDI / GDP", "fil", "Foreign direct investment / regional GDP, period average.",
             "1 (ratio)", _YB, "intercity.panel.city_period", "control"),
    Variable("hcl", "college students / population", "hcl",
             "College and university enrolment / population, period average.", "1 (ratio)", _YB,
             "intercity.panel.city_period", "control"),
    Variable("ftl", "trade / GDP", "ftl", "(Imports + exports) / regional GDP, period average.", "1 (ratio)",
             _YB, "intercity.panel.city_period", "control"),
    Variable("gel", "government expenditure / GDP", "gel",
             "Government fiscal expenditure / regional GDP, period average.", "1 (ratio)", _YB,
             "intercity.panel.city_period", "control"),
    # ------------------------------------------------------------------ panel keys and flags
    Variable("origin", "origin city", "i", "The city industry is transferred from (6-digit adcode).", "",
             "the bundle's cities", "intercity.panel.build", "panel"),
    Variable("dest", "destination city", "j", "The city industry is transferred to (6-digit adcode).", "",
             "the bundle's cities", "intercity.panel.build", "panel"),
    Variable("period", "period", "t", "First and last MRIO year of the period (e.g. 2012-2015); yearly "
             "variables are averaged over its years, both ends included.", "", "parameter periods",
             "intercity.panel.build", "panel"),
    Variable("pair_id", "city pair", "", "Identifier of the ordered pair (i, j): the pair fixed effect "
             "and the study's clustering unit.", "", "derived", "intercity.panel.build", "panel"),
    Variable("pop", "population", "", "Resident population, period average (the robustness gradient).",
             "10k persons", _YB, "intercity.panel.city_period", "panel"),
    Variable("down_gradient", "down-gradient pair", "",
             "1 if the origin's GDP per capita exceeds the destination's in the period (transfer "
             "along the economic gradient), else 0.", "1 (indicator)", "edl", "intercity.panel.build",
             "panel"),
    Variable("down_gradient_pop", "down the population gradient", "",
             "1 if the origin's population exceeds the destination's in the period, else 0.",
             "1 (indicator)", "pop", "intercity.panel.build", "panel"),
    Variable("developed", "origin is the developed city", "",
             "1 if the origin is the richer city of the pair (the deck's 'developed city' columns; "
             "equal to down_gradient).", "1 (indicator)", "edl", "intercity.panel.build", "panel"),
    Variable("distance_km", "distance", "", "Great-circle distance between the two city seats.", "km",
             "city coordinates", "intercity.cities.great_circle_km", "panel"),
    Variable("tier", "distance tier", "", "Label of the distance tier the pair falls in (edges from the "
             "parameter distance_tiers_km); empty outside every tier.", "km", "distance_km",
             "intercity.panel.build", "panel"),
    # ------------------------------------------------------------------ bundle variables
    Variable("gdp_per_capita", "GDP per capita (yearly)", "", "Nominal GDP / resident population.",
             "10k yuan", _YB, "intercity.sources (per source)", "bundle"),
    Variable("population", "population (yearly)", "", "Resident population.", "10k persons", _YB,
             "intercity.sources (per source)", "bundle"),
    Variable("urbanization", "urbanisation (yearly)", "", "Urban share of the population.", "1 (share)", _YB,
             "intercity.sources (per source)", "bundle"),
    Variable("fdi_gdp", "FDI / GDP (yearly)", "", "Foreign direct investment / GDP.", "1 (ratio)", _YB,
             "intercity.sources (per source)", "bundle"),
    Variable("college_per_pop", "college students / population (yearly)", "",
             "College enrolment / population.", "1 (ratio)", _YB, "intercity.sources (per source)", "bundle"),
    Variable("trade_gdp", "trade / GDP (yearly)", "", "(Imports + exports) / GDP.", "1 (ratio)", _YB,
             "intercity.sources (per source)", "bundle"),
    Variable("gov_exp_gdp", "government expenditure / GDP (yearly)", "",
             "Government fiscal expenditure / GDP.", "1 (ratio)", _YB, "intercity.sources (per source)",
             "bundle"),
    Variable("employment", "employment (yearly)", "", "Employed workers.", "10k persons", _YB,
             "intercity.sources (per source)", "bundle"),
    Variable("fixed_assets", "fixed assets (yearly)", "", "Net fixed asset balance.", "10k yuan", _YB,
             "intercity.sources (per source)", "bundle"),
    Variable("liquid_assets", "liquid assets (yearly)", "", "Liquid asset balance.", "10k yuan", _YB,
             "intercity.sources (per source)", "bundle"),
    Variable("patents", "patent applications (yearly)", "", "Patent applications.", "count", _YB,
             "intercity.sources (per source)", "bundle"),
    Variable("hsr_lines", "HSR lines (yearly)", "", "Number of open HSR lines serving both cities in the year.",
             "lines", "HSR line lists (see connectivity_HSR)", "intercity.sources (per source)", "bundle"),
    Variable("baidu_index", "search index (yearly)", "",
             "Daily average Baidu search index, searches in the origin about the destination.", "index",
             "Baidu city-to-city search index", "intercity.sources (per source)", "bundle"),
    # ------------------------------------------------------------------ samples
    Variable("all", "all pairs", "", "Every ordered pair and period of the panel.", "", "", "intercity.models.SAMPLES",
             "sample"),
    Variable("up_gradient", "up-gradient pairs", "Up-gradient",
             "Pairs whose origin is the poorer city (transfer against the economic gradient).", "", "",
             "intercity.models.SAMPLES", "sample"),
    Variable("up_gradient_pop", "up the population gradient", "",
             "Pairs whose origin has the smaller population.", "", "", "intercity.models.SAMPLES", "sample"),
    Variable("less_developed", "origin is the less developed city", "",
             "Pairs whose origin is the poorer city (the deck's 'less developed city' columns).", "", "",
             "intercity.models.SAMPLES", "sample"),
)

#: Side of a city variable in the panel: ``_i`` the origin, ``_j`` the destination.
SIDES = {"_i": "origin", "_j": "destination"}
#: Samples share their name with a panel flag (down_gradient, ...): the sample reading of a flag.
SAMPLE_LABELS = {"down_gradient": "down-gradient pairs", "down_gradient_pop": "down the population gradient",
                 "developed": "origin is the developed city"}

_BY_NAME: dict[str, Variable] = {}
for _v in VARIABLES:
    if _v.name in _BY_NAME:
        raise RuntimeError(f"variable {_v.name!r} is described twice in intercity.variables")
    _BY_NAME[_v.name] = _v


def get(name: str) -> Variable:
    """The :class:`Variable` called ``name`` (a panel ``x_i`` / ``x_j`` resolves to ``x``).

    Raises ``KeyError`` naming the variable when it is not described.
    """
    if name in _BY_NAME:
        return _BY_NAME[name]
    base, side = split_side(name)
    if side and base in _BY_NAME:
        return _BY_NAME[base]
    raise KeyError(f"variable {name!r} is not in intercity.variables.VARIABLES")


def split_side(name: str) -> tuple[str, str]:
    """``("edl", "_i")`` for ``"edl_i"``; ``(name, "")`` when there is no side suffix."""
    for suffix in SIDES:
        if name.endswith(suffix) and name[: -len(suffix)] in _BY_NAME:
            return name[: -len(suffix)], suffix
    return name, ""


_FLAGGED = re.compile(r"^(\S+) \(((?:proxy|imputed)[^)]*)\)$")


def label(name: str, sample: bool = False) -> str:
    """Readable words for a variable, regressor, outcome or sample name, e.g. ``"HSR connectivity"``
    for ``connectivity_HSR``, ``"GDP per capita (origin)"`` for ``edl_i``; with ``sample=True`` a
    name shared by a flag and a sample (``down_gradient``) reads as the sample. Unknown names come
    back unchanged (a table never loses a row label). A name :func:`flagged` as proxy or imputed
    ("factor_tech (proxy: ...)") reads as its label followed by the flag."""
    if sample and name in SAMPLE_LABELS:
        return SAMPLE_LABELS[name]
    m = _FLAGGED.match(name)
    if m and m.group(1) != name:  # a name flagged by :func:`flagged`: its label, then the flag
        return f"{label(m.group(1), sample)} ({m.group(2)})"
    base, side = split_side(name)
    if side:
        return f"{_BY_NAME[base].label} ({SIDES[side]})"
    v = _BY_NAME.get(name)
    return v.label if v else name


def source_text(name: str) -> str:
    """Where a variable comes from, per data source: for a variable built from the city-year
    variables (:data:`INPUTS`, or one of them) what it is on each source (real, a proxy of what,
    imputed: :data:`PUBLIC_NATURE`), else the :class:`Variable`'s ``source``. KeyError for an
    unknown name."""
    v = get(name)
    if v.source != _YB:
        return v.source
    inputs = INPUTS.get(v.name, (v.name,) if v.name in PUBLIC_NATURE else ())
    return _yb(*inputs) if inputs else v.source


def provenance_flag(name: str, data) -> str:
    """What the bundle ``data`` (a StudyData) holds for variable ``name`` (a panel or city-year
    variable, ``_i``/``_j`` allowed): "proxy: <what>" when most values of an input are a proxy
    (``prov_<input>`` of ``data.city_year``, one of :data:`intercity.schema.PROVENANCE`),
    "imputed constant" / "imputed" when most are imputed (constant: one value throughout), else ""
    (observed, interpolated, the user's or synthetic values: the data realism table tells those)."""
    base, _ = split_side(name)
    cy = getattr(data, "city_year", None)
    if cy is None:
        return ""
    imputed = ""
    for col in INPUTS.get(base, (base,)):
        prov = f"prov_{col}"
        if prov not in cy.columns or not len(cy):
            continue
        share = cy[prov].astype(str).value_counts(normalize=True)
        if share.get("proxy", 0.0) >= 0.5:
            return f"proxy: {PROXY_WHAT.get(col, col + ' stands in (see the data realism table)')}"
        if share.get("imputed", 0.0) >= 0.5 and not imputed:
            imputed = "imputed constant" if cy[col].nunique(dropna=True) <= 1 else "imputed"
    return imputed


def flagged(name: str, data) -> str:
    """``name`` with its :func:`provenance_flag` in brackets ("hcl (imputed constant)",
    "factor_tech (proxy: ...)"), or ``name`` when it has none; :func:`label` reads the flag."""
    flag = provenance_flag(name, data)
    return f"{name} ({flag})" if flag else name


def flag_column(frame: pd.DataFrame, column: str, data) -> pd.DataFrame:
    """A copy of ``frame`` (attrs kept) with the variable names in ``column`` :func:`flagged` on ``data``."""
    out = frame.copy()
    out[column] = [flagged(str(v), data) for v in out[column]]
    out.attrs = dict(frame.attrs)
    return out


def table(kinds: tuple[str, ...] | None = None) -> pd.DataFrame:
    """Every variable as a frame: name, label, study name, definition, unit, source, built in, kind
    (optionally only the given kinds), in the order of :data:`VARIABLES`."""
    rows = [v for v in VARIABLES if kinds is None or v.kind in kinds]
    return pd.DataFrame([{"name": v.name, "label": v.label, "study name": v.study_name,
                          "definition": v.definition, "unit": v.unit, "source": source_text(v.name),
                          "built in": v.built_in, "kind": v.kind} for v in rows])


#: Section titles of the glossary, by kind, in the order they appear.
KIND_TITLES = {"outcome": "Outcomes", "connectivity": "Connectivity", "control": "Controls (city i and city j)",
               "panel": "Panel keys, distance and gradients", "sample": "Samples",
               "bundle": "Data bundle (yearly city and pair variables)"}


def glossary(money_unit: str = "10k yuan") -> pd.DataFrame:
    """The glossary: :func:`table` with "money_unit" in the units replaced by ``money_unit``."""
    out = table()
    out["unit"] = out["unit"].str.replace("money_unit", money_unit, regex=False)
    return out
