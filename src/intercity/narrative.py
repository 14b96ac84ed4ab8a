"""The book's words generated from its results: the introduction's key-results box and its "what
differs from the study" table, the sector and HSR facts of the data availability statement, each
chapter's Reading (its claims' verdicts, linked to their rows in the scorecard chapter, with what
the design lab and the multiverse say of them), the scorecard's claim-by-claim rows (the targets
of those links), and the numbers the background and measurement chapters glue into their prose.

Every number comes from the scorecard (:func:`intercity.scorecard.for_study`), the data bundle,
the parameters, the design lab's diagnosands (:mod:`intercity.lab`) or the multiverse's claim
summary (:func:`intercity.multiverse.claim_summary`); none is typed, so the words stay true on
every data source (synthetic, public, ceads). HTML functions return strings (escaped text, links
relative to the chapter pages, which sit side by side in ``book/``); notebooks display them with
:class:`IPython.display.HTML`.
"""

from __future__ import annotations

import html
from typing import Mapping

import numpy as np
import pandas as pd

from intercity import formatting, schema, scorecard, sectors
from intercity.params import STUDY_CITIES

#: The scorecard chapter (HTML page beside the other chapters): each claim's row has the anchor
#: :func:`claim_anchor`.
SCORECARD_PAGE = "08_scorecard.html"
LAB_PAGE = "10_design_lab.html"
MULTIVERSE_PAGE = "11_multiverse.html"
#: The chapter of each section of the study's claims.
SECTION_PAGES: dict[str, str] = {"Characteristics": "01_background.html", "Baseline": "03_baseline.html",
                                 "Robustness": "04_robustness.html", "Mechanism": "05_mechanism.html",
                                 "Distance": "06_distance.html"}
#: Section names in words (the key-results box).
SECTION_WORDS: dict[str, str] = {"Characteristics": "Where industry moved (background)",
                                 "Baseline": "Baseline", "Robustness": "Robustness",
                                 "Mechanism": "Mechanism", "Distance": "Distance tiers"}
#: What the study used (the deck): periods, money unit, clustering, data.
STUDY_PERIODS: tuple[tuple[int, int], ...] = ((2012, 2015), (2015, 2017))
STUDY_MONEY_UNIT = "10k yuan"
STUDY_CLUSTER = "pair"
NOT_TESTABLE = (scorecard.NOT_SOURCE, scorecard.NOT_TIERS)


def claim_anchor(claim_id: str) -> str:
    """The HTML id of a claim's row in the scorecard chapter: ``claim-b1`` for ``B1``."""
    return f"claim-{claim_id.lower()}"


def claim_href(claim_id: str) -> str:
    """Link to a claim's row in the scorecard chapter, from any chapter page."""
    return f"{SCORECARD_PAGE}#{claim_anchor(claim_id)}"


def _a(href: str, text: str) -> str:
    return f'<a href="{html.escape(href, quote=True)}">{html.escape(text)}</a>'


def _ids(ids: list[str]) -> str:
    """Claim ids as links to their scorecard rows, or an em dash."""
    return ", ".join(_a(claim_href(i), i) for i in ids) if ids else "&mdash;"


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"


# ----------------------------------------------------------------------------- the key results

def key_results(card: pd.DataFrame) -> pd.DataFrame:
    """Per section of the study (in the scorecard's order): the number of claims, and the ids of
    the testable claims that hold, fail or are not identified under each clustering, and of the
    claims that are not testable (on this source or with these tiers), and of those whose checks
    hold when run anyway on an untestable source (what the design finds, e.g. in a synthetic world).

    ``card``: :func:`intercity.scorecard.scorecard`. Columns: section, claims, testable,
    holds_pair, holds_twoway, fails_pair, fails_twoway, not_identified_pair,
    not_identified_twoway, not_testable, checks_hold_pair, checks_hold_twoway (lists of ids).
    """
    rows = []
    for section, sub in card.groupby("section", sort=False):
        t = sub["testable"] == "yes"
        row = {"section": section, "claims": len(sub), "testable": int(t.sum())}
        for c in scorecard.CLUSTERINGS:
            v = sub[f"verdict_{c}"]
            row[f"holds_{c}"] = list(sub.loc[t & (v == "holds"), "id"])
            row[f"fails_{c}"] = list(sub.loc[t & (v == "fails"), "id"])
            row[f"not_identified_{c}"] = list(sub.loc[t & (v == scorecard.NOT_IDENTIFIED), "id"])
        row["not_testable"] = list(sub.loc[sub["verdict"].isin(NOT_TESTABLE), "id"])
        for c in scorecard.CLUSTERINGS:
            row[f"checks_hold_{c}"] = list(sub.loc[~t & (sub[f"checks_{c}"] == "holds"), "id"])
        rows.append(row)
    return pd.DataFrame(rows)


def asserted_sentence(n: Mapping[str, int]) -> str:
    """What the study's claims rest on (``n``: :func:`intercity.scorecard.headline`): "The study
    asserts 24 claims: 17 rest on printed coefficients, 7 on figures and maps without printed
    numbers." """
    return (f"The study asserts {n['claims']} claims: {n['published_printed']} rest on printed coefficients, "
            f"{n['published_asserted']} on figures and maps without printed numbers.")


