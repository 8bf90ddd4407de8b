"""The garbage collector's settings for a serving API process.

While relaying, each of the ~1,500 bookings in flight holds its request, its future and its
answer for the 2–3 s it waits for its block. Under CPython's default thresholds (700, 10, 10)
those objects were promoted to the oldest generation before they died, so full collections ran
about once a second, each walking the ~480,000 objects the process holds for ~0.2 s with the
interpreter lock held: a fifth of the API's time (gc.callbacks, bench/api.py).

- gc.freeze() once the app is built: what start-up made (modules, ABIs, contracts, the
  relayer) lives as long as the process, so no collection walks it again;
- a young generation of 50,000 objects instead of 700: a booking's objects die young, before a
  collection can promote them, so full collections become rare and each one small.

Reference cycles are still collected; only how often each generation is walked changes.
"""

from __future__ import annotations

import gc

YOUNG_GENERATION = 50_000


def settle_collector() -> None:
    """Called once by `citypass-api serve`, after the app is built and before it serves (not
    by create_app: a test process that builds apps would freeze its own objects)."""
    gc.collect()
    gc.freeze()
    _, middle, old = gc.get_threshold()
    gc.set_threshold(YOUNG_GENERATION, middle, old)
