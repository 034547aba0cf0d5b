"""wabactl's globs: * and ? only; everything else literal."""

from __future__ import annotations

import pytest

from reconciler.globs import matches


@pytest.mark.parametrize(("glob", "text", "expected"), [
    ("*", "", True), ("a*", "a/b/c", True), ("a?c", "abc", True), ("a?c", "ac", False),
    ("template.x[en_US]", "template.x[en_US]", True), ("template.x[en_US]", "template.xe", False),
    ("a.b", "axb", False), ("fleet/*/status/*", "fleet/123/status/template.a[en]", True), ("a", "ab", False),
    ("line*", "line\nbreak", True),
])
def test_matches(glob, text, expected):
    assert matches(glob, text) is expected
