"""ML6xx: security and supply chain."""

from __future__ import annotations

import ast
import re

from mllint.analysis.semantic import has_star_kwargs, is_false, is_true, keyword
from mllint.analysis.semantic import kwarg_value as _kw  # shared helpers
from mllint.analysis.serving_model import FuncInfo, ServingModel, serving_model
from mllint.core.severity import Severity
from mllint.rules.base import Rule, register
from mllint.rules.fixbuilders import add_keyword, replace_node

FUNC_TYPES = (ast.FunctionDef, ast.AsyncFunctionDef)

# --- ML601 -------------------------------------------------------------------

PICKLE_LOADERS = {
    "pickle.load": "pickle.load",
    "pickle.loads": "pickle.loads",
    "pickle.Unpickler": "pickle.Unpickler",
    "_pickle.load": "pickle.load",
    "_pickle.loads": "pickle.loads",
    "cPickle.load": "cPickle.load",
    "cPickle.loads": "cPickle.loads",
    "dill.load": "dill.load",
    "dill.loads": "dill.loads",
    "cloudpickle.load": "cloudpickle.load",
    "cloudpickle.loads": "cloudpickle.loads",
    "joblib.load": "joblib.load",
    "pandas.read_pickle": "pandas.read_pickle",
    "shelve.open": "shelve.open",
    "jsonpickle.decode": "jsonpickle.decode",
    "jsonpickle.loads": "jsonpickle.loads",
    "sklearn.externals.joblib.load": "joblib.load",
}
KERAS_LOADERS = frozenset(
    {"keras.models.load_model", "keras.saving.load_model", "tensorflow.keras.models.load_model", "tf_keras.models.load_model"}
)
# Last names of everything ML601 matches (`numpy.load`, `pickle.Unpickler().load`: "load").
DESERIALIZER_NAMES = frozenset(q.rpartition(".")[2] for q in (*PICKLE_LOADERS, *KERAS_LOADERS)) | {"load"}
# Writers of the files those loaders read: (argument position, keyword) of the
# file or path. A load of a path the same module wrote before is its own
# artifact, not untrusted input.
PICKLE_WRITERS = {
    "pickle.dump": (1, "file"),
    "_pickle.dump": (1, "file"),
    "cPickle.dump": (1, "file"),
    "dill.dump": (1, "file"),
    "cloudpickle.dump": (1, "file"),
    "joblib.dump": (1, "filename"),
    "sklearn.externals.joblib.dump": (1, "filename"),
    "numpy.save": (0, "file"),
}
# Method writers: `df.to_pickle(path)`, `model.save(path)` (Keras).
_METHOD_WRITERS = {"to_pickle": (0, "path"), "save": (0, "filepath")}
# Calls that fetch a file from elsewhere to a path: a load of it stays untrusted.
_DOWNLOADERS = {"urllib.request.urlretrieve": (1, "filename"), "wget.download": (1, "out")}
_OPENERS = frozenset({"open", "io.open", "gzip.open", "bz2.open", "lzma.open", "codecs.open"})
_PATH_JOINS = frozenset({"os.path.join", "posixpath.join", "pathlib.Path", "pathlib.PurePath", "pathlib.PosixPath"})
ML601_CALL_NAMES = (
    DESERIALIZER_NAMES
    | frozenset(q.rpartition(".")[2] for q in (*PICKLE_WRITERS, *_DOWNLOADERS))
    | frozenset(_METHOD_WRITERS)
)
# Per-request sources of bytes (attribute names on a request object).
REQUEST_ATTRS = frozenset({"files", "data", "body", "get_data", "stream", "form", "json", "get_json", "FILES", "POST", "content", "read", "file"})
NOT_REQUEST_PARAMS = frozenset({"self", "cls", "background_tasks", "context", "ctx"})


def _names_in(node: ast.AST) -> set[str]:
    return {n.id for n in ast.walk(node) if isinstance(n, ast.Name)}