#: The key-results columns of the checks run on a source that tests nothing (not verdicts).
RUN_ANYWAY_HEADS = ("not scored: checks run anyway hold, pair-clustered",
                    "not scored: checks run anyway hold, two-way")


def key_results_lead(card: pd.DataFrame, source) -> str:
    """The key-results box's opening sentences (plain text) from :func:`intercity.scorecard.headline`;
    ``source``: the source's name or the Study (:func:`intercity.scorecard.source_words`: the fake
    CEADs tables are named as such, with their folder)."""
    n = scorecard.headline(card)
    basis = asserted_sentence(n)
    source, reason = scorecard.source_words(source)
    if n["testable"] == 0:
        why = (f"this book is built on the {source} source, and {reason}" if source == "synthetic"
               else f"this book is built on the {source} source: {reason}" if reason
               else f"none is testable on the {source} source")
        return (f"{basis} None of them can be judged by this build: {why}. No claim holds or "
                f"fails here. Not scored, the checks still run on this build's numbers: those of "
                f"{n['checks_hold_pair']} of the {n['claims']} claims hold with the study's pair-clustered standard "
                f"errors and {n['checks_hold_twoway']} with two-way clustered errors (by origin and destination "
                "city), which says what the study's design finds in these data, not whether the study is right.")
    ni = n["not_identified_pair"] + n["not_identified_twoway"]
    return (f"{basis} Of them, {n['testable']} are testable on this build's {source} source. "
            f"With the study's pair-clustered standard errors {n['hold_pair']} of them hold and {n['fail_pair']} "
            f"fail; with two-way clustered errors (by origin and destination city, which allow for the shocks all "
            f"pairs of a city share) {n['hold_twoway']} hold and {n['fail_twoway']} fail"
            + (f" (not identified: {n['not_identified_pair']} pair-clustered, {n['not_identified_twoway']} "
               "two-way)" if ni else "")
            + f". {n['not_testable_source']} claims are not testable on this source and {n['not_testable_tiers']} "
            "not with this parameter set's distance tiers.")


def key_results_html(card: pd.DataFrame, source) -> str:
    """The introduction's key-results box: an element of class ``intercity-key-results`` (id
    ``key-results``) with :func:`key_results_lead`, a table by section of the study whose cells
    list the claims (linked to their rows in the scorecard chapter) that hold, fail and are not
    testable, and what the study's own numbers support."""
    n = scorecard.headline(card)
    kr = key_results(card)
    none_testable = n["testable"] == 0
    if none_testable:
        head = ["section", "claims", "not testable here", *RUN_ANYWAY_HEADS]
        keys = ["not_testable", "checks_hold_pair", "checks_hold_twoway"]
    else:
        head = ["section", "claims", "testable", "hold: pair-clustered", "hold: two-way", "fail: pair-clustered",
                "fail: two-way", "not identified", "not testable here"]
        keys = ["holds_pair", "holds_twoway", "fails_pair", "fails_twoway", "not_identified", "not_testable"]
    body = []
    for r in kr.to_dict("records"):
        r["not_identified"] = list(dict.fromkeys(r["not_identified_pair"] + r["not_identified_twoway"]))
        page = SECTION_PAGES.get(r["section"])
        name = SECTION_WORDS.get(r["section"], r["section"])
        cells = [_a(page, name) if page else html.escape(name), str(r["claims"])]
        if not none_testable:
            cells.append(str(r["testable"]))
        cells += [_ids(r[k]) for k in keys]
        body.append("<tr>" + "".join(f'<td data-label="{html.escape(h, quote=True)}">{c}</td>'
                                     for h, c in zip(head, cells)) + "</tr>")
    # the book's table classes: stacks into labelled blocks on a narrow screen (intercity.book.CSS)
    table = ('<div class="intercity-table-wrap intercity-key-results-wrap" id="key-results-table"><table class="table '
             'intercity-table intercity-stack intercity-key-results-table"><thead><tr>'
             + "".join(f"<th>{html.escape(h)}</th>" for h in head)
             + "</tr></thead><tbody>" + "".join(body) + "</tbody></table></div>")
    foot = (f"On its printed coefficients the study's own numbers pass the checks of {n['published_hold']} of "
            f"the {n['published_printed']} claims that rest on them"
            + (f" (and fail those of {n['published_fail']})" if n["published_fail"] else "")
            + f"; the {n['published_asserted']} others are asserted from figures and maps"
            + ("" if none_testable else f". Of the claims testable here, {n['published_support_testable']} hold on "
               "the study's own numbers or are asserted from its figures")
            + (". The \u201cnot scored\u201d columns list the claims whose checks hold when run anyway on this "
               "build's numbers: what the design finds in these data, not a verdict on the study"
               if none_testable else "")
            + ". Each claim id links to its row in the ")
    return ('<div class="admonition important intercity-key-results" id="key-results">'
            '<p class="admonition-title">Key results of this build</p>'
            f"<p>{html.escape(key_results_lead(card, source))}</p>{table}"
            f"<p>{html.escape(foot)}{_a(SCORECARD_PAGE, 'replication scorecard')}, with the verdict's reason, "
            f"the design lab's and the multiverse's evidence.</p></div>")


