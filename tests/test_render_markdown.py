"""The shared markdown pieces: escaping that user text cannot break, and fitting into one comment.

``assert_layout`` is the layout check the plan, drift and apply tests run on their documents.
"""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from reconciler.render import markdown as md

MARKERS = (md.PLAN_MARKER, md.DRIFT_MARKER, md.APPLY_MARKER)
OUR_TAGS = re.compile(r"</?details>|</?summary>|<br>|<!-- wabactl:(?:plan|drift|apply) -->")
BACKTICKS = re.compile(r"`+")
FENCE = re.compile(r"^(`{3,})([^`]*)$")

FRAGMENTS = ["`", "``", "```", "````", "`" * 7, "`" * 12, "|", "\\", "\\|", "<script>alert(1)</script>", "</details>",
             "<details>", "<summary>", "\n", "\r", "\r\n", "&lt;", "&", "-->", "<!--", "~~~", "# head", "- item", "> quote",
             "*", "_", "[x](y)", " ", "a", "é", "\u2028"]
hostile = st.lists(st.one_of(st.sampled_from(FRAGMENTS), st.text(max_size=4)), max_size=8).map("".join)


def unescaped(text: str, char: str) -> list[int]:
    """Positions of ``char`` not escaped by a backslash (an even run of backslashes before it)."""
    found = []
    for index, value in enumerate(text):
        if value == char:
            run = len(text[:index]) - len(text[:index].rstrip("\\"))
            if run % 2 == 0:
                found.append(index)
    return found


def without_code_spans(line: str) -> str:
    """The line with its code spans as CommonMark finds them (a backtick run up to the next run of
    the same length) left out; a run that closes nothing stays, as literal backticks."""
    out: list[str] = []
    index = 0
    while index < len(line):
        if line[index] == "\\":
            out.append(line[index : index + 2])
            index += 2
            continue
        if line[index] != "`":
            out.append(line[index])
            index += 1
            continue
        opening = BACKTICKS.match(line, index)
        assert opening
        closing = next((run for run in BACKTICKS.finditer(line, opening.end()) if len(run.group()) == len(opening.group())), None)
        out.append(" " if closing else opening.group())
        index = closing.end() if closing else opening.end()
    return "".join(out)


def table_pipes(line: str) -> int:
    """The cell delimiters of a table row as GitHub splits it: a pipe after a backslash is content."""
    return sum(1 for index, char in enumerate(line) if char == "|" and (index == 0 or line[index - 1] != "\\"))


def assert_layout(document: str, marker: str) -> None:
    """What user text must never change in a document: its size, its marker, its fences (each
    closed by its own fence and by nothing inside), its tables (every row as many cells as the
    header), its HTML (only our tags, blank lines around the collapsible sections), and no code
    span or entity opened by user text."""
    assert len(document) <= md.LIMIT
    assert document.split("\n", 1)[0] == marker
    lines = document.split("\n")
    fence: str | None = None
    columns: int | None = None
    opened_sections = closed_sections = 0
    for number, line in enumerate(lines):
        if fence is not None:
            if line == fence:
                fence = None
            else:
                assert md.longest_backtick_run(line) < len(fence), (number, line)
            continue
        opened = FENCE.match(line)
        if opened:
            fence = opened.group(1)
            columns = None
            continue
        assert "\r" not in line, (number, line)
        if line.startswith("|"):
            pipes = table_pipes(line)
            columns = pipes if columns is None else columns
            assert pipes == columns, (number, line)
        else:
            columns = None
        if line.startswith("<details>"):
            assert lines[number + 1] == "", (number, line)
        if line == "</details>":
            assert lines[number - 1] == "", (number, line)
        plain = OUR_TAGS.sub("", without_code_spans(line.removeprefix("> ")))
        assert "<" not in plain and ">" not in plain, (number, line)
        assert not unescaped(plain, "`"), (number, line)
        assert not re.search(r"&(?!amp;|lt;|gt;)", plain), (number, line)
        opened_sections += line.startswith("<details>")
        closed_sections += line == "</details>"
        assert closed_sections <= opened_sections <= closed_sections + 1, (number, line)
    assert fence is None, "a fence left open"
    assert opened_sections == closed_sections


def code_span_content(span: str) -> str:
    """What CommonMark shows for a code span written by ``md.code``: the opening run's length n,
    the content up to the next run of exactly n backticks, one padding space stripped each side."""
    ticks = len(span) - len(span.lstrip("`"))
    content = span[ticks:-ticks]
    assert span.endswith("`" * ticks) and not content.endswith("`")
    assert all(len(run) != ticks for run in re.findall(r"`+", content))
    if content.startswith(" ") and content.endswith(" ") and content.strip():
        content = content[1:-1]
    return content


# --- escaping ------------------------------------------------------------------------------