def _request_tainted(sm: ServingModel, info: FuncInfo, sem) -> set[str]:
    """Names in a handler whose value comes from the request: its parameters
    (not `self`, not `Depends(...)`-injected) and names assigned from them."""
    args = info.node.args
    params = [*args.posonlyargs, *args.args, *args.kwonlyargs]
    defaults = [None] * (len(args.posonlyargs) + len(args.args) - len(args.defaults)) + list(args.defaults)
    defaults += list(args.kw_defaults)
    tainted: set[str] = set()
    for a, d in zip(params, defaults):
        if a.arg in NOT_REQUEST_PARAMS:
            continue
        if isinstance(d, ast.Call):
            q = sm.resolver.qualname(d.func) or ""
            if q.endswith(("Depends", "Security")):
                continue
        tainted.add(a.arg)
    for r in ("request",):
        if (sm.resolver.qualname(ast.Name(r)) or "") in ("flask.request", "quart.request"):
            tainted.add(r)
    assigns = sorted(
        (n for n in ast.walk(info.node) if isinstance(n, (ast.Assign, ast.AnnAssign, ast.NamedExpr)) and n.value is not None),
        key=lambda n: (n.lineno, n.col_offset),
    )
    withs = [n for n in ast.walk(info.node) if isinstance(n, (ast.With, ast.AsyncWith))]
    for _ in range(2):
        for n in assigns:
            if _names_in(n.value) & tainted:  # type: ignore[arg-type]
                targets = n.targets if isinstance(n, ast.Assign) else [n.target]
                for t in targets:
                    tainted |= _names_in(t)
        for w in withs:
            for item in w.items:
                if item.optional_vars is not None and _names_in(item.context_expr) & tainted:
                    tainted |= _names_in(item.optional_vars)
    return tainted


