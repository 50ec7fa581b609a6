"""Read the published HTML the way a reader would: headings, tables by caption, scripts."""

from __future__ import annotations

import re
from html.parser import HTMLParser


class ProfileParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.section_ids: list[str] = []
        self.tables: dict[str, list[list[str]]] = {}
        self.script_srcs: list[str] = []
        self.link_hrefs: list[str] = []
        self.figure_labels: list[str] = []
        self._caption: str | None = None
        self._in_caption = False
        self._rows: list[list[str]] | None = None
        self._cell: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "section" and a.get("id"):
            self.section_ids.append(a["id"])
        elif tag == "script" and a.get("src"):
            self.script_srcs.append(a["src"] or "")
        elif tag == "link" and a.get("href"):
            self.link_hrefs.append(a["href"] or "")
        elif tag == "figure":
            self.figure_labels.append(a.get("aria-label") or "")
        elif tag == "table":
            self._rows, self._caption = [], ""
        elif tag == "caption":
            self._in_caption = True
        elif tag == "tr" and self._rows is not None:
            self._rows.append([])
        elif tag in ("td", "th") and self._rows is not None:
            self._cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag == "caption":
            self._in_caption = False
        elif tag in ("td", "th") and self._cell is not None and self._rows:
            self._rows[-1].append(" ".join("".join(self._cell).split()))
            self._cell = None
        elif tag == "table" and self._rows is not None:
            self.tables[self._caption or f"table{len(self.tables)}"] = self._rows
            self._rows = None

    def handle_data(self, data: str) -> None:
        if self._in_caption:
            self._caption = (self._caption or "") + data
        elif self._cell is not None:
            self._cell.append(data)


def parse(html: str) -> ProfileParser:
    parser = ProfileParser()
    parser.feed(html)
    return parser


def table_rows(parser: ProfileParser, caption_start: str) -> dict[str, list[str]]:
    """First table whose caption starts with `caption_start`: first cell -> other cells."""
    for caption, rows in parser.tables.items():
        if caption.strip().startswith(caption_start):
            return {row[0]: row[1:] for row in rows if row}
    raise KeyError(f"no table captioned {caption_start!r}; have {list(parser.tables)}")


def number(text: str) -> int | None:
    """'1,234' -> 1234; '[c]' -> None."""
    text = text.strip()
    if text == "[c]":
        return None
    return int(re.sub(r"[,\s]", "", text))
