"""The one door to Ray: connecting, the pipeline's actors, and the API's deployments, as typed handles.

Nothing else in SynFinance calls `.remote(`, `ray.get`, `ray.wait` or Serve's start/run/shutdown (the actor
and deployment classes themselves aside; a test holds it). Ray's own errors come out of here as
SynFinance's: an actor that died during a call is ActorDied, a shard's data gone with its node is
ShardDataLost, and an error raised inside a deployment is re-raised as itself (not Ray's wrapper).

    with session(settings.ray):                         # a local Ray, or the cluster ray.address names
        workers = [WorkerHandle.start(ShardWorker, params, ...) for _ in range(2)]
"""

from __future__ import annotations

import asyncio
import os
import socket
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from functools import partial
from typing import Any, Concatenate, ParamSpec, Self, TypeAlias

import ray
from ray import serve
from ray.exceptions import ActorUnavailableError, ObjectLostError, RayActorError, RayTaskError

from synfinance.errors import ActorDied, ActorRestarting, PartRestarting, ShardDataLost
from synfinance.observability import tracing
from synfinance.settings.models import RayConfig

Ref: TypeAlias = Any  # a Ray ObjectRef: the result of a call, not yet fetched
P = ParamSpec("P")
# A deployment's or actor's method, named by the class's own function (Gateway.transaction): the call's
# arguments are type-checked against its signature, and the method is found by name on the other side.
Method: TypeAlias = Callable[Concatenate[Any, P], Any]

# Serve's fast path, wherever SynFinance runs Serve (serve/config.yaml sets it too): HAProxy is the HTTP ingress on
# every node, forwarding straight to the ingress replicas, and throughput mode runs each replica's user code and
# handle router on its main event loop. HTTP only: TLS is terminated in front (docs/deploy/ray-cluster.md).
# HAProxy's per-request log datagrams are off: Serve's manager would parse each in Python into Serve's HTTP metrics,
# which the ingress replica records itself then.
SERVE_FAST_PATH = {"RAY_SERVE_ENABLE_HA_PROXY": "1", "RAY_SERVE_THROUGHPUT_OPTIMIZED": "1",
                   "RAY_SERVE_HAPROXY_METRICS_ENABLED": "0"}
# Environment of a Ray started here (a variable already set wins), each chosen for one machine of few cores
# (the figures behind each: docs/benchmarks.md, design measurements):
# - a 2 s drain instead of Serve's 30 s for a replica or proxy going away, since no outside load balancer needs it
#   (a cluster keeps Serve's default);
# - HAProxy with a thread per core, at most Serve's default of 4;
# - 30 s instead of 5 for the HAProxy manager to report ready: on a busy machine it misses the 5 s checks and
#   Serve kills it;
# - workers at the priority of Ray's own processes (Ray starts them at nice 15), so that the metrics agent's
#   periodic bursts do not take the ingress replica's core.
LOCAL_RAY_ENV = {**SERVE_FAST_PATH, "RAY_worker_niceness": "0", "RAY_SERVE_DIRECT_INGRESS_MIN_DRAINING_PERIOD_S": "2",
                 "RAY_SERVE_PROXY_MIN_DRAINING_PERIOD_S": "2", "RAY_SERVE_PROXY_READY_CHECK_TIMEOUT_S": "30",
                 "RAY_SERVE_HAPROXY_NBTHREAD": str(min(4, os.cpu_count() or 1))}


# HAProxy's stats page and Prometheus frontend listen on fixed ports of every interface (Ray's template), so a
# second Serve on the machine would not start. A Ray started here gives them free ports of its own, unless they
# were set by hand; the port a SynFinance process chose is recorded beside each, so a child that inherits them (a
# CLI run from a process whose Ray is up) chooses again.
HAPROXY_PORTS = ("RAY_SERVE_HAPROXY_STATS_PORT", "RAY_SERVE_HAPROXY_METRICS_PORT")
CHOSEN = "CHOSEN_BY_SYNFINANCE_"  # + the name: the port a SynFinance process chose (SYNFINANCE_* are settings)


