"""The serving-app model of one module: request handlers, startup hooks and an
intra-module call graph, so that "runs on every request" means something.

    sm = serving_model(ctx)            # computed once per module (a fact)
    for h in sm.handlers: ...          # Handler(func, framework, route)
    sm.per_request(func_node)          # the Handler whose requests run it, or None
    maybe_serving(ctx)                 # the model, or None when no web/serving framework is imported

Recognised handlers: FastAPI/Starlette routes (decorators on an app or a
router, `add_api_route`, `Route(...)`), Flask/Quart routes, `add_url_rule`,
MethodView classes, Django function views and class-based views (and DRF),
aiohttp routes (RouteTableDef, `web.get(...)`, `router.add_*`), BentoML
services and APIs, Ray Serve deployments, TorchServe handlers, KServe models
and LitServe APIs. Startup hooks (FastAPI `lifespan=`, `on_event("startup")`,
`add_event_handler`, aiohttp `on_startup`, Flask `before_first_request`, and
the `__init__`/`setup`/`initialize`/`load` of deployment classes) and
module-level code are not per-request.

The model is built from the whole tree in one iterative pass, independent of
the engine's walk position, with its own flat name resolution (imports
anywhere, module-level assignments first, then others; `self.x = ...`
per class). Unknown stays unknown: a decorator that does not resolve to a
known framework is only taken as a route when it looks like one
(`@x.get("/path")`).
"""

from __future__ import annotations

import ast
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from mllint.analysis.semantic import dotted_name as _dotted  # shared helpers
from mllint.analysis.semantic import kwarg_value as _kw

FuncNode = ast.FunctionDef | ast.AsyncFunctionDef

# --- vocabulary ---------------------------------------------------------------

HTTP_VERBS = frozenset({"get", "post", "put", "patch", "delete", "head", "options", "trace"})
ROUTE_DECORATORS = HTTP_VERBS | {"route", "api_route", "websocket", "view", "websocket_route"}
STARTUP_EVENTS = frozenset({"startup"})
# Route label of hooks that run on every request (middleware, before_request).
EVERY_REQUEST_HOOK = "before each request"

# Calls that load a model from storage (qualified names, or suffixes after a dot).
MODEL_LOADERS = frozenset(
    {
        "joblib.load",
        "pickle.load",
        "pickle.loads",
        "cPickle.load",
        "dill.load",
        "cloudpickle.load",
        "torch.load",
        "torch.jit.load",
        "torch.hub.load",
        "transformers.pipeline",
        "keras.models.load_model",
        "keras.saving.load_model",
        "tensorflow.keras.models.load_model",
        "tf_keras.models.load_model",
        "tensorflow.saved_model.load",
        "onnxruntime.InferenceSession",
        "onnx.load",
        "sentence_transformers.SentenceTransformer",
        "spacy.load",
        "ultralytics.YOLO",
        "skops.io.load",
        "safetensors.torch.load_file",
        "xgboost.Booster",
        "lightgbm.Booster",
        "catboost.CatBoost",
        "gensim.models.Word2Vec.load",
        "fasttext.load_model",
        "tensorflow.lite.Interpreter",
        "diffusers.DiffusionPipeline.from_pretrained",
    }
)
MODEL_LOADER_PREFIXES = ("mlflow.",)  # mlflow.<flavor>.load_model
MODEL_LOADER_SUFFIXES = (".from_pretrained", ".load_from_checkpoint")

# Loaded objects that are not models (their calls are not inference).
NOT_MODELS = ("Tokenizer", "Processor", "FeatureExtractor", "Config", "tokenizer")
# Attribute calls that are inference whatever the receiver is.
PREDICT_METHODS = frozenset(
    {"predict", "predict_proba", "predict_log_proba", "decision_function", "predict_on_batch"}
)
# Attribute calls that are inference when the receiver is a known model object.
MODEL_METHODS = frozenset(
    {"generate", "encode", "forward", "run", "infer", "transcribe", "detect", "invoke", "__call__", "embed"}
)

FRAMEWORK_PREFIXES = {
    "fastapi": "FastAPI",
    "starlette": "Starlette",
    "flask": "Flask",
    "quart": "Quart",
    "aiohttp": "aiohttp",
    "sanic": "Sanic",
    "litestar": "Litestar",
    "bentoml": "BentoML",
}

