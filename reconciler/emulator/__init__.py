"""A stateful imitation of the parts of Meta's Graph API that wabactl uses, on loopback only.

It imports nothing from the rest of ``reconciler``, so it cannot share a bug with the client.
Start it with ``Emulator(seed).start()`` (tests), ``--emulator`` on the CLI, or
``wabactl emulator --seed FILE``.
"""

from .seed import SeedError
from .server import Emulator

__all__ = ["Emulator", "SeedError"]