# -- the cluster ---------------------------------------------------------------------------------------------
def local_ray_env() -> None:
    """Set LOCAL_RAY_ENV in this process (before Ray starts here, so every Ray process inherits it), and free
    ports for HAProxy's stats and metrics frontends."""
    for name, value in LOCAL_RAY_ENV.items():
        os.environ.setdefault(name, value)
    for name, port in zip(HAPROXY_PORTS, free_ports(len(HAPROXY_PORTS)), strict=True):
        if os.environ.get(name) in (None, os.environ.get(CHOSEN + name)):  # unset, or a SynFinance process's choice
            os.environ[name] = os.environ[CHOSEN + name] = str(port)


def free_ports(count: int) -> list[int]:
    """Distinct ports free on every interface (as HAProxy binds them) at the time of asking."""
    with ExitStack() as held:
        sockets = [held.enter_context(socket.socket()) for _ in range(count)]
        for s in sockets:
            s.bind(("", 0))
        return [int(s.getsockname()[1]) for s in sockets]


def connect(config: RayConfig | None = None) -> bool:
    """Make sure Ray is initialised; returns True if this call started it (the caller shuts it down).

    ray.address None starts a local Ray (unless one runs in this process already, or RAY_ADDRESS names a
    cluster, as inside `ray job submit`) with ray.num_cpus and ray.object_store_mb; "auto" or
    "ray://host:port" joins a cluster. Either way the driver works in ray.namespace.
    """
    if ray.is_initialized():
        return False
    config = config or RayConfig()
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")  # also for a cluster: this driver reports nothing
    address = config.address or os.environ.get("RAY_ADDRESS")
    if address:
        ray.init(address=address, namespace=config.namespace, log_to_driver=False)
    else:
        local_ray_env()
        store = config.object_store_mb * 1024 * 1024 if config.object_store_mb else None
        # "local": a Ray of this driver's own, even when `ray start` left a cluster on the machine (a bare
        # ray.init() would join that one and then refuse num_cpus)
        ray.init(address="local", num_cpus=config.num_cpus, object_store_memory=store, namespace=config.namespace,
                 include_dashboard=False, log_to_driver=False)
    return True


@contextmanager
def session(config: RayConfig | None = None) -> Iterator[None]:
    """Ray for the duration of a block (see connect); shuts down only a Ray this block started."""
    started = connect(config)
    try:
        yield
    finally:
        if started:
            ray.shutdown()


# -- calls and their results ---------------------------------------------------------------------------------
def result(ref: Ref) -> Any:
    """The value behind ref: ActorDied if its actor died during the call, ShardDataLost if its data is gone."""
    try:
        return ray.get(ref)
    except ActorUnavailableError as exc:
        raise ActorRestarting(str(exc)) from exc
    except RayActorError as exc:
        raise ActorDied(str(exc)) from exc
    except ObjectLostError as exc:
        raise ShardDataLost(str(exc)) from exc


def results(refs: Sequence[Ref]) -> list[Any]:
    return [result(ref) for ref in refs]


def first_ready(refs: Sequence[Ref]) -> list[Ref]:
    """Block until at least one of refs has a result; returns those that have."""
    ready, _ = ray.wait(list(refs), num_returns=1)
    return list(ready)


def put(value: Any) -> Ref:
    return ray.put(value)


# -- the pipeline's actors -----------------------------------------------------------------------------------
class ActorHandle:
    """A pipeline actor: started from its class, asked for its memory, stopped."""

    def __init__(self, actor: Any) -> None:
        self.actor = actor

    @classmethod
    def start(cls, actor_class: Any, *args: Any, options: dict[str, Any] | None = None) -> Self:
        """The actor, with Ray options (num_cpus, resources) beyond its class's when given."""
        return cls((actor_class.options(**options) if options else actor_class).remote(*args))

    def usage(self) -> Ref:
        return self.actor.usage.remote()

    def stop(self) -> None:
        ray.kill(self.actor)


