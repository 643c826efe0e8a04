"""Traces (OpenTelemetry): one trace per request or pipeline run, across every process it crosses.

Each process calls `setup(config, component)` once; spans go to the configured exporter (none, console, otlp
over HTTP, or file: JSON lines per process in a directory, which `debug inspect trace` and the tests read).
Context crosses a process boundary as a small carrier dict (W3C traceparent plus the request's log context):
the caller takes `carrier()` and the callee runs inside `activated(carrier)`; every Ray call goes through
actors/handles.py, which does both, so no call site handles context itself.

    with span("model.predict", rows=len(x)):
        ...
"""

from __future__ import annotations

import inspect
import json
import os
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

import structlog
from opentelemetry import context, propagate, trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import (
    BatchSpanProcessor,
    ConsoleSpanExporter,
    SimpleSpanProcessor,
    SpanExporter,
    SpanExportResult,
)
from opentelemetry.sdk.trace.sampling import ParentBased, Sampler, SamplingResult, TraceIdRatioBased

from synfinance.settings.models import TracingConfig

LOG_KEYS = ("request_id", "key_name", "run_id", "shard", "transaction_id")  # log context that travels with a trace
F = TypeVar("F", bound=Callable[..., Any])
CLIENT = trace.SpanKind.CLIENT  # a call out of the process (the database)
SERVER = trace.SpanKind.SERVER  # a request into the process
_tracer: trace.Tracer = trace.NoOpTracer()
_enabled = False


class FileExporter(SpanExporter):
    """Spans as JSON lines in <dir>/spans-<pid>.jsonl: one file per process, read back by trace id."""

    def __init__(self, directory: Path) -> None:
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        lines = "".join(json.dumps(span_record(s)) + "\n" for s in spans)
        with self._lock, (self.directory / f"spans-{os.getpid()}.jsonl").open("a") as out:
            out.write(lines)
        return SpanExportResult.SUCCESS


def span_record(s: ReadableSpan) -> dict[str, Any]:
    ctx = s.get_span_context()
    assert ctx is not None
    return {"trace_id": f"{ctx.trace_id:032x}", "span_id": f"{ctx.span_id:016x}",
            "parent_id": f"{s.parent.span_id:016x}" if s.parent is not None else None,
            "name": s.name, "service": s.resource.attributes.get("service.name"), "pid": os.getpid(),
            "start_ns": s.start_time, "end_ns": s.end_time, "status": s.status.status_code.name,
            "attributes": {k: v if isinstance(v, str | int | float | bool) else str(v)
                           for k, v in (s.attributes or {}).items()}}


class AdjustableSampler(Sampler):
    """Parent-based, sampling new traces at a ratio that a live configuration change can set."""

    def __init__(self, ratio: float) -> None:
        self.set_ratio(ratio)

    def set_ratio(self, ratio: float) -> None:
        self._inner = ParentBased(TraceIdRatioBased(ratio))

    def should_sample(self, *args: Any, **kwargs: Any) -> SamplingResult:
        return self._inner.should_sample(*args, **kwargs)

    def get_description(self) -> str:
        return f"Adjustable{{{self._inner.get_description()}}}"  # type: ignore[no-untyped-call]


_sampler = AdjustableSampler(1.0)


def set_sampling_ratio(ratio: float) -> None:
    """The share of new traces recorded from now on (tracing.sampling_ratio applied live)."""
    _sampler.set_ratio(ratio)


def setup(config: TracingConfig, component: str) -> None:
    """Trace this process as `<service_name>-<component>` (nothing is recorded with exporter none)."""
    global _tracer, _enabled
    _sampler.set_ratio(config.sampling_ratio)
    if config.exporter == "none":
        _tracer, _enabled = trace.NoOpTracer(), False
        return
    provider = TracerProvider(resource=Resource.create({"service.name": f"{config.service_name}-{component}"}),
                              sampler=_sampler)
    if config.exporter == "console":
        provider.add_span_processor(SimpleSpanProcessor(ConsoleSpanExporter()))
    elif config.exporter == "file":
        provider.add_span_processor(SimpleSpanProcessor(FileExporter(Path(config.file_dir))))
    else:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter(endpoint=config.endpoint)))
    _tracer, _enabled = provider.get_tracer("synfinance"), True


