"""Processes that open a new store at the same moment (`ledger serve` and `ledger demo` started
together) all find it ready: the library's table creation races, and the loser opens it again."""

from __future__ import annotations

import os
import subprocess
import sys

OPEN_STORE = """
import sys
from ledger.bootstrap import build_ledger
from ledger.settings import Settings
ledger = build_ledger(Settings(environment="test", database_url=sys.argv[1], id_hash_key="k"))
print(ledger.head())
"""


def test_processes_opening_a_new_store_at_once_all_find_it_ready(store_url: str) -> None:
    env = {**os.environ, "PYTHONPATH": os.getcwd()}
    processes = [subprocess.Popen([sys.executable, "-c", OPEN_STORE, store_url], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env) for _ in range(6)]
    results = [(p.wait(timeout=120), *p.communicate()) for p in processes]

    # The last line is the head; a process that lost the race logs it above.
    assert [(code, out.strip().splitlines()[-1:], err.strip().splitlines()[-1:]) for code, out, err in results] == [(0, ["0"], [])] * 6