class WorkerHandle(ActorHandle):
    """A shard worker actor (actors.workers.ShardWorker)."""

    def run(self, shard: int) -> tuple[Ref, Ref]:
        """(ref of the shard's small facts, ref of the shard's output): the driver reads one, a sink the other."""
        facts, output = self.actor.run.remote(shard, **_ctx())
        return facts, output

    def back(self) -> Ref:
        """A call Ray retries until the actor is running again after a death; its result means it is back."""
        return self.actor.pid.options(max_task_retries=-1).remote()


class SinkHandle(ActorHandle):
    """The sink actor (actors.workers.SinkActor) writing shards through a synfinance.sinks.Sink."""

    def write(self, shard_ref: Ref) -> Ref:
        return self.actor.write.remote(shard_ref, **_ctx())


# -- Serve ---------------------------------------------------------------------------------------------------
@contextmanager
def serving(host: str, port: int) -> Iterator[None]:
    """Serve's HTTP proxy on host:port for the duration of a block; every app is shut down after it."""
    serve.start(http_options={"host": host, "port": port})
    try:
        yield
    finally:
        serve.shutdown()  # type: ignore[no-untyped-call]


def deploy(app: Any, name: str, route_prefix: str = "/") -> None:
    """Run a Serve application (blocks until it is healthy)."""
    serve.run(app, name=name, route_prefix=route_prefix)


def unwrap(exc: BaseException) -> BaseException:
    """The exception a deployment or actor raised, not Ray's wrapper around it."""
    while isinstance(exc, RayTaskError) and exc.cause is not None:
        exc = exc.cause
    return exc


def _ctx() -> dict[str, Any]:
    """The trace and log context for the callee, as the `_ctx` keyword (nothing when not tracing)."""
    carried = tracing.carrier()
    return {"_ctx": carried} if carried else {}


async def _awaited(response: Any) -> Any:
    try:
        return await response
    except RayTaskError as exc:
        raise unwrap(exc) from None


class QueryHandle:
    """The Query deployment (serve.deployments.Query): the database behind the API.

        row = await query.call(Gateway.transaction, "TXN-...")
    """

    def __init__(self, handle: Any) -> None:
        self.handle = handle

    async def call(self, method: Method[P], *args: P.args, **kwargs: P.kwargs) -> Any:
        return await _awaited(self.handle.call.remote(method.__name__, args, kwargs, **_ctx()))


class HeldQuery:
    """A Gateway held in this process (synfinance.store.gateway.Gateway): QueryHandle's interface with no hop."""

    def __init__(self, gateway: Any) -> None:
        self.gateway = gateway

    async def call(self, method: Method[P], *args: P.args, **kwargs: P.kwargs) -> Any:
        return await method(self.gateway, *args, **kwargs)


class DeploymentActor:
    """A deployment-scoped actor of this replica's deployment, by name (serve.get_deployment_actor).

    If Serve recreated it since its handle was looked up, the call is sent once more to the new one.
    """

    def __init__(self, name: str) -> None:
        self.name = name
        self.handle = serve.get_deployment_actor(name)

    async def call(self, method: Method[P], *args: P.args, **kwargs: P.kwargs) -> Any:
        """actor.call(FeatureShard.stats): the method, by name, with the trace context."""
        return await self.call_named(method.__name__, *args, **{**kwargs, **_ctx()})

    async def call_named(self, method: str, *args: Any, **kwargs: Any) -> Any:
        """The method called `method` (a method that carries its own trace contexts: FeatureShard.ones)."""
        try:
            return await _awaited(getattr(self.handle, method).remote(*args, **kwargs))
        except RayActorError:
            pass
        try:
            self.handle = serve.get_deployment_actor(self.name)
            return await _awaited(getattr(self.handle, method).remote(*args, **kwargs))
        except (ValueError, RayActorError) as exc:  # dead, and Serve has not recreated it yet
            raise PartRestarting(f"{self.name} is restarting (it died; Serve recreates it within seconds)",
                                 RESTART_RETRY_S) from exc


