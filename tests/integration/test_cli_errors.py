"""Every failure of the `ledger` command is one line on stderr, `ledger: error: …`, never a
traceback: exit code 2 when the command was wrong, 1 when something around it failed."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from tests.conftest import POSTGRES_ADMIN_URL

LEDGER = str(Path(sys.executable).with_name("ledger"))


def run(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("LEDGER_")}
    environment.update({"LEDGER_DATABASE_URL": f"sqlite:///{tmp_path}/ledger.db", "LEDGER_ID_HASH_KEY": "test-id-hash-key", "LEDGER_ENVIRONMENT": "test", **env})
    return subprocess.run([LEDGER, *args], env=environment, capture_output=True, text=True, timeout=60, cwd=tmp_path)


def one_error_line(done: subprocess.CompletedProcess, exit_code: int) -> str:
    assert done.returncode == exit_code, (done.returncode, done.stderr)
    assert "Traceback" not in done.stderr, done.stderr
    lines = done.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("ledger: error: "), done.stderr
    return lines[0]


def closed_port() -> int:
    """A local port nothing listens on."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class TestWrongCommands:
    def test_a_missing_token_id_for_revoke_names_the_argument_and_the_usage(self, tmp_path):
        line = one_error_line(run(tmp_path, "token", "revoke"), 2)
        assert "token_id" in line and "usage: ledger token revoke" in line

    def test_an_unknown_role_names_the_roles_allowed(self, tmp_path):
        assert "invalid choice: 'king'" in one_error_line(run(tmp_path, "token", "create", "--role", "king"), 2)

    def test_no_command_at_all(self, tmp_path):
        assert "required: command" in one_error_line(run(tmp_path), 2)

    def test_a_token_id_that_was_never_issued_is_a_refusal_not_a_crash(self, tmp_path):
        assert "NotFound" in one_error_line(run(tmp_path, "token", "revoke", str(uuid.uuid4())), 2)

    def test_an_unsupported_database_url(self, tmp_path):
        line = one_error_line(run(tmp_path, "token", "create", "--role", "finance", LEDGER_DATABASE_URL="mysql://db/ledger"), 2)
        assert "unsupported database URL 'mysql://db/ledger'" in line

    def test_a_setting_of_the_wrong_type_names_its_variable(self, tmp_path):
        line = one_error_line(run(tmp_path, "token", "create", "--role", "finance", LEDGER_PORT="eighty"), 2)
        assert "LEDGER_PORT='eighty'" in line and "valid integer" in line

    def test_production_without_its_own_id_hash_key(self, tmp_path):
        done = run(tmp_path, "token", "create", "--role", "finance", LEDGER_ENVIRONMENT="production", LEDGER_ID_HASH_KEY="development-only-key-change-me")
        assert "LEDGER_ID_HASH_KEY" in one_error_line(done, 2)


class TestFailuresAround:
    def test_an_unreachable_postgresql_says_why_and_hides_the_password(self, tmp_path):
        url = f"postgresql://ledger:s3cret-pw@127.0.0.1:{closed_port()}/ledger"
        line = one_error_line(run(tmp_path, "token", "create", "--role", "finance", LEDGER_DATABASE_URL=url), 1)
        assert "did not answer" in line and "Connection refused" in line
        assert "s3cret-pw" not in line and "ledger:***@127.0.0.1" in line

    @pytest.mark.postgres_only
    def test_a_database_that_does_not_exist_is_named(self, tmp_path):
        url = f"{POSTGRES_ADMIN_URL.rsplit('/', 1)[0]}/no_such_ledger_{uuid.uuid4().hex[:8]}"
        line = one_error_line(run(tmp_path, "projections", "status", LEDGER_DATABASE_URL=url), 1)
        assert "does not exist" in line

    def test_serve_with_an_unreachable_postgresql_stops_with_one_line_before_listening(self, tmp_path):
        url = f"postgresql://ledger@127.0.0.1:{closed_port()}/ledger"
        line = one_error_line(run(tmp_path, "serve", "--port", str(closed_port()), LEDGER_DATABASE_URL=url), 1)
        assert "Connection refused" in line

    def test_an_export_into_a_missing_folder_names_the_file(self, tmp_path):
        target = tmp_path / "no" / "such" / "folder" / "log.jsonl"
        assert str(target) in one_error_line(run(tmp_path, "audit", "export", str(target)), 1)

    def test_a_sqlite_file_in_a_folder_that_cannot_be_made(self, tmp_path):
        blocker = tmp_path / "a-file"
        blocker.write_text("not a folder")
        done = run(tmp_path, "token", "create", "--role", "finance", LEDGER_DATABASE_URL=f"sqlite:///{blocker}/ledger.db")
        assert str(blocker) in one_error_line(done, 1)