def test_cell_escapes_what_breaks_a_table_and_leaves_the_rest_readable():
    assert md.cell("a|b") == "a\\|b"
    assert md.cell("<script>x</script> & co") == "&lt;script&gt;x&lt;/script&gt; &amp; co"
    assert md.cell("two\nlines\r\nhere\rok") == "two lines here ok"
    assert md.cell("`code` and \\") == "\\`code\\` and \\\\"
    assert md.cell("order_shipped [en_US]: 15% off") == "order_shipped [en_US]: 15% off"


def test_html_text_uses_entities_only():
    assert md.html_text("a <b> & `c` | d\ne") == "a &lt;b&gt; &amp; `c` | d e"


def test_code_is_longer_than_any_backtick_run():
    assert md.code("template.a[en]") == "`template.a[en]`"
    assert md.code("a `b` c") == "``a `b` c``"
    assert md.code("`x`") == "`` `x` ``"
    assert md.code("a|b", in_table=True) == "a\\|b"
    assert md.code("") == ""


def test_fenced_is_longer_than_any_backtick_run_and_at_least_three():
    assert md.fenced(["plain"], "diff") == "```diff\nplain\n```"
    assert md.fenced(["````", "x"]).split("\n")[0] == "`````"
    assert md.fenced([]) == "```\n```"


def test_listing_and_count():
    assert md.listing(["a", "b", "c", "d"], 2) == "a, b and 2 more"
    assert md.listing(["a", "b"], 2) == "a, b"
    assert md.count(1, "change") == "1 change" and md.count(8100, "change") == "8,100 changes"
    assert md.accounts_phrase(["a", "b", "c"], 1) == "3 accounts: `a` and 2 more"


@given(hostile)
def test_code_shows_any_text_exactly(text):
    span = md.code(text)
    flat = md.one_line(text)
    if flat:
        assert code_span_content(span) == flat


@given(hostile)
def test_cell_has_no_unescaped_delimiter_or_html(text):
    escaped = md.cell(text)
    assert not unescaped(escaped, "|") and not unescaped(escaped, "`")
    assert table_pipes(f"| {escaped} |") == 2
    assert "<" not in escaped and ">" not in escaped and "\n" not in escaped and "\r" not in escaped


@given(st.lists(hostile, max_size=6))
def test_fenced_content_cannot_close_its_fence(lines):
    block = md.fenced(lines)
    fence = block.split("\n", 1)[0]
    assert len(fence) >= 3 and set(fence) == {"`"}
    assert block.endswith("\n" + fence)
    inner = block.split("\n")[1:-1]
    assert all(md.longest_backtick_run(line) < len(fence) for line in inner)


# --- fitting -------------------------------------------------------------------------------


def sections(sizes, body="x"):
    return [md.Section(f"s{i}", i + 1, lambda size=size: body * size) for i, size in enumerate(sizes)]


def test_everything_that_fits_is_kept_without_a_cut_line():
    document = md.fit(lambda level: ["head"], sections([10, 20]), "change", "Full: here.")
    assert document == "head\n\n" + "x" * 10 + "\n\n" + "x" * 20 + "\n"


def test_details_are_cut_in_order_with_a_line_saying_what_and_where():
    document = md.fit(lambda level: ["head"], sections([40_000, 40_000, 10, 20]), "change", "Full plan: the plan file plan.json.")
    assert len(document) <= md.LIMIT
    assert document.count("x" * 40_000) == 1
    assert document.rstrip().endswith("the details of 3 of 4 accounts are left out (9 changes): `s1`, `s2`, `s3`. Full plan: the plan file plan.json.")


def test_the_required_part_is_compacted_only_when_it_leaves_no_room():
    seen = []

    def required(level):
        seen.append(level)
        return ["y" * (70_000 if not level.grouped else 1_000)]

    document = md.fit(required, sections([100]), "change", "Full.")
    assert seen == [md.LEVELS[0], md.LEVELS[1]]
    assert document.startswith("y" * 1_000 + "\n\n") and len(document) <= md.LIMIT


def test_a_required_part_too_long_at_every_level_keeps_its_first_lines_and_says_so():
    document = md.fit(lambda level: ["\n".join(f"| row {i} |" for i in range(20_000))], sections([5]), "finding", "Full.")
    assert len(document) <= md.LIMIT
    assert document.startswith("| row 0 |\n| row 1 |")
    assert "more lines left out to fit in one comment" in document
    assert "\n\n**…" in document  # a blank line first, so the cut table does not take it in as a row


def test_sections_past_the_cut_are_never_written():
    written = []

    def section(i):
        written.append(i)
        return "z" * 20_000

    many = [md.Section(f"a{i}", 1, lambda i=i: section(i)) for i in range(1_000)]
    document = md.fit(lambda level: ["head"], many, "change", "Full.")
    assert len(written) <= 5 and "the details of 997 of 1,000 accounts are left out (997 changes)" in document


@settings(max_examples=60)
@given(st.lists(st.integers(0, 40_000), max_size=4), st.lists(st.integers(0, 30_000), max_size=8))
def test_never_over_the_limit(required_sizes, section_sizes):
    document = md.fit(lambda level: ["r" * size for size in required_sizes] or ["head"], sections(section_sizes), "change", "Full.")
    assert len(document) <= md.LIMIT
