"""The `ledger` command: serve the API, issue tokens. A composition root: it may import all."""

from __future__ import annotations

import argparse
import json
import sys
import traceback
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, NoReturn

from ledger.cli_errors import USAGE, describe, one_line, wants_traceback
from ledger.collector import tune_collector
from ledger.domain.catalogue import Role
from ledger.domain.errors import LedgerError
from ledger.settings import Settings, get_settings

if TYPE_CHECKING:
    from ledger.application import Ledger
    from ledger.background import WorkerLoop
    from projections.chain.audit import TamperEvidence
    from projections.readside import ReadSide


def _serve(args: argparse.Namespace) -> int:
    import uvicorn

    settings = get_settings()
    # The store answers before uvicorn starts: otherwise an unreachable database or a bad URL
    # ends as the traceback uvicorn logs for a failed startup, not as one line (main()).
    with _ledger(settings) as ledger:
        ledger.head()
    # No access log: it would print full paths, and a path may hold whatever a client typed (the
    # app logs one line per request with the route template). On SIGTERM, requests in flight get
    # the grace period, then are cancelled; every wait on a store is bounded, so the stop is prompt.
    common = dict(
        host=args.host or settings.host,
        port=args.port or settings.port,
        log_config=None,
        access_log=False,
        timeout_graceful_shutdown=settings.shutdown_grace_seconds,
    )
    if args.workers > 1:
        # Each worker process builds its app from the environment (settings cannot be pickled
        # across), so settings come from LEDGER_* variables alone here.
        uvicorn.run("api.app:app_from_environment", factory=True, workers=args.workers, **common)  # type: ignore[arg-type]
        return 0
    from api.app import create_app

    app = create_app(settings)
    if settings.tune_collector:
        tune_collector()  # this process serves until it stops: see ledger.collector
    uvicorn.run(app, **common)  # type: ignore[arg-type]
    return 0


class CommandFailed(Exception):
    """Ends a command with exit code 2 and its message on stderr."""


@contextmanager
def _ledger(settings: Settings | None = None) -> Iterator[Ledger]:
    """The ledger for one command, closed afterwards; domain errors become exit code 2."""
    from ledger.bootstrap import build_ledger

    ledger = build_ledger(settings or get_settings())
    try:
        yield ledger
    except LedgerError as e:
        raise CommandFailed(f"{e.code}: {e.detail}") from None
    finally:
        ledger.close()


@contextmanager
def _read_side(settings: Settings | None = None, migrate_schema: bool | None = None, names: Sequence[str] | None = None) -> Iterator[ReadSide]:
    """The read side (all projections, or the named ones), migrated to head (unless
    LEDGER_CREATE_TABLE=false leaves that to `ledger migrate`), with its engine disposed afterwards."""
    from projections.readside import ReadSide
    from projections.store import make_engine

    settings = settings or get_settings()
    with _ledger(settings) as ledger:
        read_side = ReadSide(ledger, make_engine(settings.sqlalchemy_url(), settings.timeouts()), interval=settings.projections_interval_seconds, names=names)
        try:
            read_side.prepare(migrate_schema=settings.create_table if migrate_schema is None else migrate_schema)
            yield read_side
        finally:
            read_side.engine.dispose()


@contextmanager
def _chain(read_side: ReadSide, settings: Settings | None = None) -> Iterator[TamperEvidence]:
    """The hash chain beside a read side, its head row ensured."""
    from projections.chain.audit import TamperEvidence

    chain = TamperEvidence(read_side.ledger, read_side.engine, (settings or get_settings()).signing_key_file(), interval=read_side.interval)
    chain.prepare()
    yield chain


def _token_create(args: argparse.Namespace) -> int:
    with _ledger() as ledger:
        issued = ledger.issue_token(args.role, args.org, args.subject or f"{args.role}:{args.org or '-'}")
    if args.json:
        print(json.dumps(issued.__dict__))
    else:
        print(issued.token)
        print(f"# token id {issued.token_id}, role {issued.role}, org {issued.organisation_id or '-'}; shown once, stored only as a hash", file=sys.stderr)
    return 0


def _token_revoke(args: argparse.Namespace) -> int:
    with _ledger() as ledger:
        ledger.revoke_token(args.token_id)
    return 0


