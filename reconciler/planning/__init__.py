"""Planning: desired and live state (and the ledger's memory of Meta's limits) in, a ``Plan`` out.
The planner decides actions, ``safety`` refuses dangerous plans, ``diff`` explains changes for
display, and ``planfile`` is the plan's JSON form."""