def enabled() -> bool:
    return _enabled


@contextmanager
def span(name: str, kind: trace.SpanKind = trace.SpanKind.INTERNAL, **attributes: Any) -> Iterator[trace.Span]:
    """A child of the current span (a root when there is none); its ids are bound to the log context. With
    tracing off, the invalid span the no-op tracer would give, without entering it (~12 us a span here)."""
    if not _enabled:
        yield trace.INVALID_SPAN
        return
    with _tracer.start_as_current_span(name, kind=kind, attributes=attributes) as current:
        ctx = current.get_span_context()
        if ctx.is_valid:
            with structlog.contextvars.bound_contextvars(trace_id=f"{ctx.trace_id:032x}",
                                                          span_id=f"{ctx.span_id:016x}"):
                yield current
        else:
            yield current


def carrier() -> dict[str, str] | None:
    """The current trace context and log context for a call to another process; None when not tracing."""
    if not _enabled:
        return None
    out: dict[str, str] = {}
    propagate.inject(out)
    bound = structlog.contextvars.get_contextvars()
    out.update({k: str(bound[k]) for k in LOG_KEYS if k in bound})
    return out or None


@contextmanager
def activated(incoming: Mapping[str, str] | None) -> Iterator[None]:
    """Run a block in the caller's trace and log context (a no-op for None)."""
    if not incoming:
        yield
        return
    token = context.attach(propagate.extract(incoming))
    try:
        with structlog.contextvars.bound_contextvars(**{k: incoming[k] for k in LOG_KEYS if k in incoming}):
            yield
    finally:
        context.detach(token)


def annotate(**attributes: Any) -> None:
    """Add attributes to the current span (nothing when not tracing)."""
    if _enabled:
        trace.get_current_span().set_attributes(attributes)


def trace_id() -> str | None:
    """The current trace's id (32 hex), if a sampled span is current."""
    ctx = trace.get_current_span().get_span_context()
    return f"{ctx.trace_id:032x}" if ctx.is_valid else None


def record_span(name: str, incoming: Mapping[str, str] | None, start_ns: int, end_ns: int, **attributes: Any) -> None:
    """A finished span in the caller's trace, for work done for several callers at once (a batched predict)."""
    if not _enabled or not incoming:
        return
    parent = propagate.extract(incoming)
    _tracer.start_span(name, context=parent, start_time=start_ns, attributes=attributes).end(end_time=end_ns)


def traced(name: str) -> Callable[[F], F]:
    """Decorate an actor or deployment method: it takes the caller's `_ctx` carrier (actors/handles.py passes
    it) and runs in a span named `name` in the caller's trace. The signature Ray sees includes `_ctx`."""
    def wrap(method: F) -> F:
        if inspect.iscoroutinefunction(method):
            async def wrapper_async(self: Any, *args: Any, _ctx: Mapping[str, str] | None = None, **kwargs: Any) -> Any:
                with activated(_ctx), span(name, trace.SpanKind.SERVER):
                    return await method(self, *args, **kwargs)
            wrapper: Any = wrapper_async
        else:
            def wrapper_sync(self: Any, *args: Any, _ctx: Mapping[str, str] | None = None, **kwargs: Any) -> Any:
                with activated(_ctx), span(name, trace.SpanKind.SERVER):
                    return method(self, *args, **kwargs)
            wrapper = wrapper_sync
        wrapper.__name__, wrapper.__qualname__, wrapper.__doc__ = method.__name__, method.__qualname__, method.__doc__
        return wrapper
    return wrap
