"""Parity with dslinter (the pylint plugin for data-science code).

For each dslinter check that maps to an ML3xx/ML4xx rule, the cases its
documentation describes (rewritten here in our own words and code) must be
flagged by mllint, without a type checker. Then the cases where dslinter is
known to be wrong or blind: attribute spellings it misses, false positives it
raises, and the memory-release check that never runs.
"""

from __future__ import annotations

import textwrap

import pytest

from helpers import codes, lint

# (dslinter check, mllint code, snippet that must be flagged)
CAUGHT = [
    (
        "E5501 nan-numpy",
        "ML401",
        """
        import numpy as np
        import pandas as pd
        df = pd.read_csv("d.csv", dtype={"x": "float64"})
        missing = df[df["x"] == np.nan]
        """,
    ),
    (
        "W5502 chain-indexing",
        "ML402",
        """
        import pandas as pd
        df = pd.DataFrame({"a": [1, 2], "b": [3, 4]})
        df["a"]["b"] = 0
        """,
    ),
    (
        "W5503 inplace / lost result",
        "ML403",
        """
        import pandas as pd
        df = pd.DataFrame({"a": [1, None]})
        df.dropna()
        """,
    ),
    (
        "W5504 dataframe-conversion",
        "ML405",
        """
        import pandas as pd
        df = pd.DataFrame({"a": [1, 2]})
        arr = df.values
        """,
    ),
    (
        "W5505 scaler-missing",
        "ML311",
        """
        from sklearn.svm import SVC
        clf = SVC(C=1.0)
        clf.fit(X, y)
        """,
    ),
    (
        "W5506 memory-release",
        "ML308",
        """
        import tensorflow as tf
        for lr in [0.1, 0.01]:
            model = tf.keras.Sequential([tf.keras.layers.Dense(1)])
            model.compile(optimizer="sgd", loss="mse")
        """,
    ),
    (
        "W5513 mask-missing (tensorflow)",
        "ML307",
        """
        import tensorflow as tf
        probs = tf.nn.softmax(logits)
        loss = -tf.reduce_sum(y * tf.math.log(probs))
        """,
    ),
    (
        "W5514 mask-missing (pytorch)",
        "ML307",
        """
        import torch
        probs = torch.softmax(logits, dim=1)
        loss = -(y * torch.log(probs)).sum()
        """,
    ),
    (
        "W5515 tensor-array (tensorflow)",
        "ML309",
        """
        import tensorflow as tf
        acc = tf.zeros((0, 4))
        for batch in dataset:
            acc = tf.concat([acc, batch], axis=0)
        """,
    ),
    (
        "W5516 pytorch-call-method",
        "ML304",
        """
        import torch.nn as nn
        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.fc = nn.Linear(2, 2)
            def forward(self, x):
                return self.fc.forward(x)
        """,
    ),
    (
        "W5517 gradient-clear",
        "ML301",
        """
        import torch
        optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
        for x, y in loader:
            loss = criterion(model(x), y)
            loss.backward()
            optimizer.step()
        """,
    ),
    (
        "R5501 iteration over a DataFrame",
        "ML408",
        """
        import pandas as pd
        df = pd.read_csv("d.csv", dtype={"a": "int64"})
        for index, row in df.iterrows():
            print(row["a"])
        """,
    ),
    (
        "R5503 datatype (read_csv without dtype)",
        "ML406",
        """
        import pandas as pd
        df = pd.read_csv("d.csv")
        """,
    ),
    (
        "R5505 merge-parameter",
        "ML407",
        """
        import pandas as pd
        a = pd.read_csv("a.csv", dtype={"k": "int64"})
        b = pd.read_csv("b.csv", dtype={"k": "int64"})
        c = a.merge(b)
        """,
    ),
    (
        "R5506 hyperparameters (scikit-learn)",
        "ML312",
        """
        from sklearn.ensemble import RandomForestClassifier
        clf = RandomForestClassifier()
        """,
    ),
    (
        "R5507 hyperparameters (pytorch)",
        "ML312",
        """
        import torch
        opt = torch.optim.Adam(model.parameters())
        """,
    ),
    (
        "R5508 hyperparameters (tensorflow)",
        "ML312",
        """
        from tensorflow import keras
        opt = keras.optimizers.SGD()
        """,
    ),
]

