"""The `ledger` command: serve the API, issue tokens. A composition root: it may import all."""

from __future__ import annotations

import argparse
import json
import sys

from ledger.domain.catalogue import Role
from ledger.domain.errors import LedgerError
from ledger.settings import get_settings


def _serve(args: argparse.Namespace) -> int:
    import uvicorn

    from api.app import create_app

    settings = get_settings()
    app = create_app(settings)
    uvicorn.run(app, host=args.host or settings.host, port=args.port or settings.port, log_config=None, access_log=False)
    return 0


def _token_create(args: argparse.Namespace) -> int:
    from ledger.bootstrap import build_ledger

    ledger = build_ledger(get_settings())
    try:
        issued = ledger.issue_token(args.role, args.org, args.subject or f"{args.role}:{args.org or '-'}")
    except LedgerError as e:
        print(f"error: {e.code}: {e.detail}", file=sys.stderr)
        return 2
    finally:
        ledger.close()
    if args.json:
        print(json.dumps(issued.__dict__))
    else:
        print(issued.token)
        print(f"# token id {issued.token_id}, role {issued.role}, org {issued.organisation_id or '-'}; shown once, stored only as a hash", file=sys.stderr)
    return 0


def _token_revoke(args: argparse.Namespace) -> int:
    from ledger.bootstrap import build_ledger

    ledger = build_ledger(get_settings())
    try:
        ledger.revoke_token(args.token_id)
    except LedgerError as e:
        print(f"error: {e.code}: {e.detail}", file=sys.stderr)
        return 2
    finally:
        ledger.close()
    return 0


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="ledger", description="The service-delivery ledger. Settings come from LEDGER_* variables.")
    sub = p.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", help="run the REST API (SQLite by default: LEDGER_DATABASE_URL chooses the store)")
    serve.add_argument("--host")
    serve.add_argument("--port", type=int)
    serve.set_defaults(func=_serve)

    token = sub.add_parser("token", help="API tokens")
    token_sub = token.add_subparsers(dest="token_command", required=True)
    create = token_sub.add_parser("create", help="issue a bearer token; prints it once")
    create.add_argument("--role", required=True, choices=[r.value for r in Role if r is not Role.SYSTEM])
    create.add_argument("--org", help="organisation id; for a contractor, the contractor id")
    create.add_argument("--subject", help="who holds the token (recorded on every event they cause)")
    create.add_argument("--json", action="store_true", help="print the token and its details as JSON")
    create.set_defaults(func=_token_create)
    revoke = token_sub.add_parser("revoke", help="revoke a token by its id")
    revoke.add_argument("token_id")
    revoke.set_defaults(func=_token_revoke)
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    return int(args.func(args))


if __name__ == "__main__":
    sys.exit(main())