# Class-based frameworks: base class qualname prefix -> (framework, per-request methods, startup methods)
CLASS_FRAMEWORKS: tuple[tuple[tuple[str, ...], str, frozenset[str] | None, frozenset[str]], ...] = (
    (("ts.torch_handler",), "TorchServe", frozenset({"handle", "preprocess", "inference", "postprocess", "explain_handle"}), frozenset({"initialize", "__init__"})),
    (("kserve.Model", "kserve.model.Model", "kserve.model.model.Model"), "KServe", frozenset({"predict", "preprocess", "postprocess", "explain", "__call__"}), frozenset({"load", "__init__"})),
    (("litserve.LitAPI", "litserve.api.LitAPI"), "LitServe", frozenset({"predict", "decode_request", "encode_response", "batch", "unbatch"}), frozenset({"setup", "__init__"})),
    (("django.views", "rest_framework.views", "rest_framework.viewsets", "rest_framework.generics", "rest_framework.mixins"), "Django", frozenset(HTTP_VERBS | {"list", "create", "retrieve", "update", "partial_update", "destroy", "dispatch"}), frozenset({"__init__"})),
    (("flask.views",), "Flask", frozenset(HTTP_VERBS | {"dispatch_request"}), frozenset({"__init__"})),
    (("aiohttp.web.View", "aiohttp.web_urldispatcher.View"), "aiohttp", frozenset(HTTP_VERBS), frozenset({"__init__"})),
)
# Class decorators that make every public method a per-request entry point.
DEPLOYMENT_DECORATORS = {
    "ray.serve.deployment": "Ray Serve",
    "bentoml.service": "BentoML",
}
DEPLOYMENT_STARTUP = frozenset({"__init__", "reconfigure", "setup", "load", "load_model"})
CACHE_DECORATORS = frozenset(
    {"functools.lru_cache", "functools.cache", "functools.cached_property", "cachetools.cached", "streamlit.cache_resource"}
)
OFFLOAD_CALLS = frozenset(
    {
        "asyncio.to_thread",
        "starlette.concurrency.run_in_threadpool",
        "fastapi.concurrency.run_in_threadpool",
        "anyio.to_thread.run_sync",
        "asgiref.sync.sync_to_async",
    }
)


def is_model_loader(qualname: str | None) -> bool:
    if not qualname:
        return False
    q = qualname
    if q in MODEL_LOADERS:
        return True
    if q.endswith(MODEL_LOADER_SUFFIXES) and "()" not in q:
        return True
    if q.startswith(MODEL_LOADER_PREFIXES) and q.endswith((".load_model", ".load_pyfunc")):
        return True
    return False


# --- data -----------------------------------------------------------------------


@dataclass(eq=False)
class CallSite:
    node: ast.Call
    qualname: str | None
    deferred: bool  # inside a lambda: runs later, maybe in a thread
    awaited: bool
    guarded: bool = False  # under a lazy-initialisation test (`if model is None:`)


@dataclass(eq=False)
class FuncInfo:
    node: FuncNode
    name: str
    cls: ClassInfo | None
    parent: FuncInfo | None
    calls: list[CallSite] = field(default_factory=list)
    nested: dict[str, FuncInfo] = field(default_factory=dict)
    # resolved after collection
    direct: list[tuple[ast.Call, FuncInfo]] = field(default_factory=list)
    refs: list[FuncInfo] = field(default_factory=list)
    ref_names: list[ast.AST] = field(default_factory=list)
    cached: bool = False
    local_values: dict[str, list[ast.AST]] = field(default_factory=dict)
    returns: list[ast.AST] = field(default_factory=list)

    @property
    def is_async(self) -> bool:
        return isinstance(self.node, ast.AsyncFunctionDef)

    @property
    def display(self) -> str:
        return f"{self.cls.name}.{self.name}" if self.cls is not None else self.name


@dataclass(eq=False)
class ClassInfo:
    node: ast.ClassDef
    name: str
    methods: dict[str, FuncInfo] = field(default_factory=dict)
    attrs: dict[str, ast.AST] = field(default_factory=dict)  # self.x = <value>


@dataclass(eq=False)
class Handler:
    func: FuncInfo
    framework: str
    route: str | None = None

    @property
    def label(self) -> str:
        where = f" ({self.route})" if self.route else ""
        return f"`{self.func.display}`{where}"


# --- resolution ---------------------------------------------------------------


