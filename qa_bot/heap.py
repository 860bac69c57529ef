"""Memory housekeeping shared by the stages that load long-lived structures (the encoder, the index)."""

from __future__ import annotations

import gc
import time


def settle_heap() -> float:
    """Called after a long-lived index structure was loaded or swapped: one full collection, then every object
    alive is moved out of the cyclic garbage collector's reach (``gc.freeze``). Without it the collector's
    periodic full pass walks the whole index while a question is being answered: at 1M chunks a pass took
    ~450 ms and landed in 1 question of ~20 (it was the p95). Frozen objects are still freed by reference
    counting; the next call unfreezes first, so a cycle left by an older version is collected then.
    Returns the milliseconds it took (one pause per loaded version, not per question)."""
    t = time.perf_counter()
    gc.unfreeze()
    gc.collect()
    gc.freeze()
    return (time.perf_counter() - t) * 1000
