"""The per-module semantic model, built during the engine's single walk.

It knows, at each point of the walk:

* which local names are imports and what they resolve to
  (`import numpy as np` -> `np` is `numpy`; `from sklearn.model_selection
  import train_test_split as tts` -> `tts` is
  `sklearn.model_selection.train_test_split`; `import a.b as c` -> `c` is `a.b`);
* what each name was last assigned from, scope by scope
  (`rng = np.random.default_rng(0)` -> `rng` is an instance of
  `numpy.random.default_rng`; `clf = RandomForestClassifier()` likewise);
* qualified names of call targets, through module aliases, attribute chains
  and instances: `rng.integers(...)` resolves to
  `numpy.random.default_rng().integers`;
* what a star import of a known library binds (`from sklearn.preprocessing
  import *` binds `StandardScaler`; `from fastai.vision.all import *` binds
  `np`, `pd`, `torch`, ...), and what a name the module never binds is by
  convention (`np` is `numpy`, `StandardScaler` is scikit-learn's): see
  `mllint.analysis.known_names`. A binding anywhere in the module (a later
  cell's import, a parameter, `np = 3`) always wins; each assumption is
  recorded (`assumptions`, `assumed(name)`) so messages can say so.

The engine feeds it Import/ImportFrom/Assign/... nodes *before* rules see
them, and pushes/pops a scope for every function, lambda and class. Rules only
read it. Module facts (is this an entry point?) are computed lazily, once.
"""

from __future__ import annotations

import ast
import builtins
from dataclasses import dataclass, field

from mllint.analysis.inference import infer_type, infer_unpacked
from mllint.analysis.known_names import (
    ALIASES_OF,
    ASSUMABLE,
    CONVENTIONS,
    ModuleBindings,
    TextAliases,
    assume,
    bound_in_text,
    module_bindings,
    star_exports,
)
from mllint.core.astwalk import imports_in

BUILTIN_NAMES = frozenset(dir(builtins))

SCOPE_NODES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)


@dataclass
class Binding:
    """What a name is bound to in one scope."""

    name: str
    kind: str  # "import" | "assign" | "param" | "def" | "class" | "for" | "with" | "other"
    node: ast.AST | None = None  # the statement or value that bound it
    qualname: str | None = None  # import target, or the qualname of the called constructor
    value: ast.AST | None = None  # assigned expression, when simple
    line: int = 0
    # Filled by light type inference (see `infer`): "dataframe", "ndarray", ...
    type: str | None = None


@dataclass
class Scope:
    node: ast.AST | None  # None for the module
    bindings: dict[str, Binding] = field(default_factory=dict)
    # Set once (read on every name lookup, so not a property).
    is_class: bool = field(default=False, init=False)

    def __post_init__(self) -> None:
        self.is_class = isinstance(self.node, ast.ClassDef)


