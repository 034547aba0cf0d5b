"""The advisory ledger: what wabactl itself did, so plans can predict Meta's limits across runs.

File ``.wabactl/ledger.json`` (beside the config, or ``--state-dir``)::

    {
      "format": "wabactl-ledger",
      "version": 1,
      "accounts": {
        "<waba id>": {
          "creations": ["2026-11-22T10:00:04+00:00", ...],      # template creates, last hour
          "edits": {"<template id>": ["2026-11-21T09:00:00+00:00"]},  # edits of APPROVED templates, 30 days
          "locks": {"order_shipped[en_US]": "2026-12-22T10:00:00+00:00"},  # name locks wabactl caused
          "throttled_until": "2026-11-22T10:45:00+00:00"        # from a rate-limit answer, or null
        }
      }
    }

Times are the Graph API's (its ``Date`` header), in ISO 8601. The Graph API stays the source of
truth: the ledger only sharpens predictions. It is written atomically, is safe to delete, and a
hand-edited or corrupt one is reported and ignored, entry by entry where it can be, never trusted
blindly (an entry in the future beyond what the rule allows is dropped).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import tempfile
from dataclasses import dataclass, field
from typing import Any

FORMAT = "wabactl-ledger"
VERSION = 1
FILE_NAME = "ledger.json"
HOUR = dt.timedelta(hours=1)
DAY = dt.timedelta(days=1)
EDIT_WINDOW = dt.timedelta(days=30)
LOCK_DAYS = dt.timedelta(days=30)
# Entries further ahead than Meta's own rules allow are hand edits or clock errors: ignored.
SKEW = dt.timedelta(minutes=1)
LONGEST_THROTTLE = dt.timedelta(days=1)


def lock_key(name: str, language: str) -> str:
    """How a name lock is keyed in the ledger: ``order_shipped[en_US]``."""
    return f"{name}[{language}]"


@dataclass
class AccountLedger:
    creations: list[dt.datetime] = field(default_factory=list)
    edits: dict[str, list[dt.datetime]] = field(default_factory=dict)
    locks: dict[str, dt.datetime] = field(default_factory=dict)
    throttled_until: dt.datetime | None = None
    # Templates Meta put in another category than declared when it created them, by lock key:
    # (declared, given). Meta need not say so in previous_category; this is how the next plan
    # knows the difference is Meta's doing and leaves it alone instead of flapping.
    recategorised: dict[str, tuple[str, str]] = field(default_factory=dict)
    # The digest of the header files wabactl last uploaded for a template, by lock key: Meta
    # answers a CDN URL, so this record is the only way the next plan can see a changed file.
    media: dict[str, str] = field(default_factory=dict)

    # --- questions the planner and applier ask ------------------------------------------------

    def recent_creations(self, now: dt.datetime) -> list[dt.datetime]:
        return sorted(t for t in self.creations if now - HOUR < t <= now + SKEW)

    def next_create_slot(self, now: dt.datetime, per_hour: int) -> dt.datetime:
        """When the next template may be created: now, or when the rolling hour frees a slot."""
        recent = self.recent_creations(now)
        slot = now
        if len(recent) >= per_hour:
            slot = recent[len(recent) - per_hour] + HOUR
        throttle = self.throttle_until(now)
        return max(slot, throttle) if throttle else slot

    def throttle_until(self, now: dt.datetime) -> dt.datetime | None:
        """The end of a rate limit Meta announced, while it lasts (and is believable)."""
        until = self.throttled_until
        return until if until and now < until <= now + LONGEST_THROTTLE else None

    def next_edit(self, template_id: str, now: dt.datetime, per_day: int = 1, per_30_days: int = 10) -> dt.datetime:
        """When an APPROVED template may be edited again (its quota: 1 a day, 10 in 30 days)."""
        stamps = sorted(t for t in self.edits.get(template_id, ()) if now - EDIT_WINDOW < t <= now + SKEW)
        slot = now
        day = [t for t in stamps if now - DAY < t]
        if len(day) >= per_day:
            slot = max(slot, day[len(day) - per_day] + DAY)
        if len(stamps) >= per_30_days:
            slot = max(slot, stamps[len(stamps) - per_30_days] + EDIT_WINDOW)
        return slot

    def lock_until(self, key: str, now: dt.datetime) -> dt.datetime | None:
        until = self.locks.get(key)
        return until if until and now < until <= now + LOCK_DAYS + SKEW else None

    # --- what the applier records ---------------------------------------------------------------

    def created(self, now: dt.datetime) -> None:
        self.creations.append(now)

    def edited(self, template_id: str, now: dt.datetime) -> None:
        self.edits.setdefault(template_id, []).append(now)

    def locked(self, key: str, until: dt.datetime) -> None:
        self.locks[key] = max(until, self.locks.get(key, until))

    def throttled(self, until: dt.datetime) -> None:
        self.throttled_until = until

    def uploaded(self, key: str, digest: str | None) -> None:
        """The header files a template now holds, as uploaded by this apply."""
        if digest is None:
            self.media.pop(key, None)
        else:
            self.media[key] = digest

    def forget(self, key: str) -> None:
        """A deleted template's records: a template made again under its name starts afresh."""
        self.media.pop(key, None)
        self.recategorised.pop(key, None)

    def created_as(self, key: str, declared: str, given: str | None) -> None:
        """What category Meta gave a template it created: remembered only when not the declared one."""
        if given is None or given == declared:
            self.recategorised.pop(key, None)
        else:
            self.recategorised[key] = (declared, given)

    def pruned(self, now: dt.datetime) -> AccountLedger:
        """Only what still matters at ``now``."""
        return AccountLedger(
            creations=self.recent_creations(now),
            edits={k: v for k, v in ((k, [t for t in v if now - EDIT_WINDOW < t]) for k, v in self.edits.items()) if v},
            locks={k: v for k, v in self.locks.items() if v > now},
            throttled_until=self.throttled_until if self.throttled_until and self.throttled_until > now else None,
            recategorised=dict(self.recategorised),
            media=dict(self.media),
        )


