"""Call filters (`Rule.call_names` / `call_keywords`) of the ML4xx, ML6xx and
ML108 rules: spellings whose callee key is not the plain qualified name
(import aliases, attribute chains, instances, keyword-only triggers) are
still reported, and near misses still are not."""

from __future__ import annotations

import textwrap

from helpers import lint_notebook_text, notebook_from_cells

from mllint.engine.lint import lint_text


def _lines(src: str, code: str) -> list[int]:
    return [f.line for f in lint_text(textwrap.dedent(src)) if f.code == code]


# --- ML601 -------------------------------------------------------------------


def test_ml601_aliased_pickle_load_is_reported() -> None:
    src = """
    from pickle import load as pl
    import joblib as jl

    with open("m.pkl", "rb") as f:
        a = pl(f)
    b = jl.load("m.joblib")
    """
    assert _lines(src, "ML601") == [6, 7]


def test_ml601_unpickler_instance_load_is_reported() -> None:
    src = """
    import pickle

    u = pickle.Unpickler(open("m.pkl", "rb"))
    obj = u.load()
    """
    assert _lines(src, "ML601") == [5]


def test_ml601_reassigned_loader_is_reported() -> None:
    src = """
    import pickle

    unpickle = pickle.loads
    from pickle import loads
    reader = loads
    obj = reader(b"...")
    """
    assert _lines(src, "ML601") == [7]


def test_ml601_near_misses_are_clean() -> None:
    src = """
    import json
    from json import load as pl

    with open("m.json") as f:
        a = pl(f)
    b = json.loads("{}")
    """
    assert _lines(src, "ML601") == []


# --- ML602 -------------------------------------------------------------------


def test_ml602_aliased_torch_load() -> None:
    src = """
    from torch import load as tload
    from torch.serialization import load as sload

    a = tload("a.pt")
    b = sload("b.pt", weights_only=True)
    """
    assert _lines(src, "ML602") == [5]


# --- ML603 -------------------------------------------------------------------


def test_ml603_keyword_on_any_callee_is_reported() -> None:
    src = """
    import mylib

    a = mylib.get_loader()("org/model", trust_remote_code=True)
    b = (lambda **kw: kw)(trust_remote_code=True)
    c = mylib.loaders[0](trust_remote_code=True)
    """
    assert _lines(src, "ML603") == [4, 5, 6]


def test_ml603_star_kwargs_dict_is_reported_and_false_is_clean() -> None:
    src = """
    from transformers import AutoModel

    a = AutoModel.from_pretrained("org/model", **{"trust_remote_code": True})
    b = AutoModel.from_pretrained("org/model", trust_remote_code=False)
    """
    assert _lines(src, "ML603") == [4]


# --- ML604 -------------------------------------------------------------------


def test_ml604_attribute_and_aliased_spellings() -> None:
    src = """
    import yaml
    import yaml as y
    from yaml import full_load as fl, load as yl

    a = yaml.unsafe_load(open("c.yaml"))
    b = y.load_all(open("c.yaml"))
    c = fl(open("c.yaml"))
    d = yl(open("c.yaml"), Loader=yaml.FullLoader)
    e = yaml.safe_load(open("c.yaml"))
    f = yl(open("c.yaml"), Loader=yaml.SafeLoader)
    """
    assert _lines(src, "ML604") == [6, 7, 8, 9]


# --- ML605 -------------------------------------------------------------------

TOKEN = "hf_" + "aB3dE5fG7hJ9kL1mN3pQ5rS7tU9vW1xY3zA"


def test_ml605_credential_keyword_on_aliased_service_call() -> None:
    src = f"""
    from huggingface_hub import snapshot_download as fetch
    from transformers import AutoModel as AM

    fetch("org/model", token=x)
    m = AM.from_pretrained("org/model", use_auth_token=x)
    """
    # the literal is always flagged as a token; the keyword route names the call
    src = src.replace("=x)", f"={TOKEN!r})")
    findings = [f for f in lint_text(textwrap.dedent(src)) if f.code == "ML605"]
    assert [f.line for f in findings] == [5, 6]
    assert all("literal credential" in f.message for f in findings)


def test_ml605_aliased_mlflow_tracking_uri() -> None:
    src = """
    from mlflow import set_tracking_uri as stu

    stu("https://alice:Sup3rS3cretPw42@mlflow.example.org")
    other("https://alice:Sup3rS3cretPw42@mlflow.example.org")
    """
    assert _lines(src, "ML605") == [4]


# --- ML606 -------------------------------------------------------------------


def test_ml606_keyword_on_any_callee() -> None:
    src = """
    def save(model):
        model.save_pretrained("out", safe_serialization=False)
        helpers()[0](use_safetensors=False)
        model.save_pretrained("out", safe_serialization=True)
    """
    assert _lines(src, "ML606") == [3, 4]


# --- ML404 / ML406 / ML407 / ML408 / ML410 -----------------------------------------


def test_ml404_inplace_keyword() -> None:
    src = """
    import pandas as pd

    df = pd.read_csv("a.csv", dtype=str)
    df.dropna(inplace=True)
    df.dropna(inplace=False)
    df.frobnicate(inplace=True)
    """
    assert _lines(src, "ML404") == [5]


def test_ml406_aliased_read_csv() -> None:
    src = """
    from pandas import read_csv as rc, read_excel
    import pandas

    a = rc("a.csv")
    b = read_excel("b.xlsx")
    c = pandas.read_table("c.tsv")
    d = rc("d.csv", dtype=str)
    e = pandas.read_json("e.json")
    """
    assert _lines(src, "ML406") == [5, 6, 7]


def test_ml407_aliased_merge() -> None:
    src = """
    from pandas import merge as mg
    import pandas as pd

    a = pd.read_csv("a.csv", dtype=str)
    b = pd.read_csv("b.csv", dtype=str)
    c = mg(a, b)
    d = a.join(b)
    e = mg(a, b, on="id")
    f = a.merge(b)
    """
    assert _lines(src, "ML407") == [7, 10]  # `join` is on the index; keys given


def test_ml410_aliased_numpy_dot() -> None:
    src = """
    import numpy as np
    from numpy import dot as d

    a = np.zeros((3, 4))
    b = np.zeros((4, 5))
    c = d(a, b)
    e = a.dot(b)
    f = np.matmul(a, b)
    """
    assert _lines(src, "ML410") == [7, 8]


def test_ml408_apply_axis_columns() -> None:
    src = """
    import pandas as pd

    df = pd.read_csv("a.csv", dtype=str)
    x = df.apply(len, axis=1)
    y = df.apply(len, axis=0)
    """
    assert _lines(src, "ML408") == [5]


# --- ML108 -------------------------------------------------------------------


def test_ml108_aliased_subprocess_and_get_ipython() -> None:
    nb = notebook_from_cells(
        [
            "from subprocess import check_call as cc\ncc(['pip', 'install', 'numpy'])",
            "get_ipython().system('pip install pandas')",
            "get_ipython().run_line_magic('pip', 'install scipy')",
            "from os import system as sh\nsh('pip install torch==2.3.0')",
        ]
    )
    cells = [f.cell for f in lint_notebook_text(nb) if f.code == "ML108"]
    assert cells == [1, 2, 3]
