"""Who is acting and from where, for the audit log.

The middleware sets it per request; jobs and commands set it with
``acting_as``. Services read it, so that their signatures stay about the
domain.
"""

import contextvars
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass


@dataclass(frozen=True)
class RequestContext:
    ip: str | None = None
    request_id: str = ""


_current: contextvars.ContextVar[RequestContext] = contextvars.ContextVar(
    "kizuna_request_context",
    default=RequestContext(),  # noqa: B039 (frozen)
)


def current() -> RequestContext:
    return _current.get()


@contextmanager
def request_context(*, ip: str | None, request_id: str | None = None) -> Iterator[RequestContext]:
    ctx = RequestContext(ip=ip, request_id=request_id or uuid.uuid4().hex)
    token = _current.set(ctx)
    try:
        yield ctx
    finally:
        _current.reset(token)