@dataclass
class Ledger:
    path: str | None
    accounts: dict[str, AccountLedger] = field(default_factory=dict)

    def account(self, waba_id: str) -> AccountLedger:
        return self.accounts.setdefault(waba_id, AccountLedger())

    def size(self) -> dict[str, int]:
        """How many records of each kind it holds (to say what a failed write left unrecorded)."""
        books = self.accounts.values()
        return {"creations": sum(len(b.creations) for b in books), "edits": sum(len(v) for b in books for v in b.edits.values()),
                "name locks": sum(len(b.locks) for b in books)}


def ledger_path(state_dir: str) -> str:
    return os.path.join(state_dir, FILE_NAME)


def load(path: str) -> tuple[Ledger, list[str]]:
    """The ledger at ``path`` and what was wrong with it (each problem names the path)."""
    if not os.path.exists(path):
        return Ledger(path), []
    try:
        with open(path, encoding="utf-8") as handle:
            raw = json.load(handle)
    except (OSError, ValueError, UnicodeDecodeError) as error:
        return Ledger(path), [f"ledger {path} is unreadable and was ignored: {error}"]
    if not isinstance(raw, dict) or raw.get("format") != FORMAT or raw.get("version") != VERSION:
        return Ledger(path), [f"ledger {path} is not a wabactl ledger (version {VERSION}) and was ignored"]
    problems: list[str] = []
    ledger = Ledger(path)
    accounts = raw.get("accounts")
    if not isinstance(accounts, dict):
        return ledger, [f"ledger {path}: 'accounts' is not an object; ignored"]
    for waba_id, entry in accounts.items():
        account = _account(entry, f"ledger {path}: account {waba_id}", problems)
        if account is not None:
            ledger.accounts[str(waba_id)] = account
    return ledger, problems


def save(ledger: Ledger, now: dt.datetime) -> None:
    """Write atomically, keeping only what still matters."""
    if ledger.path is None:
        return
    folder = os.path.dirname(os.path.abspath(ledger.path))
    os.makedirs(folder, exist_ok=True)
    data = {
        "format": FORMAT,
        "version": VERSION,
        "accounts": {waba: _dump(account.pruned(now)) for waba, account in sorted(ledger.accounts.items())},
    }
    handle, temporary = tempfile.mkstemp(dir=folder, prefix=".ledger-")
    with os.fdopen(handle, "w", encoding="utf-8") as out:
        json.dump(data, out, indent=2)
        out.write("\n")
    os.replace(temporary, ledger.path)


def _dump(account: AccountLedger) -> dict[str, Any]:
    return {
        "creations": [t.isoformat() for t in account.creations],
        "edits": {k: [t.isoformat() for t in v] for k, v in sorted(account.edits.items())},
        "locks": {k: v.isoformat() for k, v in sorted(account.locks.items())},
        "throttled_until": account.throttled_until.isoformat() if account.throttled_until else None,
        **({"recategorised": {k: {"declared": d, "given": g} for k, (d, g) in sorted(account.recategorised.items())}}
           if account.recategorised else {}),
        **({"media": dict(sorted(account.media.items()))} if account.media else {}),
    }


def _account(entry: Any, where: str, problems: list[str]) -> AccountLedger | None:
    if not isinstance(entry, dict):
        problems.append(f"{where} is not an object; ignored")
        return None
    account = AccountLedger()
    account.creations = _times(entry.get("creations", []), f"{where} creations", problems)
    edits = entry.get("edits", {})
    if isinstance(edits, dict):
        account.edits = {str(k): _times(v, f"{where} edits of {k}", problems) for k, v in edits.items()}
    else:
        problems.append(f"{where} edits is not an object; ignored")
    locks = entry.get("locks", {})
    if isinstance(locks, dict):
        for key, value in locks.items():
            moment = _time(value)
            if moment is None:
                problems.append(f"{where} lock of {key} has no valid time; ignored")
            else:
                account.locks[str(key)] = moment
    else:
        problems.append(f"{where} locks is not an object; ignored")
    moved = entry.get("recategorised") or {}
    if isinstance(moved, dict) and all(isinstance(v, dict) and isinstance(v.get("declared"), str) and isinstance(v.get("given"), str)
                                       for v in moved.values()):
        account.recategorised = {str(k): (v["declared"], v["given"]) for k, v in moved.items()}
    else:
        problems.append(f"{where} recategorised is not an object of {{declared, given}}; ignored")
    media = entry.get("media") or {}
    if isinstance(media, dict) and all(isinstance(v, str) for v in media.values()):
        account.media = {str(k): v for k, v in media.items()}
    else:
        problems.append(f"{where} media is not an object of digests; ignored")
    throttled = entry.get("throttled_until")
    if throttled is not None:
        account.throttled_until = _time(throttled)
        if account.throttled_until is None:
            problems.append(f"{where} throttled_until is not a time; ignored")
    return account


def _times(values: Any, where: str, problems: list[str]) -> list[dt.datetime]:
    if not isinstance(values, list):
        problems.append(f"{where} is not a list; ignored")
        return []
    times = [_time(v) for v in values]
    if any(t is None for t in times):
        problems.append(f"{where}: {sum(t is None for t in times)} entries are not times; those were ignored")
    return [t for t in times if t is not None]


def _time(value: Any) -> dt.datetime | None:
    if not isinstance(value, str):
        return None
    try:
        moment = dt.datetime.fromisoformat(value)
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)
