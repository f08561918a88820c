"""User text inside Markdown: a column named `[x](http://...)` or `![](...)` must read as those
characters, never become a link or an image, in the pages (Streamlit renders Markdown in
captions, notes and errors) and in the Markdown report."""

from __future__ import annotations

import re
from typing import Any

# What starts Markdown syntax: links and images need "[", emphasis "*" and "_", code "`",
# tables "|", headings "#", raw HTML "<". Ordinary prose marks (. , ' " ? ( ) - = / %) stay.
_MARKDOWN = re.compile(r"([\\`*_\[\]|#<>~])")
# Streamlit's Markdown adds :colour[...] and :material/...: directives and $ maths.
_STREAMLIT = re.compile(r"([\\`*_\[\]|#<>~$:])")


def escape_markdown(value: Any, *, streamlit: bool = False) -> str:
    """`value` as text that Markdown (or, with `streamlit`, Streamlit's Markdown) shows
    literally."""
    return (_STREAMLIT if streamlit else _MARKDOWN).sub(r"\\\1", str(value))
