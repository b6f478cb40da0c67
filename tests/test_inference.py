"""Light type inference (mllint.analysis.inference) and training facts
(mllint.analysis.training_facts), observed through the engine's single walk."""

from __future__ import annotations

import ast
import textwrap

import pytest

from mllint.analysis.inference import infer_type
from mllint.analysis.training_facts import TrainingFacts, grad_disabled, is_validation_function
from mllint.core.catalog import default_catalog
from mllint.core.config import Config
from mllint.core.sources import Source
from mllint.engine.lint import Context, run_rules
from mllint.rules.base import Rule


class _Probe(Rule):
    """Records, for every `reveal(expr)` call, the type inferred for `expr`
    at that point of the walk, and feeds TrainingFacts."""

    codes = ("ML999",)
    nodes = (ast.Call, ast.Assign)

    def __init__(self, ctx):
        super().__init__(ctx)
        self.revealed: dict[int, str | None] = {}
        self.grad_off: dict[int, bool] = {}
        self.facts = TrainingFacts.for_context(ctx)

    def visit(self, node):
        self.facts.observe(node, self.ctx.ancestors)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
            if node.func.id == "reveal":
                self.revealed[node.lineno] = infer_type(self.ctx.semantic, node.args[0])
            elif node.func.id == "probe_grad":
                self.grad_off[node.lineno] = grad_disabled(self.ctx.semantic, self.ctx.ancestors)


def _run(src: str) -> _Probe:
    src = textwrap.dedent(src).lstrip("\n")
    ctx = Context(Source(path="t.py", text=src), ast.parse(src), Config(), default_catalog())
    holder: list[_Probe] = []

    class P(_Probe):
        def __init__(self, c):
            super().__init__(c)
            holder.append(self)

    run_rules(ctx, [P])
    return holder[0]


def _types(src: str) -> list[str | None]:
    probe = _run(src)
    return [probe.revealed[k] for k in sorted(probe.revealed)]


def test_pandas_frames_and_series() -> None:
    got = _types(
        """
        import pandas as pd
        from pandas import read_parquet as rp
        df = pd.read_csv("a.csv")
        reveal(df)
        reveal(rp("a.parquet"))
        reveal(df.dropna().reset_index())
        reveal(df["a"])
        reveal(df[["a", "b"]])
        reveal(df[df.a > 0])
        reveal(df.loc[df.a > 0])
        reveal(df.values)
        reveal(df["a"].to_numpy())
        reveal(pd.Series([1, 2]))
        def f(frame: pd.DataFrame, s: pd.Series, other):
            reveal(frame)
            reveal(s)
            reveal(other)
        """
    )
    assert got == [
        "dataframe",
        "dataframe",
        "dataframe",
        "series",
        "dataframe",
        "dataframe",
        "pandas",
        "ndarray",
        "ndarray",
        "series",
        "dataframe",
        "series",
        None,
    ]


def test_torch_objects() -> None:
    got = _types(
        """
        import timm
        import torch
        import torch.nn as nn
        from torch.utils.data import DataLoader
        from torchvision import models
        from transformers import AutoModelForSequenceClassification, AutoTokenizer

        class Net(nn.Module):
            pass

        class Deeper(Net):
            pass

        class NotAModule:
            pass

        reveal(Net())
        reveal(Deeper().to("cpu").eval())
        reveal(NotAModule())
        reveal(nn.Linear(2, 2))
        reveal(models.resnet18(weights=None))
        reveal(timm.create_model("resnet50"))
        reveal(AutoModelForSequenceClassification.from_pretrained("x"))
        reveal(AutoTokenizer.from_pretrained("x"))
        reveal(torch.optim.SGD([], lr=0.1))
        reveal(torch.optim.lr_scheduler.StepLR(opt, 1))
        reveal(DataLoader(ds, batch_size=2))
        reveal(torch.zeros(3))
        """
    )
    assert got == [
        "torch_module",
        "torch_module",
        None,
        "torch_module",
        "torch_module",
        "torch_module",
        "torch_module",
        None,
        "optimizer",
        None,
        "dataloader",
        None,
    ]


def test_keras_and_numpy_and_unknowns() -> None:
    got = _types(
        """
        import numpy as np
        import tensorflow as tf
        from tensorflow import keras
        m = keras.Sequential([])
        reveal(m)
        reveal(tf.keras.models.load_model("m.keras"))
        reveal(np.zeros((2, 2)))
        reveal(np.random.rand(3))
        reveal(unknown_thing)
        reveal(obj.values)
        reveal(some_call().dropna())
        """
    )
    assert got == ["keras_model", "keras_model", "ndarray", "ndarray", None, None, None]