class SemanticModel:
    def __init__(self, tree: ast.Module | None = None, text: str | None = None):
        self.tree = tree
        # The module's source, when known: a cheap first test before looking
        # for conventional aliases (`imports_module`).
        self.text = text
        self.module_scope = Scope(None)
        self.scopes: list[Scope] = [self.module_scope]
        # Every import seen anywhere (qualified targets), for quick "uses X?" checks.
        self.imported: set[str] = set()
        # Local names ever bound to an import (in any scope): `callee_key`
        # only looks up these.
        self.import_locals: set[str] = set()
        # Function/class definitions by name at module level (for call graphs).
        self.functions: dict[str, ast.FunctionDef | ast.AsyncFunctionDef] = {}
        self.classes: dict[str, ast.ClassDef] = {}
        self._facts: dict[str, object] = {}
        # qualname() results since the last change of bindings or scopes:
        # id(node) -> (node, result). Rules ask for the same call's name
        # many times at one point of the walk.
        self._qcache: dict[int, tuple[ast.AST, str | None]] = {}
        # Names read without any binding in the module and taken by
        # convention (`known_names.assume`): name -> qualified name. Filled
        # when such a name is first looked up.
        self.assumptions: dict[str, str] = {}
        self._assumed: dict[str, Binding | None] = {}
        self._module_bindings: ModuleBindings | None = None
        self._by_convention: dict[str, bool] = {}
        self._text_aliases: TextAliases | None = None

    # ------------------------------------------------------------------
    # scopes
    # ------------------------------------------------------------------
    def push_scope(self, node: ast.AST) -> None:
        scope = Scope(node)
        args = getattr(node, "args", None)
        if isinstance(args, ast.arguments):
            for a in (*args.posonlyargs, *args.args, *args.kwonlyargs):
                scope.bindings[a.arg] = Binding(a.arg, "param", a, line=getattr(a, "lineno", 0))
            for a in (args.vararg, args.kwarg):
                if a is not None:
                    scope.bindings[a.arg] = Binding(a.arg, "param", a, line=getattr(a, "lineno", 0))
        self.scopes.append(scope)
        self._qcache.clear()

    def pop_scope(self) -> None:
        if len(self.scopes) > 1:
            self.scopes.pop()
            self._qcache.clear()

    @property
    def scope(self) -> Scope:
        return self.scopes[-1]

    @property
    def in_function(self) -> bool:
        return any(isinstance(s.node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)) for s in self.scopes[1:])

    def bind(self, name: str, binding: Binding) -> None:
        self.scopes[-1].bindings[name] = binding
        self._qcache.clear()
        if binding.kind == "import":
            self.import_locals.add(name)

    def lookup(self, name: str) -> Binding | None:
        scopes = self.scopes
        b = scopes[-1].bindings.get(name)
        if b is not None:
            return b
        for i in range(len(scopes) - 2, -1, -1):
            scope = scopes[i]
            # Class bodies are not visible from nested functions.
            if scope.is_class:
                continue
            b = scope.bindings.get(name)
            if b is not None:
                return b
        if name in ASSUMABLE:
            return self._assume(name)
        return None

    def _assume(self, name: str) -> Binding | None:
        """An import binding for a name the module never binds, by
        convention (`np` -> numpy), or None; decided once per name."""
        try:
            return self._assumed[name]
        except KeyError:
            pass
        if self.tree is None or (self.text is not None and bound_in_text(self.text, name)):
            q = None  # bound by an import or assignment, seen in the text: no walk
        else:
            q = assume(name, self.module_bindings())
        b = None
        if q is not None:
            b = Binding(name, "import", None, q)
            self.assumptions[name] = q
        self._assumed[name] = b
        return b

    def assumed(self, name: str) -> str | None:
        """What `name` is taken to be by convention (`"numpy"` for an
        unbound `np`), or None when the module binds it or it is no
        conventional name. A module-wide fact: the same at every point of
        the walk (a binding anywhere rules it out)."""
        if name not in ASSUMABLE:
            return None
        b = self.lookup(name)  # a binding in sight: no assumption, and no module walk
        if b is None or b.node is not None or b is not self._assumed.get(name):
            return None
        return b.qualname

    def module_bindings(self) -> ModuleBindings:
        """Every name the module binds and reads (one walk, on first need)."""
        if self._module_bindings is None:
            self._module_bindings = module_bindings(self.tree) if self.tree is not None else ModuleBindings(
                frozenset(), frozenset(), frozenset(), False
            )
        return self._module_bindings

    # ------------------------------------------------------------------
    # feeding (called by the engine before rules see the node)
    # ------------------------------------------------------------------
    def on_import(self, node: ast.Import) -> None:
        for alias in node.names:
            if alias.asname:
                self.bind(alias.asname, Binding(alias.asname, "import", node, alias.name, line=node.lineno))
            else:
                top = alias.name.split(".", 1)[0]
                self.bind(top, Binding(top, "import", node, top, line=node.lineno))
            self.imported.add(alias.name)

    def on_import_from(self, node: ast.ImportFrom) -> None:
        for local, target in _from_targets(node):
            self.bind(local, Binding(local, "import", node, target, line=node.lineno))
            self.imported.add(target)
        if node.names[-1].name == "*" and node.module and not node.level:
            # `from sklearn.preprocessing import *`: the names rules care about.
            exports = star_exports(node.module)
            if exports:
                for local, target in exports.items():
                    self.bind(local, Binding(local, "import", node, target, line=node.lineno))
            self.imported.update(_star_modules(node.module, exports))

    def note_imports(self, stmts: list[ast.stmt]) -> None:
        """Record in `imported` the imports among these statements and those
        nested in them, binding nothing: for a function or class body the
        engine does not walk (incremental analysis), whose imports still
        count as the module's."""
        for st in imports_in(stmts):
            if type(st) is ast.Import:
                self.imported.update(alias.name for alias in st.names)  # type: ignore[attr-defined]
            else:
                self.imported.update(target for _, target in _from_targets(st))  # type: ignore[arg-type]
                if st.names[-1].name == "*" and st.module and not st.level:  # type: ignore[attr-defined]
                    self.imported.update(_star_modules(st.module, star_exports(st.module)))  # type: ignore[attr-defined]

    def on_assign(self, node: ast.Assign | ast.AnnAssign | ast.AugAssign | ast.NamedExpr) -> None:
        value = node.value
        if isinstance(node, ast.Assign):
            targets = node.targets
        else:
            targets = [node.target]
        if isinstance(node, ast.AugAssign):
            return  # x += ... keeps what x is
        qual = self.call_qualname(value) if isinstance(value, ast.Call) else None
        for target in targets:
            if isinstance(target, ast.Name):
                b = Binding(target.id, "assign", node, qual, value, line=node.lineno)
                if qual is None and value is not None:
                    # `model = other_name` keeps other's binding facts
                    if isinstance(value, ast.Name):
                        src = self.lookup(value.id)
                        if src is not None:
                            b.qualname = src.qualname if src.kind == "assign" else None
                            b.type = src.type
                            if src.kind == "import":
                                b = Binding(target.id, "import", node, src.qualname, line=node.lineno)
                if b.type is None and b.kind == "assign" and value is not None:
                    b.type = infer_type(self, value)  # light inference (mllint.analysis.inference)
                self.bind(target.id, b)
            elif isinstance(target, (ast.Tuple, ast.List)):
                types = infer_unpacked(self, value, target.elts)  # light inference, per element
                for i, elt in enumerate(target.elts):
                    if isinstance(elt, ast.Starred):
                        elt = elt.value
                    if isinstance(elt, ast.Name):
                        self.bind(elt.id, Binding(elt.id, "assign", node, None, None, line=node.lineno, type=types[i]))

    def on_def(self, node: ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef) -> None:
        kind = "class" if isinstance(node, ast.ClassDef) else "def"
        self.bind(node.name, Binding(node.name, kind, node, None, line=node.lineno))
        if len(self.scopes) == 1:
            if kind == "class":
                self.classes[node.name] = node  # type: ignore[assignment]
            else:
                self.functions[node.name] = node  # type: ignore[assignment]

    def on_target(self, target: ast.AST, kind: str, node: ast.AST) -> None:
        """for-loop / with / except targets: bound, value unknown."""
        if isinstance(target, ast.Name):
            self.bind(target.id, Binding(target.id, kind, node, line=getattr(node, "lineno", 0)))
        elif isinstance(target, (ast.Tuple, ast.List)):
            for elt in target.elts:
                self.on_target(elt.value if isinstance(elt, ast.Starred) else elt, kind, node)

    # ------------------------------------------------------------------
    # queries
    # ------------------------------------------------------------------
    def qualname(self, node: ast.AST) -> str | None:
        """Qualified name of a Name/Attribute chain, or None if unknown.

        `np.random.seed` -> "numpy.random.seed"; `rng.integers` where
        `rng = np.random.default_rng(0)` -> "numpy.random.default_rng().integers";
        an unbound builtin `open` -> "open".
        """
        hit = self._qcache.get(id(node))
        if hit is not None and hit[0] is node:
            return hit[1]
        q = self._qualname(node)
        self._qcache[id(node)] = (node, q)
        return q

    def _qualname(self, node: ast.AST) -> str | None:
        attrs: list[str] = []
        while isinstance(node, ast.Attribute):
            attrs.append(node.attr)
            node = node.value
        if isinstance(node, ast.Name):
            b = self.lookup(node.id)
            if b is None:
                base = node.id if node.id in BUILTIN_NAMES else None
            elif b.kind == "import":
                base = b.qualname
            elif b.kind == "assign" and b.qualname:
                base = b.qualname + "()"
            else:
                base = None
        elif isinstance(node, ast.Call):
            inner = self.call_qualname(node)
            base = inner + "()" if inner else None
        else:
            base = None
        if base is None:
            return None
        if attrs:
            return base + "." + ".".join(reversed(attrs))
        return base

    def callee_key(self, func: ast.AST) -> str | None:
        """The last name of a call's target, for the engine's call filters:
        `x.fit` -> "fit"; a plain name -> the imported name behind an alias
        (`from numpy.random import rand as r`: `r` -> "rand"), else itself;
        None for anything else (`f()()`, `x[0]()`)."""
        t = type(func)
        if t is ast.Attribute:
            return func.attr  # type: ignore[attr-defined]
        if t is ast.Name:
            name = func.id  # type: ignore[attr-defined]
            if name in self.import_locals:
                b = self.lookup(name)
                if b is not None and b.kind == "import" and b.qualname:
                    return b.qualname.rpartition(".")[2]
            return name
        return None

    def call_qualname(self, call: ast.AST) -> str | None:
        if not isinstance(call, ast.Call):
            return None
        return self.qualname(call.func)

    def resolves_to(self, node: ast.AST, *names: str) -> bool:
        q = self.qualname(node)
        return q is not None and q in names

    def binding_of(self, node: ast.AST) -> Binding | None:
        if isinstance(node, ast.Name):
            return self.lookup(node.id)
        return None

    def imports_module(self, prefix: str) -> bool:
        """True if anything under `prefix` (e.g. "torch") was imported, or,
        in a module with no import at all (a cell pasted without its
        imports), if it reads a conventional alias of it that it never
        binds (`torch.log(x)`)."""
        p = prefix + "."
        if any(q == prefix or q.startswith(p) for q in self.imported):
            return True
        hit = self._by_convention.get(prefix)
        if hit is None:
            hit = self._by_convention[prefix] = self._imports_by_convention(prefix)
        return hit

    def _imports_by_convention(self, prefix: str) -> bool:
        # Only without any import: in other modules, looking at the text
        # for every library a rule asks about would cost every module.
        text = self.text
        if text is None or "import" in text or self.tree is None:
            return False
        p = prefix + "."
        aliases = [a for a in ALIASES_OF.get(prefix.split(".", 1)[0], ()) if CONVENTIONS[a] == prefix or CONVENTIONS[a].startswith(p)]
        if self._text_aliases is None:
            self._text_aliases = TextAliases(text)
        aliases = [a for a in aliases if self._text_aliases.uses(a)]  # cheap first: no walk
        if not aliases:
            return False
        loaded = self.module_bindings().loaded
        return any(a in loaded and self.assumed(a) is not None for a in aliases)

    # ------------------------------------------------------------------
    # module facts (lazy, computed once)
    # ------------------------------------------------------------------
    def fact(self, name: str, compute) -> object:
        if name not in self._facts:
            self._facts[name] = compute()
        return self._facts[name]


