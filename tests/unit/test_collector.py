"""A long-running process tunes the garbage collector once: what start-up built is frozen, and
young collections run far less often. Checked in a process of its own, as the tuning lasts for
the life of the process that asks for it."""

from __future__ import annotations

import json
import subprocess
import sys

PROBE = """
import gc, json
from ledger.collector import YOUNG_THRESHOLD, tune_collector
before = gc.get_threshold()
tune_collector()
print(json.dumps({"before": before, "after": gc.get_threshold(), "frozen": gc.get_freeze_count(), "young": YOUNG_THRESHOLD}))
"""


def test_tuning_freezes_what_start_up_built_and_makes_young_collections_rarer() -> None:
    done = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, timeout=60, check=True)
    seen = json.loads(done.stdout)
    assert seen["before"] == [700, 10, 10]  # the interpreter's defaults
    assert seen["after"] == [seen["young"], 20, 20] and seen["young"] >= 100 * 700
    assert seen["frozen"] > 1000  # the modules and objects imported so far
