"""tests.support.next_block_at against brownie's own clock resync: brownie sets its clock from the latest
block on a thread it starts for each transaction; one that ran after next_block_at put the clock back, so a
message signed next expired before its block (a clean clone's CI run on a busy machine met it)."""

from __future__ import annotations

import threading

from brownie import chain

from tests.support import DAY, next_block_at


class _SlowReceipt:
    """What the resync thread waits on: a transaction's confirmation, given late here."""

    def __init__(self) -> None:
        self._confirmed = threading.Event()


def test_next_block_at_is_not_undone_by_a_resync_still_running():
    receipt = _SlowReceipt()
    resync = threading.Thread(target=chain._add_to_undo_buffer, args=(receipt, print, (), {}), daemon=True)
    resync.start()
    threading.Timer(0.5, receipt._confirmed.set).start()
    target = chain.time() + 5 * DAY
    next_block_at(target)
    resync.join(timeout=10)
    assert not resync.is_alive()
    assert abs(chain.time() - target) <= 2
