"""When a Graph request is tried again, and how long to wait first: one policy for reads and writes.

A read is tried again after a transient failure (``GraphError.transient``), or after a rate limit
whose announced end is near enough to wait for. A write is tried again only after a read-back shows
the first try did not happen (``GraphClient.write``): a write whose answer was lost may well have
happened, and a second create would make a duplicate.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from ..errors import GraphError


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 10  # tries in all, the first included, as long as the budget allows
    budget: float = 100.0  # seconds one request may take with all its tries and waits (a dripping server costs each try its deadline)
    backoff: float = 0.5  # seconds before the second try; doubled for each try after it
    jitter: float = 0.5  # each wait is drawn from +/- this share, so many clients do not retry in step
    max_wait: float = 60.0  # no single wait is longer, whatever Retry-After or the usage headers say
    random: random.Random = field(default_factory=random.Random, compare=False, repr=False)

    def may_retry_read(self, error: GraphError) -> bool:
        if error.transient:
            return True
        # A WABA rate limit (80007/80008) is waited out only when it ends soon: calling on while it
        # lasts prolongs it.
        return error.rate_limited and error.regain_minutes is not None and 0 < error.regain_minutes * 60 <= self.max_wait

    def allows(self, elapsed: float, wait: float, deadline: float) -> bool:
        """Whether another try, after ``wait``, still fits the budget if it takes its whole deadline."""
        return elapsed + wait + deadline <= self.budget

    def wait(self, attempt: int, error: GraphError) -> float:
        """Seconds to wait before try ``attempt + 1``: what the answer asked for, else backoff."""
        if error.retry_after is not None:
            asked = error.retry_after
        elif error.rate_limited and error.regain_minutes:
            asked = error.regain_minutes * 60.0
        else:
            asked = self.backoff * 2 ** (attempt - 1) * (1 + self.random.uniform(-self.jitter, self.jitter))
        return min(max(asked, 0.0), self.max_wait)
