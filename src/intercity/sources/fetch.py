"""Fetch the public input files listed in ``data/manifest.csv``, each sha256-verified.

Every manifest row names a file by its path relative to the data mirror (``baidu_index/...``,
``rail/...``), the original public URL, the sha256 of the file *as stored in the mirror* and the
transformation that turns the original into that file (``none``, ``gzip``, ``gbk->utf8``,
``rda->csv``, ``transcribed``). :func:`fetch` copies each file from a mirror folder when one is
given (argument or ``INTERCITY_DATA_MIRROR``) or found beside the checkout (``../shared/data``),
else downloads the original and applies the transformation; either way the result must match
the manifest's sha256, or :class:`FetchError` names the file and both hashes. Files already in
place with the right hash are left alone (idempotent). Only this step touches the network.
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import io
import os
import shutil
import tempfile
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from intercity import paths

MANIFEST = paths.PROJECT_ROOT / "data" / "manifest.csv"
RAW_DIR = paths.PROJECT_ROOT / "data" / "raw"
MANIFEST_COLUMNS = ("path", "url", "sha256", "licence", "citation", "variables", "transform")
TRANSFORMS = ("none", "gzip", "gbk->utf8", "rda->csv", "transcribed")
ENV_MIRROR = "INTERCITY_DATA_MIRROR"


class FetchError(RuntimeError):
    """A file could not be fetched or failed its checksum; the message names the file."""


@dataclass(frozen=True)
class Entry:
    """One manifest row."""

    path: str
    url: str
    sha256: str
    licence: str
    citation: str
    variables: str
    transform: str


def read_manifest(path: Path | str = MANIFEST) -> list[Entry]:
    """Parse the manifest; raise :class:`FetchError` naming the row on a malformed entry."""
    path = Path(path)
    if not path.is_file():
        raise FetchError(f"data manifest not found: {path}")
    with path.open(encoding="utf-8", newline="") as fh:
        reader = csv.DictReader(fh)
        missing = [c for c in MANIFEST_COLUMNS if c not in (reader.fieldnames or [])]
        if missing:
            raise FetchError(f"{path}: missing column(s) {missing}")
        out = []
        for k, row in enumerate(reader, start=2):
            e = Entry(**{c: (row[c] or "").strip() for c in MANIFEST_COLUMNS})
            if e.transform not in TRANSFORMS:
                raise FetchError(f"{path} line {k} ({e.path}): transform {e.transform!r} not in {TRANSFORMS}")
            if len(e.sha256) != 64 or any(ch not in "0123456789abcdef" for ch in e.sha256):
                raise FetchError(f"{path} line {k} ({e.path}): sha256 {e.sha256!r} is not 64 hex digits")
            if not e.path or Path(e.path).is_absolute() or ".." in Path(e.path).parts:
                raise FetchError(f"{path} line {k}: path {e.path!r} must be relative inside the mirror")
            out.append(e)
    return out


def sha256_of(path: Path) -> str:
    """Hex sha256 of a file's bytes."""
    h = hashlib.sha256()
    with Path(path).open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def default_mirror() -> Path | None:
    """``$INTERCITY_DATA_MIRROR`` if set, else ``<project root>/../shared/data`` if it exists."""
    env = os.environ.get(ENV_MIRROR)
    if env:
        return Path(env)
    cand = paths.PROJECT_ROOT.parent / "shared" / "data"
    return cand if cand.is_dir() else None


def verify(path: Path, entry: Entry) -> None:
    """Raise :class:`FetchError` naming the file and both hashes unless ``path`` matches."""
    got = sha256_of(path)
    if got != entry.sha256:
        raise FetchError(f"checksum mismatch for {entry.path} ({path}): expected sha256 "
                         f"{entry.sha256}, got {got}")