@register
class UnsafeDeserialization(Rule):
    codes = ("ML601",)
    nodes = (ast.Call,)
    # The loaders, and the writers and downloaders of the paths they read.
    call_names = ML601_CALL_NAMES

    def __init__(self, ctx):
        super().__init__(ctx)
        self._taint: dict[int, set[str]] = {}
        self.written: list[tuple[str, ...]] = []  # path keys this module wrote (dumps, saves), in order
        self.downloaded: list[tuple[str, ...]] = []  # path keys it downloaded to

    def visit(self, node: ast.Call) -> None:  # type: ignore[override]
        sem = self.ctx.semantic
        q = sem.call_qualname(node)
        if self._writer(node, q):
            return
        if q is None:
            return
        what: str | None = PICKLE_LOADERS.get(q)
        extra = ""
        if what is None and q.endswith(".load") and q[: -len(".load")] in ("pickle.Unpickler()", "_pickle.Unpickler()", "dill.Unpickler()"):
            what = q.replace("()", "")
        if what == "pickle.Unpickler":
            return  # reported at `.load()`
        if what is None and q == "numpy.load":
            if not is_true(_kw(node, "allow_pickle")):
                return
            what, extra = "numpy.load", " with `allow_pickle=True`"
        if what is None and q in KERAS_LOADERS:
            if not is_false(_kw(node, "safe_mode")):
                return
            what, extra = q, " with `safe_mode=False`"
        if what is None:
            return
        source = self._request_source(node)
        if source is not None:
            handler, name = source
            self.ctx.report(
                "ML601",
                node,
                f"`{what}(...)`{extra} deserialises `{name}`, which comes from the request to {handler}: "
                "anyone who can call this endpoint can run code on the server. Never unpickle client data; "
                "accept a data format (JSON, safetensors, ONNX) instead.",
                severity=Severity.CRITICAL,
            )
            return
        if self._self_written(node, q, what):
            return  # the module's own artifact, written above
        self.report(
            "ML601",
            node,
            f"`{what}(...)`{extra} can execute arbitrary code stored in the "
            + ("data" if what.endswith(("loads", "decode")) else "file")
            + ": whoever can replace it (a shared bucket, a downloaded checkpoint, a cache) owns the process. "
            "Load only artifacts you produced and verify their hash, or use a safe format (skops, ONNX, safetensors).",
        )

    def _writer(self, node: ast.Call, q: str | None) -> bool:
        """Record the path a dump / save / download writes; True if it is one."""
        spec = PICKLE_WRITERS.get(q or "")
        into = self.written
        if spec is None and q in _DOWNLOADERS:
            spec, into = _DOWNLOADERS[q], self.downloaded
        if spec is None and isinstance(node.func, ast.Attribute) and node.func.attr in _METHOD_WRITERS:
            if q is None or "()" in q:  # a method of an object, not `pickle.save`-like module function
                spec = _METHOD_WRITERS[node.func.attr]
        if spec is None:
            return False
        pos, name = spec
        arg = node.args[pos] if len(node.args) > pos else _kw(node, name)
        if arg is not None:
            key = _path_key(self.ctx.semantic, _file_path(self.ctx.semantic, arg), 0)
            if key:
                into.append(key)
        return True

    def _self_written(self, node: ast.Call, q: str, what: str) -> bool:
        """Does this load read a path this module wrote earlier (and did not
        download)? `pickle.load(f)` with `f = open(path, "rb")`,
        `joblib.load(path)`, `pickle.Unpickler(f).load()`, ..."""
        if not self.written or what == "shelve.open" or what.endswith(("loads", "decode")):
            return False
        sem = self.ctx.semantic
        if what.endswith("Unpickler"):
            inner = node.func.value if isinstance(node.func, ast.Attribute) else None  # Unpickler(f).load()
            arg = inner.args[0] if isinstance(inner, ast.Call) and inner.args else None
        else:
            arg = node.args[0] if node.args else (node.keywords[0].value if node.keywords and node.keywords[0].arg else None)
        if arg is None:
            return False
        key = _path_key(sem, _file_path(sem, arg), 0)
        if not key:
            return False
        if any(_same_file(key, k) for k in self.downloaded):
            return False
        return any(_same_file(key, k) for k in self.written)

    def _request_source(self, node: ast.Call) -> tuple[str, str] | None:
        func_node = self.ctx.enclosing(*FUNC_TYPES)
        if func_node is None:
            return None
        sm = serving_model(self.ctx)
        info = sm.info(func_node)
        if info is None:
            return None
        h = sm.handler_of(info)
        if h is None:
            return None
        tainted = self._taint.get(id(info))
        if tainted is None:
            tainted = self._taint[id(info)] = _request_tainted(sm, info, self.ctx.semantic)
        for arg in (*node.args, *(k.value for k in node.keywords)):
            for sub in ast.walk(arg):
                if isinstance(sub, ast.Attribute) and sub.attr in REQUEST_ATTRS and isinstance(sub.value, ast.Name) and sub.value.id in ("request", "req"):
                    return h.label, ast.unparse(arg)
            hit = _names_in(arg) & tainted
            if hit:
                return h.label, min(hit)
        return None


def _file_path(sem, node: ast.AST, depth: int = 0) -> ast.AST:
    """The path behind a file argument: `open(path, "rb")`, `path.open("rb")`
    (pathlib), a name bound to one (`with open(path) as f`, `f =
    open(path)`); else the argument itself (a path given directly)."""
    if depth > 3:
        return node
    if isinstance(node, ast.Name):
        b = sem.lookup(node.id)
        if b is not None and b.kind == "with" and isinstance(b.node, (ast.With, ast.AsyncWith)):
            for item in b.node.items:
                v = item.optional_vars
                if isinstance(v, ast.Name) and v.id == node.id:
                    return _file_path(sem, item.context_expr, depth + 1)
        if b is not None and b.kind == "assign" and isinstance(b.value, ast.Call):
            inner = _file_path(sem, b.value, depth + 1)
            return inner if inner is not b.value else node
        return node
    if isinstance(node, ast.Call):
        q = sem.call_qualname(node) or ""
        if q in _OPENERS:
            return node.args[0] if node.args else (_kw(node, "file") or node)
        func = node.func
        if isinstance(func, ast.Attribute) and func.attr == "open" and not q.startswith(("gzip.", "bz2.", "lzma.")):
            first = node.args[0] if node.args else None
            if first is None or _is_mode(first):
                return func.value  # Path(p).open("rb"): the receiver is the path
            return first  # fs.open(path, "rb")
    return node