def _token_list(args: argparse.Namespace) -> int:
    """Every token issued, newest first: id, role, organisation, subject, issued at, revoked.
    Never the secret nor its digest. The audit trail is the index: it is caught up first (as a
    running service would; a racing runner's batch is simply not applied twice)."""
    from ledger.application import to_plain
    from projections.lists import token_issues
    from projections.runner import ProjectionRunner

    rows: list[dict] = []
    with _read_side() as read_side:
        ProjectionRunner(read_side.ledger, read_side.engine, names=["audit"]).run_until_idle()
        with read_side.engine.connect() as conn:
            cursor = None
            while True:
                issues, cursor = token_issues(conn, cursor=cursor, limit=500)
                states = read_side.ledger.describe_tokens(None, [i["token_id"] for i in issues])
                rows += [{**states[i["token_id"]], **i} for i in issues if i["token_id"] in states]
                if cursor is None:
                    break
    if args.json:
        print(json.dumps(to_plain(rows), ensure_ascii=False, indent=2))
    else:
        columns = ("token_id", "role", "organisation_id", "subject", "issued_at", "revoked")
        table = [[str(to_plain(r[c]) if r[c] is not None else "-") for c in columns] for r in rows]
        widths = [max([len(c)] + [len(line[i]) for line in table]) for i, c in enumerate(columns)]
        for line in [list(columns)] + table:
            print("  ".join(cell.ljust(w) for cell, w in zip(line, widths)).rstrip())
    return 0


def _migrate(args: argparse.Namespace) -> int:
    """The one process of a deployment that changes schemas: the event store's tables, the read
    models to alembic head, the chain head and projection position rows; then it exits."""
    settings = get_settings(create_table=True)
    with _read_side(settings, migrate_schema=True) as read_side, _chain(read_side, settings):
        print("event store tables created; read models migrated to head")
    return 0


def _run_loops(settings: Settings, loops: list[WorkerLoop], ledger: Ledger) -> None:
    """Runs background loops in this process until SIGTERM or Ctrl-C: each in a thread, woken by
    the store's notifications on PostgreSQL, the first loop in the calling thread."""
    import signal

    from stores.wakeup import waker_for

    waker = None
    if settings.listen_for_notifications:
        waker = waker_for(ledger, settings.database_url, loops, notified_interval=settings.notified_poll_seconds, connect_timeout=settings.postgres_connect_timeout_seconds)
    if settings.tune_collector:
        tune_collector()
    signal.signal(signal.SIGTERM, lambda *_: loops[0].stop())
    for loop in loops[1:]:
        loop.start()
    if waker is not None:
        waker.start()
    try:
        loops[0].run_forever()
    except KeyboardInterrupt:
        pass
    finally:
        if waker is not None:
            waker.stop()
        for loop in loops:
            loop.stop()


def _projections_run(args: argparse.Namespace) -> int:
    """A worker that keeps the read models (all, or the named ones) and the hash chain (unless
    --no-chain), beside API workers that set LEDGER_PROJECTIONS_IN_SERVICE=false. Several may run:
    each batch is claimed once, so two workers of one projection are a hot spare, and workers of
    different projections share the catch-up between cores."""
    from api.logs import configure_logging

    settings = get_settings()
    configure_logging(settings.environment, settings.log_level)
    with _read_side(settings, names=args.names or None) as read_side:
        if args.no_chain:
            _run_loops(settings, [read_side.loop], read_side.ledger)
            return 0
        with _chain(read_side, settings) as chain:
            _run_loops(settings, [read_side.loop, chain.keeper.loop], read_side.ledger)
    return 0


def _follow(args: argparse.Namespace) -> int:
    """The milestone process's worker, beside API workers that set LEDGER_FOLLOWER_IN_SERVICE=false.
    Several may run: a batch's events and its tracking position are saved in one transaction."""
    import structlog

    from api.logs import configure_logging
    from ledger.bootstrap import build_milestones
    from ledger.processes import Follower

    settings = get_settings()
    configure_logging(settings.environment, settings.log_level)
    log = structlog.get_logger("ledger.follow")
    with _ledger(settings) as ledger:
        follower = Follower(
            build_milestones(ledger),
            inline=False,
            interval=settings.follow_interval_seconds,
            on_error=lambda exc: log.error("milestone_process_failed", error=repr(exc)),
            on_recovered=lambda failures: log.info("milestone_process_recovered", failures=failures),
        )
        log.info("follower_started", position=follower.process.position(), head=ledger.head())
        _run_loops(settings, [follower.loop], ledger)
    return 0


