"""Name resolution for real notebooks and snippets (`mllint.analysis.known_names`):
star imports of known libraries bind their public names, names read without
any binding resolve by convention, and a binding anywhere always wins."""

from __future__ import annotations

import ast

from helpers import lint, lint_notebook_text, notebook_from_cells, qualname_probes

from mllint.analysis import known_names
from mllint.analysis.dataflow import import_map
from mllint.analysis.semantic import SemanticModel
from mllint.core.catalog import default_catalog
from mllint.core.config import Config
from mllint.core.sources import Source
from mllint.engine.incremental import StatementCache
from mllint.engine.lint import Context, lint_source, parse_module, run_rules


_probe = qualname_probes


def _one(text: str) -> str | None:
    (q,) = _probe(text)
    return q


def _messages(text: str, code: str) -> list[str]:
    return [f.message for f in lint(text) if f.code == code]


# --- star imports --------------------------------------------------------------


def test_star_imports_of_known_libraries_bind_their_names() -> None:
    assert _one("from sklearn.preprocessing import *\n__probe__ = StandardScaler") == "sklearn.preprocessing.StandardScaler"
    assert _one("from sklearn.model_selection import *\n__probe__ = train_test_split") == (
        "sklearn.model_selection.train_test_split"
    )
    # numpy's star import binds its `random` submodule (a real binding:
    # it replaces an earlier `import random`, as in Python).
    assert _one("import random\nfrom numpy import *\n__probe__ = random.seed") == "numpy.random.seed"
    assert _one("from numpy import *\n__probe__ = nan") == "numpy.nan"
    assert _one("from torch.nn import *\n__probe__ = CrossEntropyLoss") == "torch.nn.CrossEntropyLoss"
    assert _one("from tensorflow.keras.models import *\n__probe__ = Sequential") == "tensorflow.keras.models.Sequential"
    assert _one("from sklearn import *\n__probe__ = model_selection.KFold") == "sklearn.model_selection.KFold"


def test_star_import_binds_where_it_stands_and_later_bindings_replace_it() -> None:
    text = "__probe__ = sort\nfrom numpy import *\n__probe__ = sort\ndef sort(x): return x\n__probe__ = sort"
    # Before the import `sort` is bound later in the module: never assumed.
    assert _probe(text) == [None, "numpy.sort", None]


def test_fastai_all_reexports_numpy_pandas_and_torch() -> None:
    text = "from fastai.vision.all import *\n__probe__ = np.sort\n__probe__ = pd.read_csv\n__probe__ = F.softmax\n__probe__ = DataLoader"
    assert _probe(text) == ["numpy.sort", "pandas.read_csv", "torch.nn.functional.softmax", "fastai.data.load.DataLoader"]
    assert known_names.star_exports("fastai.tabular.all")["torch"] == "torch"
    assert known_names.star_exports("fastai.metrics") is None  # defines `__all__`: its own names only


def test_unknown_or_relative_star_imports_bind_nothing() -> None:
    assert _one("from mylib import *\n__probe__ = helper") is None
    assert _one("from .models import *\n__probe__ = build") is None


def test_star_import_counts_as_importing_the_library() -> None:
    sem = SemanticModel()
    sem.on_import_from(ast.parse("from fastai.vision.all import *").body[0])  # type: ignore[arg-type]
    assert sem.imports_module("torch") and sem.imports_module("numpy") and sem.imports_module("fastai")


# --- conventions -----------------------------------------------------------------


def test_conventional_aliases_resolve_without_an_import() -> None:
    assert _one("__probe__ = np.random.seed") == "numpy.random.seed"
    assert _one("__probe__ = pd.read_csv") == "pandas.read_csv"
    assert _one("__probe__ = tf.random.set_seed") == "tensorflow.random.set_seed"
    assert _one("__probe__ = torch.log") == "torch.log"
    assert _one("__probe__ = nn.CrossEntropyLoss") == "torch.nn.CrossEntropyLoss"
    assert _one("__probe__ = plt.show") == "matplotlib.pyplot.show"
    assert _one("__probe__ = xgb.XGBClassifier") == "xgboost.XGBClassifier"
    assert _one("__probe__ = lgb.LGBMClassifier") == "lightgbm.LGBMClassifier"