# ----------------------------------------------------------------------------- what differs from the study

def sector_merges() -> str:
    """Which NBS sectors the book's scheme merges, from the concordance file: "2012/2015 sectors 22
    and 23 and 2017 sectors 35 and 36" (each 42-sector list's codes that map to one book sector)."""
    c = sectors.concordance()
    parts = []
    for table, years in (("nbs2015_42", "2012/2015"), ("nbs2017_42", "2017")):
        rows = c[c["table"] == table]
        merged = [sorted(g["code"].astype(str)) for _, g in rows.groupby("sector") if len(g) > 1]
        for codes in merged:
            parts.append(f"{years} sectors {' and '.join(codes)}")
    return " and ".join(parts) if parts else "none"


def _periods(periods) -> str:
    return ", ".join(f"{a}-{b}" for a, b in periods)


def _tiers(edges) -> str:
    edges = [float(e) for e in edges]
    return ", ".join(f"{a:g}-{b:g}" for a, b in zip(edges[:-1], edges[1:])) + " km"


def _realism_list(realism: pd.DataFrame, status: str) -> list[str]:
    sub = realism[(realism["status"] == status) & (realism["table"] != "mrio")]
    return [f"{r.variable} ({r.note})" if r.note else r.variable for r in sub.itertuples()]


def differences(params, data, realism: pd.DataFrame | None = None) -> pd.DataFrame:
    """What this build does differently from the study, one row per aspect: aspect, the study,
    this build, differs ("yes"/"no"). From the parameters (data source, scale, periods, distance
    tiers, headline clustering, money unit, HSR measure), the bundle (its source, cities, HSR
    metadata) and the data realism table (:func:`intercity.report.data_realism`, computed when not
    given): the city MRIO, and the variables that are proxies, imputed, partly observed or
    synthetic. On a source whose MRIO is a stand-in (:data:`intercity.scorecard.STANDIN_MRIO_SOURCES`)
    the MRIO row says that claims resting on the transfer IT are not testable on it."""
    if realism is None:
        from intercity import report

        realism = report.data_realism(data)
    source = data.source
    n = len(data.cities)
    rows = []

    def add(aspect: str, study: str, ours: str, differs: bool) -> None:
        rows.append({"aspect": aspect, "the study": study, "this build": ours, "differs": "yes" if differs else "no"})

    mrio = realism[realism["table"] == "mrio"]
    mrio_note = mrio["note"].iloc[0] if len(mrio) else ""
    fake = scorecard.fake_reason(data.meta)
    ours_mrio = {"synthetic": mrio_note or "synthetic MRIO",
                 "ceads": f"the user's CEADs city MRIO tables ({mrio_note})" if mrio_note else "the user's CEADs tables",
                 }.get(source, f"{mrio_note}" if mrio_note else f"{source} MRIO")
    if source in scorecard.STANDIN_MRIO_SOURCES:
        note = mrio_note.rstrip(". ") if "stand-in" in mrio_note else f"a stand-in, not the CEADs tables: {mrio_note}"
        ours_mrio = (f"{note}. Its inter-city trade does not respond to connectivity, so the claims resting on the "
                     "transfer IT (and the maps of where industry moved) are not testable on this source")
    add("data", "CEADs city-level MRIO tables (2012, 2015, 2017), China City Statistical Yearbooks, Baidu index",
        {"synthetic": "a synthetic world: real city names and coordinates, every statistic generated (seeded); "
                      "it says nothing about China",
         "public": "public data: real where published, imputed and flagged where not (see below)",
         "ceads": (f"the FAKE CEADs tables ({scorecard.fake_origin(schema.fake_ceads(data.meta))}); it says nothing "
                   "about China; every other variable from the public source" if fake else
                   "the user's CEADs tables; every other variable from the public source")}.get(source, source),
        True)
    if fake:
        ours_mrio = f"{mrio_note.rstrip('. ')}. So {fake}"
    add("city MRIO", "CEADs city-level MRIO (the study's, not public)", ours_mrio, source != "ceads" or bool(fake))
    sectors_ours = (f"{len(sectors.SECTOR_CODES)} sectors: the NBS 42-sector lists mapped by description, merging "
                    f"{sector_merges()}, so that all three years agree")
    add("sectors", "42 sectors (CEADs)", sectors_ours, len(sectors.SECTOR_CODES) != 42)
    add("cities", f"{STUDY_CITIES}", f"{n} (scale {params.scale:g})", n != STUDY_CITIES)
    add("periods", _periods(STUDY_PERIODS), _periods(params.periods),
        tuple(map(tuple, params.periods)) != STUDY_PERIODS)
    add("distance tiers", _tiers(scorecard.STUDY_TIERS_KM), _tiers(params.distance_tiers_km),
        tuple(float(e) for e in params.distance_tiers_km) != scorecard.STUDY_TIERS_KM)
    add("standard errors", "clustered by city pair",
        f"headline: {scorecard.CLUSTER_WORDS[params.cluster]}; every table and verdict also with the other "
        f"({scorecard.CLUSTER_WORDS['twoway' if params.cluster == 'pair' else 'pair']})", True)
    add("money unit of the transfer", STUDY_MONEY_UNIT, params.money_unit, params.money_unit != STUDY_MONEY_UNIT)
    hsr = data.meta.get("hsr", {}) if isinstance(data.meta, dict) else {}
    if source == "synthetic":
        hsr_ours = "a synthetic HSR rollout (lines serving both cities)"
    elif hsr:
        hsr_ours = (f"HSR lines serving both cities, counted from {hsr_lines_words(hsr)} "
                    f"(hsr_measure: {hsr.get('measure', params.hsr_measure)}"
                    + ("; full station lists with the opening years of their sections" if hsr.get("measure") == "stations"
                       else "; key stations of the line list only") + f"); missing: {hsr.get('missing', '')}")
    else:
        hsr_ours = f"HSR lines serving both cities (hsr_measure: {params.hsr_measure})"
    add("HSR connectivity", "number of HSR lines serving both cities (source not stated)", hsr_ours, True)
    for status, label in (("proxy", "proxies (another quantity stands in)"), ("imputed", "imputed variables"),
                          ("partial", "partly observed variables"), ("synthetic", "synthetic variables"),
                          ("user", "the user's own variables")):
        found = _realism_list(realism, status)
        if found:
            add(label, "observed (yearbooks, Baidu)", "; ".join(found), status != "user")
    return pd.DataFrame(rows, columns=["aspect", "the study", "this build", "differs"])