def _is_mode(node: ast.AST) -> bool:
    return (
        isinstance(node, ast.Constant)
        and isinstance(node.value, str)
        and 0 < len(node.value) <= 3
        and set(node.value) <= set("rwxabt+")
    )


def _path_key(sem, node: ast.AST, depth: int) -> tuple[str, ...]:
    """A path as components: literals split at `/`, anything unknown as
    `<its source>` (the same expression written twice still matches)."""
    if depth > 4:
        return (f"<{ast.unparse(node)}>",)
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return tuple(p for p in node.value.replace("\\", "/").split("/") if p not in ("", "."))
    if isinstance(node, ast.Name):
        b = sem.lookup(node.id)
        if b is not None and b.kind == "assign" and b.value is not None and b.value is not node:
            return _path_key(sem, b.value, depth + 1)
    elif isinstance(node, ast.Call):
        q = sem.call_qualname(node) or ""
        if q in _PATH_JOINS and node.args and not node.keywords:
            parts: tuple[str, ...] = ()
            for a in node.args:
                parts += _path_key(sem, a, depth + 1)
            return parts
    elif isinstance(node, ast.BinOp) and isinstance(node.op, ast.Div):  # Path(...) / "name"
        return _path_key(sem, node.left, depth + 1) + _path_key(sem, node.right, depth + 1)
    return (f"<{ast.unparse(node)}>",)


def _literal_tail(key: tuple[str, ...]) -> tuple[str, ...]:
    i = len(key)
    while i > 0 and not key[i - 1].startswith("<"):
        i -= 1
    return key[i:]


def _same_file(load: tuple[str, ...], written: tuple[str, ...]) -> bool:
    """The same path, or the same file name under the same trailing
    directories (`pkl_objects/clf.pkl` after writing
    `app/pkl_objects/clf.pkl` and changing directory, or joined to a base
    directory held in a variable)."""
    if load == written:
        return True
    tail = _literal_tail(load)
    if not tail:
        return False
    return _literal_tail(written)[-len(tail):] == tail


# --- ML602 -------------------------------------------------------------------


@register
class TorchLoadUnsafe(Rule):
    codes = ("ML602",)
    nodes = (ast.Call,)
    call_names = frozenset({"load"})  # torch.load, torch.serialization.load

    def visit(self, node: ast.Call) -> None:  # type: ignore[override]
        if self.ctx.semantic.call_qualname(node) not in ("torch.load", "torch.serialization.load"):
            return
        kw = keyword(node, "weights_only")
        if kw is None and has_star_kwargs(node):
            return
        if kw is not None and not is_false(kw.value):
            return
        fix = add_keyword(self.ctx, node, "weights_only", "True", "Set weights_only=True", "unsafe")
        state = "with `weights_only=False`" if kw is not None else "without `weights_only=True`"
        self.report(
            "ML602",
            node,
            f"`torch.load(...)` {state} unpickles arbitrary objects: a tampered checkpoint runs code when it is "
            "loaded. Pass `weights_only=True` (load a state_dict) or store weights as safetensors.",
            fix,
        )


# --- ML603 -------------------------------------------------------------------


