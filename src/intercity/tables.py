"""Tables of the book: the registry of every table a page shows, and the regression tables in the
study's layout.

Registry: :data:`TABLES` lists every table of the book (id = its HTML element id and the name of
its CSV, ``tables/<id>.csv`` beside the page), the notebook (or generated page) showing it, the
function building it and its kind (``results`` for regression tables, which the browser test holds
to the page width). :func:`intercity.report.table` refuses an id that is not registered, and a
test checks that every registered table is shown, under its id, in its notebook; :func:`index`
feeds the tables index page (the Social Science Data Editors' "list of tables and programs").

Models layout (:func:`study_layout`, :func:`synergy_layout`): one row per model column of the
study, grouped by regressor (or outcome, or sample), with readable names from
:mod:`intercity.variables`. Each row holds the published coefficient with its stars and the
parenthesis as printed, with what that parenthesis holds (the deck prints a standard error in
some and a t statistic in others: :func:`models.paren_convention`), beside this build's
coefficient (stars from the study's pair-clustered SE), the pair-clustered SE with its t, the
two-way clustered SE (origin and destination city) with its p and stars, N and R². The frame holds
raw numbers (its CSV stays machine-readable); :func:`intercity.report.table_html` renders it in the
book's one number format. The controls that entered each model and those left out are named;
:func:`note` says why they were left out and in which money unit the transfer was expressed
before its signed log.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import nbformat
import numpy as np
import pandas as pd

from intercity import paths


@dataclass(frozen=True)
class TableSpec:
    """One table of the book: ``id`` (HTML id and CSV name), ``page`` (the notebook stem, or the
    generated page's name), ``function`` (what builds the frame), ``title``, ``kind`` ("results":
    a regression table; "data", "check", "index", "provenance"), ``generated`` (True when the page
    is written by :mod:`intercity.book`, not a notebook), ``postbuild`` (True when the table is
    filled in after the HTML build: timings and page sizes)."""

    id: str
    page: str
    function: str
    title: str
    kind: str = "data"
    generated: bool = False
    postbuild: bool = False


_LAYOUT = "tables.study_layout(models.compare_published(pipeline.estimates(S)), <id>)"
_STUDY_TABLES = {
    "03_baseline": (("baseline_direction", "Direction of transfer"), ("gradient_scale", "Economic gradient"),
                    ("heterogeneity_labor", "Labour-intensive industries"),
                    ("heterogeneity_capital", "Capital-intensive industries"),
                    ("heterogeneity_tech", "Technology-intensive industries")),
    "04_robustness": (("robust_population_gradient", "Population gradient"),
                      ("robust_reverse_causality", "Reverse causality")),
    "05_mechanism": (("mechanism_labor", "Labour"), ("mechanism_fixed_capital", "Fixed capital"),
                     ("mechanism_liquid_capital", "Liquid capital"), ("mechanism_tech", "Technology")),
}

TABLES: tuple[TableSpec, ...] = (
    TableSpec("intro-data-realism", "00_intro", "report.data_realism(S.data)", "Data realism of this build",
              "provenance"),
    TableSpec("bundle-summary", "01_background", "StudyData.summary()", "What this build's data bundle holds"),
    TableSpec("connectivity-by-year", "01_background", "networks.connectivity_by_year(S.data.pair_year)",
              "HSR-connected ordered pairs and mean search index by year"),
    TableSpec("hsr-comparison", "01_background", "narrative.hsr_comparison(S)",
              "The HSR network of this build beside the study's figures"),
    TableSpec("sector-concordance", "02_measurement", "sectors.concordance_table()",
              "Sector concordance: the book's 41 sectors and the NBS codes that map to them"),
    TableSpec("group-shares", "02_measurement", "report.glue_group_shares(S)",
              "Share of pairs with a positive transfer by sector group, beside the national change", "check"),
    TableSpec("mrio-checks", "02_measurement", "report.measurement_checks(Study.checks)",
              "MRIO systems of this build and the consistency checks", "check"),
    TableSpec("ceads-report", "02_measurement", "report.ceads_report(S.data) (data_source ceads only)",
              "How the CEADs tables were read", "check"),
    TableSpec("descriptive-stats", "02_measurement", "report.descriptive_comparison(S.panel)",
              "Descriptive statistics: published beside this build"),
    TableSpec("data-realism", "02_measurement", "report.data_realism(S.data)", "Data realism of this build",
              "provenance"),
    TableSpec("ledger-counts", "02_measurement", "narrative.ledger_counts(S.ledger)",
              "Every city or pair dropped on the way, by reason", "provenance"),
    *(TableSpec(t, nb, _LAYOUT.replace("<id>", repr(t)), title, "results")
      for nb, specs in _STUDY_TABLES.items() for t, title in specs),
    *(TableSpec(f"{section.lower()}-claims", nb, f"scorecard.section_table(card, {section!r})",
                f"The {section.lower()} claims: published verdict and this build's", "results")
      for nb, section in (("03_baseline", "Baseline"), ("04_robustness", "Robustness"), ("05_mechanism", "Mechanism"),
                          ("06_distance", "Distance"))),
    TableSpec("tier-matching", "06_distance", "scorecard.tier_matching(P.distance_tiers_km)",
              "Study tiers matched to this parameter set's tiers"),
    TableSpec("tier-estimates", "06_distance", "tables.tier_layout(pipeline.estimates(S))",
              "Tier models: IT on each connectivity within each distance tier and gradient half", "results"),
    TableSpec("synergy-tiers", "06_distance", "tables.synergy_layout(pipeline.estimates(S))",
              "Synergy model by distance tier", "results"),
    TableSpec("tier-counts", "06_distance", "narrative.tier_counts(S.panel)",
              "Ordered pairs in each distance tier, per period"),
    TableSpec("parameter-sets", "07_reproducibility", "report.parameter_sets()",
              "Named parameter sets in params/", "provenance"),
    TableSpec("input-files", "07_reproducibility", "provenance.input_files(S)",
              "Input files read by this build, with their sha256", "provenance"),
    TableSpec("environment", "07_reproducibility", "provenance.environment()",
              "Software environment of this build", "provenance"),
    TableSpec("run-timings", "07_reproducibility", "book.timings_table (results/<set>/timings.json)",
              "Runtime of this build", "provenance", postbuild=True),
    TableSpec("page-sizes", "07_reproducibility", "book.page_sizes (the built HTML)",
              "Size of each page of this book", "provenance", postbuild=True),
    TableSpec("scorecard-sections", "08_scorecard", "tables.transpose(scorecard.verdict_counts(card), 'section', 'count')",
              "Verdicts by section of the study", "results"),
    TableSpec("scorecard-claims", "08_scorecard", "scorecard.claims_table(scorecard.for_study(S))",
              "Scorecard: each claim, the published verdict and this build's under both clusterings", "results"),
    TableSpec("scorecard-reasons", "08_scorecard", "scorecard.reasons_table(card)", "Reasons behind each verdict",
              "results"),
    TableSpec("source-variables", "08_scorecard", "scorecard.source_facts(S).variables",
              "Variables of this build's source", "provenance"),
    TableSpec("varying-pairs", "08_scorecard", "scorecard.varying_table(facts)",
              "Ordered pairs whose HSR measure changes between periods, per estimate", "check"),
    TableSpec("scorecard-tier-matching", "08_scorecard", "scorecard.tier_matching(P.distance_tiers_km)",
              "Study tiers matched to the parameter tiers"),
    TableSpec("scorecard-checks", "08_scorecard", "scorecard.checks_table(scorecard.for_study(S))",
              "Checks and the numbers behind them", "results"),
    TableSpec("lab-rejection", "10_design_lab", "lab.rejection_table(P, L['summary'], ('baseline', 'gradient'))",
              "Design lab: rejection rate at 5% of the baseline and gradient models", "check"),
    TableSpec("lab-diagnosis", "10_design_lab", "lab.diagnosis_table(L['summary'], 'default', ...)",
              "Design lab: diagnosands at the default knobs", "check"),
    TableSpec("lab-detectability", "10_design_lab", "lab.detectability_table(P, L['summary'])",
              "Design lab: published coefficients against the minimum detectable effect", "check"),
    TableSpec("lab-rejection-tiers", "10_design_lab", "lab.rejection_table(P, L['summary'], ('tier',))",
              "Design lab: rejection rate at 5% of the distance-tier models", "check"),
    TableSpec("figure-index", "09_figure_index", "figures.index(P)", "Figure index", "index"),
    TableSpec("multiverse-choices", "11_multiverse", "multiverse.choices_table(M)",
              "The choices: their values (the study's marked) and why each alternative is defensible"),
    TableSpec("multiverse-claims", "11_multiverse", "multiverse.summary_table(M)",
              "Each claim across its specifications: counts by verdict and the share in which it holds", "results"),
    TableSpec("multiverse-tests", "11_multiverse", "multiverse.test_table(M)",
              "The specification-curve test of each claim", "results"),
    TableSpec("table-index", "table_index", "tables.index()", "Tables index", "index", generated=True),
    TableSpec("parameters", "parameters", "book.parameter_table(params)", "Parameters of this book",
              "provenance", generated=True),
    TableSpec("glossary", "glossary", "variables.glossary(money_unit)", "Glossary of variables", "index",
              generated=True),
)
TABLE_BY_ID: dict[str, TableSpec] = {t.id: t for t in TABLES}
if len(TABLE_BY_ID) != len(TABLES):  # pragma: no cover - a registry typo
    raise RuntimeError("intercity.tables.TABLES holds a duplicate id")


def spec(table_id: str) -> TableSpec:
    """The registered table ``table_id``; ``KeyError`` naming the id and the registry otherwise."""
    if table_id not in TABLE_BY_ID:
        raise KeyError(f"table id {table_id!r} is not registered in intercity.tables.TABLES; "
                       "add a TableSpec for it")
    return TABLE_BY_ID[table_id]


def csv_name(table_id: str) -> str:
    """Path of a table's CSV relative to its page: ``tables/<id>.csv``."""
    return f"tables/{table_id}.csv"


