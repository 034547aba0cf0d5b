"""Globs as wabactl's files write them: ``*`` matches any run of characters (``/`` included, since
fleet account names hold one), ``?`` one character, and everything else is literal: ``[`` too, so a
key such as ``template.promo[en_US]`` or a WABA name with brackets is written as it reads."""

from __future__ import annotations

import functools
import re


@functools.lru_cache(maxsize=4096)
def compile_glob(glob: str) -> re.Pattern[str]:
    return re.compile("".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in glob), re.DOTALL)


def matches(glob: str, text: str) -> bool:
    return compile_glob(glob).fullmatch(text) is not None