@register
class TrustRemoteCode(Rule):
    codes = ("ML603",)
    nodes = (ast.Call, ast.Dict)
    # Calls: only `trust_remote_code=` matters (a `**{...}` dict is an ast.Dict).
    call_names = frozenset[str]()
    call_keywords = frozenset({"trust_remote_code"})

    def visit(self, node: ast.AST) -> None:
        if isinstance(node, ast.Call):
            kw = keyword(node, "trust_remote_code")
            if kw is None or not is_true(kw.value):
                return
            target = ast.unparse(node.func)
            self.report(
                "ML603",
                kw,
                f"`trust_remote_code=True` in `{target}(...)` downloads and runs Python code from the model "
                "repository with your privileges, and the code can change upstream. Use a model supported natively, "
                "or pin `revision=` to a reviewed commit and vendor the code.",
            )
        else:
            for k, v in zip(node.keys, node.values):  # type: ignore[attr-defined]
                if isinstance(k, ast.Constant) and k.value == "trust_remote_code" and is_true(v):
                    self.report(
                        "ML603",
                        k,
                        "`\"trust_remote_code\": True` passes through to `from_pretrained` and runs Python code from "
                        "the model repository; use a natively supported model or pin and vendor the reviewed code.",
                    )


# --- ML604 -------------------------------------------------------------------

SAFE_LOADERS = frozenset({"SafeLoader", "CSafeLoader", "BaseLoader", "CBaseLoader"})
YAML_ALWAYS_UNSAFE = {
    "yaml.unsafe_load": "safe_load",
    "yaml.full_load": "safe_load",
    "yaml.unsafe_load_all": "safe_load_all",
    "yaml.full_load_all": "safe_load_all",
}
YAML_LOADER_CALLS = {"yaml.load": "safe_load", "yaml.load_all": "safe_load_all"}
YAML_CALL_NAMES = frozenset(q.rpartition(".")[2] for q in (*YAML_ALWAYS_UNSAFE, *YAML_LOADER_CALLS))


@register
class UnsafeYamlLoad(Rule):
    codes = ("ML604",)
    scope = "statement"
    nodes = (ast.Call,)
    call_names = YAML_CALL_NAMES

    def visit(self, node: ast.Call) -> None:  # type: ignore[override]
        q = self.ctx.semantic.call_qualname(node)
        if q is None:
            return
        if q in YAML_ALWAYS_UNSAFE:
            self._report(node, q, YAML_ALWAYS_UNSAFE[q], "")
            return
        if q not in YAML_LOADER_CALLS or has_star_kwargs(node):
            return
        loader = _kw(node, "Loader") or (node.args[1] if len(node.args) >= 2 else None)
        if loader is not None:
            lq = self.ctx.semantic.qualname(loader) or ""
            if not lq.startswith("yaml."):
                return  # a custom loader: unknown stays unknown
            if lq.rsplit(".", 1)[-1] in SAFE_LOADERS:
                return
            self._report(node, q, YAML_LOADER_CALLS[q], f" with `Loader={ast.unparse(loader)}`")
        else:
            self._report(node, q, YAML_LOADER_CALLS[q], " without a safe `Loader`")

    def _report(self, node: ast.Call, q: str, safe: str, how: str) -> None:
        fix = None
        f = node.func
        stream = node.args[0] if node.args else _kw(node, "stream")
        others = [k for k in node.keywords if k.arg not in ("Loader", "stream")]
        if isinstance(f, ast.Attribute) and isinstance(f.value, ast.Name) and stream is not None and not others and len(node.args) <= 2:
            fix = replace_node(self.ctx, node, f"{f.value.id}.{safe}({self.ctx.segment(stream)})", f"Use yaml.{safe}")
        self.report(
            "ML604",
            node,
            f"`{q}(...)`{how} can construct arbitrary Python objects from the document: a config or model card "
            f"from an untrusted source runs code. Use `yaml.{safe}(...)`.",
            fix,
        )


# --- ML605 -------------------------------------------------------------------

