"""Build the book of one parameter set: execute the section notebooks with papermill, render the
HTML (:mod:`intercity.book`), then write ``results/<set>/``.

The pattern of cal-itp's ``portfolio``: parameters come from a YAML file, papermill injects them
into each notebook (whose first code cell is tagged ``parameters``), and the injected cell is
hidden in the book (tag ``remove-cell``). Every executed notebook is stamped with its parameter
set (name, digest of the values: :func:`intercity.book.stamp`) in its metadata, so the HTML build
can refuse a book mixing sets. Results of the run, machine-readable, go to
``results/<parameter set>/`` once the run has succeeded.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import time
from pathlib import Path
from typing import Callable

import nbformat
import papermill as pm

from intercity import params as params_mod
from intercity import book, lab, models, multiverse, paths, pipeline, scorecard

logging.getLogger("papermill").setLevel(logging.WARNING)

HIDDEN_TAGS = ("injected-parameters", "parameters")


class NotebookFailed(RuntimeError):
    """A notebook raised; the message names the notebook, the cell and the error."""


def notebooks(only: str | None = None, directory: Path | None = None) -> list[Path]:
    """The section notebooks in book order (file name order), or the one named by ``only``."""
    directory = directory or paths.NOTEBOOK_DIR
    found = sorted(directory.glob("[0-9][0-9]_*.ipynb"))
    if only is None:
        return found
    match = [p for p in found if only in (p.name, p.stem, p.stem.split("_", 1)[1])]
    if not match:
        names = ", ".join(p.stem for p in found)
        raise params_mod.ParamsError(f"--only {only!r}: no such notebook; choose one of {names}")
    return match


def notebook_parameters(p: params_mod.Params) -> dict:
    """What papermill injects: every parameter, JSON-friendly."""
    return p.to_dict()


def hide_parameter_cells(path: Path) -> None:
    """Tag the parameters and injected-parameters cells ``remove-cell`` so the book hides them."""
    nb = nbformat.read(path, as_version=4)
    for cell in nb.cells:
        tags = cell.metadata.setdefault("tags", [])
        if any(t in tags for t in HIDDEN_TAGS) and "remove-cell" not in tags:
            tags.append("remove-cell")
    nbformat.write(nb, path)


def _failure(nb_path: Path, out_path: Path, err: Exception) -> NotebookFailed:
    cell_no, first_line = "?", ""
    if out_path.is_file():
        nb = nbformat.read(out_path, as_version=4)
        code = [c for c in nb.cells if c.cell_type == "code"]
        for k, c in enumerate(code, start=1):
            if any(o.get("output_type") == "error" for o in c.get("outputs", [])):
                cell_no, first_line = str(k), c.source.strip().splitlines()[0] if c.source.strip() else ""
                break
    ename = getattr(err, "ename", type(err).__name__)
    evalue = getattr(err, "evalue", str(err))
    return NotebookFailed(f"notebook {nb_path.name} failed in code cell {cell_no} "
                          f"({first_line!r}): {ename}: {evalue}")


def write_results(study: pipeline.Study, directory: Path, log: Callable[[str], None] | None = None,
                  design_lab: bool = True, with_multiverse: bool = True) -> list[Path]:
    """Machine-readable results of the run: bundle summary, ledger, transfers, panel moments,
    estimates, scorecard, the files read with their sha256 (``inputs.csv``), the parameters,
    (``data_source: ceads``) how the user's tables were read (``ceads_report.csv``,
    :func:`intercity.sources.ceads.report_frame`),
    (``design_lab``) the design lab (``design_lab.csv``, ``design_lab_draws.csv``;
    :func:`intercity.lab.write`; its worlds cached beside the study's bundle) and
    (``with_multiverse``) the multiverse (``multiverse.parquet``: one row per claim check and
    specification; ``multiverse_claims.csv``: a summary per claim; :func:`intercity.multiverse.load`)."""
    from intercity import provenance

    directory.mkdir(parents=True, exist_ok=True)
    written = []
    estimates = pipeline.estimates(study, log=log)
    outputs = {
        "models.csv": models.compare_published(estimates),
        "models_all.csv": estimates,
        "scorecard.csv": scorecard.for_study(study, estimates),
        "bundle_summary.csv": study.data.summary(),
        "ledger.csv": study.ledger,
        "city_transfer.csv": study.city_transfer(),
        "panel_summary.csv": study.panel.describe().T.reset_index(names="variable"),
        "inputs.csv": provenance.input_files(study),
    }
    if study.source == "ceads":  # how the user's tables were read (the data step prints a line a year)
        from intercity.sources import ceads

        outputs["ceads_report.csv"] = ceads.report_frame(study.data)
    for name, frame in outputs.items():
        frame.to_csv(directory / name, index=False)
        written.append(directory / name)
    (directory / "params.json").write_text(json.dumps(study.params.to_dict(), indent=2))
    written.append(directory / "params.json")
    if design_lab:
        written += lab.write(study.params, directory, cache=study.cache.parent if study.cache else None, log=log)
    if with_multiverse:  # computed (or read from the cache) as the multiverse chapter reads it
        mv = multiverse.load(study, log=log)
        mv.rows.to_parquet(directory / "multiverse.parquet", index=False)
        multiverse.claim_summary(mv).to_csv(directory / "multiverse_claims.csv", index=False)
        written += [directory / "multiverse.parquet", directory / "multiverse_claims.csv"]
    return written


def _now() -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime())


def _merge_steps(previous: dict, st: dict, steps: list[dict]) -> dict:
    """This run's steps, then every chapter: measured by this run, or (``--only``) by an earlier run
    of the same set (same digest), marked "earlier run"."""
    chapters = {s["step"]: s for s in steps if s["step"].startswith("chapter: ")}
    if previous.get("digest") == st["digest"]:
        for s in previous.get("steps", []):
            if s["step"].startswith("chapter: ") and s["step"] not in chapters:
                chapters[s["step"]] = dict(s, note="earlier run")
    others = [s for s in steps if not s["step"].startswith("chapter: ")]
    return {"parameter_set": st["parameter_set"], "digest": st["digest"],
            "steps": others + [chapters[k] for k in sorted(chapters)]}


def execute(nb: Path, workdir: Path, p: params_mod.Params, st: dict) -> Path:
    """Execute one notebook with papermill in ``workdir`` (its figures/ and tables/ are written
    there), hide the parameter cells and stamp the result with ``st``. Returns the executed
    notebook (``workdir/<name>``); raises :class:`NotebookFailed` naming the cell."""
    workdir.mkdir(parents=True, exist_ok=True)
    target = workdir / nb.name
    try:
        # the kernel's own log (ipykernel warns on every start that its local TCP socket is not
        # encrypted) is kept to errors; a cell's errors and output reach the notebook as before
        pm.execute_notebook(str(nb), str(target), parameters=notebook_parameters(p), kernel_name="python3",
                            progress_bar=False, cwd=str(workdir), log_output=False,
                            extra_arguments=["--IPKernelApp.log_level=ERROR"])
    except Exception as err:  # papermill wraps every kernel error
        raise _failure(nb, target, err) from err
    hide_parameter_cells(target)
    executed = nbformat.read(target, as_version=4)
    executed.metadata[book.STAMP_KEY] = st
    nbformat.write(executed, target)
    return target


def _publish(workdir: Path, target_book: Path) -> None:
    """Move an executed chapter (notebook, figures/, tables/) from its work folder into the stage."""
    for sub in ("figures", "tables"):
        if (workdir / sub).is_dir():
            (target_book / sub).mkdir(parents=True, exist_ok=True)
            for f in (workdir / sub).iterdir():
                os.replace(f, target_book / sub / f.name)
    for f in workdir.glob("*.ipynb"):
        os.replace(f, target_book / f.name)
    shutil.rmtree(workdir, ignore_errors=True)


def build(params_file: str | Path, only: str | None = None, out: Path | None = None,
          results_dir: Path | None = None, notebook_dir: Path | None = None,
          log: Callable[[str], None] = print, html: bool = True, root: Path | None = None) -> list[Path]:
    """Build the book of one parameter set: validate the parameters, prepare the data and the
    models, execute the notebooks (all, or ``only`` one) into the set's stage, render the HTML
    book (:func:`intercity.book.render`) and, once all of that succeeded, write ``results/<set>/``.

    ``out``: the set's book folder (default ``_build/<set>``; the set "default" is also copied to
    ``_build/html``). ``root``: the project whose ``_config.yml``, ``_toc.yml`` and ``book/`` are
    staged (default: this checkout). Each chapter runs in ``out/running/<chapter>`` and reaches the stage only if
    it succeeds; a failed chapter is moved to ``out/failed/<chapter>`` and its staged copy removed,
    so it never reaches the rendered book. Returns the staged notebooks executed by this run.
    Raises :class:`NotebookFailed`, :class:`intercity.book.BookError` or
    :class:`intercity.params.ParamsError`, each with one line.
    """
    p = params_mod.load(params_file)
    st = book.stamp(p)
    default_out = out is None
    out = Path(out) if out is not None else book.book_dir(p.name)
    results_dir = Path(results_dir or paths.RESULTS_DIR / p.name)
    notebook_dir = Path(notebook_dir or paths.NOTEBOOK_DIR)
    selected = notebooks(only, notebook_dir)
    stage = out / "stage"
    book.stage_sources(stage, root=root, notebook_dir=notebook_dir)
    log(f"parameters {params_file}: set {p.name} (digest {st['digest']}), data_source={p.data_source} "
        f"scale={p.scale} seed={p.seed}")
    steps: list[dict] = []
    notes: list[str] = []

    def hear(line: str) -> None:
        notes.append(line)
        log(line)

    t0 = time.perf_counter()
    study = pipeline.study(p, log=hear)
    if study.source == "ceads":  # how the user's tables were read, one line a year
        from intercity.sources import ceads

        for line in ceads.data_step_lines(study.data, p.name):
            log(line)
    from_cache = any("read from the cache" in n for n in notes)
    for k, v in study.timings.items():
        steps.append({"step": f"data: {k}", "seconds": round(v, 2),
                      "note": "bundle read from the cache" if k == "bundle" and from_cache else "", "measured": _now()})
    log(f"data ready in {time.perf_counter() - t0:.1f} s ({study.source}: {len(study.data.cities)} "
        f"cities, {len(study.panel):,} panel rows)")
    cached = study.cache is not None and (study.cache / f"models-{pipeline.models_key(study)}.parquet").is_file()
    t1 = time.perf_counter()
    est = pipeline.estimates(study, log=log)
    steps.append({"step": "models: every specification", "seconds": round(time.perf_counter() - t1, 2),
                  "note": f"{len(est)} specifications" + (", read from the cache" if cached else ", estimated"),
                  "measured": _now()})
    # the design lab's worlds (its chapter reads them; ``--only`` another chapter skips them)
    design_lab = any(nb.stem.endswith("design_lab") for nb in selected)
    if design_lab:
        t1 = time.perf_counter()
        draws = lab.sweep(p, cache=study.cache.parent if study.cache else None, log=log)
        steps.append({"step": "design lab: synthetic worlds", "seconds": round(time.perf_counter() - t1, 2),
                      "note": f"{draws['draw_key'].nunique()} worlds of {p.lab.n_cities} cities "
                              f"(each cached once computed)", "measured": _now()})
    # the multiverse (its chapter reads it; ``--only`` another chapter skips it)
    with_multiverse = any(nb.stem.endswith("multiverse") for nb in selected)
    if with_multiverse:
        t1 = time.perf_counter()
        mres = multiverse.load(study, log=log)
        steps.append({"step": "multiverse: every specification", "seconds": round(time.perf_counter() - t1, 2),
                      "note": f"{mres.meta['specifications']:,} specifications, {mres.meta['models']:,} models over "
                              f"{', '.join(mres.meta['sources'])} (cached once computed)", "measured": _now()})
    done = []
    for k, nb in enumerate(selected, start=1):
        workdir = out / "running" / nb.stem
        shutil.rmtree(workdir, ignore_errors=True)
        t2 = time.perf_counter()
        log(f"[{k}/{len(selected)}] {nb.name} ...")
        try:
            execute(nb, workdir, p, st)
        except NotebookFailed as err:
            failed = out / "failed" / nb.stem
            shutil.rmtree(failed, ignore_errors=True)
            failed.parent.mkdir(parents=True, exist_ok=True)
            if workdir.is_dir():
                os.replace(workdir, failed)
            (stage / "book" / nb.name).unlink(missing_ok=True)
            raise NotebookFailed(f"{err} (the failed notebook is in {failed}; it is not in the book)") from err
        _publish(workdir, stage / "book")
        seconds = time.perf_counter() - t2
        steps.append({"step": f"chapter: {nb.stem}", "seconds": round(seconds, 2), "note": "", "measured": _now()})
        log(f"[{k}/{len(selected)}] {nb.name} done in {seconds:.1f} s")
        done.append(stage / "book" / nb.name)
    shutil.rmtree(out / "running", ignore_errors=True)
    previous = json.loads((stage / "run.json").read_text()) if (stage / "run.json").is_file() else {}
    run = _merge_steps(previous, st, steps)
    (stage / "run.json").write_text(json.dumps(run, indent=2))
    if html:
        html_dir = book.render(out, expect=st, log=log)
        if default_out and p.name == "default":
            top = paths.PROJECT_ROOT / "_build" / "html"
            shutil.rmtree(top, ignore_errors=True)
            shutil.copytree(html_dir, top)
            log(f"the default book is also in {top}")
    write_results(study, results_dir, log=log, design_lab=design_lab, with_multiverse=with_multiverse)
    results_dir.joinpath("timings.json").write_text(json.dumps(run, indent=2))
    if html:
        for name in ("page-sizes", "run-timings"):
            f = out / "html" / "book" / "tables" / f"{name}.csv"
            if f.is_file():
                shutil.copyfile(f, results_dir / f"{name.replace('-', '_')}.csv")
    log(f"results written to {results_dir}")
    return done


def main_build(params_file: str, only: str | None, out: str | None, html: bool = True) -> int:
    """The ``build`` command; errors reach the user as one line (see :func:`intercity.cli.main`)."""
    build(params_file, only, Path(out) if out else None, html=html)
    return 0


def main_html(params_file: str, out: str | None) -> int:
    """The ``html`` command: render the staged chapters of a set (refused if they mix sets)."""
    p = params_mod.load(params_file)
    target = Path(out) if out else book.book_dir(p.name)
    html_dir = book.render(target, expect=book.stamp(p))
    if out is None and p.name == "default":
        top = paths.PROJECT_ROOT / "_build" / "html"
        shutil.rmtree(top, ignore_errors=True)
        shutil.copytree(html_dir, top)
    return 0
