"""docs/benchmarks.md is written by several benchmarks: each owns the text between its own
`<!-- name:begin -->` and `<!-- name:end -->` markers and leaves the rest of the file alone."""

from __future__ import annotations

import re
from pathlib import Path


def write_section(doc: Path, begin: str, end: str, section: str) -> None:
    """Replaces the marked section of `doc` with `section` (which starts with `begin` and ends with
    `end`), or appends it when the file has no such section yet."""
    assert section.startswith(begin) and section.endswith(end), "a section carries its own markers"
    text = doc.read_text(encoding="utf-8") if doc.exists() else "# Benchmarks\n"
    if begin in text:
        text = re.sub(re.escape(begin) + r".*?" + re.escape(end), lambda _m: section, text, flags=re.DOTALL)
    else:
        text = text.rstrip() + "\n\n" + section + "\n"
    doc.write_text(text, encoding="utf-8")