def test_rebinding_updates_type() -> None:
    got = _types(
        """
        import pandas as pd
        x = pd.read_csv("a.csv")
        reveal(x)
        x = x.to_numpy()
        reveal(x)
        x = make()
        reveal(x)
        """
    )
    assert got == ["dataframe", "ndarray", None]


def test_training_loop_facts() -> None:
    probe = _run(
        """
        import torch
        opt = torch.optim.SGD(model.parameters(), lr=0.1)
        for epoch in range(3):
            model.train()
            for x, y in loader:
                opt.zero_grad()
                loss = crit(model(x), y)
                loss.backward()
                opt.step()
            model.eval()
        for x, y in loader:
            scheduler.step()
        """
    )
    facts = probe.facts
    assert facts.has_torch_training_loop
    training = facts.training_loops()
    assert len(training) == 2  # the epoch loop and the batch loop
    inner = facts.innermost_training_loops()
    assert len(inner) == 1 and inner[0].node.lineno == 5
    assert inner[0].clears_grad and inner[0].backward_names == {"loss"}
    outer = next(lf for lf in training if lf.node.lineno == 3)
    assert [k for k, _ in outer.evals] == ["model"] and "model" in outer.trains
    # a scheduler step is not an optimizer step
    assert not any(lf.steps for lf in facts.loops.values() if lf.node.lineno == 11)


def test_no_training_loop_without_torch() -> None:
    probe = _run(
        """
        for batch in data:
            loss.backward()
            optimizer.step()
        """
    )
    assert not probe.facts.has_torch_training_loop


def test_grad_disabled_contexts() -> None:
    probe = _run(
        """
        import torch
        from torch import no_grad
        probe_grad()
        with torch.no_grad():
            probe_grad()
        with no_grad(), other():
            probe_grad()
        with torch.inference_mode():
            probe_grad()
        with torch.set_grad_enabled(False):
            probe_grad()
        with torch.set_grad_enabled(True):
            probe_grad()
        @torch.no_grad()
        def f():
            probe_grad()
        """
    )
    assert [probe.grad_off[k] for k in sorted(probe.grad_off)] == [False, True, True, True, True, False, True]


@pytest.mark.parametrize(
    "name,expected",
    [
        ("validate", True),
        ("evaluate_model", True),
        ("run_eval", True),
        ("predict", True),
        ("batch_inference", True),
        ("validation_step", False),  # Lightning hook: the framework handles it
        ("train_epoch", False),
        ("interval", False),
        ("retrieval", False),
    ],
)
def test_validation_function_names(name: str, expected: bool) -> None:
    func = ast.parse(f"def {name}(): pass").body[0]
    assert is_validation_function(func) is expected


def test_readers_that_do_not_return_a_frame() -> None:
    got = _types(
        """
        import pandas as pd
        reveal(pd.read_csv("a.csv", chunksize=1000))
        reveal(pd.read_csv("a.csv", iterator=True))
        reveal(pd.read_excel("a.xlsx", sheet_name=None))
        reveal(pd.read_excel("a.xlsx", sheet_name="2024"))
        reveal(pd.read_html("https://example.org"))
        reveal(pd.read_json("a.json", typ="series"))
        """
    )
    assert got == [None, None, None, "dataframe", None, "series"]


def test_unpacking_keeps_types() -> None:
    got = _types(
        """
        import pandas as pd
        from sklearn import model_selection
        df = pd.read_csv("a.csv")
        X, y = df.drop(columns="t"), df["t"]
        reveal(X)
        reveal(y)
        X_tr, X_te, y_tr, y_te = model_selection.train_test_split(X, y, random_state=0)
        reveal(X_tr)
        reveal(y_te)
        a, b = y, X
        reveal(a)
        p, q = make_pair()
        reveal(p)
        """
    )
    assert got == ["dataframe", "series", "dataframe", "series", "series", None]


def test_arithmetic_keeps_the_container() -> None:
    got = _types(
        """
        import numpy as np
        import pandas as pd
        df = pd.read_csv("a.csv")
        reveal(df * 2)
        reveal(df["a"] + df["b"])
        reveal((df["a"] - df["a"].mean()) / 3)
        reveal(np.zeros(3) + 1)
        reveal(x + 1)
        """
    )
    assert got == ["dataframe", "series", "series", "ndarray", None]