class Resolver:
    """Flat, order-independent name resolution over the whole module."""

    def __init__(self) -> None:
        self.aliases: dict[str, str] = {}
        self.values: dict[str, ast.AST] = {}  # name -> assigned value (module level wins)
        self._module_values: set[str] = set()
        self._cache: dict[str, str | None] = {}
        self._resolving: set[str] = set()

    def add_import(self, node: ast.Import | ast.ImportFrom) -> None:
        if isinstance(node, ast.Import):
            for a in node.names:
                if a.asname:
                    self.aliases.setdefault(a.asname, a.name)
                else:
                    top = a.name.split(".", 1)[0]
                    self.aliases.setdefault(top, top)
        else:
            if node.level:
                return
            mod = node.module or ""
            for a in node.names:
                if a.name != "*":
                    self.aliases.setdefault(a.asname or a.name, f"{mod}.{a.name}" if mod else a.name)

    def add_value(self, name: str, value: ast.AST, module_level: bool) -> None:
        if module_level:
            if name not in self._module_values:
                self.values[name] = value
                self._module_values.add(name)
        elif name not in self._module_values:
            self.values.setdefault(name, value)

    def name_qualname(self, name: str) -> str | None:
        if name in self._cache:
            return self._cache[name]
        if name in self._resolving:
            return None
        q: str | None = self.aliases.get(name)
        if q is None and name in self.values:
            self._resolving.add(name)
            try:
                v = self.values[name]
                if isinstance(v, ast.Call):
                    inner = self.qualname(v.func)
                    q = inner + "()" if inner else None
                elif isinstance(v, (ast.Name, ast.Attribute)):
                    q = self.qualname(v)
            finally:
                self._resolving.discard(name)
        self._cache[name] = q
        return q

    def qualname(self, node: ast.AST) -> str | None:
        attrs: list[str] = []
        while isinstance(node, ast.Attribute):
            attrs.append(node.attr)
            node = node.value
        if isinstance(node, ast.Name):
            base = self.name_qualname(node.id)
        elif isinstance(node, ast.Call):
            inner = self.qualname(node.func)
            base = inner + "()" if inner else None
        else:
            base = None
        if base is None:
            return None
        return base + "." + ".".join(reversed(attrs)) if attrs else base


# --- the model ------------------------------------------------------------------