def hsr_lines_words(hsr: Mapping) -> str:
    """The HSR lines of the public source in words, from the bundle's ``meta["hsr"]``: "70 lines (47
    with full station lists, 20 from the line list's key stations, 3 from segment ends only)" when
    its ``info`` splits them (the station-list measure), else "70 lines". The introduction and
    the background chapter both use it, so they count the same lines."""
    info = hsr.get("info", {}) if isinstance(hsr.get("info"), Mapping) else {}
    parts = [(info.get("lines_station_lists", 0), "with full station lists"),
             (info.get("lines_railvis_key_stations", 0), "from the line list's key stations"),
             (info.get("lines_malin84_segment_ends", 0), "from segment ends only")]
    split = ", ".join(f"{n} {words}" for n, words in parts if n)
    total = hsr.get("lines", "?")
    return f"{total} lines" + (f" ({split})" if split and "lines_station_lists" in info else "")


# ----------------------------------------------------------------------------- evidence per claim

def lab_claim_evidence(params, lab_summary: pd.DataFrame | None, detect: pd.DataFrame | None = None) -> dict[str, str]:
    """What the design lab says of each claim whose checks read a model the lab estimates: claim
    id -> a sentence (plain text) with, per such model, the true effect and the rejection rate at
    5% (pair-clustered and two-way, ± Monte Carlo s.e.) at the default knobs, the size in worlds
    without an effect, and whether the published coefficient reaches the design's minimum
    detectable effect (``detect``: :func:`intercity.lab.detectability`), said of the lab's synthetic
    worlds and their number of cities (``params.lab.n_cities``), not of the study's. Claims the lab does not
    estimate are absent. ``lab_summary``: ``design_lab.csv`` (:func:`intercity.lab.diagnose`)."""
    if lab_summary is None or lab_summary.empty:
        return {}
    from intercity import lab as lab_mod

    matches = scorecard.match_tiers(params.distance_tiers_km)
    det = detect.set_index("key") if detect is not None and len(detect) else pd.DataFrame()
    s = lab_summary
    out = {}
    for claim in scorecard.CLAIMS:
        if claim.spatial is not None:
            continue
        groups, _ = scorecard.resolve(claim, matches)
        keys = [k for k in dict.fromkeys(ch.key for g in groups for ch in g) if k in set(s["key"])]
        parts = []
        for key in keys:
            rows = s[s["key"] == key]

            def rate(setting: str, method: str) -> str:
                r = rows[(rows["setting"] == setting) & (rows["method"] == method)]
                if r.empty or not np.isfinite(float(r["rejection_rate"].iloc[0])):
                    return "n/a"
                se = float(r["rejection_rate_mcse"].iloc[0])
                return f"{100 * float(r['rejection_rate'].iloc[0]):.0f}%" + (
                    f" ± {100 * se:.0f}" if np.isfinite(se) else "")

            nulls = list(dict.fromkeys(rows.loc[rows["null"].astype(bool), "setting"]))
            dflt = rows[(rows["setting"] == "default") & (rows["method"] == "pair")]
            if dflt.empty:
                continue
            truth = float(dflt["true_effect"].iloc[0])
            label = lab_mod.model_label(dflt.iloc[0].to_dict())
            if not np.isfinite(truth) or rate("default", "pair") == "n/a":
                parts.append(f"{label}: not identified in these worlds")
                continue
            def both(setting: str) -> str:
                tw = rate(setting, "twoway")
                return rate(setting, "pair") + ("" if tw == "n/a" else f" (two-way: {tw})")

            text = (f"{label}: at the default knobs (true effect {formatting.significant(truth)} per unit) the "
                    f"pair-clustered test rejects at 5% in {both('default')} of worlds")
            if nulls:
                text += f"; in worlds without an effect ({nulls[0]}, the size) in {both(nulls[0])}"
            if key in det.index:
                d = det.loc[key]
                text += (f"; the published coefficient ({d['published']:g}{d['stars']}, from the study's "
                         f"{STUDY_CITIES} real cities) is {'at or above' if bool(d['detectable']) else 'below'} in "
                         f"size the minimum detectable effect of the design in the lab's synthetic worlds of "
                         f"{params.lab.n_cities} cities ({formatting.significant(float(d['mde']))})"
                         + ("" if bool(d["detectable"]) else
                            ": in worlds like the lab's, a significant estimate of that size would more likely "
                            "exaggerate the effect or be a false positive; the study's own precision may differ"))
            parts.append(text)
        if parts:
            out[claim.id] = (f"In {params.lab.draws} synthetic worlds per knob setting "
                             f"({params.lab.n_cities} cities), " + "; ".join(parts) + ".")
    return out