def test_distinctive_library_names_resolve_without_an_import() -> None:
    assert _one("__probe__ = StandardScaler") == "sklearn.preprocessing.StandardScaler"
    assert _one("__probe__ = train_test_split") == "sklearn.model_selection.train_test_split"
    assert _one("__probe__ = KMeans") == "sklearn.cluster.KMeans"
    assert _one("__probe__ = DataLoader") == "torch.utils.data.DataLoader"
    # Generic names are never assumed: `shuffle` may be random's, `Pipeline` imblearn's.
    assert _one("__probe__ = shuffle") is None
    assert _one("__probe__ = Pipeline") is None
    # A star import of an unknown module may bind look-alikes (fastai's DataLoader).
    assert _one("from helpers import *\n__probe__ = DataLoader") is None
    assert _one("from helpers import *\n__probe__ = StandardScaler") == "sklearn.preprocessing.StandardScaler"


def test_F_and_optim_are_torch_only_in_torch_code() -> None:
    assert _one("__probe__ = F.softmax") is None  # pyspark's `functions as F` too
    assert _one("x = torch.ones(3)\n__probe__ = F.softmax") == "torch.nn.functional.softmax"
    assert _one("layer = nn.Linear(3, 1)\n__probe__ = F.relu") == "torch.nn.functional.relu"
    assert _one("import torch\n__probe__ = optim.Adam") == "torch.optim.Adam"
    assert _one("import flax.linen as nn\n__probe__ = F.relu") is None
    # `nn` in JAX/MXNet code is not torch's.
    assert _one("y = jnp.ones(3)\n__probe__ = nn.Dense") is None
    assert _one("from pyspark.sql import functions as F\nimport torch\n__probe__ = F.col") == "pyspark.sql.functions.col"


# --- a binding always wins -------------------------------------------------------


def test_a_binding_anywhere_in_the_module_wins() -> None:
    # assigned (before or after the read)
    assert _one("np = 3\n__probe__ = np.sort") is None
    assert _one("__probe__ = np.sort\nnp = 3") is None
    # another library under the conventional name
    assert _one("import jax.numpy as np\n__probe__ = np.sort") == "jax.numpy.sort"
    assert _one("__probe__ = np.sort\nimport jax.numpy as np") is None
    # a copy of another import
    assert _probe("import numpy as np2\n__probe__ = np.sort\nnp = np2\n__probe__ = np.sort") == [None, "numpy.sort"]
    # a parameter, a loop, `with`, `except` or comprehension target, a def or class, walrus, del, global
    for binder in (
        "def f(np): pass",
        "f = lambda np: np",
        "for np in backends: pass",
        "with open('x') as np: pass",
        "try:\n    pass\nexcept Exception as np:\n    pass",
        "names = [np for np in range(3)]",
        "class np: pass",
        "def np(): pass",
        "if (np := load()): pass",
        "del np",
        "def g():\n    global np\n    np = 1",
        "match v:\n    case {'k': np}: pass",
    ):
        assert _one(f"{binder}\n__probe__ = np.sort") is None, binder
        assert _one(f"__probe__ = np.sort\n{binder}") is None, binder


def test_a_later_notebook_cell_import_counts_as_a_binding() -> None:
    nb = notebook_from_cells(
        [
            "X_tr, X_te, y_tr, y_te = train_test_split(X, y)",
            "from project.data import train_test_split",
        ]
    )
    assert [f for f in lint_notebook_text(nb) if f.code == "ML102"] == []
    nb = notebook_from_cells(["X_tr, X_te, y_tr, y_te = train_test_split(X, y)", "print(X_tr.shape)"])
    assert [f.cell for f in lint_notebook_text(nb) if f.code == "ML102"] == [1]


def test_imports_module_by_convention_only_without_any_import() -> None:
    def imports_torch(text: str) -> bool:
        ctx = Context(Source("p.py", text), ast.parse(text), Config(), default_catalog())
        run_rules(ctx, [])
        return ctx.semantic.imports_module("torch")

    assert imports_torch("x = torch.ones(3)\n")
    assert imports_torch("layer = nn.Linear(3, 1)\n")
    assert not imports_torch("torch = load()\nx = torch.ones(3)\n")
    assert not imports_torch('"""Works with torch.Tensor too."""\nx = 1\n')
    assert not imports_torch("# torch.ones(3)\nx = 1\n")
    # A module with imports: only its imports count (no look at its text).
    assert not imports_torch("import os\nx = torch.ones(3)\n")


