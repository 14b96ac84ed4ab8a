"""Read the rows of a MySQL dump (``mysqldump`` / Navicat text) without a database server.

Only what a data dump needs: each ``CREATE TABLE `t` (...)`` names the table's columns (the lines
that start with a back-quoted name, in order), and each ``INSERT INTO `t` [(cols)] VALUES (...),
(...);`` statement gives rows. Values are single-quoted strings (MySQL escapes ``\\'``, ``\\\\``,
``\\n``, ``\\t``, ``\\r``, ``\\0``, ``\\Z`` and a doubled quote ``''``), bare numbers, or ``NULL``
(read as None). Every value is returned as written (a string), so the caller decides the types.

A statement is expected on one line (as both tools write them). A row that cannot be read (an
unterminated string, a missing bracket, a value that is neither quoted, a number nor NULL, or a
field count that differs from the table's columns) is not guessed at: it is returned in the
``problems`` list naming the file and the line, and the caller puts it in its ledger.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

_CREATE = re.compile(r"^\s*CREATE TABLE\s+`([^`]+)`\s*\(", re.IGNORECASE)
_COLUMN = re.compile(r"^\s*`([^`]+)`\s+\w+")
_INSERT = re.compile(r"^\s*INSERT INTO\s+`([^`]+)`\s*(\(([^)]*)\))?\s*VALUES\s*", re.IGNORECASE)
_BARE = re.compile(r"-?\d+(\.\d+)?([eE][-+]?\d+)?|NULL", re.IGNORECASE)
_ESCAPES = {"0": "\0", "n": "\n", "r": "\r", "t": "\t", "Z": "\x1a", "b": "\b"}


@dataclass
class Dump:
    """What :func:`read_dump` found: ``columns[table]`` (names in order), ``rows[table]`` (lists of
    ``(line number, {column: value})``) and ``problems`` (one message per unreadable row)."""

    path: Path
    columns: dict[str, list[str]] = field(default_factory=dict)
    rows: dict[str, list[tuple[int, dict[str, str | None]]]] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)

    def table(self, name: str) -> list[tuple[int, dict[str, str | None]]]:
        """The rows of one table; ValueError naming the file when the dump has no such table."""
        if name not in self.rows and name not in self.columns:
            raise ValueError(f"{self.path}: no table `{name}` in the dump (tables: {sorted(self.columns)})")
        return self.rows.get(name, [])


class _Bad(ValueError):
    pass


def _string(text: str, k: int) -> tuple[str, int]:
    """The quoted string starting at ``text[k] == "'"``; returns (value, index after the quote)."""
    out, k = [], k + 1
    while k < len(text):
        ch = text[k]
        if ch == "\\":
            if k + 1 >= len(text):
                break
            nxt = text[k + 1]
            out.append(_ESCAPES.get(nxt, nxt))
            k += 2
        elif ch == "'":
            if k + 1 < len(text) and text[k + 1] == "'":
                out.append("'")
                k += 2
            else:
                return "".join(out), k + 1
        else:
            out.append(ch)
            k += 1
    raise _Bad("unterminated string")


def parse_values(text: str) -> list[list[str | None]]:
    """The tuples of a ``VALUES`` list: ``"('1', 'a'), (2, NULL);"`` -> ``[['1', 'a'], ['2', None]]``.

    Raises ValueError (with what is wrong) on anything else."""
    rows: list[list[str | None]] = []
    k, n = 0, len(text)

    def skip(k: int) -> int:
        while k < n and text[k] in " \t\r\n":
            k += 1
        return k

    k = skip(k)
    while True:
        if k >= n or text[k] != "(":
            raise _Bad(f"expected '(' at character {k + 1}")
        k = skip(k + 1)
        row: list[str | None] = []
        while True:
            if k < n and text[k] == "'":
                value, k = _string(text, k)
                row.append(value)
            else:
                m = _BARE.match(text, k)
                if not m:
                    raise _Bad(f"unreadable value at character {k + 1}: {text[k:k + 15]!r}")
                row.append(None if m.group(0).upper() == "NULL" else m.group(0))
                k = m.end()
            k = skip(k)
            if k < n and text[k] == ",":
                k = skip(k + 1)
                continue
            if k < n and text[k] == ")":
                k = skip(k + 1)
                break
            raise _Bad(f"expected ',' or ')' at character {k + 1}")
        rows.append(row)
        if k < n and text[k] == ",":
            k = skip(k + 1)
            continue
        if k < n and text[k] == ";" and not text[k + 1:].strip():
            return rows
        raise _Bad(f"expected ',' or ';' at character {k + 1}")


def read_dump(path: Path | str, encoding: str = "utf-8") -> Dump:
    """Columns and rows of every table of a MySQL dump at ``path`` (see the module notes).

    Raises ValueError naming the file when it cannot be decoded; unreadable rows are reported in
    ``Dump.problems`` as ``"<file> line <n>: <what is wrong>: <text>"``, never dropped silently."""
    path = Path(path)
    try:
        lines = path.read_text(encoding=encoding).splitlines()
    except UnicodeDecodeError as err:
        raise ValueError(f"{path}: not {encoding} text ({err.reason} at byte {err.start})") from err
    dump = Dump(path)
    table: str | None = None
    for no, line in enumerate(lines, start=1):
        m = _CREATE.match(line)
        if m:
            table = m.group(1)
            dump.columns[table] = []
            continue
        if table is not None:
            if line.lstrip().startswith(")"):
                table = None
                continue
            c = _COLUMN.match(line)
            if c:
                dump.columns[table].append(c.group(1))
            continue
        m = _INSERT.match(line)
        if not m:
            continue
        name = m.group(1)
        cols = ([c.strip().strip("`") for c in m.group(3).split(",")] if m.group(3)
                else dump.columns.get(name))
        snippet = line.strip()[:120]
        try:
            tuples = parse_values(line[m.end():])
        except _Bad as err:
            dump.problems.append(f"{path.name} line {no}: {err}: {snippet}")
            continue
        for values in tuples:
            if cols is None:
                dump.problems.append(f"{path.name} line {no}: table `{name}` has no CREATE TABLE before "
                                     f"its rows: {snippet}")
                break
            if len(values) != len(cols):
                dump.problems.append(f"{path.name} line {no}: {len(values)} values for the {len(cols)} "
                                     f"columns of `{name}`: {snippet}")
                continue
            dump.rows.setdefault(name, []).append((no, dict(zip(cols, values))))
    return dump
