"""The whole pipeline at ci scale: every chapter executed by the runner and stamped with its
parameter set, validated by nbval, rendered into ``_build/ci/html`` with warnings as errors,
loading nothing from another host; one parameter set per book; light pages; every table
downloadable; a failed chapter never reaches the book."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pandas as pd
import pytest
import yaml

from intercity import book, figures, params, paths, runner, tables

pytestmark = pytest.mark.slow
# Fixtures (conftest.py): `ci_book` (_build/ci, built by the runner), `staged` (its stage/),
# `html_root` (its html/).

CHAPTERS = sorted(p.stem for p in paths.NOTEBOOK_DIR.glob("[0-9][0-9]_*.ipynb"))


def _pages(html_root: Path) -> dict[str, str]:
    """Every page of the built book (not the theme's templates in _static)."""
    return {f.relative_to(html_root).as_posix(): f.read_text(encoding="utf-8") for f in html_root.rglob("*.html")
            if "_static" not in f.relative_to(html_root).parts}


# ----------------------------------------------------------------------------- executed and stamped

def test_every_notebook_executed_stamped_and_with_hidden_parameters(staged, ci_params):
    built = sorted(p.stem for p in (staged / "book").glob("*.ipynb"))
    assert built == CHAPTERS and len(CHAPTERS) >= 6
    want = book.stamp(ci_params)
    for f in (staged / "book").glob("*.ipynb"):
        nb = nbformat.read(f, as_version=4)
        st = nb.metadata[book.STAMP_KEY]
        assert (st["parameter_set"], st["digest"]) == ("ci", want["digest"]) and st["values"] == want["values"]
        injected = [c for c in nb.cells if "injected-parameters" in c.metadata.get("tags", [])]
        assert len(injected) == 1 and "remove-cell" in injected[0].metadata["tags"]
        assert "scale = 0.15" in injected[0].source
        errors = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])
                  if o.get("output_type") == "error"]
        assert not errors, f.name


def test_no_chapter_prints_to_stderr(staged):
    """A warning or log line leaking into a chapter shows as a red block wider than the page (the
    multiverse chapter printed 22 matplotlib UserWarnings): no executed chapter has a stderr stream."""
    leaks = {}
    for f in sorted((staged / "book").glob("*.ipynb")):
        nb = nbformat.read(f, as_version=4)
        text = [o.get("text", "")[:200] for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])
                if o.get("output_type") == "stream" and o.get("name") == "stderr"]
        if text:
            leaks[f.name] = text[:3]
    assert not leaks, f"chapters printing to stderr: {leaks}"


def test_source_notebooks_are_committed_without_outputs_and_set_up_in_one_line():
    for f in paths.NOTEBOOK_DIR.glob("*.ipynb"):
        nb = nbformat.read(f, as_version=4)
        code = [c for c in nb.cells if c.cell_type == "code"]
        assert "parameters" in code[0].metadata.get("tags", []), f.name
        assert all(not c.get("outputs") and c.get("execution_count") is None for c in code), f.name
        setup = [ln for ln in code[1].source.splitlines() if ln.strip()]
        assert setup[-1] == "P, S = report.setup(globals())" and len(setup) == 2, f"{f.name}: {setup}"


def test_nbval_reproduces_the_executed_notebooks(staged, tmp_path):
    nbs = sorted(str(p) for p in (staged / "book").glob("*.ipynb"))
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--nbval", *nbs,
         "--nbval-sanitize-with", str(Path(__file__).with_name("nbval_sanitize.cfg"))],
        capture_output=True, text=True, cwd=tmp_path, timeout=900)
    assert run.returncode == 0, run.stdout[-6000:] + run.stderr[-2000:]


# ----------------------------------------------------------------------------- the rendered book

def test_book_is_rendered_offline_into_its_own_folder(ci_book, html_root):
    assert (html_root / "index.html").is_file() and (ci_book / "stage" / "run.json").is_file()
    for stem in CHAPTERS + list(book.GENERATED):
        assert (html_root / "book" / f"{stem}.html").is_file(), stem
    remote = re.compile(r"<(?:script|link|img|iframe)\b[^>]*\b(?:src|href)=[\"'](?:https?:)?//", re.I)
    offenders = [name for name, text in _pages(html_root).items() if remote.search(text)]
    assert not offenders, f"pages loading from another host: {offenders}"
    page = (html_root / "book" / "01_background.html").read_text(encoding="utf-8")
    assert "Plotly.newPlot" in page and "Built on" in page
    assert "data_source = " not in page  # parameter cells are hidden