def _projections_rebuild(args: argparse.Namespace) -> int:
    from projections.runner import NAMES, Rebuilder, print_progress

    with _read_side() as read_side:
        for name in args.names or NAMES:
            try:
                done = Rebuilder(read_side.ledger, read_side.engine).rebuild(name, print_progress)
            except ValueError as e:
                raise CommandFailed(str(e)) from None
            except LedgerError as e:  # an event it cannot apply: end the progress line first
                print(file=sys.stderr)
                raise CommandFailed(f"{e.code}: {e.detail}") from None
            print(f"\nrebuilt {name} from {done} events", file=sys.stderr)
    return 0


def _projections_status(args: argparse.Namespace) -> int:
    from ledger.application import to_plain

    settings = get_settings()
    with _read_side(settings) as read_side:
        print(json.dumps(to_plain(read_side.status(settings.ready_max_lag_seconds)), indent=2))
    return 0


def _audit_checkpoint(args: argparse.Namespace) -> int:
    with _read_side() as read_side, _chain(read_side) as chain:
        chain.keeper.catch_up()
        print(json.dumps(chain.checkpoint().as_dict(), indent=2))
    return 0


def _audit_verify(args: argparse.Namespace) -> int:
    from projections.chain.signing import Checkpoint

    checkpoint = None
    if args.checkpoint:
        try:
            with open(args.checkpoint, encoding="utf-8") as f:
                checkpoint = Checkpoint.from_dict(json.load(f))
        except (OSError, ValueError) as e:
            raise CommandFailed(f"cannot read the checkpoint {args.checkpoint}: {e}") from None
    with _read_side() as read_side, _chain(read_side) as chain:
        report = chain.verify(checkpoint)
    print(json.dumps(report.as_dict(), indent=2))
    return 0 if report.intact else 1


def _audit_export(args: argparse.Namespace) -> int:
    with _read_side() as read_side, _chain(read_side) as chain:
        chain.keeper.catch_up()
        with open(args.file, "w", encoding="utf-8") as out:
            lines = chain.export(out)
    print(f"exported {lines} positions to {args.file}", file=sys.stderr)
    return 0


def _demo(args: argparse.Namespace) -> int:
    """Fills an empty store with the demo city through the ledger's commands, brings the read
    models and the hash chain up to the head (so `ledger serve` shows them full at once), and
    prints the tokens to sign in with."""
    from ledger.demo import build_demo_city

    settings = get_settings()

    def progress(line: str) -> None:
        print(f"demo: {line}", file=sys.stderr, flush=True)

    with _read_side(settings) as read_side, _chain(read_side, settings) as chain:
        city = build_demo_city(read_side.ledger, progress, seed=args.seed)
        read_side.runner.run_until_idle()
        chain.keeper.catch_up()
        progress(f"read models and hash chain caught up to position {city.position}")
    if args.json:
        print(json.dumps(city.as_dict(), ensure_ascii=False, indent=2))
        return 0
    print(f"# {city.city}: tokens to sign in with (shown once; stored only as hashes). `source` this output to set them.")
    for role in ("purchaser", "finance", "auditor", "evaluator"):
        print(f"export LEDGER_{role.upper()}_TOKEN={city.tokens[role]}  # {role}: {city.subjects[role]}")
    for c in city.contractors:
        print(f"export LEDGER_CONTRACTOR_{c.key.upper()}_TOKEN={c.token}  # contractor {c.name}: {c.subject}, contractor id {c.contractor_id}")
    first = city.contractors[0]
    print(f"export LEDGER_CONTRACTOR_TOKEN={first.token} LEDGER_CONTRACTOR_ID={first.contractor_id}  # {first.name} again, for the README's examples")
    return 0


def _publish(args: argparse.Namespace) -> int:
    from api.routers.publish import every_contract, package_chunks

    settings = get_settings()
    with _read_side(settings) as read_side, open(args.file, "wb") as out:
        ids = args.contract or every_contract(read_side)
        for chunk in package_chunks(read_side.ledger, read_side, settings, ids, args.uri or f"file:{args.file}"):
            out.write(chunk)
    print(f"published {len(ids)} contracts as an OCDS release package to {args.file}", file=sys.stderr)
    return 0


class _OneLineParser(argparse.ArgumentParser):
    """A wrong argument is one line on stderr, with the command's usage, and exit code 2."""

    def error(self, message: str) -> NoReturn:
        usage = " ".join(self.format_usage().split()[1:])
        self.exit(USAGE, f"ledger: error: {one_line(message)} (usage: {usage})\n")


