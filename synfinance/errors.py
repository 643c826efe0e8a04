"""Every error SynFinance raises on purpose, in one hierarchy.

    SynFinanceError                 base: anything SynFinance raises deliberately
    ├── ValidationError             bad input; carries every problem found, not just the first
    │   ├── ParameterError          a generation/CLI parameter is out of range or conflicts
    │   └── ConfigError             a configuration file, key or environment value is wrong
    ├── SchemaError                 data does not match synfinance.schema (missing column, wrong type)
    ├── OutputError                 a dataset cannot be written where asked (unwritable, not a dataset)
    ├── PatternError                a fraud/anomaly pattern broke the frame's invariants (a bug)
    ├── ModelError                  a model version is missing, incomplete or trained on other features
    │   └── ModelUnavailable        no model can be served right now (none trained/deployed); says why
    ├── MigrationError              a schema migration is missing, edited after it ran, or failed (names the statement)
    ├── StoreUnavailable            the database cannot be reached or answered with a failure
    │   └── CircuitOpen             the breaker in front of a dependency is open (also a RetryLater)
    ├── WorkerLost                  a pipeline worker died more often than a shard's retry budget
    ├── ActorDied                   a Ray actor's process died during a call (Ray restarts it; redo the work)
    ├── ShardDataLost               a finished shard's data went with its node before a sink read it
    ├── ServiceUnavailable          a SynFinance service asked over HTTP (the API) does not answer
    ├── NotFound                    no record with the id asked for
    ├── Conflict                    the record exists already (e.g. a duplicate transaction id)
    ├── TooLarge                    a request exceeds a size limit (body bytes, batch rows); names the limit
    ├── UnsupportedMedia            a request body in a format the API does not take (not JSON)
    ├── AccessDenied                an API request without the right key
    │   ├── Unauthenticated         no key, or an unknown one
    │   └── Forbidden               a known key without the scope the route needs
    └── RetryLater                  says when to try again (retry_after_s): CircuitOpen, RateLimited
        ├── RateLimited             a key's request rate is above its limit
        ├── PartRestarting          a part of the service (a feature-store shard) is being restarted
        └── DeadlineExceeded        a request took longer than server.timeout_s

Callers catch the narrowest class they can handle; the CLI maps ValidationError,
SchemaError and OutputError to exit code 2 with one line per problem, and the HTTP layer
(serve/errors.py) maps every class to its status code in one place.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class Problem:
    """One thing wrong with an input: where, what was given, what was expected."""

    field: str
    got: object
    expected: str

    def __str__(self) -> str:
        return f"{self.field}: expected {self.expected}, got {self.got!r}"


class SynFinanceError(Exception):
    """Base of every deliberate SynFinance error."""


class ValidationError(SynFinanceError):
    """Bad input. Holds every problem found so a user can fix them all at once."""

    def __init__(self, problems: Iterable[Problem]) -> None:
        self.problems = tuple(problems)
        super().__init__("; ".join(str(p) for p in self.problems))

    def __reduce__(self) -> tuple[object, ...]:  # survives pickling across Ray processes
        return (type(self), (self.problems,))

    @classmethod
    def single(cls, field: str, got: object, expected: str) -> ValidationError:
        return cls([Problem(field, got, expected)])

    def lines(self) -> list[str]:
        """One human-readable line per problem."""
        return [str(p) for p in self.problems]


class ParameterError(ValidationError):
    """A generation or command-line parameter is out of range or conflicts with another."""


class ConfigError(ValidationError):
    """A configuration file, key or environment value is wrong.

    Each problem's field is "<file or variable>: <key.path>", so a line reads
    ``config/production.yaml: database.pool.max_size = -1: should be greater than or equal to 1``.
    """

    def __init__(self, problems: Iterable[Problem]) -> None:
        super().__init__(problems)
        self.args = ("; ".join(self.lines()),)

    def lines(self) -> list[str]:
        return [f"{p.field} = {p.got!r}: {p.expected}" for p in self.problems]


class SchemaError(SynFinanceError):
    """Data does not match the schema declared in synfinance.schema."""


class OutputError(SynFinanceError):
    """A dataset cannot be written where it was asked to go."""


class PatternError(SynFinanceError):
    """A fraud or anomaly pattern broke an invariant of the frame it rewrote: a bug in the pattern."""


class ModelError(SynFinanceError):
    """A model version is missing, incomplete, or was trained on a different feature list."""


class ModelUnavailable(ModelError):
    """No model can be served right now; the message says why (none trained, none deployed, unloadable)."""


class MigrationError(SynFinanceError):
    """A schema migration file is missing, was edited after it was applied, or failed to apply."""


class StoreUnavailable(SynFinanceError):
    """The database cannot be reached, or it answered with a failure."""


class RetryLater(SynFinanceError):
    """Mixed into errors that say when to try again (an HTTP Retry-After)."""

    def __init__(self, message: str, retry_after_s: float) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s

    def __reduce__(self) -> tuple[object, ...]:  # survives pickling across Ray processes
        return (type(self), (str(self), self.retry_after_s))


class CircuitOpen(StoreUnavailable, RetryLater):
    """The circuit breaker in front of a dependency is open; retry after retry_after_s."""


class PartRestarting(RetryLater):
    """A part of the running service (a feature-store shard) died and is being recreated; retry shortly."""


class DeadlineExceeded(RetryLater):
    """A request was not answered within server.timeout_s (a slow dependency); what it started may still finish."""


class WorkerLost(SynFinanceError):
    """A pipeline worker died more often than a shard's retry budget allows."""


class ActorDied(SynFinanceError):
    """A Ray actor's process died during a call; Ray restarts it, and the caller may redo the work."""


class ActorRestarting(ActorDied):
    """A call reached an actor while Ray was restarting it (it may or may not have run): ask again later."""


class ShardDataLost(SynFinanceError):
    """A finished shard's data went with its node (object store) before a sink read it."""


class ServiceUnavailable(SynFinanceError):
    """A SynFinance service asked over HTTP (the API, by a CLI command) does not answer; says where."""


class NotFound(SynFinanceError):
    """No record has the id asked for."""


class Conflict(SynFinanceError):
    """The record exists already (a duplicate id)."""


class TooLarge(SynFinanceError):
    """A request exceeds a size limit; the message names the limit."""


class UnsupportedMedia(SynFinanceError):
    """A request body in a format the API does not take."""


class AccessDenied(SynFinanceError):
    """An API request without the right key."""


class Unauthenticated(AccessDenied):
    """No API key, or one that matches no configured key."""


class Forbidden(AccessDenied):
    """A valid API key without the scope the route needs."""


class RateLimited(RetryLater):
    """The key's request rate is above its limit."""
