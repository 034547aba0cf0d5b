"""Applying: the applier carries out a plan exactly and reports an outcome per change; review
polling waits for Meta's verdict on what was created or edited."""
