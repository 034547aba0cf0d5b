"""Behaviour switches of the emulator, declared under ``settings:`` in a seed file.

Where graph-api-facts.md marks a behaviour as uncertain, the default here is the one the facts
sheet's decisions table picks and the alternatives are selectable, so that the client can be tested
against each.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Any

from .errors import RATE_LIMIT_CODES


@dataclass(frozen=True)
class ReviewRule:
    """Decides the outcome of review for templates that match every given condition.

    ``outcome`` is ``reject`` (status REJECTED with ``rejected_reason``), ``recategorize``
    (approved under ``to_category``, the submitted category kept in ``previous_category``) or
    ``recategorize_at_create`` (the create itself answers ``to_category`` and stores it, as Meta
    may do since 2025-04-09; ``previous_category`` is left unset, since whether Meta sets it then
    is not documented: the client must not need it).
    """

    outcome: str
    name: str | None = None  # fnmatch pattern on the template name
    body_contains: str | None = None  # case-insensitive substring of the BODY text
    category: str | None = None  # only templates submitted under this category
    language: str | None = None
    rejected_reason: str = "PROMOTIONAL"
    to_category: str = "MARKETING"


@dataclass(frozen=True)
class Settings:
    page_default: int = 25
    page_max: int = 100
    template_limit: int = 250
    # "name": each template name counts once whatever its languages (the seed documents' rule);
    # "translation": each (name, language) counts.
    count_mode: str = "name"
    creates_per_hour: int = 100
    create_limit_code: int = 80008
    # Management calls per WABA per rolling hour; 0 turns the budget off.
    calls_per_hour: int = 5000
    review_delay_seconds: float = 0.0
    review_rules: tuple[ReviewRule, ...] = ()
    # Templates of category AUTHENTICATION come back APPROVED from create.
    instant_authentication_approval: bool = False
    name_lock_days: float = 30.0
    # A short lock on any deleted (name, language), approved or not ("try again in 1 minute").
    propagation_lock_seconds: float = 0.0
    # "replace": a POST for an assigned user replaces its tasks; "error": refused.
    assign_existing: str = "replace"
    edits_per_day: int = 1
    edits_per_30_days: int = 10
    # Meta says the assigned_users edge "might" need business_management as well: off by default.
    users_need_business_management: bool = False
    max_body_bytes: int = 1_000_000
    max_batch: int = 50
    # Short pages and empty pages that still carry ``next``, as Meta's paging guide allows.
    untidy_paging: bool = False
    # A POST to an upload session stores at most this many new bytes, then the connection is cut
    # (a flaky network, for resume tests); 0: off.
    upload_cut_after_bytes: int = 0

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["review_rules"] = [asdict(rule) for rule in self.review_rules]
        return data

    @classmethod
    def from_dict(cls, raw: dict[str, Any] | None) -> Settings:
        raw = dict(raw or {})
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(raw) - known)
        if unknown:
            raise ValueError(f"unknown settings: {', '.join(unknown)}")
        rules = tuple(_rule(r) for r in raw.pop("review_rules", None) or ())
        settings = cls(review_rules=rules, **raw)
        settings.check()
        return settings

    def check(self) -> None:
        if self.count_mode not in ("name", "translation"):
            raise ValueError("count_mode must be 'name' or 'translation'")
        if self.assign_existing not in ("replace", "error"):
            raise ValueError("assign_existing must be 'replace' or 'error'")
        if self.create_limit_code not in RATE_LIMIT_CODES:
            raise ValueError(f"create_limit_code must be one of {RATE_LIMIT_CODES}")
        if self.page_default < 1 or self.page_max < 1:
            raise ValueError("page_default and page_max must be at least 1")
        if self.upload_cut_after_bytes < 0:
            raise ValueError("upload_cut_after_bytes must be 0 (off) or a number of bytes")


def _rule(raw: dict[str, Any]) -> ReviewRule:
    rule = ReviewRule(**raw)
    if rule.outcome not in ("reject", "recategorize", "recategorize_at_create"):
        raise ValueError("review rule outcome must be 'reject', 'recategorize' or 'recategorize_at_create'")
    return rule

