"""Charts as PNG, and figures of a self-contained HTML page: Vega-Lite specs (Altair) rendered by vl-convert,
offline and without a browser."""

from __future__ import annotations

import base64
import html
from typing import Any

import vl_convert


def png(chart: Any) -> bytes:
    """An Altair chart as PNG bytes."""
    return bytes(vl_convert.vegalite_to_png(chart.to_json(), scale=1.5))


def figure(name: str, image: bytes, caption: str = "") -> str:
    """An HTML <figure> with the PNG inlined (the page stays one file)."""
    text = f"<figcaption>{html.escape(caption)}</figcaption>" if caption else ""
    return (f'<figure><img id="{html.escape(name)}" alt="{html.escape(name)}" src="data:image/png;base64,'
            f'{base64.b64encode(image).decode()}">{text}</figure>')


def html_table(headers: tuple[str, ...], rows: list[tuple[Any, ...]]) -> str:
    """An HTML table, every cell escaped."""
    head = "".join(f"<th>{html.escape(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in row) + "</tr>" for row in rows)
    return f"<table><tr>{head}</tr>{body}</table>"


TABLES_STYLE = ("body{font-family:sans-serif;margin:2em;max-width:70em}td,th{text-align:left;padding:2px 1em 2px 0;"
                "vertical-align:top}figure{margin:1.5em 0}")


def html_page(title: str, body: str, style: str = TABLES_STYLE) -> str:
    """A self-contained HTML page: its title as <title> and <h1>, then `body` (already HTML)."""
    return (f"<!doctype html><html lang=en><meta charset=utf-8><title>{html.escape(title)}</title>"
            f"<style>{style}</style><h1>{html.escape(title)}</h1>{body}</html>\n")
