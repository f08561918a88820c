"""User strings in Markdown read as typed: no links, images, emphasis or Streamlit directives.
(No Markdown renderer is installed, so the tests check that every character that opens Markdown
syntax is backslash-escaped, which CommonMark defines as showing it literally.)"""

from __future__ import annotations

import re

import pandas as pd

from playground.markup import escape_markdown
from playground.report.document import Report, Section, Table
from playground.report.render import to_markdown

LINK = "[x](http://example.com)"
IMAGE = "![](http://example.com/a.png)"
UNESCAPED = re.compile(r"(?<!\\)[\[\]*_`|]")


def test_links_images_and_emphasis_are_escaped() -> None:
    assert escape_markdown(LINK) == r"\[x\](http://example.com)"
    assert escape_markdown(IMAGE) == r"!\[\](http://example.com/a.png)"
    for text in (LINK, IMAGE, "*bold* _it_ `code`", "a | b"):
        assert not UNESCAPED.search(escape_markdown(text))
    assert escape_markdown(":red[x] $y$", streamlit=True) == r"\:red\[x\] \$y\$"
    assert escape_markdown("age (years), 1.5") == "age (years), 1.5"  # prose unchanged


def test_the_markdown_report_keeps_user_column_names_as_text() -> None:
    frame = pd.DataFrame({LINK: [1], IMAGE: [2]})
    report = Report(title=f"runs on {LINK}", run_id="r1", created_at="now")
    report.sections.append(Section("Data", facts={"file": IMAGE}, tables=[Table("t", frame)]))
    text = to_markdown(report)
    assert r"\[x\](http://example.com)" in text and r"!\[\](http://example.com/a.png)" in text
    assert LINK not in text and IMAGE not in text
