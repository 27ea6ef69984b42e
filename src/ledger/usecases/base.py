"""What every area's use cases share: the command's answer, the work a command hands to
`Ledger._execute`, the roles that may read, and `LedgerUseCases`, the base that declares the
infrastructure of the Ledger the areas are composed into."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

from eventsourcing.domain import Aggregate

from ledger.domain.base import LedgerAggregate
from ledger.domain.catalogue import Role

if TYPE_CHECKING:
    from eventsourcing.application import Application

    from ledger.cache import AggregateCache
    from ledger.domain.actors import Actor
    from ledger.domain.errors import NotFound
    from ledger.domain.rules import Policy
else:
    # Only the type checker sees the library's Application here; at run time the areas are plain
    # mixins, and the Application itself comes last in Ledger's bases.
    Application = object

P, F, C, A, E = Role.PURCHASER, Role.FINANCE, Role.CONTRACTOR, Role.AUDITOR, Role.EVALUATOR
READERS = (P, F, A, E, C)
A_ = TypeVar("A_", bound=LedgerAggregate)


@dataclass(frozen=True)
class Request:
    """An Idempotency-Key and a fingerprint of the request body it came with."""

    key: str
    fingerprint: str


@dataclass(frozen=True)
class CommandResult:
    ids: dict[str, Any]
    position: int
    replayed: bool = False


@dataclass
class Work:
    aggregates: list[Aggregate | None] = field(default_factory=list)
    ids: dict[str, Any] = field(default_factory=dict)


class LedgerUseCases(Application):
    """The base of each area's use cases: what they use of the Ledger, declared for the type
    checker only, so that nothing here shadows the Ledger's own definitions at run time."""

    if TYPE_CHECKING:
        policy: Policy
        id_hash_key: bytes
        cache: AggregateCache

        def head(self) -> int: ...

        def _fetch(self, aggregate_id: uuid.UUID, cls: type | None = None, *, readonly: bool = False) -> Any: ...

        def _load(self, cls: type[A_], aggregate_id: Any, missing: type[NotFound], by: Actor | None = None, *, readonly: bool = False) -> A_: ...

        def _load_readonly(self, cls: type[A_], aggregate_id: Any, missing: type[NotFound], by: Actor | None = None) -> A_: ...

        def _execute(self, by: Actor, request: Request | None, work: Callable[[], Work]) -> CommandResult: ...

        def _new(self, aggregate: Aggregate, exists: type[Exception], detail: str) -> None: ...
