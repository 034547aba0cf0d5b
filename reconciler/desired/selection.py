"""Which accounts a run works on: those named with ``--account``, those of one ``--shard``, and
which WABAs a fleet's filters keep. Pure functions of the desired state."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence

from ..errors import ReconcilerError
from ..globs import matches
from ..model import DesiredAccount, Fleet, WabaFilter

Shard = tuple[int, int]  # (I, N): the I-th of N shards, from 1

def parse_shard(text: str | None) -> Shard | None:
    """``I/N`` as (I, N), 1 <= I <= N; None for None."""
    if text is None:
        return None
    match = re.fullmatch(r"\s*([0-9]{1,6})\s*/\s*([0-9]{1,6})\s*", text)
    if not match:
        raise ReconcilerError(f"shard {text!r} is not I/N, e.g. 1/3 for the first of three shards")
    index, count = int(match.group(1)), int(match.group(2))
    if not 1 <= index <= count:
        raise ReconcilerError(f"shard {text!r}: I must be from 1 to N, and N at least 1 (1/3, 2/3 and 3/3 make three shards)")
    return index, count

def in_shard(waba_id: str, shard: Shard) -> bool:
    """Whether the WABA falls in shard I of N: by a hash of its id alone, so adding or removing an
    account never moves another to a different shard."""
    index, count = shard
    return int(hashlib.sha256(waba_id.encode()).hexdigest(), 16) % count == index - 1

def narrow(accounts: Sequence[DesiredAccount], names: Sequence[str] = (), shard: Shard | None = None) -> list[DesiredAccount]:
    """The accounts named (all when none are), then those in ``shard``; an unknown name is an error."""
    known = {a.name for a in accounts}
    unknown = sorted(set(names) - known)
    if unknown:
        shown = ", ".join(sorted(known)[:20]) + (f" and {len(known) - 20} more" if len(known) > 20 else "")
        raise ReconcilerError(f"no such account: {', '.join(unknown)} (known: {shown or 'none'})")
    chosen = [a for a in accounts if not names or a.name in names]
    return [a for a in chosen if shard is None or in_shard(a.waba_id, shard)]

def fleet_keeps(fleet: Fleet, waba_id: str, name: str | None) -> bool:
    """Whether the fleet's include and exclude filters keep this WABA."""
    def hit(rules: WabaFilter) -> bool:
        return waba_id in rules.ids or (name is not None and any(matches(glob, name) for glob in rules.names))

    return (fleet.include.empty or hit(fleet.include)) and not hit(fleet.exclude)
