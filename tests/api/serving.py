"""Serving the ledger as a user does, for tests that need a real process: `ledger serve` under
uvicorn on a free port, its log in a file, stopped by SIGTERM (killed only if that fails)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

LEDGER = str(Path(sys.executable).with_name("ledger"))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Served:
    base: str
    process: subprocess.Popen[bytes]
    log_path: Path

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")


def ledger_env(database_url: str, **settings: str) -> dict[str, str]:
    return dict(
        os.environ,
        LEDGER_DATABASE_URL=database_url,
        LEDGER_ENVIRONMENT="production",
        LEDGER_ID_HASH_KEY="a-secret-only-this-deployment-knows",
        **{f"LEDGER_{k.upper()}": v for k, v in settings.items()},
    )


@contextmanager
def serve(env: dict[str, str], log_path: Path, start_timeout: float = 30.0) -> Iterator[Served]:
    port = free_port()
    with open(log_path, "wb") as log_file:
        process = subprocess.Popen([LEDGER, "serve", "--port", str(port)], env=env, stdout=log_file, stderr=subprocess.STDOUT)
    served = Served(f"http://127.0.0.1:{port}", process, log_path)
    try:
        deadline = time.monotonic() + start_timeout
        while True:
            try:
                if httpx.get(f"{served.base}/health/live", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"the server did not start:\n{served.log()}")
            time.sleep(0.1)
        yield served
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)