def test_assumptions_are_recorded() -> None:
    text = "a = np.zeros(3)\nimport pandas as pd\nb = pd.Series(a)"
    ctx = Context(Source("p.py", text), ast.parse(text), Config(), default_catalog())
    run_rules(ctx, [])
    sem = ctx.semantic
    assert sem.assumed("np") == "numpy"
    assert sem.assumed("pd") is None  # imported
    assert sem.assumed("rng") is None  # no conventional name


# --- messages, call filters, rules -----------------------------------------------


def test_findings_that_rest_on_a_convention_say_so() -> None:
    (m,) = _messages("a = np.zeros(3)\nif a[0] == np.nan:\n    pass\n", "ML401")
    assert "assuming `np` means `numpy`" in m
    (m,) = _messages("import numpy as np\na = np.zeros(3)\nif a[0] == np.nan:\n    pass\n", "ML401")
    assert "assuming" not in m
    # through an assignment: `df` is a DataFrame because `pd` is pandas
    (m,) = _messages('df = pd.read_csv("x.csv", dtype=str)\ndf.dropna()\n', "ML403")
    assert "assuming `pd` means `pandas`" in m
    (m,) = _messages("X_tr, X_te, y_tr, y_te = train_test_split(X, y)\n", "ML102")
    assert "assuming `train_test_split` means `sklearn.model_selection.train_test_split`" in m


def test_filtered_rules_see_calls_resolved_by_star_import_and_convention() -> None:
    # ML102 and ML311 have call filters (`Rule.call_names`).
    assert "ML102" in [f.code for f in lint("from sklearn.model_selection import *\nsplit = train_test_split(X, y)\n")]
    assert "ML102" in [f.code for f in lint("from sklearn.cluster import *\nlabels = KMeans(n_clusters=3).fit_predict(X)\n")]
    found = [f.code for f in lint("from sklearn.svm import *\nmodel = SVC().fit(X, y)\n")]
    assert "ML311" in found
    assert "ML311" in [f.code for f in lint("model = SVC(C=1.0).fit(X, y)\n")]
    assert "ML102" not in [f.code for f in lint("from mylib import train_test_split\nsplit = train_test_split(X, y)\n")]


def test_leakage_analysis_resolves_star_imports_and_conventions() -> None:
    body = (
        'frame = pd.read_csv("cancer.csv")\n'
        'X, y = frame.drop(columns="label"), frame["label"]\n'
        "X = MinMaxScaler().fit_transform(X)\n"
        "X_train, X_test, y_train, y_test = train_test_split(X, y, random_state=0)\n"
        "print(SVC().fit(X_train, y_train).score(X_test, y_test))\n"
    )
    star = "from sklearn.model_selection import *\nfrom sklearn.preprocessing import *\nfrom sklearn.svm import *\n"
    assert "ML201" in [f.code for f in lint(star + body)]
    assert "ML201" in [f.code for f in lint(body)]
    assert import_map(ast.parse("from numpy import *\nimport pandas as pd"))["sort"] == "numpy.sort"
    tree = ast.parse("x = np.zeros(3)\ndef f(pd): return pd")
    assert import_map(tree, "x = np.zeros(3)\ndef f(pd): return pd") == {"np": "numpy"}


def test_the_seed_as_value_fires_in_a_notebook_without_imports() -> None:
    nb = notebook_from_cells(
        [
            'df = pd.read_csv("sales.csv", dtype={"region": "category"})\nX, y = df.drop(columns="units"), df["units"]',
            "X_tr, X_te, y_tr, y_te = train_test_split(X, y, random_state=np.random.seed(0))\nprint(len(X_tr))",
        ]
    )
    (f,) = [f for f in lint_notebook_text(nb) if f.code == "ML102"]
    assert f.cell == 2
    assert "`random_state=np.random.seed(0)` passes None" in f.message
    assert "assuming `np` means `numpy`" in f.message