class ServingModel:
    def __init__(self, tree: ast.Module):
        self.resolver = Resolver()
        self.functions: dict[int, FuncInfo] = {}
        self.module_functions: dict[str, FuncInfo] = {}
        self.classes: dict[str, ClassInfo] = {}
        self.handlers: list[Handler] = []
        self.startup: set[int] = set()
        self._registrations: list[tuple[ast.AST, str, str | None]] = []  # (func ref, framework, route)
        self._startup_refs: list[ast.AST] = []
        self._per_request: dict[int, Handler] | None = None
        self._handler_by_func: dict[int, Handler] = {}
        self._memo: dict[str, object] = {}
        self._module_calls: list[ast.Call] = []
        self._collect(tree)
        self._resolve_edges()
        self._find_handlers()

    # -- collection (one pass) --------------------------------------------------
    def _collect(self, tree: ast.Module) -> None:
        res = self.resolver
        # stack items: (node, current function, current class, in_lambda)
        stack: list[tuple[ast.AST, FuncInfo | None, ClassInfo | None, bool, bool]] = [(tree, None, None, False, False)]
        awaited: set[int] = set()
        while stack:
            node, func, cls, in_lambda, guard = stack.pop()
            t = type(node)
            if t is ast.Import or t is ast.ImportFrom:
                res.add_import(node)  # type: ignore[arg-type]
            elif t is ast.Assign or t is ast.AnnAssign:
                value = node.value  # type: ignore[attr-defined]
                targets = node.targets if t is ast.Assign else [node.target]  # type: ignore[attr-defined]
                if value is not None:
                    for tgt in targets:
                        if isinstance(tgt, ast.Name):
                            res.add_value(tgt.id, value, func is None and cls is None)
                            if func is not None:
                                func.local_values.setdefault(tgt.id, []).append(value)
                        elif (
                            isinstance(tgt, ast.Attribute)
                            and isinstance(tgt.value, ast.Name)
                            and tgt.value.id == "self"
                            and func is not None
                            and func.cls is not None
                        ):
                            func.cls.attrs.setdefault(tgt.attr, value)
            elif t is ast.Return and func is not None and node.value is not None:  # type: ignore[attr-defined]
                func.returns.append(node.value)  # type: ignore[attr-defined]
            elif t is ast.Await:
                v = node.value  # type: ignore[attr-defined]
                if isinstance(v, ast.Call):
                    awaited.add(id(v))
            elif t is ast.Call:
                if func is not None:
                    func.calls.append(CallSite(node, None, in_lambda, id(node) in awaited, guard))  # type: ignore[arg-type]
                else:
                    self._module_calls.append(node)  # type: ignore[arg-type]
            elif t is ast.FunctionDef or t is ast.AsyncFunctionDef:
                info = FuncInfo(node, node.name, cls if func is None else None, func)  # type: ignore[arg-type]
                self.functions[id(node)] = info
                if func is not None:
                    func.nested[node.name] = info  # type: ignore[attr-defined]
                elif cls is not None:
                    cls.methods.setdefault(node.name, info)  # type: ignore[attr-defined]
                else:
                    self.module_functions[node.name] = info  # type: ignore[attr-defined]
                # decorators and defaults belong to the enclosing scope
                outer_children: list[ast.AST] = [*node.decorator_list, *node.args.defaults, *(d for d in node.args.kw_defaults if d is not None)]  # type: ignore[attr-defined]
                for child in reversed(node.body):  # type: ignore[attr-defined]
                    stack.append((child, info, None, False, False))
                for child in reversed(outer_children):
                    stack.append((child, func, cls, in_lambda, guard))
                # Depends(fn) in parameter defaults run per request: record as refs of the function
                for d in (*node.args.defaults, *(d for d in node.args.kw_defaults if d is not None)):  # type: ignore[attr-defined]
                    if isinstance(d, ast.Call) and d.args:
                        info.ref_names.append(d.args[0])
                continue
            elif t is ast.ClassDef:
                cinfo = ClassInfo(node, node.name)  # type: ignore[arg-type]
                if func is None and cls is None:
                    self.classes.setdefault(node.name, cinfo)  # type: ignore[attr-defined]
                for child in reversed(node.body):  # type: ignore[attr-defined]
                    stack.append((child, None, cinfo, False, False))
                for child in reversed([*node.decorator_list, *node.bases, *(k.value for k in node.keywords)]):  # type: ignore[attr-defined]
                    stack.append((child, func, cls, in_lambda, guard))
                continue
            elif t is ast.Lambda:
                for child in ast.iter_child_nodes(node):
                    stack.append((child, func, cls, True, guard))
                continue
            elif t is ast.If and _lazy_init_test(node.test):  # type: ignore[attr-defined]
                for child in reversed(node.orelse):  # type: ignore[attr-defined]
                    stack.append((child, func, cls, in_lambda, guard))
                for child in reversed(node.body):  # type: ignore[attr-defined]
                    stack.append((child, func, cls, in_lambda, True))
                stack.append((node.test, func, cls, in_lambda, guard))  # type: ignore[attr-defined]
                continue
            children = list(ast.iter_child_nodes(node))
            for child in reversed(children):
                stack.append((child, func, cls, in_lambda, guard))
        # qualnames after every import is known
        for info in self.functions.values():
            for site in info.calls:
                site.qualname = res.qualname(site.node.func)

    # -- call graph ---------------------------------------------------------------
    def lookup_function(self, name: str, func: FuncInfo | None) -> FuncInfo | None:
        f = func
        while f is not None:
            hit = f.nested.get(name)
            if hit is not None:
                return hit
            f = f.parent
        return self.module_functions.get(name)

    def _owner_class(self, func: FuncInfo) -> ClassInfo | None:
        f: FuncInfo | None = func
        while f is not None:
            if f.cls is not None:
                return f.cls
            f = f.parent
        return None

    def resolve_callee(self, target: ast.AST, func: FuncInfo | None) -> FuncInfo | None:
        """The function/method of this module that `target` (a call's func, or a
        reference passed as an argument) names."""
        if isinstance(target, ast.Name):
            hit = self.lookup_function(target.id, func)
            if hit is not None:
                return hit
            c = self.classes.get(target.id)
            if c is not None:
                return c.methods.get("__init__")
            return None
        if (
            isinstance(target, ast.Attribute)
            and isinstance(target.value, ast.Name)
            and target.value.id in ("self", "cls")
            and func is not None
        ):
            c = self._owner_class(func)
            if c is not None:
                return c.methods.get(target.attr)
        return None

    def _resolve_edges(self) -> None:
        for info in self.functions.values():
            for d in info.node.decorator_list:
                q = self.resolver.qualname(d.func if isinstance(d, ast.Call) else d)
                if q in CACHE_DECORATORS:
                    info.cached = True
            for site in info.calls:
                callee = self.resolve_callee(site.node.func, info)
                if callee is not None and callee is not info:
                    if site.deferred:
                        info.refs.append(callee)
                    else:
                        info.direct.append((site.node, callee))
                for arg in (*site.node.args, *(k.value for k in site.node.keywords)):
                    if isinstance(arg, (ast.Name, ast.Attribute)):
                        ref = self.resolve_callee(arg, info)
                        if ref is not None and ref is not info:
                            info.refs.append(ref)
            for r in info.ref_names:
                ref = self.resolve_callee(r, info.parent)
                if ref is not None:
                    info.refs.append(ref)

    # -- handlers -------------------------------------------------------------------
    def _framework_of(self, q: str | None) -> str | None:
        if not q:
            return None
        top = q.split(".", 1)[0]
        return FRAMEWORK_PREFIXES.get(top)

    def _add_handler(self, info: FuncInfo, framework: str, route: str | None) -> None:
        if id(info) in self._handler_by_func:
            return
        h = Handler(info, framework, route)
        self._handler_by_func[id(info)] = h
        self.handlers.append(h)

    def _find_handlers(self) -> None:
        res = self.resolver
        imports_django = any(v.startswith("django.") or v == "django" for v in res.aliases.values())
        imports_ts = any(v.startswith("ts.") for v in res.aliases.values())
        # registrations anywhere (module level or inside factories)
        all_calls: list[tuple[ast.Call, str | None]] = [(c, res.qualname(c.func)) for c in self._module_calls]
        for info in self.functions.values():
            all_calls.extend((s.node, s.qualname) for s in info.calls)
        for call, q in all_calls:
            self._registration(call, q)
        for info in list(self.functions.values()):
            self._decorated(info)
        # class-based frameworks
        for cinfo in self.classes.values():
            self._class_handlers(cinfo)
        for ref in self._startup_refs:
            f = self.resolve_callee(ref, None)
            if f is not None:
                self.startup.add(id(f.node))
        for ref, fw, route in self._registrations:
            f = self.resolve_callee(ref, None)
            if f is not None and id(f.node) not in self.startup:
                self._add_handler(f, fw, route)
            elif isinstance(ref, ast.Call) and isinstance(ref.func, ast.Attribute) and ref.func.attr == "as_view":
                base = ref.func.value
                if isinstance(base, ast.Name) and base.id in self.classes:
                    self._class_methods_as_handlers(self.classes[base.id], fw, frozenset(HTTP_VERBS | {"dispatch_request"}), route)
        # Django function views / TorchServe module handlers
        for name, info in self.module_functions.items():
            if self.is_handler(info):
                continue
            args = info.node.args.args
            if imports_django and args and args[0].arg == "request" and not name.startswith("_") and id(info.node) not in self.startup:
                self._add_handler(info, "Django", None)
            elif imports_ts and name == "handle" and len(args) == 2:
                self._add_handler(info, "TorchServe", None)
        self.handlers = [h for h in self.handlers if id(h.func.node) not in self.startup]
        self._handler_by_func = {id(h.func): h for h in self.handlers}

    def _registration(self, call: ast.Call, q: str | None) -> None:
        func = call.func
        attr = func.attr if isinstance(func, ast.Attribute) else (func.id if isinstance(func, ast.Name) else None)
        fw = self._framework_of(q)
        args = call.args
        # startup hooks
        for kw in call.keywords:
            if kw.arg == "lifespan" and fw:
                self._startup_refs.append(kw.value)
            elif kw.arg in ("on_startup",) and isinstance(kw.value, (ast.List, ast.Tuple)):
                self._startup_refs.extend(kw.value.elts)
        if attr == "add_event_handler" and len(args) >= 2 and _const_str(args[0]) in STARTUP_EVENTS:
            self._startup_refs.append(args[1])
            return
        if attr == "append" and isinstance(func, ast.Attribute) and isinstance(func.value, ast.Attribute) and func.value.attr in ("on_startup", "cleanup_ctx") and args:
            self._startup_refs.append(args[0])
            return
        if fw is None:
            return
        # FastAPI/Starlette: app.add_api_route(path, endpoint), app.add_route(path, endpoint), Route(path, endpoint)
        if attr in ("add_api_route", "add_route", "add_api_websocket_route", "add_websocket_route") and len(args) >= 2:
            self._registrations.append((args[1], fw, _route(attr, args[0], call)))
        elif attr in ("Route", "APIRoute", "WebSocketRoute"):
            ep = args[1] if len(args) >= 2 else _kw(call, "endpoint")
            if ep is not None:
                self._registrations.append((ep, fw, _route(None, args[0] if args else None, call)))
        # Flask: app.add_url_rule(rule, endpoint=None, view_func=None)
        elif attr == "add_url_rule":
            vf = _kw(call, "view_func") or (args[2] if len(args) >= 3 else None)
            if vf is not None:
                self._registrations.append((vf, fw, _route(None, args[0] if args else None, call)))
        # aiohttp: web.get(path, handler), router.add_get(path, handler), router.add_route(method, path, handler)
        elif fw == "aiohttp" and attr in HTTP_VERBS | {"view"} and len(args) >= 2 and q and "RouteTableDef" not in q:
            self._registrations.append((args[1], fw, _route(attr, args[0], call)))
        elif fw == "aiohttp" and attr and attr.startswith("add_") and attr[4:] in HTTP_VERBS and len(args) >= 2:
            self._registrations.append((args[1], fw, _route(attr[4:], args[0], call)))
        elif fw == "aiohttp" and attr == "add_route" and len(args) >= 3:
            self._registrations.append((args[2], fw, _route(_const_str(args[0]), args[1], call)))

    def _decorated(self, info: FuncInfo) -> None:
        res = self.resolver
        for d in info.node.decorator_list:
            target = d.func if isinstance(d, ast.Call) else d
            q = res.qualname(target)
            attr = target.attr if isinstance(target, ast.Attribute) else None
            fw = self._framework_of(q)
            if attr == "on_event" and isinstance(d, ast.Call) and d.args:
                if _const_str(d.args[0]) in STARTUP_EVENTS:
                    self.startup.add(id(info.node))
                return
            if attr in ("before_first_request", "on_startup", "before_serving", "before_server_start", "on_deployment"):
                self.startup.add(id(info.node))
                return
            if q in ("bentoml.on_startup", "bentoml.on_deployment"):
                self.startup.add(id(info.node))
                return
            if attr in ROUTE_DECORATORS and isinstance(d, ast.Call):
                path = d.args[0] if d.args else _kw(d, "path")
                if fw is not None and q and "()" in q:
                    self._add_handler(info, fw, _route(attr, path, d))
                    return
                # unresolved app/router object: a route only if it looks like one
                if fw is None and isinstance(_const_str(path), str) and _const_str(path).startswith("/"):
                    self._add_handler(info, "web framework", _route(attr, path, d))
                    return
            if attr in ("before_request", "middleware") and fw is not None:
                self._add_handler(info, fw, EVERY_REQUEST_HOOK)
                return
            if q in ("bentoml.api", "bentoml.task") or (fw == "BentoML" and attr == "api" and q and "()" in q):
                self._add_handler(info, "BentoML", None)
                return
            if q in ("rest_framework.decorators.api_view",) or (q or "").startswith("django.views.decorators.http."):
                self._add_handler(info, "Django", None)
                return
            if q == "ray.serve.deployment" and info.cls is None:
                self._add_handler(info, "Ray Serve", None)
                return

    def _class_handlers(self, cinfo: ClassInfo) -> None:
        res = self.resolver
        for d in cinfo.node.decorator_list:
            q = res.qualname(d.func if isinstance(d, ast.Call) else d)
            fw = DEPLOYMENT_DECORATORS.get(q or "")
            if fw is not None:
                for name, m in cinfo.methods.items():
                    if name in DEPLOYMENT_STARTUP:
                        self.startup.add(id(m.node))
                    elif fw == "BentoML":
                        continue  # BentoML: only @bentoml.api methods (found by _decorated)
                    elif name == "__call__" or not name.startswith("_"):
                        self._add_handler(m, fw, None)
                return
        for base in cinfo.node.bases:
            q = res.qualname(base) or ""
            for prefixes, fw, methods, startup in CLASS_FRAMEWORKS:
                if q.startswith(prefixes):
                    for name in startup:
                        m = cinfo.methods.get(name)
                        if m is not None:
                            self.startup.add(id(m.node))
                    self._class_methods_as_handlers(cinfo, fw, methods, None)
                    return

    def _class_methods_as_handlers(self, cinfo: ClassInfo, fw: str, methods: frozenset[str] | None, route: str | None) -> None:
        for name, m in cinfo.methods.items():
            if methods is None or name in methods:
                self._add_handler(m, fw, route)

    # -- queries ---------------------------------------------------------------------
    def memo(self, name: str, compute):
        """Derived facts shared by several rules, computed once."""
        if name not in self._memo:
            self._memo[name] = compute()
        return self._memo[name]

    def is_handler(self, info: FuncInfo) -> bool:
        return id(info) in self._handler_by_func

    def handler_of(self, info: FuncInfo) -> Handler | None:
        return self._handler_by_func.get(id(info))

    def info(self, node: ast.AST | None) -> FuncInfo | None:
        return self.functions.get(id(node)) if node is not None else None

    def reachable(self, start: FuncInfo, direct_only: bool = False) -> Iterator[FuncInfo]:
        """`start` and the functions of this module it calls (transitively),
        not entering startup hooks or cached functions. With `direct_only`,
        only direct calls (not functions passed as references or run in a
        lambda)."""
        seen = {id(start)}
        todo = [start]
        while todo:
            f = todo.pop()
            yield f
            nexts: Iterable[FuncInfo] = [c for _, c in f.direct]
            if not direct_only:
                nexts = [*nexts, *f.refs]
            for n in nexts:
                if id(n) in seen or id(n.node) in self.startup or n.cached:
                    continue
                seen.add(id(n))
                todo.append(n)

    def reach_map(self, handlers: list[Handler], direct_only: bool = False) -> dict[int, tuple[FuncInfo, Handler]]:
        """id(function node) -> (function, first handler that reaches it), for
        all `handlers` at once (one breadth-first search, linear in the graph)."""
        out: dict[int, tuple[FuncInfo, Handler]] = {}
        todo: list[tuple[FuncInfo, Handler]] = []
        for h in handlers:
            if id(h.func.node) not in out:
                out[id(h.func.node)] = (h.func, h)
                todo.append((h.func, h))
        i = 0
        while i < len(todo):
            f, h = todo[i]
            i += 1
            nexts: list[FuncInfo] = [c for _, c in f.direct]
            if not direct_only:
                nexts.extend(f.refs)
            for n in nexts:
                k = id(n.node)
                if k in out or k in self.startup or n.cached:
                    continue
                out[k] = (n, h)
                todo.append((n, h))
        return out

    def _successors(self, f: FuncInfo, direct_only: bool) -> list[FuncInfo]:
        nexts = [c for _, c in f.direct]
        if not direct_only:
            nexts.extend(f.refs)
        return [n for n in nexts if id(n.node) not in self.startup and not n.cached]

    def reach_first(self, local, direct_only: bool = False) -> dict[int, object]:
        """For every function: the first non-None `local(func)` found in it or
        in anything it reaches (same edges as `reachable`), else None.
        Linear: strongly connected components (iterative Tarjan), each
        component's answer computed once from its members and successors."""
        funcs = list(self.functions.values())
        index: dict[int, int] = {}
        low: dict[int, int] = {}
        on_stack: set[int] = set()
        stack: list[FuncInfo] = []
        comp_of: dict[int, int] = {}
        comps: list[list[FuncInfo]] = []
        succ_cache: dict[int, list[FuncInfo]] = {}
        counter = 0
        for root in funcs:
            if id(root) in index:
                continue
            work: list[tuple[FuncInfo, int]] = [(root, 0)]
            while work:
                v, i = work.pop()
                vid = id(v)
                if i == 0:
                    index[vid] = low[vid] = counter
                    counter += 1
                    stack.append(v)
                    on_stack.add(vid)
                    succ_cache[vid] = self._successors(v, direct_only)
                succ = succ_cache[vid]
                recurse = False
                while i < len(succ):
                    w = succ[i]
                    i += 1
                    wid = id(w)
                    if wid not in index:
                        work.append((v, i))
                        work.append((w, 0))
                        recurse = True
                        break
                    if wid in on_stack:
                        low[vid] = min(low[vid], index[wid])
                if recurse:
                    continue
                if low[vid] == index[vid]:
                    comp: list[FuncInfo] = []
                    while True:
                        w = stack.pop()
                        on_stack.discard(id(w))
                        comp_of[id(w)] = len(comps)
                        comp.append(w)
                        if w is v:
                            break
                    comps.append(comp)
                if work:
                    parent = work[-1][0]
                    low[id(parent)] = min(low[id(parent)], low[vid])
        # Tarjan emits components in reverse topological order: successors first.
        answer: list[object] = []
        for ci, comp in enumerate(comps):
            val = None
            for f in comp:
                val = local(f)
                if val is not None:
                    break
            if val is None:
                for f in comp:
                    for w in succ_cache[id(f)]:
                        wc = comp_of[id(w)]
                        if wc != ci and answer[wc] is not None:
                            val = answer[wc]
                            break
                    if val is not None:
                        break
            answer.append(val)
        return {id(f): answer[comp_of[id(f)]] for f in funcs}

    def per_request(self, node: ast.AST | None) -> Handler | None:
        """The handler whose requests run this function, or None."""
        if self._per_request is None:
            self._per_request = {k: h for k, (_, h) in self.reach_map(self.handlers).items()}
        return self._per_request.get(id(node)) if node is not None else None

    def is_model_object(self, expr: ast.AST, func: FuncInfo | None, depth: int = 0) -> bool:
        """`model` / `self.model` assigned from a model load in this module
        (in the enclosing functions, at module level, in the class, or
        returned by a helper of this module)."""
        if depth > 3:
            return False
        values: list[ast.AST] = []
        if isinstance(expr, ast.Name):
            f = func
            while f is not None and not values:
                values = f.local_values.get(expr.id, [])
                f = f.parent
            if not values and expr.id in self.resolver._module_values:
                values = [self.resolver.values[expr.id]]
        elif isinstance(expr, ast.Attribute) and isinstance(expr.value, ast.Name) and expr.value.id == "self" and func is not None:
            c = self._owner_class(func)
            if c is not None and expr.attr in c.attrs:
                values = [c.attrs[expr.attr]]
        return any(self._is_model_value(v, func, depth) for v in values)

    def _is_model_value(self, value: ast.AST | None, func: FuncInfo | None, depth: int) -> bool:
        while isinstance(value, ast.Call) and isinstance(value.func, ast.Attribute) and value.func.attr in ("to", "eval", "cuda", "cpu", "half") and isinstance(value.func.value, ast.Call):
            value = value.func.value  # AutoModel.from_pretrained(...).to(device)
        if not isinstance(value, ast.Call):
            return False
        q = self.resolver.qualname(value.func)
        if is_model_loader(q):
            return not any(w in (q or "") for w in NOT_MODELS)
        callee = self.resolve_callee(value.func, func)
        if callee is not None and callee is not func:
            return any(
                self._is_model_value(r, callee, depth + 1) or self.is_model_object(r, callee, depth + 1)
                for r in callee.returns
            )
        return False

    def inference_call(self, site: CallSite, func: FuncInfo | None) -> str | None:
        """A short description if this call runs a model, else None."""
        call = site.node
        f = call.func
        if isinstance(f, ast.Attribute):
            if self.resolve_callee(f, func) is not None:
                return None
            if f.attr in PREDICT_METHODS:
                return _text(f)
            if f.attr in MODEL_METHODS and self.is_model_object(f.value, func):
                return _text(f)
            q = site.qualname or ""
            if f.attr == "run" and q.startswith("onnxruntime.InferenceSession()"):
                return _text(f)
            if self.is_model_object(f, func):  # self.model(x)
                return _text(f)
        elif isinstance(f, ast.Name):
            if self.lookup_function(f.id, func) is None and self.is_model_object(f, func):
                return f.id
        return None


