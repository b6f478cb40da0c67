"""Near misses for the call filters (`Rule.call_names` / `call_keywords`) of
the ML1xx/ML3xx rules: aliased imports, attribute spellings and keyword-only
triggers still reach the rule; a call whose name is not in the filter stays
clean."""

from __future__ import annotations

import textwrap

from mllint.engine.lint import lint_text
from mllint.rules.device import HardCodedDevice
from mllint.rules.forward_call import ForwardCalledDirectly
from mllint.rules.legacy_rng import LegacyGlobalRng
from mllint.rules.random_state import RandomStateUnset
from mllint.rules.unmasked_log import UnmaskedLog
from mllint.rules.unpinned_models import UnpinnedPretrainedModel
from mllint.rules.unscaled_features import UnscaledScaleSensitiveModel


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
    from mllint.analysis.randomness import NUMPY_LEGACY
    from mllint.rules.random_state import SKLEARN_RANDOM, SKLEARN_SHUFFLE_ONLY
    from mllint.rules.unscaled_features import SCALE_SENSITIVE, SCALERS

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


# --- ML101 / ML104 unseeded-randomness (filtered by key + `wants_call`) ---------------


def script(text: str) -> str:
    """An entry-point script (ML101/ML104 judge only those)."""
    return textwrap.dedent(text) + 'if __name__ == "__main__":\n    pass\n'


def cfg_lines(text: str, code: str, **config) -> list[int]:
    from mllint.core.config import Config

    return [f.line for f in lint_text(textwrap.dedent(text), Config(**config)) if f.code == code]


def test_ml101_seed_helper_defined_below_its_first_call() -> None:
    # `prepare` is a plain name unbound when called: recorded, resolved after
    # the walk to the function defined further down, which seeds numpy, so the
    # draw above the call is reported as coming before the seeding.
    text = """
    import numpy as np
    x = np.random.rand(3)
    prepare(0)
    def prepare(s):
        np.random.seed(s)
    """
    [f] = [f for f in lint_text(script(text)) if f.code == "ML101"]
    assert f.line == 3 and "before this script seeds it (line 4)" in f.message
    assert lines(script(text.replace("np.random.seed(s)", "print(s)")), "ML101") == [3]


def test_ml101_module_function_seeding_through_another_module_function() -> None:
    text = """
    import torch
    def main():
        boot()
        return torch.randn(3)
    def boot():
        torch.manual_seed(0)
    if __name__ == "__main__":
        main()
    """
    assert lines(script(text), "ML101") == []
    assert lines(script(text).replace("torch.manual_seed(0)", "pass"), "ML101") == [5]


def test_ml101_aliased_seed_helper_import() -> None:
    # Key "seed_everything" (looks like a seed helper), written name "se": the
    # rule judges the name as written, so this is not taken for seeding
    # (the call still reaches the rule: its key passes the filter).
    text = """
    import torch
    from utils import seed_everything as se
    se(0)
    x = torch.randn(3)
    """
    assert lines(script(text), "ML101") == [5]
    assert lines(script(text.replace(" as se", "").replace("se(0)", "seed_everything(0)")), "ML101") == []
    # Written name looks like a seed helper, key ("setup") does not.
    text = """
    import torch
    from utils import setup as set_seed
    set_seed(0)
    x = torch.randn(3)
    """
    assert lines(script(text), "ML101") == []
    # ... nor through a copy of the imported name (plain or `:=`).
    text = """
    import torch
    from utils import setup
    set_seed = setup
    set_seed(0)
    x = torch.randn(3)
    """
    assert lines(script(text), "ML101") == []
    text = """
    import torch
    from utils import setup
    if (seed_all := setup):
        seed_all(0)
    x = torch.randn(3)
    """
    assert lines(script(text), "ML101") == []
    # The near miss: a seed helper's key under a name that does not look like one.
    text = """
    import torch
    from utils import seed_everything as go
    go(0)
    x = torch.randn(3)
    """
    assert lines(script(text), "ML101") == [5]


def test_ml101_configured_helper_by_written_alias_and_by_key() -> None:
    text = """
    import torch
    from project.env import bootstrap as boot
    boot(1)
    x = torch.randn(3)
    """
    assert lines(script(text), "ML101") == [5]
    assert cfg_lines(script(text), "ML101", seed_helpers=["boot"]) == []  # the name as written
    assert cfg_lines(script(text), "ML101", seed_helpers=["project.env.bootstrap"]) == []  # the qualified name
    assert cfg_lines(script(text), "ML101", seed_helpers=["bootstrap"]) == []
    assert cfg_lines(script(text), "ML101", seed_helpers=["other.boot_env"]) == [5]


def test_ml101_global_draw_through_aliased_imports() -> None:
    text = """
    from numpy.random import rand as r
    from random import shuffle as mix
    from torch import randn as noise
    a = r(3)
    mix([1, 2])
    b = noise(2)
    c = r.__name__
    """
    assert lines(script(text), "ML101") == [5, 6, 7]


def test_ml101_unseeded_generator_and_training_call() -> None:
    text = """
    from numpy.random import default_rng as make
    import torch.nn as nn
    rng = make()
    layer = nn.Linear(2, 2)
    """
    assert lines(script(text), "ML101") == [4]  # weights initialised, but nothing trains
    assert lines(script(text) + "model.fit(x)\n", "ML101") == [4, 5]


