"""The pieces every markdown document of wabactl shares (plan, drift report, apply report): the
marker line a CI step finds its own comment by, escaping that keeps user text from breaking the
layout, and fitting a document into one GitHub comment.

Escaping, by where the text goes:

    cell(text)       a table cell, or any other one-line markdown text
    code(text)       an inline code span (a key, an account name)
    fenced(lines)    a fenced code block of any content
    html_text(text)  inside an HTML element such as <summary>, where backslash escapes show as-is

Sizes are counted as Python's ``len()``: GitHub's limit on a comment is in characters.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import TypeVar

LIMIT = 65_536  # GitHub's most characters in one comment body

# Fixed first lines: CI recipes search a pull request's comments for them to update their own.
PLAN_MARKER = "<!-- wabactl:plan -->"
DRIFT_MARKER = "<!-- wabactl:drift -->"
APPLY_MARKER = "<!-- wabactl:apply -->"

LINE_BREAKS = re.compile(r"\r\n|\r|\n")  # what CommonMark ends a line at (not Python's splitlines set)
BACKTICK_RUN = re.compile(r"`+")
CELL_ESCAPES = {"\\": "\\\\", "|": "\\|", "`": "\\`", "&": "&amp;", "<": "&lt;", ">": "&gt;"}
HTML_ESCAPES = {"&": "&amp;", "<": "&lt;", ">": "&gt;"}

Row = TypeVar("Row")

CUT_ROOM = 2_500  # what the cut line may take at most: fit() keeps this much free for it
NAMES_IN_CUT_LINE = 5


# --- escaping ------------------------------------------------------------------------------


def one_line(text: str) -> str:
    """Line breaks as spaces: a break inside a table row would end the row."""
    return LINE_BREAKS.sub(" ", text)


def clip(text: str, most: int) -> str:
    """At most ``most`` characters, marked with an ellipsis when shortened. Applied to raw text,
    before escaping, so an escape sequence is never cut in half."""
    return text if len(text) <= most else text[: max(most - 1, 0)] + "…"


def cell(text: str) -> str:
    """One line of plain text that shows as written in a table cell or a paragraph: the characters
    that would split a cell, open a code span or start HTML are escaped; nothing else, so the
    markdown stays readable."""
    return "".join(CELL_ESCAPES.get(char, char) for char in one_line(text))


def html_text(text: str) -> str:
    """Text inside an HTML element (``<summary>``): entities only, since markdown escapes are not
    read there."""
    return "".join(HTML_ESCAPES.get(char, char) for char in one_line(text))


def longest_backtick_run(text: str) -> int:
    return max((len(run) for run in BACKTICK_RUN.findall(text)), default=0)


def code(text: str, in_table: bool = False) -> str:
    """An inline code span showing ``text`` exactly (line breaks as spaces).

    Its backtick string is one longer than any run in the content, so no run inside can close it;
    a space pads content that starts or ends with a backtick. In a table a ``|`` would split the
    cell even inside a code span, and GitHub's pipe escape interacts with backslashes there, so such
    content falls back to escaped plain text.
    """
    flat = one_line(text)
    if not flat or (in_table and "|" in flat):
        return cell(flat)
    ticks = "`" * (longest_backtick_run(flat) + 1)
    pad = " " if flat[0] == "`" or flat[-1] == "`" or (flat[0] == " " and flat[-1] == " " and flat.strip()) else ""
    return f"{ticks}{pad}{flat}{pad}{ticks}"


def fenced(lines: Iterable[str], info: str = "") -> str:
    """A fenced code block of ``lines``: the fence is longer than any backtick run in them (three
    at least), so no line can close it early."""
    body = "\n".join(lines)
    fence = "`" * max(3, longest_backtick_run(body) + 1)
    return f"{fence}{info}\n{body}\n{fence}" if body else f"{fence}{info}\n{fence}"


def details(summary: str, *blocks: str) -> str:
    """A collapsible section; ``summary`` is plain text (escaped here), ``blocks`` markdown. The blank
    lines end the HTML block, so the blocks between are read as markdown."""
    return "\n\n".join([f"<details><summary>{html_text(summary)}</summary>", *blocks, "</details>"])


def table(header: Sequence[str], rows: Iterable[Sequence[str]], numeric_from: int | None = None) -> str:
    """A table of cells already escaped (``cell``/``code``); columns from ``numeric_from`` on are
    right-aligned."""
    rule = ["--:" if numeric_from is not None and index >= numeric_from else "---" for index in range(len(header))]
    return "\n".join(_row(cells) for cells in [header, rule, *rows])


def _row(cells: Sequence[str]) -> str:
    return "| " + " | ".join(cells) + " |"


def count(number: int, noun: str, plural: str | None = None) -> str:
    """``1 change``, ``8,100 changes``."""
    return f"{number:,} {noun if number == 1 else plural or noun + 's'}"


def listing(names: Sequence[str], most: int) -> str:
    """``a, b, c and 37 more``: at most ``most`` names (already escaped), then how many more."""
    shown = ", ".join(names[:most])
    left = len(names) - len(names[:most])
    if not left:
        return shown
    return f"{shown} and {left:,} more" if shown else f"{left:,}"


def accounts_phrase(accounts: Sequence[str], most: int) -> str:
    """``40 accounts: `a`, `b`, `c` and 37 more``."""
    names = [code(name, in_table=True) for name in accounts]
    return f"{count(len(accounts), 'account')}: {listing(names, most)}" if most else count(len(accounts), "account")


def grouped(pairs: Iterable[tuple[tuple[str, ...], str]]) -> list[tuple[tuple[str, ...], list[str]]]:
    """(row, account) pairs as one entry per distinct row with its accounts, most accounts first,
    then in the order rows first came."""
    groups: dict[tuple[str, ...], list[str]] = {}
    for row, account in pairs:
        groups.setdefault(row, []).append(account)
    return sorted(groups.items(), key=lambda item: -len(item[1]))


def error_list(title: str, failures: Sequence[tuple[str, str, str]], level: Compaction) -> list[str]:
    """A bold ``title`` and one item per (account, WABA id, error); when compact, one item per error
    with the accounts it holds in."""
    if level.grouped:
        groups = grouped(((clip(error, level.width),), account) for account, _, error in failures)
        items = [f"- {accounts_phrase(names, level.names)}: {cell(error)}" for (error,), names in groups]
    else:
        items = [f"- {code(account)} (WABA {cell(clip(waba_id, level.width))}): {cell(clip(error, level.width))}"
                 for account, waba_id, error in failures]
    shown, left = level.bound(items)
    more = [f"- … and {count(left, 'more error')}"] if left else []
    return [f"**{title}**", "\n".join([*shown, *more])]


def bounded_table(header: Sequence[str], rows: Sequence[Sequence[str]], level: Compaction, what: str,
                  numeric_from: int | None = None) -> list[str]:
    """``table`` of the rows ``level`` allows, then a line counting the rows left out ("… and 12
    more rows of ``what``")."""
    shown, left = level.bound(rows)
    blocks = [table(header, shown, numeric_from)]
    if left:
        blocks.append(f"… and {count(left, 'more row')} of {what}.")
    return blocks


# --- fitting into one comment --------------------------------------------------------------


@dataclass(frozen=True)
class Compaction:
    """How compactly a document's required part is written."""

    grouped: bool  # rows saying the same of several accounts become one row with a count
    names: int  # most names listed in one row or line, before "and N more"
    rows: int | None  # most rows of one table or list (None: every row), before "and N more"
    width: int  # most characters of one piece of user text (an error, a reason)

    def bound(self, rows: Sequence[Row]) -> tuple[list[Row], int]:
        """The rows to show, and how many are left out."""
        if self.rows is None or len(rows) <= self.rows:
            return list(rows), 0
        return list(rows[: self.rows]), len(rows) - self.rows


# Tried in order until the required part fits with room for the details' cut line.
LEVELS = (
    Compaction(grouped=False, names=20, rows=None, width=2_000),
    Compaction(grouped=True, names=10, rows=None, width=300),
    Compaction(grouped=True, names=3, rows=None, width=120),
    Compaction(grouped=True, names=3, rows=50, width=120),
)


@dataclass(frozen=True)
class Section:
    """A collapsible detail section of one account: the part of a document that may be left out.
    Written only when needed: a plan across thousands of accounts fits a few dozen."""

    name: str  # the account, named in the cut line
    items: int  # the changes, findings or results it details
    write: Callable[[], str]  # its markdown


def fit(required: Callable[[Compaction], list[str]], sections: Sequence[Section], noun: str, full: str) -> str:
    """A document of at most ``LIMIT`` characters: the required blocks, then the detail sections
    in order while they fit, then (when some were left out) one line saying how many accounts and
    ``noun``s (``change``) were left out, and ``full``: a sentence saying where the full output is.

    The required part (marker, totals, errors, summary tables, blocked changes) is never cut to
    make room for details. Steps:

    1. Write the required part as fully as possible (``LEVELS[0]``: one row per account).
    2. If it leaves no room for the cut line, write it more compactly, level by level: rows that
       say the same of several accounts grouped into one row with a count, fewer names listed per
       row ("and N more"), long user text shortened, and at the last level each long table or list
       bounded to its first rows with a line counting the rest.
    3. Should even that be too long, keep its first lines and say how many lines were left out:
       the bound is never broken.
    4. Add the detail sections in order while they fit, keeping room for the cut line.
    """
    written: list[str] = []  # the sections written so far, in order: none is written twice

    def body(index: int) -> str:
        while len(written) <= index:
            written.append(sections[len(written)].write())
        return written[index]

    for level in LEVELS:
        head = "\n\n".join(required(level))
        fitting = _fitting(head, len(sections), body, LIMIT)
        if fitting == len(sections) and len(head) + 1 <= LIMIT:
            return _join([head, *written[:fitting]])
        if len(head) + 1 + CUT_ROOM <= LIMIT:
            break
    else:
        head = _keep_first_lines(head, LIMIT - 1 - CUT_ROOM)
    kept = _fitting(head, len(sections), body, LIMIT - CUT_ROOM)
    # The cut line is bounded by construction; clipping it is only the guarantee.
    line = clip(cut_line(sections[kept:], len(sections), noun, full), CUT_ROOM - 2)
    return _join([head, *written[:kept], line])


def _fitting(head: str, total: int, body: Callable[[int], str], most: int) -> int:
    """How many sections, from the first, fit after ``head`` within ``most`` characters."""
    size = len(head) + 1
    for index in range(total):
        size += 2 + len(body(index))
        if size > most:
            return index
    return total


def cut_line(dropped: Sequence[Section], total: int, noun: str, full: str) -> str:
    names = listing([code(clip(section.name, 64)) for section in dropped], NAMES_IN_CUT_LINE)
    items = sum(section.items for section in dropped)
    return (f"**Details cut to fit in one comment ({LIMIT:,} characters):** the details of {len(dropped):,} of "
            f"{count(total, 'account')} are left out ({count(items, noun)}): {names}. {full}")


def _keep_first_lines(text: str, most: int) -> str:
    """The first whole lines of ``text`` within ``most`` characters, then a line counting the rest.
    A blank line comes first so a cut table does not take the line in as a row."""
    lines = text.split("\n")
    kept: list[str] = []
    size = 200  # room for the closing line
    for line in lines:
        if size + len(line) + 1 > most:
            break
        kept.append(line)
        size += len(line) + 1
    left = len(lines) - len(kept)
    return "\n".join([*kept, "", f"**… {count(left, 'more line')} left out to fit in one comment ({LIMIT:,} characters).**"])


def _join(blocks: Sequence[str]) -> str:
    return "\n\n".join(blocks) + "\n"