class Coalesced:
    """Single requests to one actor, sent as lists: at once while fewer than `in_flight` lists are on their way, else
    gathered until one comes back (no timer: an idle actor gets a request without waiting). Under load a call
    carries many requests, so the per-call cost of a Ray hop (~0.5 ms of CPU on each side here) is shared.

        answer = await coalesced(request)     # send(list of requests) -> list of answers, or of exceptions
    """

    def __init__(self, send: Callable[[list[Any]], Any], in_flight: int = 1, most: int = 64, settle: int = 0) -> None:
        """settle: event-loop turns to wait before sending while requests keep joining (requests still on their way
        through this process's HTTP stack); 0 for an actor, whose hop already gathers them."""
        self.send, self.in_flight, self.most, self.settle = send, in_flight, most, settle
        self.waiting: list[tuple[Any, asyncio.Future[Any]]] = []
        self.sending = 0

    async def __call__(self, request: Any) -> Any:
        answer: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self.waiting.append((request, answer))
        if self.sending < self.in_flight:
            self.sending += 1
            asyncio.get_running_loop().create_task(self._drain())
        return await answer

    async def _drain(self) -> None:
        try:
            while self.waiting:
                for _ in range(self.settle):  # more on their way through this loop: let them join
                    seen = len(self.waiting)
                    await asyncio.sleep(0)
                    if len(self.waiting) == seen or len(self.waiting) >= self.most:
                        break
                batch, self.waiting = self.waiting[:self.most], self.waiting[self.most:]
                try:
                    answers = await self.send([request for request, _ in batch])
                except Exception as exc:  # the whole call failed (the actor died, no model): every request has it
                    answers = [exc] * len(batch)
                for (_, future), answer in zip(batch, answers, strict=True):
                    if future.done():  # its caller gave up (a timeout)
                        continue
                    if isinstance(answer, Exception):
                        future.set_exception(answer)
                    else:
                        future.set_result(answer)
        finally:
            self.sending -= 1


class FeatureShards:
    """The ingress's feature-store shards: deployment-scoped actors named `features-<i>`, called as plain actors
    (one hop, cheaper than a Serve handle); single scores to a shard are coalesced (Coalesced)."""

    def __init__(self, count: int) -> None:
        self.actors = [DeploymentActor(self.name(i)) for i in range(count)]
        self.singles = [Coalesced(partial(actor.call_named, "ones")) for actor in self.actors]

    @staticmethod
    def name(index: int) -> str:
        return f"features-{index}"

    def __len__(self) -> int:
        return len(self.actors)

    async def call(self, index: int, method: Method[P], *args: P.args, **kwargs: P.kwargs) -> Any:
        """shards.call(2, FeatureShard.many, table, positions, explain): the method of shard 2, by name."""
        return await self.actors[index].call(method, *args, **kwargs)

    async def score_one(self, index: int, transaction: dict[str, Any], features: bool) -> Any:
        """(prediction fields, features or None) of one transaction from shard `index` (FeatureShard.ones), its
        trace context travelling with it."""
        return await self.singles[index]((transaction, features, tracing.carrier()))


SETTLE_TURNS = 4  # loop turns a held store's single scores wait for more to join while more keep coming


class HeldStore:
    """The feature store held in this process (server.feature_store: ingress): FeatureShards' interface with one
    shard and no hop. Single scores are coalesced as for an actor (those that arrive while a pass runs, or are
    still on their way through this process, go together) and computed on the event loop; the rest (batches,
    warm-ups, stats) run in threads so the loop keeps answering. The store keeps its customers' state
    consistent itself (serve.deployments.FeatureStore.turn); the model scores outside that."""

    def __init__(self, store: Any) -> None:
        self.store = store
        self.singles = Coalesced(self._ones, settle=SETTLE_TURNS)

    def __len__(self) -> int:
        return 1

    async def call(self, index: int, method: Method[P], *args: P.args, **kwargs: P.kwargs) -> Any:
        return await asyncio.to_thread(method, self.store, *args, **kwargs)

    async def score_one(self, index: int, transaction: dict[str, Any], features: bool) -> Any:
        return await self.singles((transaction, features, tracing.carrier()))  # computed in another task

    async def _ones(self, requests: list[Any]) -> list[Any]:
        return self.store.ones(requests)  # type: ignore[no-any-return]