def _star_modules(module: str, exports: dict[str, str] | None) -> set[str]:
    """What a star import of `module` counts as importing: the module, and
    the modules of what it re-exports (fastai's `all`: numpy, torch, ...)."""
    out = {module}
    if exports:
        out.update(q.rpartition(".")[0] or q for q in exports.values())
    return out


def _from_targets(node: ast.ImportFrom) -> list[tuple[str, str]]:
    """(local name, qualified target) of each name a `from ... import` binds."""
    module = ("." * (node.level or 0)) + (node.module or "")
    out = []
    for alias in node.names:
        if alias.name == "*":
            continue
        target = f"{module}.{alias.name}" if module and not module.endswith(".") else f"{module}{alias.name}"
        out.append((alias.asname or alias.name, target))
    return out


def dotted_name(node: ast.AST | None) -> str | None:
    """The syntactic dotted name of a Name/Attribute chain: `self.model.encoder`
    -> "self.model.encoder"; None for anything else. (No import resolution:
    see `SemanticModel.qualname` for that.)"""
    parts: list[str] = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        parts.append(node.id)
        return ".".join(reversed(parts))
    return None


def call_name(call: ast.Call) -> str | None:
    """The syntactic name of a call's target: `a.b.c(...)` -> "a.b.c"."""
    return dotted_name(call.func)


def keyword(call: ast.Call, name: str) -> ast.keyword | None:
    for kw in call.keywords:
        if kw.arg == name:
            return kw
    return None


def kwarg_value(call: ast.Call, name: str) -> ast.AST | None:
    kw = keyword(call, name)
    return kw.value if kw is not None else None


def has_star_kwargs(call: ast.Call) -> bool:
    return any(kw.arg is None for kw in call.keywords)


def is_none(node: ast.AST | None) -> bool:
    return isinstance(node, ast.Constant) and node.value is None


def is_true(node: ast.AST | None) -> bool:
    return isinstance(node, ast.Constant) and node.value is True


def is_false(node: ast.AST | None) -> bool:
    return isinstance(node, ast.Constant) and node.value is False