def multiverse_claim_evidence(summary: pd.DataFrame | None) -> dict[str, str]:
    """What the multiverse says of each claim: claim id -> a sentence with the share of the
    evaluable specifications in which it holds, how many are not testable on their source and
    the choice that moves it most. ``summary``: :func:`intercity.multiverse.claim_summary`."""
    if summary is None or summary.empty:
        return {}
    out = {}
    for r in summary.itertuples():
        ev = int(r.holds + r.fails)
        text = f"of its {r.specifications:,} specifications, {r.not_testable:,} are not testable on their source"
        if ev:
            what = "its checks hold" if r.not_testable == r.specifications else "it holds"
            text += f"; {what} in {100 * r.share_holds:.0f}% of the {ev:,} that could be evaluated"
            if np.isfinite(r.share_holds_testable) and r.not_testable and r.not_testable < r.specifications:
                text += f" ({100 * r.share_holds_testable:.0f}% of the testable ones)"
        else:
            text += "; none could be evaluated"
        if r.moves_most:
            text += f"; the choice that moves it most: {r.moves_most_words}"
        out[r.claim] = text[0].upper() + text[1:] + "."
    return out


def verdict_words(row: Mapping) -> str:
    """:func:`intercity.scorecard.claim_sentence` of a scorecard row, with the synthetic source's
    long reason shortened to "the synthetic world is not China" (the Readings repeat it per claim),
    and the stand-in MRIO's description replaced by "(stand-in MRIO, see note 1)"
    (:func:`intercity.scorecard.refer_standin`; the page gives the note once, :func:`standin_note_html`)."""
    text = scorecard.refer_standin(scorecard.claim_sentence(row), row.get("mrio_standin", ""))
    short = "the synthetic world is not China"
    return (text.replace(f"because {scorecard.SYNTHETIC_REASON}; ", f"because {short} and ")
            .replace(f"because {scorecard.SYNTHETIC_REASON}", f"because {short}"))


def claim_evidence(card: pd.DataFrame, lab: Mapping[str, str] | None = None,
                   multiverse: Mapping[str, str] | None = None) -> pd.DataFrame:
    """One row per claim of ``card``: id, section, claim, verdict (its sentence, :func:`verdict_words`,
    with this build's numbers for the claims on the map of transfers, which no model carries), lab and multiverse (sentences from
    :func:`lab_claim_evidence` and :func:`multiverse_claim_evidence`, "" where they have none) and
    mrio_standin (the stand-in MRIO's description where the verdict refers to it, else "")."""
    lab, multiverse = lab or {}, multiverse or {}
    spatial = {c.id for c in scorecard.CLAIMS if c.spatial is not None}
    return pd.DataFrame({"id": card["id"], "section": card["section"], "claim": card["claim"],
                         "verdict": [verdict_words(r) + (f"; this build's numbers: {r['this_build_numbers']}"
                                                         if r["id"] in spatial and r.get("this_build_numbers") else "")
                                     for r in card.to_dict("records")],
                         "lab": [lab.get(i, "") for i in card["id"]],
                         "multiverse": [multiverse.get(i, "") for i in card["id"]],
                         "mrio_standin": card["mrio_standin"] if "mrio_standin" in card else ""})


def study_evidence(study, card: pd.DataFrame) -> pd.DataFrame:
    """:func:`claim_evidence` of a study: its design lab (:func:`intercity.lab.load`, computed and
    cached when the build has not written it) and its multiverse (:func:`intercity.multiverse.load`)."""
    from intercity import lab as lab_mod
    from intercity import multiverse as mv

    results = lab_mod.load(study.params)
    lab_ev = lab_claim_evidence(study.params, results["summary"],
                                lab_mod.detectability(study.params, results["summary"]))
    return claim_evidence(card, lab_ev, multiverse_claim_evidence(mv.claim_summary(mv.load(study))))


# ----------------------------------------------------------------------------- readings and scorecard rows