def test_plotly_js_is_loaded_only_by_pages_that_draw_a_plotly_figure(html_root):
    pages = _pages(html_root)
    drawing = {n for n, t in pages.items() if "Plotly.newPlot" in t}
    loading = {n for n, t in pages.items() if re.search(r"<script[^>]+src=\"[^\"]*plotly\.min\.js", t)}
    assert drawing and drawing == loading, (sorted(drawing), sorted(loading))
    assert {f"book/{f.notebook}.html" for f in figures.FIGURES} == drawing
    assert (html_root / "_static" / "plotly.min.js").stat().st_size > 1_000_000


def test_every_banner_links_the_parameter_table_of_its_set(html_root, ci_params):
    digest = book.stamp(ci_params)["digest"]
    for stem in CHAPTERS:
        page = (html_root / "book" / f"{stem}.html").read_text(encoding="utf-8")
        assert 'href="parameters.html"' in page and digest in page, stem
    params_page = (html_root / "book" / "parameters.html").read_text(encoding="utf-8")
    for words in ("distance_tiers_km", "0-200 km", "2012-2015", "money_unit", "10k yuan", "cluster", "pair",
                  "seed", "20121517", digest):
        assert words in params_page, words


def test_every_local_link_and_image_of_the_book_resolves(html_root):
    ref = re.compile(r"""<(?:a|img|script|link)\b[^>]*?\b(?:href|src)="([^"#?]+)[^"]*\"""", re.I)
    broken = []
    for name, text in _pages(html_root).items():
        for url in ref.findall(text):
            if re.match(r"^([a-z]+:|//)", url, re.I):
                continue
            if not (html_root / name).parent.joinpath(url).resolve().is_file():
                broken.append(f"{name} -> {url}")
    assert not broken, broken[:20]


def test_every_link_to_a_claim_of_the_scorecard_finds_its_row(html_root):
    """The Readings and the key-results box link claims to their rows in the scorecard chapter;
    each chapter with claims links every one of its claims."""
    from intercity import narrative, scorecard

    pages = _pages(html_root)
    card = pages["book/08_scorecard.html"]
    anchors = set(re.findall(r'id="(claim-[a-z0-9]+)"', card))
    assert anchors == {narrative.claim_anchor(c.id) for c in scorecard.CLAIMS}
    linked = {}
    for name, text in pages.items():
        for page, anchor in re.findall(r'href="((?:\.\./book/|)08_scorecard\.html)#(claim-[a-z0-9]+)"', text):
            assert anchor in anchors, f"{name} -> {anchor}"
            linked.setdefault(name, set()).add(anchor)
    for section, page in narrative.SECTION_PAGES.items():
        want = {narrative.claim_anchor(c.id) for c in scorecard.CLAIMS if c.section == section}
        assert want <= linked.get(f"book/{page}", set()), page
    assert linked["book/00_intro.html"] == anchors


def test_every_table_has_its_csv_beside_its_page_and_a_link_to_it(html_root):
    for t in tables.TABLES:
        page = (html_root / "book" / f"{t.page}.html").read_text(encoding="utf-8")
        assert f'id="{t.id}"' in page, f"{t.id}: no element with this id on {t.page}"
        csv = html_root / "book" / tables.csv_name(t.id)
        assert csv.is_file(), t.id
        assert f'href="{tables.csv_name(t.id)}" download' in page, f"{t.id}: no link to its CSV"
        assert len(pd.read_csv(csv)) >= 1, t.id
    # every table a page shows is a registered one
    shown = set()
    for text in _pages(html_root).values():
        shown |= set(re.findall(r'<div class="intercity-table-wrap" id="([^"]+)"', text))
    assert shown <= set(tables.TABLE_BY_ID), shown - set(tables.TABLE_BY_ID)


def test_static_images_are_one_file_each_linked_and_shown_in_print_only(html_root):
    for f in figures.FIGURES:
        page = (html_root / "book" / f"{f.notebook}.html").read_text(encoding="utf-8")
        png = f"figures/{f.id}.png"
        assert re.search(rf'<img class="intercity-static" src="{png}"[^>]*loading="lazy"', page), f.id
        assert f'<a href="{png}" download>' in page, f.id
        assert (html_root / "book" / png).is_file()
    copies = [p for p in html_root.rglob("*.png") if p.parent.name != "figures" and p.stem in figures.FIGURE_BY_ID]
    assert not copies, f"second copies of the static images: {copies}"