RESTART_RETRY_S = 2.0  # Retry-After while a deployment-scoped actor is being recreated
LIMIT_BANK = "limits"  # the ingress's deployment-scoped actor holding every key's token bucket


class ConfigHubHandle:
    """A live-configuration hub (actors.live.ConfigHub), a named actor in the `synfinance-config` namespace."""

    NAMESPACE = "synfinance-config"

    def __init__(self, actor: Any) -> None:
        self.actor = actor

    @classmethod
    def create(cls, hub_class: Any, name: str, version: str, settings: Any) -> ConfigHubHandle:
        """Start it (it lives as long as this process) holding the configuration in force."""
        return cls(hub_class.options(name=name, namespace=cls.NAMESPACE).remote(version, settings))

    @classmethod
    def find(cls, name: str) -> ConfigHubHandle | None:
        try:
            return cls(ray.get_actor(name, namespace=cls.NAMESPACE))
        except ValueError:
            return None

    def publish(self, version: str, settings: Any) -> None:
        result(self.actor.publish.remote(version, settings))

    def newer(self, version: str, wait_s: float) -> tuple[str, Any]:
        return result(self.actor.newer.remote(version, wait_s))  # type: ignore[no-any-return]

    def stop(self) -> None:
        ray.kill(self.actor)


def cluster_state() -> dict[str, Any]:
    """The Ray cluster as this process sees it: live nodes, and total and free CPUs and object store (blocking:
    a few GCS calls)."""
    total, free = ray.cluster_resources(), ray.available_resources()  # type: ignore[no-untyped-call]
    alive = [n for n in ray.nodes() if n.get("Alive")]  # type: ignore[no-untyped-call]
    mb = 1 << 20
    return {"status": "ok" if alive else "unavailable", "nodes": len(alive),
            "cpus": total.get("CPU", 0.0), "cpus_free": free.get("CPU", 0.0),
            "object_store_mb": int(total.get("object_store_memory", 0) // mb),
            "object_store_free_mb": int(free.get("object_store_memory", 0) // mb)}


def actor_pids(name: str | None) -> list[tuple[str, int]]:
    """(class name, pid) of the live actors whose class is `name` (ShardWorker, FeatureShard) or, for a Serve
    replica, whose deployment is `name` (Ingress, Query); every live actor for None. Ray must be
    connected. Read from the GCS's actor table (ray._private.state), which, unlike ray.util.state, needs no
    dashboard (a local Ray here starts without one)."""
    from ray._private import state

    alive = [a for a in state.actors().values() if a.get("State") == "ALIVE" and a.get("Pid")]
    return [(a["ActorClassName"], int(a["Pid"])) for a in alive
            if name is None or a["ActorClassName"] == name or a["ActorClassName"].endswith(f":{name}")]


def serve_pids(app: str, deployment: str | None = None, actor: str | None = None) -> list[int]:
    """Pids of an app's live replicas of `deployment` (Ingress, Query), or of its deployment-scoped actor
    named `actor` (features-0, limits): what a chaos fault kills. Ray must be connected."""
    from ray._private import state

    alive = [a for a in state.actors().values() if a.get("State") == "ALIVE" and a.get("Pid")]
    if deployment is not None:
        return [int(a["Pid"]) for a in alive if a["ActorClassName"] == f"ServeReplica:{app}:{deployment}"]
    return [int(a["Pid"]) for a in alive if str(a.get("Name") or "").startswith(f"SERVE_DEPLOYMENT_ACTOR::{app}::")
            and str(a.get("Name")).endswith(f"::{actor}")]
