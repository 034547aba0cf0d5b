"""The ledger: rolling windows, quotas, locks; atomic writes; hand edits reported, never trusted blindly."""

from __future__ import annotations

import datetime as dt
import json

from reconciler import ledger
from reconciler.ledger import AccountLedger, Ledger

NOW = dt.datetime(2026, 11, 22, 12, 0, tzinfo=dt.UTC)
MINUTE = dt.timedelta(minutes=1)


def test_next_create_slot_follows_the_rolling_hour():
    book = AccountLedger(creations=[NOW - 50 * MINUTE, NOW - 10 * MINUTE])
    assert book.next_create_slot(NOW, per_hour=3) == NOW
    assert book.next_create_slot(NOW, per_hour=2) == NOW + 10 * MINUTE
    assert book.next_create_slot(NOW, per_hour=1) == NOW + 50 * MINUTE
    book.throttled(NOW + 30 * MINUTE)
    assert book.next_create_slot(NOW, per_hour=3) == NOW + 30 * MINUTE


def test_edit_quota_one_a_day_ten_a_month():
    book = AccountLedger()
    assert book.next_edit("7", NOW) == NOW
    book.edited("7", NOW - 2 * MINUTE)
    assert book.next_edit("7", NOW) == NOW - 2 * MINUTE + dt.timedelta(days=1)
    monthly = AccountLedger(edits={"7": [NOW - dt.timedelta(days=d) for d in range(2, 12)]})
    assert monthly.next_edit("7", NOW) == NOW - dt.timedelta(days=11) + dt.timedelta(days=30)


def test_entries_beyond_meta_rules_are_not_trusted():
    book = AccountLedger(creations=[NOW + dt.timedelta(hours=5)], locks={"a[en]": NOW + dt.timedelta(days=400)},
                         throttled_until=NOW + dt.timedelta(days=30))
    assert book.next_create_slot(NOW, per_hour=1) == NOW
    assert book.lock_until("a[en]", NOW) is None


def test_round_trip_keeps_only_what_matters(tmp_path):
    path = str(tmp_path / "state" / "ledger.json")
    book = Ledger(path)
    account = book.account("1")
    account.created(NOW - 2 * dt.timedelta(hours=1))  # expired
    account.created(NOW - MINUTE)
    account.locked("a[en_US]", NOW + dt.timedelta(days=30))
    account.edited("9", NOW - MINUTE)
    ledger.save(book, NOW)
    loaded, problems = ledger.load(path)
    assert problems == []
    assert loaded.account("1").creations == [NOW - MINUTE]
    assert loaded.account("1").locks == {"a[en_US]": NOW + dt.timedelta(days=30)}
    assert [p.name for p in (tmp_path / "state").iterdir()] == ["ledger.json"]  # no temporary left


def test_missing_corrupt_foreign_and_partly_bad_ledgers(tmp_path):
    assert ledger.load(str(tmp_path / "none.json")) == (Ledger(str(tmp_path / "none.json")), [])
    bad = tmp_path / "bad.json"
    bad.write_text("{oops")
    loaded, problems = ledger.load(str(bad))
    assert loaded.accounts == {} and f"ledger {bad} is unreadable" in problems[0]
    foreign = tmp_path / "foreign.json"
    foreign.write_text(json.dumps({"format": "other"}))
    assert "is not a wabactl ledger" in ledger.load(str(foreign))[1][0]
    partly = tmp_path / "partly.json"
    partly.write_text(json.dumps({"format": "wabactl-ledger", "version": 1, "accounts": {
        "1": {"creations": [NOW.isoformat(), "yesterday", 5], "locks": {"a[en]": "never"}, "edits": [], "throttled_until": 3}}}))
    loaded, problems = ledger.load(str(partly))
    assert loaded.account("1").creations == [NOW]
    assert len(problems) == 4 and all(str(partly) in p for p in problems)
