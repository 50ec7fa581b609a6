"""The tasking pack's HTML prints every figure as its column declares (kind and decimals), the
same as the workbook: a back-test precision of 0.273 is not shown as 0.3, a weakest link of
0.97 not as 1.0."""

from __future__ import annotations

import re

from pipelines.publish.tasking import PACK, TABLES
from pipelines.report.printed import printed_columns, read_by
from tests.report.html_tables import ProfileParser


def _pack_tables(tiny_profile) -> list[list[list[str]]]:
    html = (tiny_profile.quarter_dir / "restricted" / "high_harm_perpetrators.html").read_text()
    parser = ProfileParser()
    parser.feed(html)
    return list(parser.tables.values())


def test_pack_numbers_carry_their_declared_decimals(tiny_profile) -> None:
    tables = _pack_tables(tiny_profile)
    checked = 0
    for table, (rows, view, _) in TABLES.items():
        columns = printed_columns(read_by(PACK)[rows]["model"], view)
        labels = [c.label for c in columns]
        # the page's table with these headings (the pack prints each table once)
        found = [t for t in tables if t and t[0] == labels]
        if not found:
            continue  # an empty table prints a sentence instead
        body = found[0][1:]
        for i, column in enumerate(columns):
            if column.kind != "number" or column.digits is None:
                continue
            pattern = r"−?-?[0-9,]+" + (rf"\.[0-9]{{{column.digits}}}" if column.digits else "")
            cells = [row[i] for row in body if row[i] not in ("", "–")]
            assert all(re.fullmatch(pattern, cell) for cell in cells), (table, column.name, cells)
            checked += len(cells)
    assert checked > 0


def test_subject_pages_print_the_scores_as_the_list_does(tiny_profile) -> None:
    """A subject page is headed by the subject's row of the list: its score and components carry
    the list's declared decimals (R 9.75 on the list is not R 9.8 on the page)."""
    columns = {c.name: c for c in printed_columns(read_by(PACK)["listed"]["model"], "tasking_page")}
    digits = {name: columns[name].digits for name in ("rfgv_score", "recency_score")}
    pages = sorted((tiny_profile.quarter_dir / "restricted" / "subject_profiles").glob("0*.html"))
    assert pages
    for page in pages:
        text = page.read_text()
        score = re.search(r"RFGV score</dt><dd>([0-9.]+) / 100 \(R ([0-9.]+) ·", text)
        assert score, page.name
        for value, name in zip(score.groups(), digits, strict=True):
            assert len(value.partition(".")[2]) == (digits[name] or 0), (page.name, name, value)
        link = re.search(r"weakest link ([0-9.]+)", text)
        assert (
            link
            and len(link.group(1).partition(".")[2]) == columns["weakest_link_probability"].digits
        ), page.name
