"""What every bench step shares: a store of its own, servers as subprocesses, process CPU and
peak memory read from /proc, and the environment a `ledger` process needs."""

from __future__ import annotations

import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

ADMIN = os.environ.get("BENCH_POSTGRES_ADMIN", "postgresql://postgres@127.0.0.1:5432/test")
LEDGER = str(Path(sys.executable).with_name("ledger"))
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


@dataclass
class Store:
    kind: str  # sqlite | postgres
    url: str  # the ledger's LEDGER_DATABASE_URL
    folder: Path  # scratch space: signing key, SQLite files of the baselines
    db_name: str | None = None

    def env(self, **extra: str) -> dict[str, str]:
        return dict(
            os.environ,
            LEDGER_DATABASE_URL=self.url,
            LEDGER_ENVIRONMENT="production",
            LEDGER_ID_HASH_KEY="bench-key",
            LEDGER_LOG_LEVEL="WARNING",
            LEDGER_SIGNING_KEY_PATH=str(self.folder / "signing.key"),
            **extra,
        )

    def settings(self):  # type: ignore[no-untyped-def]
        from ledger.settings import Settings

        return Settings(environment="test", database_url=self.url, id_hash_key="bench-key", signing_key_path=self.folder / "signing.key", log_level="WARNING")


@contextmanager
def own_store(kind: str, url: str | None = None) -> Iterator[Store]:
    """A new, empty store dropped afterwards; or, given a URL, that store as it is (kept)."""
    with tempfile.TemporaryDirectory(prefix="ledger-bench-") as folder:
        if url:
            postgres = url.startswith("postgres")
            # The database's name, so its backends' CPU is measured as for a store of our own.
            yield Store("postgres" if postgres else "sqlite", url, Path(folder), url.rsplit("/", 1)[-1].split("?")[0] if postgres else None)
            return
        if kind == "sqlite":
            yield Store("sqlite", f"sqlite:///{folder}/ledger.db", Path(folder))
            return
        name = f"ledger_bench_{uuid.uuid4().hex[:8]}"
        with psycopg.connect(ADMIN, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        try:
            yield Store("postgres", ADMIN.rsplit("/", 1)[0] + f"/{name}", Path(folder), name)
        finally:
            with psycopg.connect(ADMIN, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# --- processes ------------------------------------------------------------------------------
def cpu_seconds(pid: int) -> float:
    """User + system CPU of a process so far (its threads included), from /proc."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (FileNotFoundError, ProcessLookupError):
        return 0.0
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def peak_rss_mb(pid: int) -> float:
    """VmHWM: the most resident memory the process ever had."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except FileNotFoundError:
        pass
    return 0.0


class PostgresBackends:
    """CPU of the PostgreSQL backends serving one database: summed over every backend seen at
    either end of a measurement (pooled connections live through it)."""

    def __init__(self, db_name: str | None) -> None:
        self.db_name = db_name
        self._start: dict[int, float] = {}

    def pids(self) -> list[int]:
        if not self.db_name:
            return []
        with psycopg.connect(ADMIN, autocommit=True) as conn:
            rows = conn.execute("SELECT pid FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()", (self.db_name,)).fetchall()
        return [r[0] for r in rows]

    def start(self) -> None:
        self._start = {pid: cpu_seconds(pid) for pid in self.pids()}

    def seconds(self) -> float:
        now = {pid: cpu_seconds(pid) for pid in self.pids()}
        return sum(max(0.0, now.get(pid, self._start.get(pid, 0.0)) - self._start.get(pid, 0.0)) for pid in set(now) | set(self._start))

    def peak_rss_mb(self) -> float:
        return max((peak_rss_mb(pid) for pid in self.pids()), default=0.0)


class Server:
    """A uvicorn server in a subprocess, one worker, ready when /health/live (or /) answers."""

    def __init__(self, name: str, argv: Sequence[str], env: dict[str, str], port: int, ready_path: str) -> None:
        self.name, self.port = name, port
        self.log = tempfile.TemporaryFile()
        self.proc = subprocess.Popen(list(argv), env=env, stdout=self.log, stderr=self.log)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                self.log.seek(0)
                raise RuntimeError(f"{name} exited: {self.log.read().decode(errors='replace')[-2000:]}")
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1) as s:
                    s.sendall(f"GET {ready_path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
                    if s.recv(64).startswith(b"HTTP/1.1 200"):
                        return
            except OSError:
                pass
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"{name} did not answer on port {port}")

    @property
    def pid(self) -> int:
        return self.proc.pid

    def cpu(self) -> float:
        return cpu_seconds(self.pid)

    def peak_rss_mb(self) -> float:
        return peak_rss_mb(self.pid)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()


def ledger_server(store: Store, **env: str) -> Server:
    port = free_port()
    return Server("ledger", [LEDGER, "serve", "--port", str(port)], store.env(**env), port, "/health/live")


# The deployment with workers of their own (branch deploy): the API with both loops off.
SEPARATE_ENV = {"LEDGER_PROJECTIONS_IN_SERVICE": "false", "LEDGER_FOLLOWER_IN_SERVICE": "false", "LEDGER_CREATE_TABLE": "false"}


def separate_workers_available() -> bool:
    """`ledger follow` and `ledger migrate` exist (the deploy branch is merged)."""
    return all(subprocess.run([LEDGER, *cmd, "--help"], capture_output=True).returncode == 0 for cmd in (["follow"], ["migrate"]))


class Worker:
    """A `ledger projections run` or `ledger follow` process beside the API."""

    def __init__(self, name: str, argv: Sequence[str], env: dict[str, str]) -> None:
        self.name = name
        self.proc = subprocess.Popen([LEDGER, *argv], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    @property
    def pid(self) -> int:
        return self.proc.pid

    def cpu(self) -> float:
        return cpu_seconds(self.pid)

    def peak_rss_mb(self) -> float:
        return peak_rss_mb(self.pid)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def start_workers(store: Store) -> list[Worker]:
    """Migrates, then starts a projections worker and a follower with the API's loops off."""
    subprocess.run([LEDGER, "migrate"], env=store.env(), check=True, capture_output=True)
    env = store.env(**SEPARATE_ENV)
    return [Worker("projections worker", ["projections", "run"], env), Worker("follower", ["follow"], env)]


def token(store: Store, role: str, org: str | None = None, subject: str | None = None) -> str:
    """A bearer token issued in-process (what `ledger token create` does)."""
    from ledger.bootstrap import build_ledger

    ledger = build_ledger(store.settings())
    try:
        return ledger.issue_token(role, org, subject or f"bench-{role}").token
    finally:
        ledger.close()


# --- figures --------------------------------------------------------------------------------
def quantile(sorted_values: Sequence[float], q: float) -> float:
    if not sorted_values:
        return float("nan")
    index = min(len(sorted_values) - 1, max(0, round(q * (len(sorted_values) - 1))))
    return sorted_values[index]


def median(values: Sequence[float]) -> float:
    return statistics.median(values) if values else float("nan")
