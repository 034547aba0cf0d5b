"""Desired state: config files read with positions, checked against the JSON Schema and Meta's
content rules, and mapped into the canonical model; and the way back (import: live -> YAML)."""
