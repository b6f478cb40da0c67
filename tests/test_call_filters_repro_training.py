"""Near misses for the call filters (`Rule.call_names` / `call_keywords`) of
the ML1xx/ML3xx rules: aliased imports, attribute spellings and keyword-only
triggers still reach the rule; a call whose name is not in the filter stays
clean."""

from __future__ import annotations

import textwrap

from mllint.engine import lint_text
from mllint.rules.reproducibility import (
    LegacyGlobalRng,
    RandomStateUnset,
    UnpinnedPretrainedModel,
)
from mllint.rules.training import ForwardCalledDirectly, HardCodedDevice, UnmaskedLog, UnscaledScaleSensitiveModel


def lines(text: str, code: str) -> list[int]:
    return [f.line for f in lint_text(textwrap.dedent(text)) if f.code == code]


# --- ML102 random-state-unset -----------------------------------------------------


def test_ml102_aliased_import_reaches_the_rule() -> None:
    text = """
    from sklearn.model_selection import train_test_split as tts
    from sklearn.model_selection import KFold as KF
    a, b = tts([1, 2, 3, 4])
    cv = KF(5, shuffle=True)
    ok = tts([1, 2, 3, 4], random_state=0)
    """
    assert lines(text, "ML102") == [4, 5]


def test_ml102_attribute_spelling_and_a_clean_near_miss() -> None:
    text = """
    import sklearn.ensemble as ens
    m = ens.RandomForestClassifier(n_estimators=10)
    n = ens.RandomForestClassifier(n_estimators=10, random_state=0)
    lr = ens.VotingClassifier([])
    """
    assert lines(text, "ML102") == [3]


# --- ML105 legacy-global-rng ------------------------------------------------------


def test_ml105_aliased_import_and_module_alias() -> None:
    text = """
    from numpy.random import seed as s
    from numpy import random as npr
    import numpy as np
    s(0)
    x = npr.rand(3)
    rng = np.random.default_rng(0)
    y = rng.random(3)
    """
    assert lines(text, "ML105") == [5, 6]


def test_ml105_reassigned_import_name() -> None:
    text = """
    from numpy.random import randn
    draw = randn
    v = draw(3)
    """
    assert lines(text, "ML105") == [4]


# --- ML106 unpinned-pretrained-model ----------------------------------------------


def test_ml106_aliased_loader() -> None:
    text = """
    from huggingface_hub import snapshot_download as grab
    from transformers import pipeline as pipe
    grab("org/model")
    grab("org/model", revision="0123456789abcdef0123456789abcdef01234567")
    p = pipe("text-classification")
    """
    assert lines(text, "ML106") == [4, 6]


def test_ml106_output_dir_keyword_still_marks_a_local_directory() -> None:
    # `output_dir=` on any call (here a trainer's config) names a local
    # directory, so loading it back is not a Hub download.
    text = """
    from transformers import AutoModel, TrainingArguments
    args = TrainingArguments(output_dir="org/run")
    m = AutoModel.from_pretrained("org/run")
    n = AutoModel.from_pretrained("org/other")
    """
    assert lines(text, "ML106") == [5]


# --- ML304 forward-called-directly -------------------------------------------------


def test_ml304_attribute_only() -> None:
    text = """
    import torch.nn as nn
    net = nn.Sequential(nn.Linear(2, 2))
    y = net.forward(1)
    z = net(1)
    """
    assert lines(text, "ML304") == [4]


# --- ML307 unmasked-log ---------------------------------------------------------------


def test_ml307_aliased_log_and_method_spelling() -> None:
    text = """
    import torch
    from torch import log as ln
    from torch import softmax as sm
    def loss(logits):
        p = sm(logits, dim=1)
        a = ln(p)
        b = p.log()
        c = torch.exp(p)
        return a, b, c
    """
    assert lines(text, "ML307") == [7, 8]


# --- ML310 hard-coded-device ---------------------------------------------------------


def test_ml310_keyword_triggered_on_any_call() -> None:
    text = """
    import torch
    def build(make):
        return make(3, device="cuda"), make(3, device="cpu")
    state = torch.load("w.pt", map_location="cuda:0")
    """
    assert lines(text, "ML310") == [4, 5]


def test_ml310_aliased_device_and_availability_check() -> None:
    text = """
    from torch import device as dev
    d = dev("cuda")
    """
    assert lines(text, "ML310") == [3]
    checked = """
    from torch import device as dev
    import torch
    d = dev("cuda")
    if not torch.cuda.is_available():
        raise SystemExit
    """
    assert lines(checked, "ML310") == []


# --- ML311 unscaled-scale-sensitive-model -------------------------------------------


def test_ml311_aliased_model_and_aliased_scaler() -> None:
    text = """
    from sklearn.svm import SVC as S
    clf = S()
    """
    assert lines(text, "ML311") == [3]
    scaled = """
    import sklearn.preprocessing as pre
    from sklearn.svm import SVC as S
    x = pre.scale([[1.0]])
    clf = S()
    """
    assert lines(scaled, "ML311") == []


# --- the filters themselves ------------------------------------------------------------


def test_filters_cover_their_tables() -> None:
    from mllint.randomness import NUMPY_LEGACY
    from mllint.rules.reproducibility import SKLEARN_RANDOM, SKLEARN_SHUFFLE_ONLY
    from mllint.rules.training import SCALE_SENSITIVE, SCALERS

    assert RandomStateUnset.call_names >= SKLEARN_RANDOM | SKLEARN_SHUFFLE_ONLY
    assert LegacyGlobalRng.call_names >= NUMPY_LEGACY
    assert {"from_pretrained", "hf_hub_download", "snapshot_download", "pipeline", "load", "load_dataset",
            "SentenceTransformer", "CrossEncoder", "save_pretrained"} <= UnpinnedPretrainedModel.call_names
    assert UnpinnedPretrainedModel.call_keywords == {"output_dir"}
    assert ForwardCalledDirectly.call_names == {"forward"}
    assert {"log", "log2", "log10"} <= UnmaskedLog.call_names
    assert {"cuda", "to", "device", "set_default_device", "is_available"} <= HardCodedDevice.call_names
    assert HardCodedDevice.call_keywords == {"device", "map_location"}
    assert UnscaledScaleSensitiveModel.call_names >= SCALERS | SCALE_SENSITIVE
