"""ML101-ML107 behaviour the fixtures cannot express: options, message
contents, entry-point detection, the shared string/ref classifiers, bad
input, and the example project `make demo` lints."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from helpers import ROOT, lint, lint_notebook_text, notebook_from_cells

from mllint.analysis.literals import HOLE, const_int, const_str, str_template
from mllint.analysis.model_refs import (
    artifact_alias_latest,
    is_hub_id,
    mlflow_moving_ref,
    moving_revision,
    torch_hub_ref,
)
from mllint.analysis.semantic import SemanticModel
from mllint.core.config import Config
from mllint.engine.lint import lint_path

REPRO = ("ML101", "ML102", "ML103", "ML104", "ML105", "ML106", "ML107")


def found(text: str, code: str, **config) -> list:
    return [f for f in lint(textwrap.dedent(text), **config) if f.code == code]


def internal_errors(text: str) -> list:
    return [f for f in lint(textwrap.dedent(text)) if f.code in ("ML000", "ML001") and "ML10" in f.message]


# --- ML101 ---------------------------------------------------------------------

HELPER_SCRIPT = """
import torch
from project.setup import bootstrap_env

def main():
    bootstrap_env(1)
    return torch.randn(3)

if __name__ == "__main__":
    main()
"""


def test_seed_helpers_option_accepts_qualified_and_plain_names() -> None:
    assert [f.line for f in found(HELPER_SCRIPT, "ML101")] == [7]
    assert found(HELPER_SCRIPT, "ML101", seed_helpers=["project.setup.bootstrap_env"]) == []
    assert found(HELPER_SCRIPT, "ML101", seed_helpers=["bootstrap_env"]) == []
    assert [f.line for f in found(HELPER_SCRIPT, "ML101", seed_helpers=["other.helper"])] == [7]


def test_seed_option_appears_in_messages() -> None:
    [f] = found(HELPER_SCRIPT, "ML101", seed=7)
    assert "`torch.randn(...)`" in f.message and "torch.manual_seed(7)" in f.message


def test_one_finding_per_framework_at_the_first_draw() -> None:
    text = """
    import numpy as np
    import random
    def main():
        a = np.random.rand(3)
        b = np.random.randn(3)
        random.shuffle([1, 2])
        random.random()
    if __name__ == "__main__":
        main()
    """
    fs = found(text, "ML101")
    assert [(f.line, f.message.split("`")[1]) for f in fs] == [(5, "np.random.rand(...)"), (7, "random.shuffle(...)")]


def test_entry_point_detection() -> None:
    body = "import numpy as np\nx = np.random.rand(3)\n"
    assert found(body, "ML101") == []  # a library module: its caller seeds
    assert len(found("#!/usr/bin/env python\n" + body, "ML101")) == 1
    assert len(found(body + "model.fit(x)\n", "ML101")) == 1
    assert len(found(body + "if '__main__' == __name__:\n    pass\n", "ML101")) == 1


def test_seed_after_first_top_level_draw_names_its_line() -> None:
    text = "import torch\nx = torch.rand(2)\ntorch.manual_seed(0)\ny = torch.rand(2)\nmodel.fit(x)\n"
    [f] = found(text, "ML101")
    assert f.line == 2 and "(line 3)" in f.message


def test_notebook_seed_in_a_later_cell_names_the_cell() -> None:
    nb = notebook_from_cells(["import numpy as np", "x = np.random.rand(3)", "np.random.seed(0)"])
    [f] = [f for f in lint_notebook_text(nb) if f.code == "ML101"]
    assert f.cell == 2 and "(cell 3)" in f.message and "notebook" in f.message


def test_local_helpers_are_followed_transitively_and_recursion_is_safe() -> None:
    text = """
    import numpy as np
    def a(n):
        if n:
            b(n - 1)
        np.random.seed(n)
    def b(n):
        a(n)
    def main():
        b(3)
        return np.random.rand(2)
    if __name__ == "__main__":
        main()
    """
    assert found(text, "ML101") == []
    assert internal_errors(text) == []


def test_unseeded_generator_objects() -> None:
    text = """
    import random
    import numpy as np
    if __name__ == "__main__":
        np.random.seed(0)
        g1 = np.random.default_rng()
        g2 = np.random.default_rng(None)
        g3 = np.random.RandomState()
        g4 = random.Random()
        ok = np.random.default_rng(seed=0), np.random.RandomState(3), random.Random(7)
    """
    assert [f.line for f in found(text, "ML101")] == [6, 7, 8, 9]


# --- ML103 / ML104 -----------------------------------------------------------------

LOOP = """
import torch
{pre}
def train(model, loader, optimizer, device):
    for x, y in loader:
        optimizer.zero_grad()
        model(x.to(device)).sum().backward()
        optimizer.step()
{post}
"""


def test_ml103_needs_an_entry_point_for_the_missing_switch() -> None:
    assert found(LOOP.format(pre="", post=""), "ML103") == []
    [f] = found(LOOP.format(pre="", post="if __name__ == '__main__':\n    train(m, l, o, 'cuda')"), "ML103")
    assert f.line == 5 and f.end_col == len("    for x, y in loader:")


def test_ml103_cpu_only_loop_is_not_reported() -> None:
    cpu = LOOP.replace("x.to(device)", "x.to(torch.float32)").format(pre="", post="if __name__ == '__main__':\n    train(m, l, o, None)")
    assert found(cpu, "ML103") == []
    hidden = LOOP.format(pre="import os\nos.environ['CUDA_VISIBLE_DEVICES'] = ''", post="if __name__ == '__main__':\n    train(m, l, o, d)")
    assert found(hidden, "ML103") == []


def test_ml103_benchmark_is_reported_in_any_training_module() -> None:
    fs = found(LOOP.format(pre="torch.backends.cudnn.benchmark = True", post=""), "ML103")
    assert [f.line for f in fs] == [3]
    assert "benchmark" in fs[0].message


def test_ml104_silent_once_torch_is_seeded_anywhere() -> None:
    text = """
    import torch
    from torch.utils.data import DataLoader
    def loaders(ds):
        return DataLoader(ds, shuffle=True)
    def main():
        {seed}
        loaders(None)
    if __name__ == "__main__":
        main()
    """
    assert len(found(text.replace("{seed}", "pass"), "ML104")) == 1
    assert found(text.replace("{seed}", "torch.manual_seed(0)"), "ML104") == []


# --- ML105 -----------------------------------------------------------------------------


def test_ml105_suggests_the_generator_method() -> None:
    [f] = found("import numpy as np\nx = np.random.randint(0, 5)\n", "ML105")
    assert "`np.random.randint(...)`" in f.message and "rng.integers(low, high)" in f.message


# --- ML106 / ML107 shared classifiers ---------------------------------------------------


@pytest.mark.parametrize(
    "text,expected",
    [
        ("bert-base-uncased", True),
        ("org/model-name_v2.1", True),
        ("./checkpoints/best", False),
        ("/abs/path", False),
        ("~/models/x", False),
        ("checkpoints/best", False),
        ("outputs/run-1", False),
        ("a/b/c", False),
        ("model.safetensors", False),
        ("C:\\models\\x", False),
        ("hf://org/x", False),
        (f"org/{HOLE}", False),
        ("", False),
    ],
)
def test_is_hub_id(text: str, expected: bool) -> None:
    assert is_hub_id(text) is expected


@pytest.mark.parametrize(
    "rev,moving",
    [
        ("main", True),
        ("MASTER", True),
        ("refs/pr/3", True),
        ("v1.2.0", False),
        ("6cdc0aad91f5ae2e6712e91bc7b65d1cf5c05411", False),
        ("abc1234", False),
        (None, False),
        (HOLE, False),
    ],
)
def test_moving_revision(rev, moving: bool) -> None:
    assert moving_revision(rev) is moving


def test_registry_and_hub_refs() -> None:
    assert mlflow_moving_ref("models:/churn/Production") == "stage"
    assert mlflow_moving_ref("models:/churn/staging") == "stage"
    assert mlflow_moving_ref("models:/churn/latest") == "latest"
    assert mlflow_moving_ref("models:/churn/3") is None
    assert mlflow_moving_ref("models:/churn@champion") is None
    assert mlflow_moving_ref(f"models:/churn/{HOLE}") is None
    assert artifact_alias_latest("team/proj/model:latest")
    assert not artifact_alias_latest("team/proj/model:v3")
    assert torch_hub_ref("pytorch/vision") == (True, None)
    assert torch_hub_ref("pytorch/vision:v0.16.0") == (True, "v0.16.0")
    assert torch_hub_ref("./local_dir") is None


def test_literals_follow_names_fstrings_and_concatenation() -> None:
    import ast

    tree = ast.parse('NAME = "churn"\nSTAGE = "Production"\nN = 4\n')
    sem = SemanticModel(tree)
    for stmt in tree.body:
        sem.on_assign(stmt)  # type: ignore[arg-type]

    def expr(src: str) -> ast.AST:
        return ast.parse(src, mode="eval").body

    assert const_str(sem, expr('f"models:/{NAME}/{STAGE}"')) == "models:/churn/Production"
    assert const_str(sem, expr('"models:/" + NAME + "/latest"')) == "models:/churn/latest"
    assert str_template(sem, expr('f"models:/{name}/x"')) == f"models:/{HOLE}/x"
    assert const_str(sem, expr('f"models:/{name}/x"')) is None
    assert str_template(sem, expr("some_call()")) is None
    assert const_int(sem, expr("N")) == 4
    assert const_int(sem, expr("True")) is None


# --- robustness ---------------------------------------------------------------------------

ODD_CODE = """
#!/usr/bin/env python
import numpy as np, torch, mlflow, random
from torch.utils.data import DataLoader
from transformers import pipeline, AutoModel
f()()
(lambda: 1)()
np.random.rand(*shape)
random.seed(*args)
DataLoader(*loader_args, shuffle=True)
DataLoader(ds, shuffle=True, num_workers=-1, generator=None)
torch.hub.load(**hub_kwargs)
torch.hub.load(b"bytes", "x")
pipeline()
pipeline(task=None, model=None)
AutoModel.from_pretrained()
AutoModel.from_pretrained(None, revision=None)
mlflow.pyfunc.load_model(b"models:/x/Production")
mlflow.pyfunc.load_model("models:/" + 3)
mlflow.pyfunc.load_model(f"{x!r:>{width}}")
items[0](1).fit()
torch.backends.cudnn.benchmark, other = True, False
os.environ[key] = "1"
for x in loader:
    x.backward()
    opt.step()