def test_pages_stay_light_and_the_reproducibility_page_states_their_size(html_root, staged):
    sizes = book.page_sizes(html_root, book.toc_docs(staged), book.map_pages())
    assert len(sizes) == len(book.toc_docs(staged))
    heavy = sizes[sizes["within limit"] != "yes"]
    assert heavy.empty, heavy.to_string()
    for r in sizes.itertuples():
        limit = book.MAP_PAGE_LIMIT if r.maps == "yes" else book.PAGE_LIMIT
        assert (html_root / r.page).stat().st_size <= limit, r.page
    measurement = (html_root / "book" / "02_measurement.html").stat().st_size
    assert measurement < 200 * 1024  # the binned histogram (was 1.8 MB of raw values at full scale)
    repro = (html_root / "book" / "07_reproducibility.html").read_text(encoding="utf-8")
    stated = pd.read_csv(html_root / "book" / "tables" / "page-sizes.csv")
    assert set(stated["page"]) == set(sizes["page"])
    for r in stated.itertuples():  # every page named on the page with its size, as measured now
        assert re.search(rf"<td[^>]*>{re.escape(r.page)}</td>", repro), r.page  # cells carry data-label
        assert abs(r._2 - (html_root / r.page).stat().st_size / 1024) < 0.1, r.page
    assert "<!--postbuild:page-sizes--><p><em>" not in repro and "<!--postbuild:run-timings--><p><em>" not in repro


def test_reproducibility_page_times_every_step_of_its_own_run(html_root):
    timings = pd.read_csv(html_root / "book" / "tables" / "run-timings.csv")
    steps = set(timings["step"])
    assert {"data: bundle", "data: measurement", "data: panel", "models: every specification",
            "HTML build (Sphinx, this book)", "total"} <= steps
    assert {f"chapter: {c}" for c in CHAPTERS} <= steps
    assert timings["seconds"].iloc[-1] == pytest.approx(timings["seconds"].iloc[:-1].sum(), abs=0.05)
    repro = (html_root / "book" / "07_reproducibility.html").read_text(encoding="utf-8")
    assert "chapter: 09_figure_index" in repro and "git commit" in repro and "sha256" in repro


def test_results_are_written_by_the_run(ci_book):
    res = paths.RESULTS_DIR / "ci"
    for name in ("models.csv", "scorecard.csv", "inputs.csv", "timings.json", "page_sizes.csv", "params.json"):
        assert (res / name).is_file(), name
    inputs = pd.read_csv(res / "inputs.csv")
    assert "data/reference/published_tables.csv" in set(inputs["file"])
    assert inputs["sha256"].str.fullmatch(r"[0-9a-f]{64}").all()


# ----------------------------------------------------------------------------- one set per book

def test_a_stage_mixing_parameter_sets_is_refused_naming_the_chapters(staged, tmp_path):
    stage = tmp_path / "stage"
    shutil.copytree(staged, stage, ignore=shutil.ignore_patterns("figures", "tables"))
    nb_file = stage / "book" / "03_baseline.ipynb"
    nb = json.loads(nb_file.read_text())
    nb["metadata"][book.STAMP_KEY].update(digest="0123456789abcdef")
    nb_file.write_text(json.dumps(nb))
    with pytest.raises(book.BookError) as err:
        book.check_stage(stage)
    msg = str(err.value)
    assert "\n" not in msg and "different parameter sets" in msg
    assert "digest 0123456789abcdef): 03_baseline;" in msg and "00_intro" in msg and "09_figure_index" in msg
    (stage / "book" / "05_mechanism.ipynb").unlink()
    with pytest.raises(book.BookError, match="05_mechanism not executed"):
        book.check_stage(stage)