def reading_html(evidence: pd.DataFrame, section: str | None = None, only: str | None = None) -> str:
    """A chapter's Reading of the study's claims: for each claim of ``section`` (all when None;
    with ``only`` = "lab" or "multiverse", those with that evidence), its id linked to its row in
    the scorecard chapter, its words, this build's verdict and, where they have any, the design
    lab's and the multiverse's evidence. ``evidence``: :func:`claim_evidence`. Raises KeyError
    for a section without claims."""
    ev = evidence if section is None else evidence[evidence["section"] == section]
    if section is not None and ev.empty:
        raise KeyError(f"no claims in section {section!r}; known: {sorted(evidence['section'].unique())}")
    if only is not None:
        if only not in ("lab", "multiverse"):
            raise ValueError(f"only={only!r}: allowed None, 'lab', 'multiverse'")
        ev = ev[ev[only] != ""]
    items = []
    for r in ev.itertuples():
        parts = [f"<li><em>This build:</em> {html.escape(r.verdict)}.</li>"]
        if r.lab:
            parts.append(f"<li><em>{_a(LAB_PAGE, 'Design lab')}:</em> {html.escape(r.lab)}</li>")
        if r.multiverse:
            parts.append(f"<li><em>{_a(MULTIVERSE_PAGE, 'Multiverse')}:</em> {html.escape(r.multiverse)}</li>")
        items.append(f"<li><p><strong>{_a(claim_href(r.id), r.id)}</strong> {html.escape(r.claim)}</p>"
                     f"<ul>{''.join(parts)}</ul></li>")
    if not items:
        return '<div class="intercity-reading"><p>No claim of the study has such evidence in this build.</p></div>'
    return f'<div class="intercity-reading"><ul>{"".join(items)}</ul>{standin_note_html(ev)}</div>'


def standin_note_html(evidence: pd.DataFrame) -> str:
    """The note the rows' "(stand-in MRIO, see note 1)" refer to, once per page (a paragraph of
    class ``intercity-note``, id ``note-standin``); "" when no row refers to it."""
    text = scorecard.standin_note(evidence)
    return f'<p class="intercity-note" id="note-standin">{html.escape(text)}</p>' if text else ""


def scorecard_rows_html(card: pd.DataFrame, evidence: pd.DataFrame) -> str:
    """The scorecard chapter's claim-by-claim rows, each an element with the id
    :func:`claim_anchor` (the target of every Reading's link): the claim, its section's chapter,
    the published verdict and numbers, this build's verdict under both clusterings with its
    reason, and the design lab's and the multiverse's evidence."""
    ev = evidence.set_index("id")
    out = []
    for r in card.to_dict("records"):
        page = SECTION_PAGES.get(r["section"])
        where = _a(page, SECTION_WORDS.get(r["section"], r["section"])) if page else html.escape(r["section"])
        e = ev.loc[r["id"]]
        lines = [f"<p><strong>{html.escape(r['id'])}</strong> ({where}) {html.escape(r['claim'])}</p>", "<ul>",
                 f"<li><em>Published:</em> {html.escape(r['published_verdict'])} "
                 f"({html.escape(r['published_numbers'])})</li>",
                 f"<li><em>This build:</em> {html.escape(e['verdict'])}.</li>"]
        if e["lab"]:
            lines.append(f"<li><em>{_a(LAB_PAGE, 'Design lab')}:</em> {html.escape(e['lab'])}</li>")
        if e["multiverse"]:
            lines.append(f"<li><em>{_a(MULTIVERSE_PAGE, 'Multiverse')}:</em> {html.escape(e['multiverse'])}</li>")
        lines.append("</ul>")
        out.append(f'<div class="intercity-claim" id="{claim_anchor(r["id"])}">' + "".join(lines) + "</div>")
    return '<div class="intercity-claims">' + "".join(out) + standin_note_html(evidence) + "</div>"


# ----------------------------------------------------------------------------- numbers the chapters glue

#: The city whose outward transfer the background chapter maps (Beijing's adcode).
BEIJING = "110000"


def background_values(study, origin: str = BEIJING) -> dict[str, str]:
    """Every number the background chapter glues (names ``bg_*``), as text: the largest
    recipients of ``origin``'s transfer per period (billion yuan), the probability that an origin's
    nearest city is its first destination (and the study's figure), the mean distance of first
    destinations, the rank correlation of priority rank with distance, HSR-connected pairs and the
    mean search index in the first and last MRIO years, HSR hubs and the most central cities of the
    information network, the HSR network's mean and maximum beside the study's, and the HSR lines
    it is built from (``bg_hsr_lines``, :func:`hsr_lines_words`)."""
    from intercity import figures, networks

    p, data = study.params, study.data
    periods = list(p.period_labels)
    names = data.cities.set_index("city_id")["name_en"]
    out = {"bg_period_1": periods[0], "bg_period_2": periods[-1]}
    from_o = networks.transfer_from(study.transfers, origin)
    for k, per in ((1, periods[0]), (2, periods[-1])):
        out[f"bg_bj_top_{k}"] = networks.top_cities(
            from_o[from_o["period"] == per].set_index("city")["value"] / figures.BILLION, names)
    ranks = networks.destination_ranks(study.transfers, data.cities)
    by_rank = networks.distance_by_rank(ranks)
    near = networks.nearest_first(ranks).set_index("period")
    rho = networks.rank_distance_correlation(by_rank)
    for k, per in ((1, periods[0]), (2, periods[-1])):
        out[f"bg_p_first_{k}"] = f"{near.at[per, 'p_first']:.2f}"
        out[f"bg_rho_{k}"] = f"{rho[per]:.2f}"
        first_rank = by_rank[(by_rank["period"] == per) & (by_rank["rank"] == 1)]["mean_km"]
        out[f"bg_rank1_km_{k}"] = f"{first_rank.iloc[0]:,.0f}"
    out["bg_p_first_pub"] = f"{networks.PUBLISHED_NEAREST_FIRST:.1f}"
    first, last = min(p.mrio_years), max(p.mrio_years)
    growth = networks.connectivity_by_year(data.pair_year).set_index("year")
    out.update({"bg_first": str(first), "bg_last": str(last),
                "bg_hsr_first": f"{growth.at[first, 'hsr_pairs']:,}", "bg_hsr_last": f"{growth.at[last, 'hsr_pairs']:,}",
                "bg_index_growth": f"{growth.at[last, 'mean_index'] / growth.at[first, 'mean_index'] - 1:.0%}",
                "bg_hsr_hubs_first": networks.top_cities(networks.hsr_degree(data.pair_year, data.city_ids, first), names),
                "bg_hsr_hubs_last": networks.top_cities(networks.hsr_degree(data.pair_year, data.city_ids, last), names),
                "bg_info_top_last": networks.top_cities(networks.info_centrality(data.pair_year, data.city_ids, last),
                                                        names)})
    hsr_meta = data.meta.get("hsr", {}) if isinstance(data.meta, dict) else {}
    out["bg_hsr_lines"] = (hsr_lines_words(hsr_meta) if hsr_meta and study.source != "synthetic"
                           else "its line lists (not in this synthetic build)")
    cmp = hsr_comparison(study)
    for what, row in (("mean", 0), ("max", 2)):
        out[f"bg_hsr_{what}"] = str(cmp.at[row, "this build"])
        out[f"bg_hsr_{what}_pub"] = str(cmp.at[row, "study"])
    return out


