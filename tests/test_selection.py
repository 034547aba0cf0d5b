"""Which accounts a run covers, without HTTP: --account, --shard, and fleet filters."""

from __future__ import annotations

import pytest

from reconciler.desired.selection import fleet_keeps, in_shard, narrow, parse_shard
from reconciler.errors import ReconcilerError
from reconciler.model import AccountSettings, DesiredAccount, Fleet, WabaFilter


def account(name: str, waba_id: str) -> DesiredAccount:
    return DesiredAccount(name, waba_id, None, "WABACTL_TOKEN", AccountSettings(), (), None)


ACCOUNTS = [account(f"a{i}", str(10**14 + i)) for i in range(300)]


def test_shards_partition_the_accounts_and_stay_put_when_accounts_are_added():
    shards = [narrow(ACCOUNTS, shard=(i, 3)) for i in (1, 2, 3)]
    assert sorted(a.name for s in shards for a in s) == sorted(a.name for a in ACCOUNTS)
    assert all(60 < len(s) < 140 for s in shards)  # a hash spreads them
    more = ACCOUNTS + [account(f"b{i}", str(2 * 10**14 + i)) for i in range(50)]
    assert {a.name for a in narrow(more, shard=(1, 3))} >= {a.name for a in shards[0]}


@pytest.mark.parametrize("text", ["3/2", "0/0", "0/3", "a/b", "1", "1/0", "-1/3"])
def test_bad_shards(text):
    with pytest.raises(ReconcilerError):
        parse_shard(text)


def test_a_shard_parses_with_spaces():
    assert parse_shard(" 2 / 3 ") == (2, 3) and parse_shard(None) is None and in_shard("1", (1, 1))


def test_narrow_names_unknown_accounts():
    with pytest.raises(ReconcilerError, match="no such account: nope"):
        narrow(ACCOUNTS, ["a1", "nope"])
    assert [a.name for a in narrow(ACCOUNTS, ["a1", "a2"])] == ["a1", "a2"]


EVERY = WabaFilter()  # no rule: include keeps all, exclude drops none


def fleet(include: WabaFilter = EVERY, exclude: WabaFilter = EVERY) -> Fleet:
    return Fleet("partners", "1", ("client",), include, exclude, account("partners", ""))


@pytest.mark.parametrize(("rules", "waba", "name", "kept"), [
    (fleet(), "5", "Shop", True),
    (fleet(include=WabaFilter(names=("Acme *",))), "5", "Acme BR", True),
    (fleet(include=WabaFilter(names=("Acme *",))), "5", "Other", False),
    (fleet(include=WabaFilter(names=("Acme *",))), "5", None, False),
    (fleet(include=WabaFilter(ids=frozenset({"5"}))), "5", None, True),
    (fleet(exclude=WabaFilter(names=("Test *",))), "5", "Test sandbox", False),
    (fleet(include=WabaFilter(names=("*",)), exclude=WabaFilter(ids=frozenset({"5"}))), "5", "Shop", False),
    (fleet(include=WabaFilter(names=("Shop [1]",))), "5", "Shop [1]", True),  # [ is literal
])
def test_fleet_filters(rules, waba, name, kept):
    assert fleet_keeps(rules, waba, name) is kept