def test_seed_call_as_value_says_what_it_passes() -> None:
    text = (
        "import random\nimport numpy as np\nfrom sklearn.model_selection import KFold, train_test_split\n"
        "a = train_test_split(X, random_state=random.seed(3))\n"
        "b = KFold(n_splits=3, shuffle=True, random_state=np.random.seed(3))\n"
        "c = KFold(n_splits=3, random_state=np.random.seed(3))\n"  # any scikit-learn call
        "d = train_test_split(X, random_state=np.random.RandomState(3))\n"  # a RandomState: seeded
        "e = train_test_split(X, random_state=3)\n"
    )
    found = [f for f in lint(text) if f.code == "ML102"]
    assert [f.line for f in found] == [4, 5, 6]
    assert "seeds Python's `random` module only, so `train_test_split(...)` is unseeded" in found[0].message
    assert "draws from NumPy's global generator" in found[1].message
    assert [e.text for e in found[0].fix.edits] == ["3"]


# --- cost -------------------------------------------------------------------------


def test_a_module_that_imports_what_it_uses_is_not_walked_again() -> None:
    text = (
        "import numpy as np\nimport pandas as pd\nimport torch\nfrom torch import nn\n"
        "from sklearn.model_selection import train_test_split\n"
        "df = pd.read_csv('x.csv')\nnp.sort(df.values)\nX_tr, X_te = train_test_split(df)\n"
        "net = nn.Linear(3, 1)\nprint(torch.log(net(torch.ones(3))))\n"
    )
    tree, _ = parse_module(Source("p.py", text))
    ctx = Context(Source("p.py", text), tree, Config(), default_catalog())
    from mllint.rules.base import registered_rules

    run_rules(ctx, registered_rules())
    assert ctx.semantic._module_bindings is None
    assert ctx.findings  # the rules did run


def test_a_name_read_before_its_import_costs_no_walk_and_is_not_assumed() -> None:
    # A function defined in a cell before the import cell.
    text = "def predict(z):\n    return F.softmax(z, dim=1)\n\nimport torch.nn.functional as F\n"
    ctx = Context(Source("p.py", text), ast.parse(text), Config(), default_catalog())
    from mllint.rules.base import registered_rules

    run_rules(ctx, registered_rules())
    assert "F" in ctx.semantic._assumed  # looked up before its import
    assert ctx.semantic.assumed("F") is None
    assert ctx.semantic._module_bindings is None


def test_assumable_names_shadow_no_builtin() -> None:
    import builtins

    assert not known_names.ASSUMABLE & set(dir(builtins))
    for exports in (known_names.star_exports("numpy"), known_names.star_exports("torch")):
        assert exports is not None and not set(exports) & set(dir(builtins))


def test_star_tables_cover_the_rules_sklearn_names() -> None:
    """A rule's scikit-learn/imbalanced-learn name missing from the star
    tables would stay unknown after `from sklearn.x import *`."""
    from mllint.rules.implicit_hyperparameters import KEY_ESTIMATORS
    from mllint.rules.random_state import SKLEARN_RANDOM_NAMES
    from mllint.rules.unscaled_features import SCALE_SENSITIVE, SCALERS

    covered = {name for module in known_names._SKLEARN for name in known_names.star_exports(module) or {}}
    wanted = SKLEARN_RANDOM_NAMES | SCALERS | SCALE_SENSITIVE | {
        n for n in KEY_ESTIMATORS if not n.startswith(("XGB", "LGBM", "CatBoost"))
    }
    # "StandardScalar" in ML311's table is no scikit-learn name.
    assert wanted - covered - {"StandardScalar"} == set()


# --- incremental analysis ----------------------------------------------------------


def test_incremental_analysis_notices_a_binding_in_another_function_body() -> None:
    before = "def load():\n    return 1\n\n\ndef clean(a):\n    return a[a != np.nan]\n"
    after = "def load():\n    np = 1\n    return np\n\n\ndef clean(a):\n    return a[a != np.nan]\n"
    cache = StatementCache()
    config = Config()
    src = Source("m.py", before)
    tree, _ = parse_module(src)
    first = lint_source(src, config, tree=tree, incremental=cache)
    assert [f.code for f in first if f.code == "ML401"] == ["ML401"]
    src2 = Source("m.py", after)
    tree2, _ = parse_module(src2)
    tree2.body[1] = tree.body[1]  # the unchanged statement keeps its node, as with the incremental parser
    second = lint_source(src2, config, tree=tree2, incremental=cache)
    assert cache.last_mode == "full"
    assert [f.code for f in second if f.code == "ML401"] == []
