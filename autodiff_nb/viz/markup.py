"""The few pieces of HTML the widget and the text fallbacks need, escaped in one place.

>>> text('<script>')
'&lt;script&gt;'
>>> table(["op"], [["mul"]], highlight=0).count("<tr")
2
"""
from __future__ import annotations

import html
import re

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")

# Colours and spacing for tables and panels live here; graph colours live in style.py.
_CELL = "padding:2px 8px;text-align:left;font-family:monospace;white-space:nowrap"
_HEAD = "padding:2px 8px;text-align:left;border-bottom:1px solid #999"
_HIGHLIGHT = "background:#ffe0b2"


def text(value) -> str:
    """Any value as HTML text: markup characters escaped, control characters dropped."""
    return html.escape(_CONTROL.sub("", str(value)), quote=True)


def table(headers, rows, *, highlight=None, caption=None) -> str:
    """An HTML table; row number ``highlight`` (0-based) is shaded."""
    head = "".join(f'<th style="{_HEAD}">{text(h)}</th>' for h in headers)
    body = []
    for i, row in enumerate(rows):
        shade = f' style="{_HIGHLIGHT}"' if i == highlight else ""
        cells = "".join(f'<td style="{_CELL}">{text(c)}</td>' for c in row)
        body.append(f"<tr{shade}>{cells}</tr>")
    cap = f"<caption style=\"text-align:left\"><b>{text(caption)}</b></caption>" if caption else ""
    return f'<table style="border-collapse:collapse">{cap}<tr>{head}</tr>{"".join(body)}</table>'


def pre(value) -> str:
    return f'<pre style="white-space:pre-wrap">{text(value)}</pre>'


def paragraphs(lines, *, bold_first=False) -> str:
    out = []
    for i, line in enumerate(lines):
        body = text(line)
        out.append(f"<div><b>{body}</b></div>" if bold_first and i == 0 else f"<div>{body}</div>")
    return "".join(out)