def display_cell(table_id: str, notebook_dir: Path | None = None) -> int | None:
    """The code cell (1-based, counting code cells, the parameters cell included) of the source
    notebook that displays ``table_id``: the first holding the quoted id and a table call
    (``report.table(`` or ``report.postbuild(``); None when none does."""
    t = spec(table_id)
    if t.generated:
        return None
    nb = nbformat.read(Path(notebook_dir or paths.NOTEBOOK_DIR) / f"{t.page}.ipynb", as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    for k, c in enumerate(code, start=1):
        if any(q in c.source for q in (f'"{table_id}"', f"'{table_id}'")) and (
                "report.table(" in c.source or "report.postbuild(" in c.source):
            return k
    return None


def index(notebook_dir: Path | None = None) -> pd.DataFrame:
    """The tables index: table id, title, page, code cell (see :func:`display_cell`; empty for a
    generated page), function and CSV (path relative to the book's ``book/`` folder)."""
    rows = []
    for t in TABLES:
        rows.append({"table": t.id, "title": t.title, "page": t.page,
                     "code cell": display_cell(t.id, notebook_dir), "function": t.function,
                     "kind": t.kind, "CSV": csv_name(t.id)})
    return pd.DataFrame(rows).astype({"code cell": "Int64"})


# ----------------------------------------------------------------------------- the study's layout

#: Key of ``DataFrame.attrs`` marking a frame for a special layout in :func:`intercity.report.table_html`:
#: "models" (one row per model column, :func:`study_layout`, :func:`synergy_layout`) or "paired"
#: (published and reproduced statistics in one cell, :func:`intercity.report.descriptive_comparison`).
LAYOUT_ATTR = "intercity_layout"

#: Columns of a models layout (:func:`study_layout`, :func:`synergy_layout`), one row per model column:
#: what the model is ("model": "(k)", "group": the readable name of the grouping variable, "label":
#: what else tells it from its neighbours), the published numbers as printed ("published
#: parenthesis" and what it holds: "t", "SE" or "SE or t", see :func:`models.paren_convention`),
#: and this build's (coefficient, stars from the pair-clustered SE, pair and two-way clustered SE
#: with t, p and stars, N, R², the controls that entered and those left out, the model's note).
MODEL_COLUMNS = ("model", "group", "label", "table", "column", "tier", "regressor", "dependent", "sample",
                 "controls", "published coef", "published stars", "published parenthesis", "parenthesis holds",
                 "published N", "published R²", "coef", "stars (pair)", "SE (pair)", "t (pair)", "p (pair)",
                 "SE (two-way)", "t (two-way)", "p (two-way)", "stars (two-way)", "N", "R²", "identified",
                 "controls entered", "controls left out", "note")
#: What the deck's parenthesis holds, in the table's words (from :func:`models.paren_convention`).
PAREN_WORDS = {"t": "t", "se": "SE", "ambiguous": "SE or t"}
#: The attributes that may tell the model columns of a table apart, in the order they are tried as
#: the grouping of its rows (the first that varies; the rest that vary label each row).
_GROUPING = ("regressor", "dependent", "sample", "tier", "controls")


def _bases(columns: list[str]) -> list[str]:
    """["edl_i", "ul_i", "edl_j"] -> ["edl", "ul"]: control names without the i / j suffix."""
    return list(dict.fromkeys(c.rsplit("_", 1)[0] for c in columns))


def _split(value) -> list[str]:
    return [c for c in str(value).split(";") if c] if isinstance(value, str) else []


def _left_out(value) -> dict[str, str]:
    """``controls_out`` ("col: reason; col: reason") -> {column: reason}."""
    if not isinstance(value, str) or not value:
        return {}
    return dict(part.split(": ", 1) for part in value.split("; "))


def _words(attr: str, value) -> str:
    """Readable words for one attribute of a model (``intercity.variables.label``)."""
    from intercity import variables

    if attr == "controls":
        return "with controls" if value == "yes" else "no controls"
    if attr == "tier":
        return f"{value} km" if value else "all distances"
    return variables.label(str(value), sample=(attr == "sample"))


def _models_frame(sub: pd.DataFrame, published: bool) -> pd.DataFrame:
    """The models layout of estimates or :func:`models.compare_published` rows ``sub`` (one per model
    column), in the order of ``sub``; see :data:`MODEL_COLUMNS`."""
    sub = sub.reset_index(drop=True)
    attrs = [a for a in _GROUPING if a in sub.columns]
    varying = [a for a in attrs if sub[a].fillna("").astype(str).nunique() > 1]
    group = varying[0] if varying else "regressor"
    rest = [a for a in varying if a != group]
    # models of several tables (one per distance tier): the tier names the model, column numbers repeat
    by_tier = sub["table"].nunique() > 1 and "tier" in rest
    if by_tier:
        rest.remove("tier")
    nan = float("nan")
    rows = []
    for r in sub.to_dict("records"):
        ok = bool(r.get("identified", pd.notna(r.get("coef"))))
        get = (lambda k: r.get(k, nan)) if ok else (lambda k: nan)  # noqa: E731 - not identified: no SE, no p
        text = (lambda k: r.get(k) if isinstance(r.get(k), str) else "") if ok else (lambda k: "")  # noqa: E731
        rows.append({
            "model": (f"{_words('tier', r['tier'])} ({int(r['column'])})" if by_tier else f"({int(r['column'])})"),
            "group": _words(group, r.get(group, "")),
            "label": ", ".join(_words(a, r[a]) for a in rest),
            "table": r["table"], "column": int(r["column"]), "tier": r.get("tier", "") or "",
            "regressor": r["regressor"], "dependent": r["dependent"], "sample": r["sample"],
            "controls": r.get("controls", ""),
            "published coef": r.get("published_coef", nan) if published else nan,
            "published stars": (r.get("published_stars") or "") if published else "",
            "published parenthesis": r.get("published_paren", nan) if published else nan,
            "parenthesis holds": PAREN_WORDS.get(r.get("paren_is"), "") if published else "",
            "published N": r.get("published_nobs", nan) if published else nan,
            "published R²": r.get("published_r2", nan) if published else nan,
            "coef": r["coef"] if ok else nan, "stars (pair)": text("stars_pair"),
            "SE (pair)": get("se_pair"), "t (pair)": get("t_pair"), "p (pair)": get("p_pair"),
            "SE (two-way)": get("se_twoway"), "t (two-way)": get("t_twoway"), "p (two-way)": get("p_twoway"),
            "stars (two-way)": text("stars_twoway"), "N": r["nobs"], "R²": r["r2"], "identified": ok,
            "controls entered": ", ".join(_bases(_split(r.get("controls_in")))),
            "controls left out": ", ".join(_bases(list(_left_out(r.get("controls_out"))))),
            "note": r["note"] if isinstance(r.get("note"), str) else ""})
    out = pd.DataFrame(rows, columns=list(MODEL_COLUMNS))
    for c in ("published N", "N"):
        out[c] = out[c].astype("Float64").round().astype("Int64")
    # rows grouped by the grouping variable, in the order its values first appear
    order = {g: k for k, g in enumerate(dict.fromkeys(out["group"]))}
    out = out.sort_values("group", key=lambda s: s.map(order), kind="stable").reset_index(drop=True)
    constant = {a: _words(a, sub[a].iloc[0]) for a in attrs if a not in varying and a != group}
    out.attrs[LAYOUT_ATTR] = "models"
    out.attrs["constant"] = constant
    out.attrs["published"] = published
    return out


def study_layout(compared: pd.DataFrame, table: str) -> pd.DataFrame:
    """One published table (rows of :func:`models.compare_published`) in the book's layout: one row
    per model column of the study (columns :data:`MODEL_COLUMNS`), the published coefficient, its
    stars and parenthesis with what the parenthesis holds beside this build's coefficient, pair and
    two-way clustered SE (with t, p and stars), N and R². Rows are grouped by the regressor (or,
    when one regressor serves every column, by the outcome, then the sample) and labelled with the
    other attributes that vary (readable names from :func:`intercity.variables.label`); what is
    the same for every column is in ``attrs["constant"]``. A model not identified keeps its N and
    R² and note but has no coefficient, standard error, p or stars.

    The frame holds raw numbers (its CSV is machine-readable); :func:`intercity.report.table_html`
    renders it (``attrs[LAYOUT_ATTR] == "models"``). Raises ``KeyError`` for an unknown table.
    """
    sub = compared[compared["table"] == table].sort_values("column")
    if sub.empty:
        raise KeyError(f"no published table named {table!r}")
    return _models_frame(sub, published=True)


def synergy_layout(estimates: pd.DataFrame) -> pd.DataFrame:
    """The synergy models by distance tier (estimates of the tables ``synergy_<tier>``) in the
    layout of :func:`study_layout`, without published columns (the deck prints no such table):
    grouped by regressor (interaction, HSR, information), one row per tier and gradient half.
    Raises ``KeyError`` when there is no synergy estimate."""
    sub = estimates[estimates["table"].astype(str).str.startswith("synergy_")]
    if sub.empty:
        raise KeyError("no synergy estimates (tables synergy_<tier>)")
    return _models_frame(sub, published=False)


def tier_start_km(tier: str) -> float:
    """The lower edge (km) of a distance-tier label "200-500" (for sorting tiers by distance, not
    as text); ``ValueError`` naming the label when it is not "<from>-<to>"."""
    try:
        return float(str(tier).split("-", 1)[0])
    except ValueError:
        raise ValueError(f"distance tier {tier!r}: expected '<from km>-<to km>', e.g. '200-500'") from None


def tier_layout(estimates: pd.DataFrame) -> pd.DataFrame:
    """The distance-tier models (estimates of the tables ``tier_<tier>``: IT on HSR or information
    connectivity within one tier and gradient half) in the layout of :func:`study_layout`, without
    published columns (the deck only plots them): grouped by regressor, one row per tier (nearest
    first) and gradient half, with the coefficient, pair-clustered SE, two-way SE and p, and N.
    Raises ``KeyError`` when there is no tier estimate."""
    sub = estimates[estimates["table"].astype(str).str.startswith("tier_")]
    if sub.empty:
        raise KeyError("no distance-tier estimates (tables tier_<tier>)")
    order = sub["tier"].map(tier_start_km)
    sub = sub.assign(_km=order).sort_values(["_km", "column"], kind="stable").drop(columns="_km")
    return _models_frame(sub, published=False)


def transpose(frame: pd.DataFrame, key: str, name: str = "") -> pd.DataFrame:
    """``frame`` turned on its side, for a table with many short columns and few rows: one column
    per value of ``key`` (in row order), one row per other column, named in a first column
    ``name`` (default: "" ). Integer columns stay integers when every column is one.
    Raises ``KeyError`` naming ``key`` when it is not a column, ``ValueError`` when its values repeat."""
    if key not in frame.columns:
        raise KeyError(f"transpose: no column {key!r} (columns: {', '.join(map(str, frame.columns))})")
    if frame[key].duplicated().any():
        raise ValueError(f"transpose: column {key!r} repeats a value, so it cannot name columns")
    out = frame.set_index(key).T
    out.columns = [str(c) for c in out.columns]
    if all(pd.api.types.is_integer_dtype(frame[c]) for c in frame.columns if c != key):
        out = out.astype("int64")
    return out.reset_index(names=name)


def note(rows: pd.DataFrame, table: str | None = None, title: str | None = None) -> str:
    """A table's note: what the clusterings are, why each control left out was left out (once per
    control), and the money unit of the transfer before its signed log. ``rows``: estimates or
    :func:`models.compare_published` rows, restricted to ``table`` when given. ``title`` opens the
    note; a title that is only the table's id (``heterogeneity_labor`` or ``heterogeneity labor``)
    or its registered title (:data:`TABLES`) is left out: the caption shows the registered title
    above the note, and no raw id reaches the prose."""
    sub = rows if table is None else rows[rows["table"] == table]
    if sub.empty:
        raise KeyError(f"no estimates for table {table!r}")
    reasons: dict[str, str] = {}
    for value in sub["controls_out"]:
        for col, why in _left_out(value).items():
            reasons.setdefault(col.rsplit("_", 1)[0], why)
    units = sorted(set(sub["money_unit"].dropna())) if "money_unit" in sub else []
    if table is not None and title is not None and title.strip() in (table, table.replace("_", " ")):
        title = TABLE_BY_ID[table].title if table in TABLE_BY_ID else title  # never a raw id in prose
    if table in TABLE_BY_ID and title == TABLE_BY_ID[table].title:
        title = None  # the caption shows the registered title above the note
    parts = [title] if title else []
    parts.append("This build: stars on the coefficient from the pair-clustered SE (the study's clustering); "
                 "two-way SE clustered by origin and destination city, with its p value and stars "
                 "(*** p < 0.01, ** p < 0.05, * p < 0.1)")
    if reasons:
        parts.append("Controls left out (of both cities): " + "; ".join(f"{k}: {v}" for k, v in reasons.items()))
    if units:
        parts.append(f"Transfers in {', '.join(units)} before the signed log IT = sign(T) ln(1 + |T|) "
                     "(parameter money_unit)")
    return ". ".join(parts) + "."


def clustering_summary(rows: pd.DataFrame, tables: list[str] | tuple[str, ...], prefix: str) -> dict[str, str]:
    """Numbers for a chapter's sentence on why two-way clustering is shown. ``rows``: estimates or
    :func:`models.compare_published` rows; ``tables``: table names or name prefixes (e.g. "tier_").

    Over the models of those tables: ``<prefix>_models`` and ``_not_identified`` (no estimate, see
    :mod:`intercity.models`); over the coefficients with both standard errors: ``_n``, the two-way /
    pair SE ratio's median, min and max (``_ratio_median``, ``_ratio_min``, ``_ratio_max``),
    ``_starred_pair`` (with stars under pair clustering) and ``_lose_stars`` (of those, without
    stars under two-way clustering). Values are strings for the prose."""
    mine = rows[rows["table"].astype(str).str.startswith(tuple(tables))]
    sub = mine[mine["se_pair"].notna() & mine["se_twoway"].notna()]
    ratio = (sub["se_twoway"] / sub["se_pair"]).to_numpy(dtype=float)
    starred = sub["stars_pair"].fillna("") != ""
    lose = starred & (sub["stars_twoway"].fillna("") == "")
    fmt = (lambda v: f"{v:.2f}") if len(ratio) else (lambda v: "n/a")
    return {f"{prefix}_models": str(len(mine)),
            f"{prefix}_not_identified": str(int((~mine["identified"].astype(bool)).sum())),
            f"{prefix}_n": str(len(sub)),
            f"{prefix}_ratio_median": fmt(np.median(ratio) if len(ratio) else np.nan),
            f"{prefix}_ratio_min": fmt(ratio.min() if len(ratio) else np.nan),
            f"{prefix}_ratio_max": fmt(ratio.max() if len(ratio) else np.nan),
            f"{prefix}_starred_pair": str(int(starred.sum())), f"{prefix}_lose_stars": str(int(lose.sum()))}