def hsr_comparison(study) -> pd.DataFrame:
    """:func:`intercity.networks.hsr_comparison` of a study: its periods, hubs in the first and last
    MRIO years, and the other HSR measure where the bundle holds it (``meta["hsr"]["other_measure"]``)."""
    from intercity import networks

    p, data = study.params, study.data
    other = data.meta.get("hsr", {}).get("other_measure") if isinstance(data.meta, dict) else None
    return networks.hsr_comparison(data.pair_year, data.cities, p.periods, (min(p.mrio_years), max(p.mrio_years)),
                                   other)


def measurement_values(panel: pd.DataFrame, descriptive: pd.DataFrame) -> dict[str, str]:
    """The measurement chapter's Reading numbers: panel rows, the mean of IT and the share of
    IT_direction = 1, each beside the published mean (``descriptive``:
    :func:`intercity.report.descriptive_comparison`)."""
    pub = descriptive.set_index("variable")
    return {"meas_rows": f"{len(panel):,}", "meas_it_mean": f"{panel['IT'].mean():.3f}",
            "meas_dir_share": f"{panel['IT_direction'].mean():.3f}",
            "meas_it_mean_pub": f"{pub.at['IT', 'published mean']:.3f}",
            "meas_dir_share_pub": f"{pub.at['IT_direction', 'published mean']:.3f}"}


def ledger_counts(ledger: pd.DataFrame) -> pd.DataFrame:
    """The ledger counted by stage, kind and reason (columns stage, kind, reason, count)."""
    return ledger.groupby(["stage", "kind", "reason"]).size().reset_index(name="count")


def parenthesis_values(compared: pd.DataFrame, study) -> dict[str, str]:
    """The baseline chapter's numbers on reading the tables: how many published parentheses read
    as standard errors, t statistics or ambiguous (``paren_*``, from
    :func:`intercity.models.compare_published`), and ``se_factor_areg``: how much larger a
    pair-clustered SE would be if every pair effect were counted
    (:func:`intercity.models.areg_se_factor`, one regressor with the study's controls)."""
    from intercity import models

    kinds = compared["paren_is"].value_counts()
    k = 1 + len(models.CONTROL_COLUMNS) + (len(study.params.periods) - 1) + 1
    factor = models.areg_se_factor(len(study.panel), study.panel["pair_id"].nunique(), k)
    return {"paren_n": str(len(compared)), "paren_se": str(int(kinds.get("se", 0))),
            "paren_t": str(int(kinds.get("t", 0))), "paren_ambiguous": str(int(kinds.get("ambiguous", 0))),
            "se_factor_areg": f"{factor:.2f}"}


def tier_counts(panel: pd.DataFrame) -> pd.DataFrame:
    """Ordered pairs in each distance tier (rows, nearest tier first) per period (columns; the panel
    has one row per pair and period, so each cell counts pairs, not pair-periods). First column
    "distance tier (km)"; the other columns are named "ordered pairs, <period>"."""
    from intercity import tables

    counts = panel.groupby(["period", "tier"]).size().unstack("period").fillna(0).astype("int64")
    counts = counts.loc[sorted(counts.index, key=tables.tier_start_km)]
    counts.columns = [f"ordered pairs, {c}" for c in counts.columns]
    return counts.rename_axis("distance tier (km)").reset_index()