HF_TOKEN = re.compile(r"hf_[A-Za-z0-9]{30,}")
SK_TOKEN = re.compile(r"sk-(?:[a-z]+-)*[A-Za-z0-9_\-]{20,}")
HEX40 = re.compile(r"[0-9a-f]{40}")
URI_CREDENTIALS = re.compile(r"^[a-z][a-z0-9+.\-]*://[^/\s:@]+:([^/\s@]+)@", re.IGNORECASE)
PLACEHOLDER_MARKS = ("<", ">", "your", "xxxx", "...", "***", "example", "dummy", "placeholder", "changeme", "change_me", "replace", "{", "}", "$", "redacted", "fake", "test", "token_here", "key_here")
SECRET_ENV = re.compile(r"(KEY|TOKEN|SECRET|PASSWORD|PASSWD|CREDENTIALS?)$", re.IGNORECASE)
ML_SERVICE_PREFIXES = (
    "wandb.",
    "huggingface_hub.",
    "transformers.",
    "datasets.",
    "diffusers.",
    "sentence_transformers.",
    "peft.",
    "openai.",
    "anthropic.",
    "cohere.",
    "replicate.",
    "mlflow.",
    "comet_ml.",
    "neptune.",
    "clearml.",
    "langchain",
    "kaggle.",
    "google.generativeai.",
    "mistralai.",
    "groq.",
    "together.",
)
CREDENTIAL_KWARGS = frozenset({"token", "api_key", "use_auth_token", "hf_token", "access_token", "auth_token", "api_token", "password"})
TRACKING_URI_CALLS = frozenset({"mlflow.set_tracking_uri", "mlflow.set_registry_uri", "mlflow.MlflowClient", "mlflow.tracking.MlflowClient"})
# Calls ML605 looks at: `wandb.login`, the tracking-URI calls, and any call
# passing a credential keyword (service calls are matched by prefix).
CREDENTIAL_CALL_NAMES = frozenset(q.rpartition(".")[2] for q in ("wandb.login", *TRACKING_URI_CALLS))


def is_placeholder(value: str) -> bool:
    v = value.lower()
    if len(value) < 8 or any(m in v for m in PLACEHOLDER_MARKS):
        return True
    body = value.split("_", 1)[-1] if value.startswith("hf_") else value
    return len(set(body)) < 6


def _random_looking(body: str) -> bool:
    """Generated tokens mix upper and lower case letters and digits; names
    like `sk-learn-pipeline-configuration` do not."""
    return (
        any(c.isupper() for c in body)
        and any(c.islower() for c in body)
        and sum(c.isdigit() for c in body) >= 2
    )


def token_kind(value: str) -> str | None:
    if HF_TOKEN.fullmatch(value) and not is_placeholder(value) and _random_looking(value[3:]):
        return "a Hugging Face token"
    if SK_TOKEN.fullmatch(value) and not is_placeholder(value) and _random_looking(value.rsplit("-", 1)[-1] if len(value.rsplit("-", 1)[-1]) >= 20 else value[3:]):
        return "an Anthropic API key" if value.startswith("sk-ant-") else "an OpenAI-style API key"
    return None