def test_ml104_augmentation_called_through_a_variable() -> None:
    # `aug(...)` has key "aug": only its qualified name shows it augments, so a
    # module importing an augmentation package sees every call.
    text = """
    import torchvision.transforms as T
    from torch.utils.data import DataLoader
    class DS:
        def __getitem__(self, i):
            return aug(self.items[i])
    aug = T.RandomCrop(32)
    loader = DataLoader(DS(), batch_size=4, num_workers=4)
    """
    assert lines(script(text), "ML104") == [8]
    assert lines(script(text).replace("T.RandomCrop(32)", "T.CenterCrop(32)"), "ML104") == []
    # ... and a call of a call (no key at all): `T.RandomCrop(32)(x)`.
    text2 = text.replace("aug(self.items[i])", "T.CenterCrop(32)(self.items[i])").replace("aug = T.RandomCrop(32)", "")
    assert lines(script(text2), "ML104") == []
    assert lines(script(text2).replace("T.CenterCrop", "T.RandomCrop"), "ML104") == [8]


# --- ML103 nondeterministic-training -------------------------------------------------

TRAIN = """
import torch
{imports}
def train(model, loader, optimizer):
    for x, y in loader:
        optimizer.zero_grad()
        model(x.cuda()).sum().backward()
        optimizer.step()
if __name__ == "__main__":
    {setup}
    train(m, l, o)
"""


def test_ml103_determinism_helper_imported_under_an_alias() -> None:
    plain = TRAIN.format(imports="from utils import configure", setup="configure()")
    assert lines(plain, "ML103") == [5]
    assert lines(TRAIN.format(imports="from utils import configure as make_deterministic", setup="make_deterministic()"), "ML103") == []
    # The near miss: a determinism helper's key under a name that does not look like one.
    assert lines(TRAIN.format(imports="from utils import enable_determinism as go", setup="go()"), "ML103") == [5]
    assert lines(TRAIN.format(imports="from utils import setup as fix_seeds", setup="fix_seeds(0)"), "ML103") == []


def test_ml103_determinism_helper_defined_below() -> None:
    text = TRAIN.format(imports="", setup="prepare()") + "def prepare():\n    torch.use_deterministic_algorithms(True)\n"
    assert lines(text, "ML103") == []
    assert lines(text.replace("torch.use_deterministic_algorithms(True)", "pass"), "ML103") == [5]


def test_ml103_aliased_switch_and_configured_helper() -> None:
    text = TRAIN.format(imports="from torch import use_deterministic_algorithms as det", setup="det(True)")
    assert lines(text, "ML103") == []
    text = TRAIN.format(imports="from project.env import bootstrap as boot", setup="boot()")
    assert lines(text, "ML103") == [5]
    assert cfg_lines(text, "ML103", seed_helpers=["boot"]) == []
    assert cfg_lines(text, "ML103", seed_helpers=["project.env.bootstrap"]) == []


def test_ml103_sees_the_loop_with_ml3xx_disabled() -> None:
    text = TRAIN.format(imports="", setup="pass")
    assert cfg_lines(text, "ML103", select=["ML103"]) == [5]


def test_repro_filters_cover_the_randomness_tables() -> None:
    """Every qualified name the classifiers in mllint.analysis.randomness test for
    ends in a name the filters accept (a guard against the tables drifting)."""
    import ast as _ast
    import inspect

    import mllint.analysis.randomness as rnd
    from mllint.rules.nondeterminism import NondeterministicTraining
    from mllint.rules.unseeded_randomness import UnseededRandomness

    def qualnames(*funcs) -> set[str]:
        """Dotted string constants, less those that are prefixes or heads
        (`head == "torch.nn"`, `.startswith(...)`, `.endswith(...)`)."""
        out: set[str] = set()
        for fn in funcs:
            tree = _ast.parse(textwrap.dedent(inspect.getsource(fn)))
            partial: set[int] = set()
            for node in _ast.walk(tree):
                if isinstance(node, _ast.Compare) and isinstance(node.left, _ast.Name) and node.left.id == "head":
                    partial.update(id(c) for c in node.comparators)
                elif isinstance(node, _ast.Call) and isinstance(node.func, _ast.Attribute) and node.func.attr in ("startswith", "endswith"):
                    partial.update(id(n) for a in node.args for n in _ast.walk(a))
            for node in _ast.walk(tree):
                if (
                    isinstance(node, _ast.Constant)
                    and isinstance(node.value, str)
                    and "." in node.value
                    and id(node) not in partial
                ):
                    out.add(node.value)
        return out

    last = {q.rpartition(".")[2] for q in qualnames(rnd.seeded_frameworks, rnd.global_draw, rnd.unseeded_generator)}
    last |= {q.rpartition(".")[2] for q in (*rnd.DIRECT_SEEDERS, *rnd.UMBRELLA_SEEDERS, *rnd.DATALOADERS)}
    last -= {""}  # prefixes such as "tensorflow.data."
    assert last <= UnseededRandomness.call_names
    assert {"seed_everything", "DataLoader", "random_split", "shuffle", "sample"} <= UnseededRandomness.call_names
    # The determinism predicates read only the tables the filter is derived
    # from: no qualified name written inline in them.
    assert qualnames(rnd.enables_torch_determinism, rnd.enables_tf_determinism) == set()
    det = rnd.DETERMINISM_QUALNAMES
    assert "torch.use_deterministic_algorithms" in det and "tensorflow.config.enable_op_determinism" in det
    assert {q.rpartition(".")[2] for q in det} <= NondeterministicTraining.call_names
    assert {"Trainer", "backward", "manual_backward", "step", "fit", "compile"} <= NondeterministicTraining.call_names
