"""Split a SQL file into statements, so a failing migration can name the statement that failed."""

from __future__ import annotations

import re
from dataclasses import dataclass

_DOLLAR = re.compile(r"\$([A-Za-z_][A-Za-z0-9_]*)?\$")


@dataclass(frozen=True)
class Statement:
    line: int  # 1-based line of the statement's first non-blank character
    text: str

    @property
    def summary(self) -> str:
        first = next((ln.strip() for ln in self.text.splitlines() if ln.strip() and not ln.strip().startswith("--")),
                     "")
        return first if len(first) <= 100 else first[:97] + "..."


def split_statements(sql: str) -> list[Statement]:
    """Statements separated by ';' outside quotes, dollar quotes and comments; empty ones dropped."""
    statements: list[Statement] = []
    start = i = 0
    n = len(sql)
    while i < n:
        c = sql[i]
        if sql.startswith("--", i):
            i = _after(sql, "\n", i)
        elif sql.startswith("/*", i):
            i = _after(sql, "*/", i + 2)
        elif c in ("'", '"'):
            i = _after_quote(sql, c, i + 1)
        elif c == "$" and (m := _DOLLAR.match(sql, i)):
            i = _after(sql, m.group(0), m.end())
        elif c == ";":
            _add(statements, sql, start, i)
            start = i = i + 1
        else:
            i += 1
    _add(statements, sql, start, n)
    return statements


def _after(sql: str, token: str, i: int) -> int:
    j = sql.find(token, i)
    return len(sql) if j < 0 else j + len(token)


def _after_quote(sql: str, quote: str, i: int) -> int:
    while True:
        j = sql.find(quote, i)
        if j < 0:
            return len(sql)
        if sql.startswith(quote * 2, j):  # doubled quote inside a literal
            i = j + 2
            continue
        return j + 1


def _add(statements: list[Statement], sql: str, start: int, end: int) -> None:
    text = sql[start:end]
    if not _has_code(text):
        return
    offset = len(text) - len(text.lstrip())
    line = sql.count("\n", 0, start + offset) + 1
    statements.append(Statement(line, text.strip()))


def _has_code(text: str) -> bool:
    without_comments = re.sub(r"--[^\n]*|/\*.*?\*/", "", text, flags=re.S)
    return bool(without_comments.strip())