@register
class HardCodedCredential(Rule):
    codes = ("ML605",)
    scope = "statement"
    nodes = (ast.Constant, ast.Call, ast.Assign)
    call_names = CREDENTIAL_CALL_NAMES
    call_keywords = CREDENTIAL_KWARGS

    def __init__(self, ctx):
        super().__init__(ctx)
        self._reported: set[int] = set()

    def _flag(self, node: ast.AST, message: str) -> None:
        if id(node) in self._reported:
            return
        self._reported.add(id(node))
        self.report("ML605", node, message)

    def visit(self, node: ast.AST) -> None:
        if isinstance(node, ast.Constant):
            v = node.value
            if isinstance(v, str) and v[:3] in ("hf_", "sk-") and len(v) < 300:
                kind = token_kind(v.strip())
                if kind:
                    self._flag(
                        node,
                        f"This string is {kind}: anyone who reads the repository (or the notebook) can use it. "
                        "Revoke it, and read it from the environment (`os.environ[...]`) or a secret store.",
                    )
        elif isinstance(node, ast.Call):
            self._call(node)
        elif isinstance(node, ast.Assign):
            self._env_assign(node)

    def _call(self, node: ast.Call) -> None:
        q = self.ctx.semantic.call_qualname(node) or ""
        if q == "wandb.login":
            key = _kw(node, "key")  # the first positional parameter is `anonymous`
            if isinstance(key, ast.Constant) and isinstance(key.value, str) and not is_placeholder(key.value):
                self._flag(key, "`wandb.login(key=...)` with a literal W&B API key: anyone with the code can log to your "
                           "projects. Revoke it and let wandb read `WANDB_API_KEY` from the environment.")
            return
        if q in TRACKING_URI_CALLS:
            for arg in (*node.args, *(k.value for k in node.keywords)):
                if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                    m = URI_CREDENTIALS.match(arg.value)
                    if m and not is_placeholder(m.group(1)):
                        self._flag(arg, f"The tracking URI passed to `{q}` embeds a password: move the credentials to "
                                   "`MLFLOW_TRACKING_USERNAME`/`MLFLOW_TRACKING_PASSWORD` in the environment.")
            return
        is_service = q.startswith(ML_SERVICE_PREFIXES) or q.endswith((".from_pretrained", ".push_to_hub"))
        if not is_service:
            return
        for k in node.keywords:
            if k.arg in CREDENTIAL_KWARGS and isinstance(k.value, ast.Constant) and isinstance(k.value.value, str):
                # local servers take dummy keys ("not-needed", "EMPTY"): only random-looking values count
                if not is_placeholder(k.value.value) and _random_looking(k.value.value):
                    self._flag(k.value, f"`{k.arg}=` in `{ast.unparse(node.func)}(...)` is a literal credential: anyone "
                               "with the code can use it. Revoke it and read it from the environment or a secret store.")

    def _env_assign(self, node: ast.Assign) -> None:
        v = node.value
        if not (isinstance(v, ast.Constant) and isinstance(v.value, str)):
            return
        for t in node.targets:
            if not isinstance(t, ast.Subscript):
                continue
            if self.ctx.semantic.qualname(t.value) != "os.environ":
                continue
            key = t.slice
            if not (isinstance(key, ast.Constant) and isinstance(key.value, str)):
                continue
            name = key.value
            if SECRET_ENV.search(name) or name in ("MLFLOW_TRACKING_URI",):
                secret = v.value
                if name == "MLFLOW_TRACKING_URI":
                    m = URI_CREDENTIALS.match(secret)
                    if not m or is_placeholder(m.group(1)):
                        continue
                elif is_placeholder(secret):
                    continue
                self._flag(v, f"`os.environ[{name!r}]` is set to a literal secret: it is now in the code (and in the "
                           "notebook's history). Revoke it and set the variable outside the program.")


# --- ML606 -------------------------------------------------------------------


@register
class SafetensorsDisabled(Rule):
    codes = ("ML606",)
    scope = "statement"
    nodes = (ast.Call,)
    call_names = frozenset[str]()  # only calls passing one of the two keywords
    call_keywords = frozenset({"use_safetensors", "safe_serialization"})

    def visit(self, node: ast.Call) -> None:  # type: ignore[override]
        for name in ("use_safetensors", "safe_serialization"):
            kw = keyword(node, name)
            if kw is not None and is_false(kw.value):
                what = "loads the pickle-based `.bin` weights" if name == "use_safetensors" else "writes pickle-based `.bin` weights"
                self.report(
                    "ML606",
                    kw,
                    f"`{name}=False` in `{ast.unparse(node.func)}(...)` {what} instead of safetensors, so loading them "
                    "can run code. Drop the argument (safetensors is the default) or set it to True.",
                )