def _tiny_project(root: Path) -> Path:
    """A project with two chapters that need nothing but the parameters (fast to build)."""
    (root / "book").mkdir(parents=True)
    (root / "notebooks").mkdir()
    shutil.copy(paths.PROJECT_ROOT / "_config.yml", root / "_config.yml")
    shutil.copy(paths.BOOK_DIR / "references.bib", root / "book" / "references.bib")
    (root / "_toc.yml").write_text(yaml.safe_dump({
        "format": "jb-book", "root": "book/01_first",
        "chapters": [{"file": f"book/{d}"} for d in ("02_second", "parameters", "glossary", "table_index")]}))
    for stem, title in (("01_first", "First"), ("02_second", "Second")):
        nb = nbformat.v4.new_notebook(cells=[
            nbformat.v4.new_markdown_cell(f"# {title}"),
            nbformat.v4.new_code_cell("cluster = 'pair'", metadata={"tags": ["parameters"]}),
            nbformat.v4.new_code_cell("print(cluster)"),
        ])
        nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
        nbformat.write(nb, root / "notebooks" / f"{stem}.ipynb")
    return root


def test_two_sets_make_two_complete_books_and_only_then_html_keeps_one_set(tmp_path):
    root = _tiny_project(tmp_path / "project")
    ci = yaml.safe_load((paths.PARAMS_DIR / "ci.yaml").read_text())
    files = {}
    for name, extra in (("one", {}), ("two", {}), ("one-changed", {"cluster": "twoway", "name": "one"})):
        files[name] = tmp_path / f"{name}.yaml"
        files[name].write_text(yaml.safe_dump({**ci, **extra}))
    kw = dict(notebook_dir=root / "notebooks", root=root, log=lambda _m: None)

    def out(name):
        return root / "_build" / name

    for name in ("one", "two"):
        runner.build(files[name], out=out(name), results_dir=tmp_path / "results" / name, **kw)
    for name in ("one", "two"):  # building "two" after "one" left both books complete
        html = out(name) / "html" / "book"
        assert {p.stem for p in html.glob("*.html")} == {"01_first", "02_second", *book.GENERATED}
        assert f"Parameters of this book (set {name})" in (html / "parameters.html").read_text(encoding="utf-8")
    # set "one" with another value, one chapter only: the HTML build stops, naming each set's chapters
    before = (out("one") / "html" / "book" / "02_second.html").read_bytes()
    with pytest.raises(book.BookError) as err:
        runner.build(files["one-changed"], only="02_second", out=out("one"), results_dir=tmp_path / "r", **kw)
    old, new = book.stamp(params.load(files["one"]))["digest"], book.stamp(params.load(files["one-changed"]))["digest"]
    msg = str(err.value)
    assert f"set one (digest {old}): 01_first" in msg and f"set one (digest {new}): 02_second" in msg
    assert "\n" not in msg and not (tmp_path / "r").exists()  # results only after a successful run
    assert (out("one") / "html" / "book" / "02_second.html").read_bytes() == before
    # the same from the command line: one line on stderr, exit status 2
    run = subprocess.run([sys.executable, "-m", "intercity", "html", "--params", str(files["one-changed"]),
                          "--out", str(out("one"))], capture_output=True, text=True, timeout=300)
    assert run.returncode == 2 and run.stderr.count("\n") == 1 and "01_first" in run.stderr, run.stderr
    # rebuilding the first chapter with the new values makes the set consistent again
    runner.build(files["one-changed"], only="01_first", out=out("one"), results_dir=tmp_path / "r", **kw)
    assert (tmp_path / "r" / "timings.json").is_file()


def test_failing_notebook_is_named_with_its_cell_and_never_reaches_the_book(tmp_path):
    nb = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_code_cell("x = 1", metadata={"tags": ["parameters"]}),
        nbformat.v4.new_code_cell("y = 2"),
        nbformat.v4.new_code_cell("raise ValueError('broken on purpose')"),
    ])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    (tmp_path / "nbs").mkdir()
    nbformat.write(nb, tmp_path / "nbs" / "01_broken.ipynb")
    out = tmp_path / "out"
    (out / "stage" / "book").mkdir(parents=True)
    (out / "stage" / "book" / "01_broken.ipynb").write_text("{}")  # a stale copy from an earlier run
    with pytest.raises(runner.NotebookFailed) as err:
        runner.build(paths.PARAMS_DIR / "ci.yaml", out=out, results_dir=tmp_path / "res",
                     notebook_dir=tmp_path / "nbs", log=lambda _m: None)
    msg = str(err.value)
    assert "01_broken.ipynb" in msg and "code cell 4" in msg and "broken on purpose" in msg
    assert not (out / "stage" / "book" / "01_broken.ipynb").exists()
    assert (out / "failed" / "01_broken" / "01_broken.ipynb").is_file()
    assert not (tmp_path / "res").exists()