# Cases dslinter misses (attribute spellings, aliases, right-hand NaN, frames
# from read_csv without mypy): mllint must flag them.
DSLINTER_MISSES = [
    (
        "ML301",
        """
        import torch.optim
        opt = torch.optim.SGD(net.parameters(), lr=0.1)
        for x, y in loader:
            criterion(net(x), y).backward()
            opt.step()
        """,
    ),
    (
        "ML312",
        """
        import torch
        sgd = torch.optim.SGD(net.parameters(), momentum=0.9)
        """,
    ),
    (
        "ML311",
        """
        from sklearn import neighbors
        knn = neighbors.KNeighborsClassifier(n_neighbors=3).fit(X, y)
        """,
    ),
    (
        "ML401",
        """
        import numpy as np
        if np.nan == value:
            pass
        """,
    ),
    (
        "ML402",
        """
        import pandas as pd
        df = pd.read_csv("d.csv", dtype={"a": "int64"})
        df[df.a > 1]["a"] = 0
        """,
    ),
    (
        "ML403",
        """
        from pandas import read_csv as load
        frame = load("d.csv", dtype={"a": "int64"})
        frame.fillna(0)
        """,
    ),
    (
        "ML405",
        """
        import pandas as pd
        def features(df: pd.DataFrame):
            return df.values
        """,
    ),
]

# dslinter false positives and near-misses: mllint must stay silent.
SILENT = [
    ("ML307", "torch.log(p + eps)", "import torch\np = torch.softmax(z, 1)\nl = torch.log(p + 1e-8)\n"),
    (
        "ML307",
        "torch.log(torch.clamp(p, min=eps))",
        "import torch\np = torch.softmax(z, 1)\nl = torch.log(torch.clamp(p, min=1e-8))\n",
    ),
    ("ML312", "KFold() is a splitter, not a model", "from sklearn.model_selection import KFold\nkf = KFold()\n"),
    (
        "ML301",
        "zero_grad(set_to_none=True)",
        """
        import torch
        opt = torch.optim.SGD(m.parameters(), lr=0.1)
        for x in data:
            opt.zero_grad(set_to_none=True)
            m(x).sum().backward()
            opt.step()
        """,
    ),
    (
        "ML301",
        "model.zero_grad()",
        """
        import torch
        opt = torch.optim.SGD(m.parameters(), lr=0.1)
        for x in data:
            m.zero_grad()
            m(x).sum().backward()
            opt.step()
        """,
    ),
    (
        "ML301",
        "Lightning training_step",
        """
        import lightning.pytorch as pl
        import torch.nn.functional as F
        class Lit(pl.LightningModule):
            def training_step(self, batch, idx):
                x, y = batch
                return F.mse_loss(self.layer(x), y)
        """,
    ),
    (
        "ML403",
        "dropna(inplace=True)",
        "import pandas as pd\ndf = pd.read_csv('a.csv', dtype={'a': 'int64'})\ndf.dropna(inplace=True)\n",
    ),
    (
        "ML402",
        "df.loc[mask, col] = v",
        "import pandas as pd\ndf = pd.read_csv('a.csv', dtype={'a': 'int64'})\ndf.loc[df.a > 0, 'c'] = 1\n",
    ),
    ("ML405", "x.values on a non-pandas object", "import pandas as pd\nx = load_thing()\ny = x.values\n"),
    ("ML405", "dict.values()", "import pandas as pd\nd = {'a': 1}\nv = list(d.values())\n"),
    ("ML304", "super().forward", "import torch.nn as nn\nclass A(nn.Linear):\n    def forward(self, x):\n        return super().forward(x)\n"),
    ("ML404", "nn.ReLU(inplace=True)", "import pandas as pd\nimport torch.nn as nn\nact = nn.ReLU(inplace=True)\n"),
    ("ML402", "nested NumPy indexing", "import numpy as np\na = np.zeros((2, 2))\na[0][1] = 1\n"),
]


def _src(snippet: str) -> str:
    return textwrap.dedent(snippet).lstrip("\n")


@pytest.mark.parametrize("check,code,snippet", CAUGHT, ids=[c[0] for c in CAUGHT])
def test_mllint_catches_what_dslinter_documents(check: str, code: str, snippet: str) -> None:
    found = codes(_src(snippet))
    assert code in found, f"{check}: expected {code}, got {found}"


@pytest.mark.parametrize("code,snippet", DSLINTER_MISSES, ids=[f"{c}-{i}" for i, (c, _) in enumerate(DSLINTER_MISSES)])
def test_mllint_catches_what_dslinter_misses(code: str, snippet: str) -> None:
    found = codes(_src(snippet))
    assert code in found, f"expected {code}, got {found}"


@pytest.mark.parametrize("code,label,snippet", SILENT, ids=[f"{c}-{label}" for c, label, _ in SILENT])
def test_mllint_is_silent_where_dslinter_is_wrong(code: str, label: str, snippet: str) -> None:
    found = codes(_src(snippet))
    assert code not in found, f"{label}: {code} reported"


def test_no_type_checker_is_needed_for_pandas_rules() -> None:
    """The frame type comes from `pd.read_csv` through a method chain and a
    column selection, all inferred without mypy."""
    src = _src(
        """
        import pandas as pd
        df = pd.read_csv("d.csv", dtype={"a": "float64"}).dropna().reset_index(drop=True)
        col = df["a"]
        col.fillna(0)
        arr = col.values
        """
    )
    got = {(f.code, f.line) for f in lint(src)}
    assert ("ML403", 4) in got and ("ML405", 5) in got