"""


def test_odd_code_never_breaks_the_rules() -> None:
    assert internal_errors(ODD_CODE) == []


# --- the example project (`make demo`) ----------------------------------------------------

EXAMPLES = ROOT / "examples"


def _lint(path: Path) -> list:
    cfg = Config()
    cfg.root = EXAMPLES
    return lint_path(path, cfg)


def test_demo_project_shows_every_reproducibility_rule() -> None:
    codes: set[str] = set()
    for path in sorted((EXAMPLES / "training").glob("*.py")):
        if not path.name.endswith("_clean.py"):
            codes.update(f.code for f in _lint(path))
    assert set(REPRO) <= codes, sorted(set(REPRO) - codes)


def test_demo_clean_files_are_silent_for_reproducibility_rules() -> None:
    for path in sorted(EXAMPLES.rglob("*_clean.py")):
        assert [f.location() + " " + f.code for f in _lint(path) if f.code in REPRO] == [], path


def test_demo_project_has_no_internal_errors() -> None:
    paths = [p for p in sorted(EXAMPLES.rglob("*")) if p.suffix in (".py", ".ipynb")]
    assert paths
    for path in paths:
        assert [f.message for f in _lint(path) if f.code in ("ML000", "ML001")] == [], path


def test_entry_point_signals_beyond_the_main_guard() -> None:
    body = "import numpy as np\nx = np.random.rand(3)\n"
    assert len(found("# %%\n" + body, "ML101")) == 1  # percent-format cell script
    assert len(found(body + "args = parser.parse_args()\n", "ML101")) == 1
    assert len(found(body + "main()\n", "ML101")) == 1
    assert found(body + "def main():\n    parser.parse_args()\n", "ML101") == []