def transform_bytes(raw: bytes, transform: str, name: str) -> bytes:
    """Turn an original file's bytes into the mirror's form (see module docstring)."""
    if transform == "none":
        return raw
    if transform == "gzip":  # deterministic: no file name, mtime 0
        buf = io.BytesIO()
        with gzip.GzipFile(filename="", mode="wb", fileobj=buf, mtime=0) as gz:
            gz.write(raw)
        return buf.getvalue()
    if transform == "gbk->utf8":
        return raw.decode("gbk").encode("utf-8")
    if transform == "rda->csv":
        try:
            import pyreadr  # optional: only a download without mirror needs it
        except ImportError as exc:
            raise FetchError(f"{name}: converting the original .rda needs the 'pyreadr' package "
                             "(pip install pyreadr), or use a data mirror") from exc
        with tempfile.TemporaryDirectory() as tmp:
            src = Path(tmp) / "in.rda"
            src.write_bytes(raw)
            frames = pyreadr.read_r(str(src))
            if len(frames) != 1:
                raise FetchError(f"{name}: expected one table in the .rda, found {list(frames)}")
            frame = next(iter(frames.values()))
            return frame.to_csv(index=False).encode("utf-8")
    raise FetchError(f"{name}: transform {transform!r} cannot be applied to a download "
                     "(the file was transcribed by hand); use a data mirror")


def _download(url: str, name: str, timeout: float = 60.0) -> bytes:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as resp:  # noqa: S310 (https only)
            return resp.read()
    except OSError as exc:
        raise FetchError(f"{name}: download of {url} failed: {exc}") from exc


def fetch_one(entry: Entry, dest_dir: Path, mirror: Path | None) -> str:
    """Put one file in place; return what was done: 'verified', 'copied' or 'downloaded'."""
    target = dest_dir / entry.path
    if target.is_file() and sha256_of(target) == entry.sha256:
        return "verified"
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(target.name + ".part")
    if mirror is not None:
        src = mirror / entry.path
        if not src.is_file():
            raise FetchError(f"{entry.path}: not found in the data mirror {mirror}")
        verify(src, entry)
        shutil.copyfile(src, tmp)
        how = "copied"
    else:
        if not entry.url.startswith("https://"):
            raise FetchError(f"{entry.path}: url {entry.url!r} is not https")
        tmp.write_bytes(transform_bytes(_download(entry.url, entry.path), entry.transform, entry.path))
        how = "downloaded"
    try:
        verify(tmp, entry)
    except FetchError:
        tmp.unlink(missing_ok=True)
        raise
    tmp.replace(target)
    return how


def fetch(dest_dir: Path | str | None = None, mirror: Path | str | None = None,
          manifest: Path | str = MANIFEST, allow_download: bool = True) -> dict[str, str]:
    """Fetch every manifest file into ``dest_dir`` (default ``data/raw``); return path -> action.

    ``mirror`` defaults to :func:`default_mirror`. Without a mirror, files are downloaded unless
    ``allow_download`` is False (then a missing file raises :class:`FetchError`).
    """
    dest = Path(dest_dir) if dest_dir is not None else RAW_DIR
    src = Path(mirror) if mirror is not None else default_mirror()
    if src is not None and not src.is_dir():
        raise FetchError(f"data mirror {src} is not a directory")
    entries = read_manifest(manifest)
    done = {}
    for e in entries:
        if src is None and not allow_download:
            target = dest / e.path
            if not (target.is_file() and sha256_of(target) == e.sha256):
                raise FetchError(f"{e.path}: not in {dest} and downloads are disabled")
        done[e.path] = fetch_one(e, dest, src)
    return done


def raw_path(relpath: str, raw_dir: Path | str | None = None) -> Path:
    """Where a manifest file lives: ``raw_dir`` (default data/raw, then the mirror); must exist."""
    cands = [Path(raw_dir)] if raw_dir is not None else [RAW_DIR] + ([default_mirror()] if default_mirror() else [])
    for d in cands:
        if (d / relpath).is_file():
            return d / relpath
    raise FetchError(f"input file {relpath} not found in {[str(c) for c in cands]}; "
                     "run `python -m intercity data fetch` first")
