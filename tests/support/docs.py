"""Reading the repository's Markdown: a section under its heading, and the rows of its tables."""

from __future__ import annotations

import re

from local.lambdas import REPO

DOCS = REPO / "docs"
# What a reader of the repository cannot follow: a document outside it, or the tracker's numbers.
OUTSIDE_REFERENCES = re.compile(r"contract|CONTRACT\.md|\bissue\s+\d+|\bsection\s+2[a-d]\b", re.IGNORECASE)


def read(name: str) -> str:
    """A document of the repository, by its path from the root (`README.md`, `docs/API.md`)."""
    return (REPO / name).read_text(encoding="utf-8")


def section(text: str, heading: str) -> str:
    """The text under the first heading that starts with `heading` (`## 3. Errors` for `## 3.`), up to the
    next heading of the same level or above."""
    level = len(heading) - len(heading.lstrip("#"))
    lines = text.splitlines()
    starts = [index for index, line in enumerate(lines) if line.startswith(heading)]
    if not starts:
        raise AssertionError(f"no heading {heading!r}")
    start = starts[0]
    end = len(lines)
    for index in range(start + 1, len(lines)):
        marks = len(lines[index]) - len(lines[index].lstrip("#"))
        if 0 < marks <= level and lines[index][marks : marks + 1] == " ":
            end = index
            break
    return "\n".join(lines[start + 1 : end])


def table_rows(text: str) -> list[list[str]]:
    """The body rows of every Markdown table in `text`, each a list of its cells (header rows left out)."""
    rows: list[list[str]] = []
    lines = text.splitlines()
    for index, line in enumerate(lines):
        if not line.startswith("|"):
            continue
        below = lines[index + 1] if index + 1 < len(lines) else ""
        if set(line.replace("|", "").strip()) <= set("-: "):
            continue  # the separator row
        if re.fullmatch(r"\|(\s*:?-+:?\s*\|)+", below.strip()):
            continue  # the header row, just above the separator
        rows.append([cell.strip() for cell in line.strip().strip("|").split("|")])
    return rows


def code_spans(text: str) -> list[str]:
    """Everything written between backticks."""
    return re.findall(r"`([^`]+)`", text)