def parser() -> argparse.ArgumentParser:
    from projections.runner import NAMES

    p = _OneLineParser(prog="ledger", description="The service-delivery ledger. Settings come from LEDGER_* variables.")
    sub = p.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", help="run the REST API (SQLite by default: LEDGER_DATABASE_URL chooses the store)")
    serve.add_argument("--host")
    serve.add_argument("--port", type=int)
    serve.add_argument("--workers", type=int, default=1, help="API worker processes; with more than one, set LEDGER_CREATE_TABLE=false and run `ledger migrate` first (see README: Deployment)")
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
    listing = token_sub.add_parser("list", help="list the tokens issued (never their secrets), newest first")
    listing.add_argument("--json", action="store_true", help="print the list as JSON")
    listing.set_defaults(func=_token_list)
    migrate = sub.add_parser("migrate", help="create the event store's tables and migrate the read models to head, then exit (run it first; the other processes set LEDGER_CREATE_TABLE=false)")
    migrate.set_defaults(func=_migrate)
    follow = sub.add_parser("follow", help="run the milestone process in this process (set LEDGER_FOLLOWER_IN_SERVICE=false on the API)")
    follow.set_defaults(func=_follow)

    demo = sub.add_parser(
        "demo", help="fill an EMPTY store with a small demo city (funds, contractors, 60 beneficiaries, contracts, months of visits, a released tranche) and print its sign-in tokens"
    )
    demo.add_argument("--seed", type=int, default=2026, help="names, ID numbers and visit times follow from it (default 2026)")
    demo.add_argument("--json", action="store_true", help="print the tokens and the ids of what was recorded as JSON")
    demo.set_defaults(func=_demo)

    projections = sub.add_parser("projections", help="the read models")
    proj_sub = projections.add_subparsers(dest="projections_command", required=True)
    run = proj_sub.add_parser("run", help="keep the read models in this process (set LEDGER_PROJECTIONS_IN_SERVICE=false on the API)")
    run.add_argument("names", nargs="*", metavar="NAME", help=f"only these projections: {', '.join(NAMES)} (default: all)")
    run.add_argument("--no-chain", action="store_true", help="leave the hash chain to another worker")
    run.set_defaults(func=_projections_run)
    rebuild = proj_sub.add_parser("rebuild", help="rebuild from the first event, serving the old rows until the swap")
    rebuild.add_argument("names", nargs="*", metavar="NAME", help=f"{', '.join(NAMES)} (default: all)")
    rebuild.set_defaults(func=_projections_rebuild)
    status = proj_sub.add_parser("status", help="each projection's state (running, lagging, stalled and where), position and lag")
    status.set_defaults(func=_projections_status)

    audit = sub.add_parser("audit", help="tamper evidence: the hash chain over the log")
    audit_sub = audit.add_subparsers(dest="audit_command", required=True)
    cp = audit_sub.add_parser("checkpoint", help="print the chain's head signed with the deployment's key (keep it outside the system)")
    cp.set_defaults(func=_audit_checkpoint)
    ver = audit_sub.add_parser("verify", help="recompute the chain from the stored events; exit 1 names the first bad position")
    ver.add_argument("--checkpoint", metavar="FILE", help="a checkpoint kept earlier, as `ledger audit checkpoint` printed it")
    ver.set_defaults(func=_audit_verify)
    exp = audit_sub.add_parser("export", help="write the log as JSON Lines with each event's canonical fields and chain hash")
    exp.add_argument("file", metavar="FILE")
    exp.set_defaults(func=_audit_export)

    publish = sub.add_parser("publish", help="write contracts as an OCDS 1.1.5 release package (what GET /publish/releases.json serves), from the read models as they stand")
    publish.add_argument("file", metavar="FILE")
    publish.add_argument("--contract", action="append", metavar="ID", help="only this contract; repeat for more")
    publish.add_argument("--uri", help="the package's uri, where it will be published")
    publish.set_defaults(func=_publish)
    return p


def main(argv: list[str] | None = None) -> int:
    """Every failure ends as one line, `ledger: error: …`, with exit code 2 (the command was
    wrong) or 1 (something around it failed): see cli_errors.py."""
    args = parser().parse_args(argv)  # a wrong argument exits here, with code 2
    try:
        return int(args.func(args))
    except CommandFailed as e:
        return _fail(USAGE, one_line(str(e)))
    except KeyboardInterrupt:
        return 130
    except Exception as e:
        if wants_traceback():
            traceback.print_exc()
        return _fail(*describe(e))


def _fail(code: int, message: str) -> int:
    print(f"ledger: error: {message}", file=sys.stderr)
    return code


if __name__ == "__main__":
    sys.exit(main())
