"""The template's own fields beside its components: name, language, category, parameter_format."""

from __future__ import annotations

import re
from typing import Any

from ..errors import invalid_parameter

NAME_RE = re.compile(r"^[a-z0-9_]+$")
NAME_MAX = 512
CATEGORIES = ("AUTHENTICATION", "MARKETING", "UTILITY")
PARAMETER_FORMATS = ("POSITIONAL", "NAMED")
LANGUAGES = frozenset(
    """af sq ar ar_EG ar_AE ar_LB ar_MA ar_QA ar_SA az bn bg ca zh_CN zh_HK zh_TW hr cs da nl en
    en_GB en_US en_AU en_CA en_IN et fil fi fr fr_CA fr_BE ka de el gu ha he hi hu id ga it ja kn
    kk rw_RW ko ky_KG lo lv lt mk ms ml mr nb fa pl pt_BR pt_PT pa ro ru sr sk sl es es_AR es_ES
    es_MX es_CL es_CO es_PE es_VE sw sv ta te th tr uk ur uz vi zu""".split()
)


def check_name(name: Any) -> str:
    if not isinstance(name, str) or not name:
        raise invalid_parameter("Param name must be a non-empty string.", title="Invalid name")
    if len(name) > NAME_MAX or not NAME_RE.match(name):
        raise invalid_parameter(
            "Template names may contain only lowercase letters, digits and underscores, "
            f"at most {NAME_MAX} characters.",
            title="Invalid name",
        )
    return name


def check_language(language: Any) -> str:
    if not isinstance(language, str) or language not in LANGUAGES:
        raise invalid_parameter(
            f"Param language must be one of the supported language codes; got {language!r}.",
            title="Invalid language",
        )
    return language


def check_category(category: Any) -> str:
    if not isinstance(category, str) or category.upper() not in CATEGORIES:
        raise invalid_parameter(
            f"Param category must be one of {', '.join(CATEGORIES)}; got {category!r}.",
            title="Invalid category",
        )
    return category.upper()


def check_parameter_format(value: Any) -> str:
    if value is None or value == "":
        return "POSITIONAL"
    if not isinstance(value, str) or value.upper() not in PARAMETER_FORMATS:
        raise invalid_parameter(
            "Param parameter_format must be 'positional' or 'named'.",
            title="Invalid parameter format",
        )
    return value.upper()


# Meta's time-to-live page: the range of message_send_ttl_seconds by category; -1 (30 days) is
# allowed for AUTHENTICATION and UTILITY.
TTL_RANGES = {"AUTHENTICATION": (30, 900), "UTILITY": (30, 43200), "MARKETING": (43200, 2592000)}


def check_ttl(value: Any, category: str) -> int:
    """A message_send_ttl_seconds Meta accepts for the category (its examples send text)."""
    if isinstance(value, str) and value.lstrip("-").isdigit():
        value = int(value)
    low, high = TTL_RANGES.get(category, (30, 2592000))
    if isinstance(value, int) and not isinstance(value, bool):
        if value == -1 and category in ("AUTHENTICATION", "UTILITY"):
            return value
        if low <= value <= high:
            return value
    raise invalid_parameter(f"message_send_ttl_seconds for {category} templates must be between {low} and {high}"
                            + (" or -1." if category != "MARKETING" else "."))
