"""How long a tenant's lane waits for more of its chats before writing them.

A batch's calls cost the same for one chat as for two hundred, so the longer a lane waits
the fewer calls a chat costs; what bounds the wait is the latency promised for a chat
(`CRM_SYNC_LATENCY_TARGET_S`, from its produce time to its result). A lane waits from its
oldest chat's produce time until the target less the time a batch is expected to take to
write (a moving average of recent batches), or until the batch is full.

Every tenant waits the whole window, however rarely it chats: waiting `W` for a tenant at
`λ` chats/s saves about `λW / (1 + λW)` of its calls, and the wait stays within the
target, so there is nothing to gain by flushing a quiet tenant early but latency nobody
was promised. A hot tenant's batches fill within the window and go at once.
"""

from __future__ import annotations

from typing import Final

LINGER_FIRST_WRITE_S: Final = 0.5
"""The write time expected before any batch was measured."""
_WEIGHT: Final = 0.1
"""Weight of the newest batch in the moving average."""


class Linger:
    """The lanes' window: `target_s` less the expected write time (never below a tenant's
    own `batch_linger_ms`)."""

    def __init__(self, target_s: float) -> None:
        self.target_s = target_s
        self.write_s = LINGER_FIRST_WRITE_S

    def wrote(self, seconds: float) -> None:
        """A batch took `seconds` to write (its results published)."""
        self.write_s += _WEIGHT * (max(0.0, seconds) - self.write_s)

    def window_s(self, tenant_linger_s: float) -> float:
        """How long after its oldest chat was produced a lane writes its batch."""
        if self.target_s <= 0:
            return tenant_linger_s
        return max(tenant_linger_s, self.target_s - self.write_s, 0.0)