def measurement_reading(card: pd.DataFrame) -> str:
    """The measurement chapter's closing sentence on the claims: which rest on the transfer it
    measures (a check whose model has IT or a sector group's IT as outcome or regressor, and the
    maps of where industry moved), linked to their scorecard rows (HTML)."""
    uses = []
    for claim in scorecard.CLAIMS:
        if claim.spatial is not None:
            uses.append(claim.id)
            continue
        for ch in claim.checks:
            try:
                spec = scorecard.spec_for(ch.key)
            except KeyError:
                continue
            if any(v.startswith("IT") for v in (spec.dependent, *spec.regressors)):
                uses.append(claim.id)
                break
    n = len(card)
    return (f"<p>No claim of the study is judged in this chapter, but {len(uses)} of its {n} claims rest on the "
            f"transfer measured here (as outcome or regressor, or as the map of where industry moved): "
            f"{_ids([u for u in uses if u in set(card['id'])])}.</p>")


def numbers_lead(card: pd.DataFrame, section: str) -> str:
    """The opening of a chapter's "In numbers" sentence (plain text, no final punctuation): "In
    numbers, with pair-clustered standard errors", and, where claims of ``section`` are not
    testable on this source, in the same sentence that these numbers are not evidence for or
    against them and why: from each claim's ``not_testable_reason`` (the stand-in MRIO, whose trade
    shares do not respond to connectivity, so a coefficient on IT reflects what the stand-in builds
    in: :data:`intercity.scorecard.STANDIN_BUILDS_IN`; or the other reasons, given in the Reading).
    ``card``: :func:`intercity.scorecard.scorecard`; KeyError for a section without claims."""
    sub = card[card["section"] == section]
    if sub.empty:
        raise KeyError(f"no claims in section {section!r}; known: {sorted(card['section'].unique())}")
    cluster = str(sub["cluster"].iloc[0])
    lead = f"In numbers, with {scorecard.CLUSTER_WORDS.get(cluster, cluster)} standard errors"
    untestable = sub[sub["testable"] == "no"]
    if untestable.empty:
        return lead
    standin = untestable["mrio_standin"].astype(bool) if "mrio_standin" in untestable else \
        pd.Series(False, index=untestable.index)
    why = []
    if standin.any():
        why.append(f"the transfer IT is measured from a stand-in MRIO whose trade shares do not respond to "
                   f"connectivity, so a coefficient on IT reflects {scorecard.STANDIN_BUILDS_IN}, not a pair-level "
                   f"effect of connectivity")
    if (~standin).any():
        others = list(untestable.loc[~standin, "id"])
        why.append(f"{'claim' if len(others) == 1 else 'claims'} {', '.join(others)} for the reasons in the Reading")
    ids = list(untestable["id"])
    every = len(untestable) == len(sub)
    what = "the study's claims of this chapter" if every else f"claims {', '.join(ids)}"
    return (f"{lead}, and not evidence for or against {what}, which are not testable on this source ("
            + "; ".join(why) + ")")


def data_availability_values() -> dict[str, str]:
    """The data availability statement's facts on sectors (names ``intro_*``): the number of the
    book's sectors and the NBS sectors merged to reach it (:func:`sector_merges`)."""
    return {"intro_sectors": str(len(sectors.SECTOR_CODES)), "intro_sector_merges": sector_merges()}


# ----------------------------------------------------------------------------- for the notebooks (HTML objects)

def key_results_box(card: pd.DataFrame, source):
    """:func:`key_results_html` as an IPython HTML object (the introduction displays it)."""
    from IPython.display import HTML

    return HTML(key_results_html(card, source))


def reading(evidence: pd.DataFrame, section: str | None = None, only: str | None = None):
    """:func:`reading_html` as an IPython HTML object (a chapter's Reading displays it)."""
    from IPython.display import HTML

    return HTML(reading_html(evidence, section, only))


def scorecard_rows(card: pd.DataFrame, evidence: pd.DataFrame):
    """:func:`scorecard_rows_html` as an IPython HTML object (the scorecard chapter displays it)."""
    from IPython.display import HTML

    return HTML(scorecard_rows_html(card, evidence))


def measurement_claims(card: pd.DataFrame):
    """:func:`measurement_reading` as an IPython HTML object."""
    from IPython.display import HTML

    return HTML(measurement_reading(card))


def differences_html(frame: pd.DataFrame) -> str:
    """:func:`differences` as an HTML table (class ``intercity-differences``, id
    ``what-differs``): aspect, the study, this build; rows where this build differs are marked."""
    head = "".join(f"<th>{h}</th>" for h in ("aspect", "the study", "this build", "differs"))
    marked = ' class="intercity-differs"'
    body = "".join(
        f'<tr{marked if r["differs"] == "yes" else ""}>'
        + "".join(f'<td data-label="{k}">{html.escape(r[k])}</td>' for k in ("aspect", "the study", "this build", "differs"))
        + "</tr>" for r in frame.to_dict("records"))
    # the book's table classes: stacks into labelled blocks on a narrow screen (intercity.book.CSS)
    return ('<div class="intercity-table-wrap intercity-differences-wrap" id="what-differs"><table class="table '
            f'intercity-table intercity-stack intercity-differences"><thead><tr>{head}</tr></thead><tbody>{body}'
            '</tbody></table></div>')


def differences_table(params, data):
    """:func:`differences` of a build as an IPython HTML object (:func:`differences_html`)."""
    from IPython.display import HTML

    return HTML(differences_html(differences(params, data)))
