"""Alembic environment for the read models. The URL comes from the caller (`ledger migrate`)
or from LEDGER_DATABASE_URL; only the read-model tables are compared and migrated."""

from __future__ import annotations

from sqlalchemy import create_engine

from alembic import context
from projections.tables import metadata

config = context.config
VERSION_TABLE = config.get_main_option("version_table") or "read_model_version"


def _url() -> str:
    url = config.attributes.get("url")
    if url:
        return url
    from ledger.settings import get_settings

    return get_settings().sqlalchemy_url()


def _include(obj, name, type_, reflected, compare_to):  # type: ignore[no-untyped-def]
    # The event store's tables belong to the eventsourcing library, not to this schema.
    return not (type_ == "table" and reflected and compare_to is None)


def run_offline() -> None:
    context.configure(url=_url(), target_metadata=metadata, version_table=VERSION_TABLE, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()


def run_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    engine = create_engine(_url())
    with engine.connect() as conn:
        _run(conn)
    engine.dispose()


def _run(connection) -> None:  # type: ignore[no-untyped-def]
    context.configure(
        connection=connection,
        target_metadata=metadata,
        version_table=VERSION_TABLE,
        include_object=_include,
        render_as_batch=connection.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    run_offline()
else:
    run_online()
