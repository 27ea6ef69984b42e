"""A PostgreSQL server of a test's own, on a free port, that the test may stop and start.

Built with the distribution's initdb and pg_ctl, run as the `postgres` OS user (the suite runs as
root, which PostgreSQL refuses). Missing binaries fail the test: an outage test that silently
skipped would prove nothing.
"""

from __future__ import annotations

import glob
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.api.serving import free_port


def _bin(name: str) -> str:
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    if not found:
        pytest.fail(f"no PostgreSQL {name} under /usr/lib/postgresql/*/bin: install the server package", pytrace=False)
    return found[-1]


@dataclass
class OwnPostgres:
    home: Path
    port: int

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def _ctl(self, *args: str, timeout: float = 30) -> None:
        subprocess.run(
            ["runuser", "-u", "postgres", "--", _bin("pg_ctl"), "-D", str(self.home / "data"), *args],
            check=True,
            capture_output=True,
            timeout=timeout,
        )

    def start(self) -> None:
        options = f"-p {self.port} -k {self.home} -c listen_addresses=127.0.0.1 -c fsync=off"
        self._ctl("-o", options, "-l", str(self.home / "server.log"), "-w", "start")

    def stop(self) -> None:
        """A fast shutdown: sessions are ended at once, as when the server goes down."""
        self._ctl("-m", "fast", "-w", "stop")


@contextmanager
def own_postgres() -> Iterator[OwnPostgres]:
    home = Path(tempfile.mkdtemp(prefix="ledger-own-pg-"))
    shutil.chown(home, "postgres", "postgres")
    server = OwnPostgres(home, free_port())
    subprocess.run(
        ["runuser", "-u", "postgres", "--", _bin("initdb"), "-D", str(home / "data"), "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync"],
        check=True,
        capture_output=True,
        timeout=120,
    )
    server.start()
    try:
        yield server
    finally:
        try:
            server._ctl("-m", "immediate", "stop")
        except subprocess.CalledProcessError:
            pass  # already stopped
        shutil.rmtree(home, ignore_errors=True)