def _lazy_init_test(test: ast.AST) -> bool:
    """`if model is None`, `if not hasattr(self, "model")`, `if key not in cache`:
    the body runs once, not on every call."""
    if isinstance(test, ast.BoolOp):
        return any(_lazy_init_test(v) for v in test.values)
    if isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not):
        return True
    if isinstance(test, ast.Compare) and len(test.ops) == 1:
        op, right = test.ops[0], test.comparators[0]
        if isinstance(op, ast.Is) and isinstance(right, ast.Constant) and right.value is None:
            return True
        if isinstance(op, ast.NotIn):
            return True
    return False


def _text(node: ast.AST) -> str:
    d = _dotted(node)
    if d is not None:
        return d
    return ast.unparse(node)


def _const_str(node: ast.AST | None) -> str | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    return None


def _route(verb: str | None, path: ast.AST | None, call: ast.Call) -> str | None:
    p = _const_str(path)
    if verb in ("route", "api_route", None, "add_route", "add_api_route"):
        methods = _kw(call, "methods")
        if isinstance(methods, (ast.List, ast.Tuple, ast.Set)):
            ms = [_const_str(e) for e in methods.elts]
            verb = "/".join(m.upper() for m in ms if m) or None
        else:
            verb = None
    if p is None:
        return None
    return f"{verb.upper()} {p}" if verb and verb.lower() in HTTP_VERBS else (f"{verb} {p}" if verb and "/" in verb else p)


def serving_model(ctx) -> ServingModel:
    """The module's ServingModel, built once per module."""
    return ctx.semantic.fact("serving", lambda: ServingModel(ctx.tree))  # type: ignore[return-value]


SERVING_IMPORTS = (
    "fastapi", "starlette", "flask", "quart", "aiohttp", "django", "rest_framework", "bentoml",
    "ray", "ts", "kserve", "litserve", "sanic", "litestar",
)


def maybe_serving(ctx) -> ServingModel | None:
    """The serving model, or None when the module imports no web/serving
    framework (so no handler can be recognised). Relative imports alone do
    not count: library packages use them everywhere, and a Django or DRF
    view module also imports the framework itself."""
    imported = ctx.semantic.imported
    if not any(q.split(".", 1)[0] in SERVING_IMPORTS for q in imported):
        return None
    return serving_model(ctx)
