"""Set one key in a YAML file, keeping its comments and layout where the file's shape allows."""

from __future__ import annotations

import contextlib
import copy
import re
from typing import Any

import yaml

_KEY = re.compile(r"^(?P<indent> *)(?P<key>[A-Za-z0-9_.-]+):(?P<rest>.*)$")


def render_value(value: Any) -> str:
    text = yaml.safe_dump(value, default_flow_style=True, width=2**31, allow_unicode=True).strip()
    return text.removesuffix("\n...").removesuffix("...").strip()


def _content(line: str) -> bool:
    stripped = line.strip()
    return bool(stripped) and not stripped.startswith("#")


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip(" "))


def _comment(rest: str) -> str:
    match = re.search(r"\s+#.*$", rest)
    return match.group(0) if match and rest.count('"') % 2 == 0 and rest.count("'") % 2 == 0 else ""


def _set_lines(lines: list[str], path: tuple[str, ...], value: Any) -> list[str]:
    start, end, indent = 0, len(lines), 0  # current block: lines[start:end], children at `indent`
    for depth, key in enumerate(path):
        last = depth == len(path) - 1
        found = None
        for i in range(start, end):
            m = _KEY.match(lines[i])
            if m and _content(lines[i]) and len(m.group("indent")) == indent and m.group("key") == key:
                found = i
                break
        if found is None:
            new = [f"{' ' * (indent + 2 * j)}{k}:" for j, k in enumerate(path[depth:-1])]
            leaf_pad = " " * (indent + 2 * (len(path) - depth - 1))
            new.append(f"{leaf_pad}{path[-1]}: {render_value(value)}")
            insert_at = end
            while insert_at > start and not _content(lines[insert_at - 1]):
                insert_at -= 1
            return lines[:insert_at] + new + lines[insert_at:]
        block_end = found + 1
        while block_end < end and (not _content(lines[block_end]) or _indent(lines[block_end]) > indent):
            block_end += 1
        while block_end > found + 1 and not _content(lines[block_end - 1]):
            block_end -= 1
        if last:
            m = _KEY.match(lines[found])
            assert m is not None
            replaced = f"{m.group('indent')}{key}: {render_value(value)}{_comment(m.group('rest'))}"
            return lines[:found] + [replaced] + lines[block_end:]
        children = [i for i in range(found + 1, block_end) if _content(lines[i])]
        if not children:
            m = _KEY.match(lines[found])
            assert m is not None
            if m.group("rest").split("#")[0].strip():  # a scalar or flow value where a section is asked for
                raise ValueError(f"{'.'.join(path[: depth + 1])} holds a value, not a section")
            start, end, indent = found + 1, found + 1, indent + 2
        else:
            start, end, indent = found + 1, block_end, _indent(lines[children[0]])
    return lines


def set_key(text: str, path: tuple[str, ...], value: Any) -> tuple[str, bool]:
    """(new text, comments kept). Falls back to a plain re-dump when the file's shape defeats the line edit."""
    data = yaml.safe_load(text) or {}
    expected = copy.deepcopy(data)
    node = expected
    for key in path[:-1]:
        node = node.setdefault(key, {})
    node[path[-1]] = value
    with contextlib.suppress(ValueError, yaml.YAMLError):  # an odd shape falls back to the re-dump below
        new_text = "\n".join(_set_lines(text.splitlines(), path, value)) + "\n"
        if yaml.safe_load(new_text) == expected:
            return new_text, True
    return yaml.safe_dump(expected, sort_keys=False, allow_unicode=True), False
