"""ML5xx: serving and reliability."""

from __future__ import annotations

import ast
from dataclasses import dataclass

from mllint.analysis.module_names import module_names
from mllint.analysis.runs_once import runs_once
from mllint.analysis.semantic import dotted_name as _dotted
from mllint.analysis.semantic import has_star_kwargs, is_none, keyword
from mllint.analysis.semantic import kwarg_value as _kw  # shared helpers
from mllint.analysis.serving_model import (
    EVERY_REQUEST_HOOK,
    SERVING_IMPORTS,
    CallSite,
    FuncInfo,
    Handler,
    ServingModel,
    is_model_loader,
    maybe_serving,
    serving_model,
)
from mllint.core.astwalk import STATEMENT_FIELDS
from mllint.core.severity import Severity
from mllint.rules.base import Rule, register
from mllint.rules.fixbuilders import add_keyword, replace_node

FUNC_TYPES = (ast.FunctionDef, ast.AsyncFunctionDef)


def _fmt_timeout(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(value)


CLIENT_LIBRARIES = (
    "requests", "httpx", "aiohttp", "urllib", "urllib3", "grpc", "socket", "openai", "anthropic",
    "boto3", "botocore", "asyncio",
)


def _imports_client_library(ctx) -> bool:
    sem = ctx.semantic
    n = len(sem.imported)  # imports may still be arriving during the walk
    memo = sem.__dict__.get("_ml5_client_memo")
    if memo is not None and memo[0] == n:
        return memo[1]
    roots = {q.split(".", 1)[0] for q in sem.imported}
    found = any(r in roots for r in CLIENT_LIBRARIES) or any(r in roots for r in SERVING_IMPORTS)
    sem.__dict__["_ml5_client_memo"] = (n, found)
    return found


def receiver_ctor(ctx, expr: ast.AST) -> tuple[str | None, ast.Call | None]:
    """Qualified name of the constructor that made `expr` (a Name bound by
    assignment or `with ... as name`, or `self.x` set in the class), with the
    constructor call when known."""
    sem = ctx.semantic
    if isinstance(expr, ast.Name):
        b = sem.lookup(expr.id)
        if b is None:
            return None, None
        if b.kind == "assign" and isinstance(b.value, ast.Call):
            return sem.call_qualname(b.value), b.value
        if b.kind == "with" and isinstance(b.node, (ast.With, ast.AsyncWith)):
            for item in b.node.items:
                ov = item.optional_vars
                if isinstance(ov, ast.Name) and ov.id == expr.id and isinstance(item.context_expr, ast.Call):
                    return sem.call_qualname(item.context_expr), item.context_expr
        return None, None
    if isinstance(expr, ast.Attribute) and isinstance(expr.value, ast.Name) and expr.value.id == "self":
        cls = ctx.enclosing(ast.ClassDef)
        if cls is None or not _imports_client_library(ctx):
            # `self.config.get(...)` in a module with no network or serving
            # library: nothing to find, and the serving model is not cheap.
            return None, None
        sm = serving_model(ctx)
        info = sm.classes.get(cls.name)
        if info is None or info.node is not cls:
            return None, None
        value = info.attrs.get(expr.attr)
        if isinstance(value, ast.Call):
            return sm.resolver.qualname(value.func), value
    return None, None


# --- ML501 -------------------------------------------------------------------

REQUEST_VERBS = frozenset({"get", "post", "put", "patch", "delete", "head", "options", "request"})
REQUESTS_FUNCS = frozenset(f"{m}.{v}" for m in ("requests", "requests.api") for v in REQUEST_VERBS)
REQUESTS_SESSIONS = frozenset({"requests.Session", "requests.session", "requests.sessions.Session"})
HTTPX_FUNCS = frozenset(f"httpx.{v}" for v in (*REQUEST_VERBS, "stream"))
HTTPX_CLIENTS = frozenset({"httpx.Client", "httpx.AsyncClient"})
AIOHTTP_SESSIONS = frozenset({"aiohttp.ClientSession", "aiohttp.client.ClientSession"})
SDK_CLIENTS = frozenset(
    {
        "openai.OpenAI",
        "openai.AsyncOpenAI",
        "openai.AzureOpenAI",
        "openai.AsyncAzureOpenAI",
        "anthropic.Anthropic",
        "anthropic.AsyncAnthropic",
        "anthropic.AnthropicBedrock",
        "anthropic.AnthropicVertex",
        "httpx.Timeout",
    }
)
LLM_CLIENTS = frozenset({"openai.OpenAI", "openai.AsyncOpenAI", "openai.AzureOpenAI", "openai.AsyncAzureOpenAI", "anthropic.Anthropic", "anthropic.AsyncAnthropic"})
BOTO_CONFIG = frozenset({"botocore.config.Config", "botocore.client.Config"})


# Clients of stores and stdlib protocols that wait forever by default:
# qualified name -> StoreClient. `keywords`: any of them (non-None) bounds the
# waits; `position`: the index of a positional timeout (None: keyword only);
# `max_args`: with more positional arguments than this, the signature varies
# across versions and the call is not judged; `in_text`: a literal URL/DSN
# naming one of these options counts; `socket_default`: the client uses the
# global socket default, so `socket.setdefaulttimeout(n)` in the module counts.
@dataclass(frozen=True)
class StoreClient:
    label: str
    keywords: tuple[str, ...]
    fix: tuple[str, str]  # (keyword, value: "{t}" seconds or "{ms}" milliseconds)
    why: str
    position: int | None = None
    max_args: int = 99
    in_text: tuple[str, ...] = ()
    socket_default: bool = False


_REDIS_WHY = "redis-py then waits forever on a server that accepts the connection and never answers (a failover, a long-running script, a lost packet)"
_REDIS = StoreClient("a Redis client", ("socket_timeout",), ("socket_timeout", "{t}"), _REDIS_WHY, in_text=("socket_timeout",))
_REDIS_POSITIONAL = StoreClient("a Redis client", ("socket_timeout",), ("socket_timeout", "{t}"), _REDIS_WHY, position=4)
_MONGO = StoreClient(
    "a MongoDB client",
    ("sockettimeoutms", "timeoutms"),
    ("socketTimeoutMS", "{ms}"),
    "PyMongo then has no socket timeout, so a read from a stalled server blocks the caller forever",
    in_text=("sockettimeoutms", "timeoutms"),
)
_POSTGRES = StoreClient(
    "a PostgreSQL connection",
    ("connect_timeout",),
    ("connect_timeout", "{i}"),
    "libpq then waits for an unreachable server with no limit of its own",
    in_text=("connect_timeout",),
)
_SOCKET_WHY = "it falls back to the global socket default, which is no timeout, so a silent peer blocks it forever"
STORE_CLIENTS: dict[str, StoreClient] = {
    **{q: _REDIS for q in (
        "redis.from_url", "redis.Redis.from_url", "redis.StrictRedis.from_url", "redis.client.Redis.from_url",
        "redis.asyncio.from_url", "redis.asyncio.Redis.from_url", "redis.asyncio.client.Redis.from_url",
        "redis.ConnectionPool", "redis.ConnectionPool.from_url", "redis.BlockingConnectionPool",
        "redis.asyncio.ConnectionPool", "redis.asyncio.ConnectionPool.from_url", "redis.asyncio.BlockingConnectionPool",
        "redis.RedisCluster", "redis.cluster.RedisCluster", "redis.asyncio.RedisCluster", "redis.asyncio.cluster.RedisCluster",
        "aioredis.from_url", "aioredis.Redis.from_url",
    )},
    **{q: _REDIS_POSITIONAL for q in (
        "redis.Redis", "redis.StrictRedis", "redis.client.Redis", "redis.client.StrictRedis",
        "redis.asyncio.Redis", "redis.asyncio.StrictRedis", "redis.asyncio.client.Redis", "aioredis.Redis",
    )},
    **{q: _MONGO for q in (
        "pymongo.MongoClient", "pymongo.mongo_client.MongoClient", "pymongo.AsyncMongoClient",
        "pymongo.asynchronous.mongo_client.AsyncMongoClient", "motor.motor_asyncio.AsyncIOMotorClient",
        "motor.motor_tornado.MotorClient",
    )},
    **{q: _POSTGRES for q in (
        "psycopg2.connect", "psycopg.connect", "psycopg.Connection.connect", "psycopg.AsyncConnection.connect",
        "psycopg2.pool.SimpleConnectionPool", "psycopg2.pool.ThreadedConnectionPool",
    )},
    "http.client.HTTPConnection": StoreClient("", ("timeout",), ("timeout", "{t}"), _SOCKET_WHY, position=2, socket_default=True),
    # the third positional of HTTPSConnection was `key_file` before Python 3.12
    "http.client.HTTPSConnection": StoreClient("", ("timeout",), ("timeout", "{t}"), _SOCKET_WHY, max_args=2, socket_default=True),
    "smtplib.SMTP": StoreClient("", ("timeout",), ("timeout", "{t}"), _SOCKET_WHY, position=3, socket_default=True),
    "smtplib.SMTP_SSL": StoreClient("", ("timeout",), ("timeout", "{t}"), _SOCKET_WHY, max_args=3, socket_default=True),
    "ftplib.FTP": StoreClient("", ("timeout",), ("timeout", "{t}"), _SOCKET_WHY, position=4, socket_default=True),
    "ftplib.FTP_TLS": StoreClient("", ("timeout",), ("timeout", "{t}"), _SOCKET_WHY, max_args=4, socket_default=True),
    **{q: StoreClient(
        "a urllib3 pool", ("timeout",), ("timeout", "{t}"),
        "urllib3 then falls back to the global socket default, which is no timeout, so a silent server blocks a request forever",
        position=2 if "ConnectionPool" in q else None, socket_default=True,
    ) for q in (
        "urllib3.PoolManager", "urllib3.poolmanager.PoolManager", "urllib3.ProxyManager", "urllib3.poolmanager.ProxyManager",
        "urllib3.HTTPConnectionPool", "urllib3.HTTPSConnectionPool", "urllib3.connectionpool.HTTPConnectionPool",
        "urllib3.connectionpool.HTTPSConnectionPool", "urllib3.connection_from_url", "urllib3.request",
    )},
}  # fmt: skip
# Receivers whose requests may carry their own timeout (a urllib3 pool).
_PER_REQUEST_TIMEOUT = frozenset(q for q, c in STORE_CLIENTS.items() if q.startswith("urllib3.") and q != "urllib3.request")


def _bound_names(ancestors: list[ast.AST], call: ast.Call) -> list[str]:
    """Source text of what `x = call`, `self.x = call` or `with call as x` binds."""
    parent = ancestors[-1] if ancestors else None
    if isinstance(parent, ast.Assign) and parent.value is call:
        return [ast.unparse(t) for t in parent.targets]
    if isinstance(parent, ast.AnnAssign) and parent.value is call:
        return [ast.unparse(parent.target)]
    for anc in reversed(ancestors[-2:]):
        if isinstance(anc, (ast.With, ast.AsyncWith)):
            return [ast.unparse(i.optional_vars) for i in anc.items if i.context_expr is call and i.optional_vars is not None]
        if isinstance(anc, ast.withitem) and anc.context_expr is call and anc.optional_vars is not None:
            return [ast.unparse(anc.optional_vars)]
    return []


def _module_timeout_facts(ctx) -> tuple[bool, bool, frozenset[str]]:
    """(`socket.setdefaulttimeout(n)` is called, `pymongo.timeout(...)` is
    used, source text of receivers some call passes `timeout=` to)."""

    def compute() -> tuple[bool, bool, frozenset[str]]:
        sem = ctx.semantic
        default = mongo = False
        receivers: set[str] = set()
        for node in ast.walk(ctx.tree):
            if not isinstance(node, ast.Call):
                continue
            f = node.func
            name = f.attr if isinstance(f, ast.Attribute) else f.id if isinstance(f, ast.Name) else None
            if name == "setdefaulttimeout" and node.args and not is_none(node.args[0]):
                default = default or sem.qualname(f) in (None, "socket.setdefaulttimeout")
            elif name == "timeout" and sem.qualname(f) == "pymongo.timeout":
                mongo = True
            elif isinstance(f, ast.Attribute) and keyword(node, "timeout") is not None:
                receivers.add(ast.unparse(f.value))
        return default, mongo, frozenset(receivers)

    return ctx.semantic.fact("ml501.module_timeouts", compute)  # type: ignore[return-value]


def _session_timeouts(ctx) -> set[str]:
    """Source text of session objects that get a timeout some other way:
    `s.timeout = ...`, `s.request = functools.partial(s.request, timeout=...)`,
    `s.mount(prefix, SomeAdapter(timeout=...))`."""

    def compute() -> set[str]:
        out: set[str] = set()
        for node in ast.walk(ctx.tree):
            if isinstance(node, ast.Assign):
                for t in node.targets:
                    if isinstance(t, ast.Attribute) and t.attr in ("timeout", "request"):
                        if t.attr == "timeout" or "timeout" in ast.dump(node.value):
                            out.add(ast.unparse(t.value))
            elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "mount":
                for a in node.args[1:]:
                    if isinstance(a, ast.Call) and (keyword(a, "timeout") is not None or "Timeout" in ast.unparse(a.func)):
                        out.add(ast.unparse(node.func.value))
        return out

    return ctx.semantic.fact("ml501.session_timeouts", compute)  # type: ignore[return-value]


# The top-level packages every call ML501 reports resolves to (a gRPC stub,
# from a generated `*_pb2_grpc` module, is checked on the text).
TIMEOUT_ROOTS = frozenset(
    q.split(".", 1)[0]
    for q in (
        *REQUESTS_FUNCS, *HTTPX_FUNCS, *HTTPX_CLIENTS, *SDK_CLIENTS, *LLM_CLIENTS, *BOTO_CONFIG,
        *REQUESTS_SESSIONS, *AIOHTTP_SESSIONS, *STORE_CLIENTS,
        "urllib.request.urlopen", "socket.create_connection", "asyncio.wait_for", "aiohttp.request", "aiohttp.ClientTimeout",
    )
)


@register
class UnboundedTimeout(Rule):
    codes = ("ML501",)
    nodes = (ast.Call,)

    def __init__(self, ctx):
        super().__init__(ctx)
        # A module that imports none of those packages has no call to check
        # (a training script: every call used to be looked at).
        if not module_names(ctx).imported_roots & TIMEOUT_ROOTS and "_pb2_grpc" not in ctx.source.text:
            self.call_names = frozenset()

    def visit(self, node: ast.Call) -> None:  # type: ignore[override]
        if has_star_kwargs(node):
            return
        q = self.ctx.semantic.call_qualname(node)
        if q in REQUESTS_FUNCS:
            self._need_timeout(node, f"`{q}(...)`", "requests waits forever for a server that accepts the connection but never answers")
        elif q == "urllib.request.urlopen":
            if len(node.args) < 3 and not _module_timeout_facts(self.ctx)[0]:
                self._need_timeout(node, "`urllib.request.urlopen(...)`", "without `timeout=` it uses the global socket default, which is no timeout")
        elif q == "socket.create_connection":
            if len(node.args) < 2:
                if not _module_timeout_facts(self.ctx)[0]:
                    self._need_timeout(node, "`socket.create_connection(...)`", "without a timeout the connect and every read can block forever")
            elif is_none(node.args[1]):
                self._report(node, "`socket.create_connection(..., None)` blocks forever on a silent peer; pass a timeout in seconds", None)
        elif q == "asyncio.wait_for":
            t = node.args[1] if len(node.args) >= 2 else _kw(node, "timeout")
            if t is not None and is_none(t):
                self._report(node, "`asyncio.wait_for(..., None)` waits without a limit: it is the same as a bare `await`; give it a timeout in seconds", None)
        elif q in STORE_CLIENTS:
            self._store_client(node, q, STORE_CLIENTS[q])
        elif q in LLM_CLIENTS and keyword(node, "timeout") is None:
            # 10-minute defaults (with retries) are fine in a script, an outage in a service
            sm = maybe_serving(self.ctx)
            if sm is not None and sm.handlers:
                self._need_timeout(
                    node,
                    f"`{q}(...)` in a serving module",
                    "the SDK's default timeout is 10 minutes per attempt (with retries), far longer than any caller waits",
                )
        elif q in HTTPX_FUNCS or q in HTTPX_CLIENTS or q in SDK_CLIENTS:
            kw = keyword(node, "timeout")
            if q == "httpx.Timeout":
                if node.args and is_none(node.args[0]) and not node.keywords:
                    self._report(node, "`httpx.Timeout(None)` disables every httpx timeout; give it a number of seconds", None)
            elif kw is not None and is_none(kw.value):
                self._need_timeout(node, f"`{q}(...)`", "`timeout=None` disables the client's default timeout")
        elif q in BOTO_CONFIG:
            for name in ("connect_timeout", "read_timeout"):
                kw = keyword(node, name)
                if kw is not None and is_none(kw.value):
                    self._report(kw, f"`{q}({name}=None)` removes the botocore timeout: an S3 or SageMaker call can hang forever; set it in seconds", None)
        elif q == "aiohttp.request":
            if keyword(node, "timeout") is None:
                self._report(node, "`aiohttp.request(...)` has no `timeout=`: pass `timeout=aiohttp.ClientTimeout(total=...)`", None)
        elif q in ("aiohttp.ClientTimeout", "aiohttp.client.ClientTimeout"):
            vals = [*node.args, *(k.value for k in node.keywords)]
            if all(is_none(v) for v in vals):
                self._report(node, "`aiohttp.ClientTimeout()` with no values sets no limit at all; set `total=` (seconds)", None)
        elif isinstance(node.func, ast.Attribute):
            self._method_call(node)

    def _method_call(self, node: ast.Call) -> None:
        f = node.func
        assert isinstance(f, ast.Attribute)
        recv = f.value
        # gRPC: stub.Method(req) and stub.Method.future(req)
        grpc_target = recv
        if f.attr in ("future", "with_call") and isinstance(recv, ast.Attribute):
            grpc_target = recv.value
        ctor, ctor_call = receiver_ctor(self.ctx, grpc_target if grpc_target is not recv else recv)
        if ctor is None and grpc_target is not recv:
            ctor, ctor_call = receiver_ctor(self.ctx, grpc_target)
        if ctor is None:
            return
        if "_pb2_grpc." in ctor and ctor.endswith("Stub"):
            method = f.attr if grpc_target is recv else recv.attr  # type: ignore[attr-defined]
            if keyword(node, "timeout") is None and not method.startswith("_"):
                self._need_timeout(node, f"gRPC call `{ast.unparse(f)}(...)`", "gRPC sets no deadline by default, so a stuck server holds this call forever")
            return
        if f.attr not in REQUEST_VERBS and f.attr not in ("stream", "send", "ws_connect"):
            return
        if ctor in REQUESTS_SESSIONS and f.attr in REQUEST_VERBS:
            if ast.unparse(recv) in _session_timeouts(self.ctx):
                return
            self._need_timeout(node, f"`{ast.unparse(f)}(...)` on a `requests.Session`", "a Session has no default timeout, so the call can hang forever")
        elif ctor in HTTPX_CLIENTS:
            kw = keyword(node, "timeout")
            if kw is not None and is_none(kw.value):
                self._need_timeout(node, f"`{ast.unparse(f)}(...)`", "`timeout=None` disables the httpx timeout")
        elif ctor in AIOHTTP_SESSIONS and ctor_call is not None:
            st = keyword(ctor_call, "timeout")
            if st is not None and not is_none(st.value) or has_star_kwargs(ctor_call):
                return
            if keyword(node, "timeout") is None:
                self._report(
                    node,
                    f"`{ast.unparse(f)}(...)` runs on an `aiohttp.ClientSession` created without `timeout=`: "
                    "pass `timeout=aiohttp.ClientTimeout(total=...)` to the session or to this call",
                    None,
                )

    def _store_client(self, node: ast.Call, q: str, spec: StoreClient) -> None:
        """A store or stdlib-protocol client built without a timeout."""
        if len(node.args) > spec.max_args or any(isinstance(a, ast.Starred) for a in node.args):
            return
        given: ast.keyword | None = None
        positional_none = False
        if spec.position is not None and len(node.args) > spec.position:
            if not is_none(node.args[spec.position]):
                return
            positional_none = True
        for kw in node.keywords:
            if kw.arg is not None and kw.arg.lower() in spec.keywords:
                if not is_none(kw.value):
                    return
                given = kw
        if spec in (_REDIS, _REDIS_POSITIONAL) and keyword(node, "connection_pool") is not None:
            return  # the pool's connections carry the timeout
        if spec.in_text:
            for a in node.args[:1] + [k.value for k in node.keywords if k.arg in ("url", "host", "dsn", "conninfo")]:
                text = ast.unparse(a).lower()
                if any(opt + "=" in text for opt in spec.in_text):
                    return
        default_timeout, mongo_timeout, receivers = _module_timeout_facts(self.ctx)
        if spec.socket_default and default_timeout:
            return
        if spec is _MONGO and mongo_timeout:
            return
        if spec is _POSTGRES and "PGCONNECT_TIMEOUT" in self.ctx.source.text:
            return
        if q in _PER_REQUEST_TIMEOUT:
            if any(t in receivers for t in _bound_names(self.ctx.ancestors, node)):
                return  # its requests pass `timeout=`
        key, value = spec.fix
        t = self.ctx.config.timeout
        value = value.format(t=_fmt_timeout(t), ms=str(int(t * 1000)), i=str(max(2, int(t))))
        if positional_none:
            fix = replace_node(self.ctx, node.args[spec.position], value, f"Set {key}={value}", "unsafe")  # type: ignore[index]
            state = "with a `None` timeout"
        else:
            fix = add_keyword(self.ctx, node, given.arg if given is not None else key, value, f"Set {key}={value}", "unsafe")  # type: ignore[arg-type]
            state = f"with `{given.arg}=None`" if given is not None else f"without `{key}`" if key != "timeout" else "without a timeout"
        what = f"creates {spec.label}" if spec.label else "is created"
        unit = "milliseconds" if "{ms}" in spec.fix[1] else "seconds"
        self._report(node, f"`{q}(...)` {what} {state}: {spec.why}; pass `{key}={value}` ({unit}).", fix)

    def _need_timeout(self, node: ast.Call, what: str, why: str) -> None:
        kw = keyword(node, "timeout")
        if kw is not None and not is_none(kw.value):
            return
        t = _fmt_timeout(self.ctx.config.timeout)
        fix = add_keyword(self.ctx, node, "timeout", t, f"Set timeout={t}", "unsafe")
        state = "with `timeout=None`" if kw is not None else "without a timeout"
        self._report(node, f"{what} is called {state}: {why}; pass `timeout={t}` (seconds).", fix)

    def _report(self, node: ast.AST, message: str, fix) -> None:
        # A one-off call in a notebook (a download at the top of a cell) holds
        # up one interactive run at worst; in a loop, a function called per
        # item, a handler or a script it stays high.
        severity = Severity.LOW if runs_once(self.ctx, self.ctx.ancestors) else None
        self.ctx.report("ML501", node, message, fix, severity=severity)


# --- shared helpers for handler rules ---------------------------------------------


def _handler_def_range(ctx, func: ast.AST) -> tuple[int, int, int, int]:
    line = func.lineno  # type: ignore[attr-defined]
    text = ctx.source.line_text(line)
    col = ctx.char_col(line, func.col_offset)  # type: ignore[attr-defined]
    name = func.name  # type: ignore[attr-defined]
    idx = text.find(name, col)
    end = idx + len(name) if idx >= 0 else len(text)
    return line, col, line, end





def _first_inference(sm: ServingModel, f: FuncInfo) -> str | None:
    for site in f.calls:
        d = sm.inference_call(site, f)
        if d is not None:
            return d
    return None


def _prediction_handlers(sm: ServingModel) -> list[tuple[Handler, str]]:
    """Handlers from which a model call is reachable, with the first model
    call's text. Linear in the module (see `ServingModel.reach_first`)."""

    def compute() -> list[tuple[Handler, str]]:
        reach = sm.reach_first(lambda f: _first_inference(sm, f))
        out = []
        for h in sm.handlers:
            if h.route == EVERY_REQUEST_HOOK:
                continue
            desc = reach.get(id(h.func))
            if desc is not None:
                out.append((h, desc))
        return out

    return sm.memo("prediction_handlers", compute)  # type: ignore[return-value]


# --- ML502 -------------------------------------------------------------------

PICKLE_STYLE = frozenset({"joblib.load", "pickle.load", "pickle.loads", "cPickle.load", "dill.load", "cloudpickle.load"})


@register
class ModelLoadedPerRequest(Rule):
    codes = ("ML502",)
    nodes = ()

    def finish(self) -> None:
        sm = maybe_serving(self.ctx)
        if sm is None or not sm.handlers:
            return
        for f, h in sm.reach_map(sm.handlers).values():
            for site in f.calls:
                if site.guarded or not is_model_loader(site.qualname):
                    continue
                where = "" if f is h.func else f" (in `{f.display}`, called from it)"
                self.report(
                    "ML502",
                    site.node,
                    f"`{site.qualname}(...)` loads a model{' (or another pickled artifact)' if site.qualname in PICKLE_STYLE else ''} on every request to {h.label}{where}: "
                    "each call pays the disk read and deserialisation. Load it once at startup "
                    "(lifespan/startup hook, module level or the deployment's `__init__`) and reuse it.",
                )


# --- ML503 -------------------------------------------------------------------


@register
class BlockingInferenceInAsync(Rule):
    codes = ("ML503",)
    nodes = ()

    def finish(self) -> None:
        sm = maybe_serving(self.ctx)
        if sm is None:
            return
        async_handlers = [h for h in sm.handlers if h.func.is_async]
        for f, h in sm.reach_map(async_handlers, direct_only=True).values():
            for site in f.calls:
                if site.deferred or site.awaited:
                    continue
                desc = sm.inference_call(site, f)
                if desc is not None:
                    where = "" if f is h.func else f" (in `{f.display}`, called directly from it)"
                    self.report(
                        "ML503",
                        site.node,
                        f"`{desc}(...)` runs synchronously inside async handler {h.label}{where}: "
                        "it blocks the event loop, so every other request waits for it. Run it with "
                        "`await run_in_threadpool(...)` / `await asyncio.to_thread(...)`, or make the handler a plain `def`.",
                    )


# --- ML504 -------------------------------------------------------------------

MONITORING_PREFIXES = (
    "prometheus_client.",
    "prometheus_fastapi_instrumentator.",
    "starlette_exporter.",
    "evidently.",
    "whylogs.",
    "nannyml.",
    "alibi_detect.",
    "opentelemetry.",
)


def is_monitoring_call(qualname: str | None, dotted: str | None, hooks: list[str]) -> bool:
    q = qualname or ""
    if q.startswith(MONITORING_PREFIXES) or q in ("prometheus_client", "whylogs", "evidently"):
        return True
    if q.startswith("mlflow.") and (".log_" in q or q.startswith("mlflow.log")):
        return True
    for hook in hooks:
        for name in (q, dotted or ""):
            if name and (name == hook or name.endswith("." + hook) or name.startswith(hook + ".")):
                return True
    return False


@register
class MissingDriftMonitoring(Rule):
    codes = ("ML504",)
    nodes = ()

    def finish(self) -> None:
        sm = maybe_serving(self.ctx)
        if sm is None or not sm.handlers:
            return
        hooks = list(self.ctx.config.monitoring_hooks)
        res = sm.resolver
        # app-wide instrumentation at module level counts for every endpoint
        for call in sm._module_calls:
            if is_monitoring_call(res.qualname(call.func), _dotted(call.func), hooks):
                return
        monitored = sm.reach_first(
            lambda f: True
            if self._decorated_with_monitoring_f(f, res, hooks)
            or any(is_monitoring_call(site.qualname, _dotted(site.node.func), hooks) for site in f.calls)
            else None
        )
        for h, desc in _prediction_handlers(sm):
            if monitored.get(id(h.func)):
                continue
            self.report(
                "ML504",
                _handler_def_range(self.ctx, h.func.node),
                f"Prediction endpoint {h.label} runs `{desc}(...)` but reaches no monitoring hook "
                "(prometheus_client, evidently, whylogs, nannyml, alibi-detect, mlflow logging, OpenTelemetry "
                "or a `monitoring-hooks` entry): record inputs and predictions so drift can be detected.",
            )

    def _decorated_with_monitoring(self, h: Handler, res, hooks: list[str]) -> bool:
        return self._decorated_with_monitoring_f(h.func, res, hooks)

    @staticmethod
    def _decorated_with_monitoring_f(f: FuncInfo, res, hooks: list[str]) -> bool:
        for d in f.node.decorator_list:
            target = d.func if isinstance(d, ast.Call) else d
            if is_monitoring_call(res.qualname(target), _dotted(target), hooks):
                return True
        return False


# --- ML505 -------------------------------------------------------------------

VALIDATION_METHODS = frozenset(
    {"model_validate", "model_validate_json", "parse_obj", "parse_raw", "validate_python", "validate_json"}
)
VALIDATION_PREFIXES = ("jsonschema.", "marshmallow.", "pandera.", "cerberus.", "voluptuous.", "fastjsonschema.", "pydantic.", "msgspec.", "attrs.", "cattrs.")
RAW_JSON_METHODS = frozenset({"json", "get_json"})
RAW_ANNOTATIONS = frozenset({"dict", "Dict", "typing.Dict", "Any", "typing.Any", "object"})


@register
class UnvalidatedPredictionInput(Rule):
    codes = ("ML505",)
    nodes = ()

    def finish(self) -> None:
        sm = maybe_serving(self.ctx)
        if sm is None or not sm.handlers:
            return
        res = sm.resolver
        schema_classes = {
            name
            for name, c in sm.classes.items()
            if any((res.qualname(b) or "").startswith(("pydantic.", "marshmallow.", "msgspec.")) for b in c.node.bases)
        }
        validated = sm.reach_first(lambda f: True if self._validates(f, schema_classes) else None)
        uses_flask = any(q.startswith(("flask", "quart")) for q in self.ctx.semantic.imported)
        raw_reads = sm.reach_first(lambda f: self._raw_read(f, sm, uses_flask))
        for h, _desc in _prediction_handlers(sm):
            if validated.get(id(h.func)):
                continue
            raw = self._raw_param(h, sm) or raw_reads.get(id(h.func))
            if raw is None:
                continue
            node, what = raw  # type: ignore[misc]
            self.report(
                "ML505",
                node,
                f"Prediction endpoint {h.label} feeds {what} to the model without a schema: malformed or "
                "out-of-range input reaches the model unchecked. Declare a pydantic model (or marshmallow schema) "
                "for the payload and validate it first.",
            )

    @staticmethod
    def _validates(f: FuncInfo, schema_classes: set[str]) -> bool:
        for site in f.calls:
            fn = site.node.func
            if isinstance(fn, ast.Attribute) and fn.attr in VALIDATION_METHODS:
                return True
            if isinstance(fn, ast.Name) and fn.id in schema_classes:
                return True
            if (site.qualname or "").startswith(VALIDATION_PREFIXES):
                return True
            if isinstance(fn, ast.Attribute) and fn.attr in ("load", "loads", "validate"):
                base = _dotted(fn.value) or ""
                if "schema" in base.lower():
                    return True
        # a parameter typed with a schema class (FastAPI validates it)
        for a in f.node.args.args + f.node.args.kwonlyargs:
            ann = a.annotation
            if isinstance(ann, ast.Name) and ann.id in schema_classes:
                return True
        return False

    @staticmethod
    def _raw_param(h: Handler, sm: ServingModel) -> tuple[ast.AST, str] | None:
        """A FastAPI-style body parameter typed as a plain dict / Any."""
        if h.framework not in ("FastAPI", "Starlette", "web framework"):
            return None
        node = h.func.node
        for a in node.args.args + node.args.kwonlyargs:
            ann = a.annotation
            if ann is None:
                continue
            base = ann.value if isinstance(ann, ast.Subscript) else ann
            q = sm.resolver.qualname(base) or _dotted(base) or ""
            if q in RAW_ANNOTATIONS or q.endswith((".Dict", ".Any")):
                return a, f"`{a.arg}: {ast.unparse(ann)}` (a raw dict)"
        return None

    @staticmethod
    def _raw_read(f: FuncInfo, sm: ServingModel, uses_flask: bool) -> tuple[ast.AST, str] | None:
        res = sm.resolver
        for site in f.calls:
            fn = site.node.func
            q = site.qualname or ""
            if isinstance(fn, ast.Attribute) and fn.attr in RAW_JSON_METHODS:
                recv = fn.value
                rq = res.qualname(recv) or ""
                if rq in ("flask.request", "quart.request") or (isinstance(recv, ast.Name) and recv.id in ("request", "req")):
                    return site.node, f"`{ast.unparse(fn)}()` (a raw dict)"
            if q == "json.loads" and site.node.args:
                arg = ast.unparse(site.node.args[0])
                if arg.startswith(("request.", "req.")):
                    return site.node, f"`json.loads({arg})` (a raw dict)"
        if uses_flask:
            for sub in ast.walk(f.node):
                if isinstance(sub, ast.Attribute) and sub.attr in ("json", "form") and isinstance(sub.ctx, ast.Load):
                    if (res.qualname(sub.value) or "") in ("flask.request", "quart.request"):
                        return sub, f"`request.{sub.attr}` (a raw dict)"
        return None


# --- ML506 -------------------------------------------------------------------

LOG_METHODS = frozenset(
    {"exception", "error", "warning", "warn", "info", "debug", "critical", "fatal", "log", "print_exc", "print_exception", "capture_exception", "capture_message", "format_exc"}
)


def _is_broad(handler: ast.ExceptHandler, sem) -> bool:
    t = handler.type
    if t is None:
        return True
    elts = t.elts if isinstance(t, ast.Tuple) else [t]
    for e in elts:
        q = sem.qualname(e) or _dotted(e)
        if q in ("Exception", "BaseException", "builtins.Exception", "builtins.BaseException"):
            return True
    return False


def _handler_is_silent(handler: ast.ExceptHandler) -> bool:
    name = handler.name
    for node in ast.walk(ast.Module(body=handler.body, type_ignores=[])):
        if isinstance(node, ast.Raise):
            return False
        if isinstance(node, ast.Name) and name is not None and node.id == name:
            return False
        if isinstance(node, ast.Call):
            f = node.func
            attr = f.attr if isinstance(f, ast.Attribute) else (f.id if isinstance(f, ast.Name) else None)
            if attr in LOG_METHODS or attr in ("print", "abort", "HTTPException", "exit"):
                return False
            if any(k.arg in ("status_code", "status", "exc_info") for k in node.keywords):
                return False
    return True


@register
class SwallowedInferenceError(Rule):
    codes = ("ML506",)
    nodes = (ast.Try,)

    def visit(self, node: ast.Try) -> None:  # type: ignore[override]
        broad = [h for h in node.handlers if _is_broad(h, self.ctx.semantic)]
        if not broad:
            return
        silent = [h for h in broad if _handler_is_silent(h)]
        if not silent:
            return
        sm = serving_model(self.ctx)
        func = sm.info(self.ctx.enclosing(*FUNC_TYPES))
        desc = None
        for stmt in node.body:
            for sub in ast.walk(stmt):
                if isinstance(sub, ast.Call):
                    desc = sm.inference_call(CallSite(sub, self.ctx.semantic.call_qualname(sub), False, False), func)
                    if desc:
                        break
            if desc:
                break
        if desc is None:
            return
        for h in silent:
            line = h.lineno
            col = self.ctx.char_col(line, h.col_offset)
            end = h.type if h.type is not None else None
            if end is not None:
                _, _, eline, ecol = self.ctx.node_range(end)
            else:
                eline, ecol = line, col + len("except")
            what = "a bare `except:`" if h.type is None else f"`except {ast.unparse(h.type)}`"
            self.report(
                "ML506",
                (line, col, eline, ecol),
                f"{what} around `{desc}(...)` swallows the error without logging or re-raising: a broken model "
                "silently serves fallback answers. Log it (`logger.exception(...)`) and re-raise or return an error response.",
            )


# --- ML507 -------------------------------------------------------------------

NETWORK_PREFIXES = (
    "requests.",
    "httpx.",
    "aiohttp.",
    "urllib.request.",
    "urllib3.",
    "grpc.",
    "socket.",
    "openai.",
    "anthropic.",
    "boto3.",
    "botocore.",
    "google.cloud.",
    "redis.",
    "kafka.",
    "pika.",
    "huggingface_hub.",
    "tritonclient.",
)
SLEEP_CALLS = frozenset({"time.sleep", "asyncio.sleep", "trio.sleep", "anyio.sleep"})
UNBOUNDED_RETRY_DECORATORS = {
    "tenacity.retry": ("stop",),
    "backoff.on_exception": ("max_tries", "max_time"),
    "backoff.on_predicate": ("max_tries", "max_time"),
}


def _exits(nodes: list[ast.stmt]) -> bool:
    for stmt in nodes:
        for sub in ast.walk(stmt):
            if isinstance(sub, (ast.Raise, ast.Break, ast.Return)):
                return True
    return False


@register
class UnboundedRetry(Rule):
    codes = ("ML507",)
    nodes = (ast.While, ast.FunctionDef, ast.AsyncFunctionDef)

    def _outbound(self, call: ast.Call) -> str | None:
        q = self.ctx.semantic.call_qualname(call) or ""
        if q.startswith(NETWORK_PREFIXES) or "_pb2_grpc." in q:
            return q
        if isinstance(call.func, ast.Attribute):
            ctor, _ = receiver_ctor(self.ctx, call.func.value)
            if ctor and (ctor.startswith(NETWORK_PREFIXES) or "_pb2_grpc." in ctor):
                return ast.unparse(call.func)
        sm = serving_model(self.ctx)
        func = sm.info(self.ctx.enclosing(*FUNC_TYPES))
        return sm.inference_call(CallSite(call, q, False, False), func)

    def visit(self, node: ast.AST) -> None:
        if isinstance(node, ast.While):
            self._while(node)
        else:
            self._decorated(node)  # type: ignore[arg-type]

    def _while(self, node: ast.While) -> None:
        t = node.test
        if not (isinstance(t, ast.Constant) and t.value in (True, 1)):
            return
        tries = [s for s in _loop_statements(node.body) if isinstance(s, ast.Try)]
        for tr in tries:
            call_desc = None
            for stmt in tr.body:
                for sub in ast.walk(stmt):
                    if isinstance(sub, ast.Call):
                        call_desc = self._outbound(sub)
                        if call_desc:
                            break
                if call_desc:
                    break
            if call_desc is None or not tr.handlers:
                continue
            if any(_exits(h.body) for h in tr.handlers):
                continue
            # a limit checked elsewhere in the loop: `if attempt >= N: raise/break`
            counters = {
                sub.target.id
                for sub in ast.walk(node)
                if isinstance(sub, ast.AugAssign) and isinstance(sub.target, ast.Name)
            }
            in_try = {id(sub) for stmt in tr.body for sub in ast.walk(stmt)}
            limited = False
            for s in _loop_statements(node.body):
                if isinstance(s, ast.If) and id(s) not in in_try and _exits(s.body) and _is_limit(s.test, counters, self.ctx.semantic):
                    limited = True
                    break
            if limited:
                continue
            sleeps = any(
                isinstance(sub, ast.Call) and self.ctx.semantic.call_qualname(sub) in SLEEP_CALLS
                for sub in ast.walk(node)
            )
            backoff = "" if sleeps else " and no backoff between attempts"
            line, col, _, _ = self.ctx.node_range(node)
            self.report(
                "ML507",
                (line, col, line, col + len("while True")),
                f"`while True` retries `{call_desc}(...)` with no attempt limit{backoff}: when the service stays down "
                "this loops forever (and hammers it). Cap the attempts and back off, e.g. `for attempt in range(5)` with "
                "exponential sleep, or tenacity with `stop=stop_after_attempt(5)`.",
            )
            return

    def _decorated(self, node: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
        for d in node.decorator_list:
            target = d.func if isinstance(d, ast.Call) else d
            q = self.ctx.semantic.qualname(target)
            limits = UNBOUNDED_RETRY_DECORATORS.get(q or "")
            if limits is None:
                continue
            if isinstance(d, ast.Call) and (has_star_kwargs(d) or any(keyword(d, k) is not None for k in limits)):
                continue
            desc = None
            for sub in ast.walk(node):
                if isinstance(sub, ast.Call):
                    desc = self._outbound(sub)
                    if desc:
                        break
            if desc is None:
                continue
            self.report(
                "ML507",
                d,
                f"`@{ast.unparse(target)}` on `{node.name}` has no {' / '.join(f'`{k}=`' for k in limits)}: "
                f"it retries `{desc}(...)` forever while the service is down. Add a limit, "
                + ("e.g. `stop=stop_after_attempt(5)`." if q == "tenacity.retry" else "e.g. `max_tries=5`."),
            )


def _loop_statements(body: list[ast.stmt]):
    """Statements of a loop body, descending into if/with/try but not into
    nested loops or function definitions."""
    todo = list(body)
    while todo:
        s = todo.pop(0)
        yield s
        if isinstance(s, (ast.For, ast.AsyncFor, ast.While, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            continue
        for name in STATEMENT_FIELDS.get(type(s), ()):
            for child in getattr(s, name):
                # except handlers and match cases hold statements, are not ones
                todo.extend(child.body if isinstance(child, (ast.ExceptHandler, ast.match_case)) else [child])


def _inside(node: ast.AST, body: list[ast.stmt]) -> bool:
    for stmt in body:
        for sub in ast.walk(stmt):
            if sub is node:
                return True
    return False


def _is_limit(test: ast.AST, counters: set[str], sem) -> bool:
    """An attempt counter or a deadline: `attempt >= MAX`, `time.monotonic() > deadline`."""
    for sub in ast.walk(test):
        if isinstance(sub, ast.Name) and sub.id in counters:
            return True
        if isinstance(sub, ast.Call) and (sem.call_qualname(sub) or "").startswith(("time.", "datetime.")):
            return True
    return False
