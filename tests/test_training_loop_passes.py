"""ML302/ML303 on exports and validation passes: the spellings and near
misses the fixtures do not show."""

from __future__ import annotations

import textwrap

from helpers import lint

HEAD = """
import torch
import torch.nn as nn
model = nn.Sequential(nn.Linear(8, 8), nn.Dropout(0.5), nn.Linear(8, 2))
"""


def lines(body: str, code: str) -> list[int]:
    return [f.line for f in lint(textwrap.dedent(HEAD) + textwrap.dedent(body)) if f.code == code]


def test_export_spellings() -> None:
    assert lines("from torch.onnx import export as to_onnx\nto_onnx(model, torch.randn(1, 8), 'm.onnx')\n", "ML302") == [6]
    assert lines("torch.jit.script(model).save('m.pt')\n", "ML302") == [5]
    assert lines("torch.jit.save(torch.jit.script(model), 'm.pt')\n", "ML302") == [5]
    assert lines("s = torch.jit.script(model)\nimport mlflow\nmlflow.pytorch.log_model(s, 'm')\n", "ML302") == []
    assert lines("torch.onnx.export(model=model, args=(torch.randn(1, 8),), f='m.onnx')\n", "ML302") == [5]


def test_onnx_exporter_modes() -> None:
    preserve = "torch.onnx.export(model, torch.randn(1, 8), 'm.onnx', dynamo=False, training=torch.onnx.TrainingMode.PRESERVE)\n"
    assert lines(preserve, "ML302") == [5]
    legacy_eval = "torch.onnx.export(model, torch.randn(1, 8), 'm.onnx', dynamo=False, training=torch.onnx.TrainingMode.EVAL)\n"
    assert lines(legacy_eval, "ML302") == []
    # on the dynamo exporter `training=` is ignored: the module's own mode is exported
    dynamo_eval = "torch.onnx.export(model, torch.randn(1, 8), 'm.onnx', dynamo=True, training=torch.onnx.TrainingMode.EVAL)\n"
    assert lines(dynamo_eval, "ML302") == [5]
    assert lines("model.train(False)\ntorch.jit.trace(model, torch.randn(1, 8))\n", "ML302") == []
    assert lines("model.train(mode=False)\ntorch.jit.trace(model, torch.randn(1, 8))\n", "ML302") == []


LOOP = """
opt = torch.optim.SGD(model.parameters(), lr=0.1)
for epoch in range(3):
    model.train()
    for x, y in train_loader:
        opt.zero_grad()
        nn.functional.cross_entropy(model(x), y).backward()
        opt.step()
    {switch}
    {context}
        for x, y in {data}:
            model(x)
"""


def _loop(switch: str = "model.eval()", context: str = "if True:", data: str = "val_loader") -> str:
    return LOOP.format(switch=switch, context=context, data=data)


def test_validation_pass_modes() -> None:
    assert lines(_loop("pass"), "ML302") == [16]
    assert lines(_loop("model.train(mode=False)"), "ML302") == []
    assert lines(_loop("model.train(False)"), "ML302") == []
    assert lines(_loop("model.train(epoch < 0)"), "ML302") == []  # unknown mode: not judged
    assert lines(_loop("pass", data="loader"), "ML302") == []  # not named for evaluation
    assert lines(_loop("pass", data="zip(train_loader, val_loader)"), "ML302") == []


def test_validation_pass_autograd() -> None:
    assert lines(_loop(), "ML303") == [16]
    assert lines(_loop(context="with torch.no_grad():"), "ML303") == []
    assert lines(_loop(context="with torch.set_grad_enabled(epoch < 0):"), "ML303") == []
    assert lines(_loop(context="with torch.autograd.grad_mode.inference_mode():"), "ML303") == []
    assert lines(_loop(data='dataloaders["test"]'), "ML303") == [16]
    assert lines(_loop(data="enumerate(tqdm(valid_dl))"), "ML303") == [16]


def test_unknown_mode_counts_as_switched_for_exports() -> None:
    assert lines("model.train(is_training)\ntorch.jit.trace(model, torch.randn(1, 8))\n", "ML302") == []
    assert lines("model.train()\ntorch.jit.trace(model, torch.randn(1, 8))\n", "ML302") == [6]


def test_a_helper_that_switches_its_argument_counts() -> None:
    helper = "def prepare(m):\n    m.eval()\n    return m\n"
    assert lines(helper + "model = prepare(model)\ntorch.jit.trace(model, torch.randn(1, 8))\n", "ML302") == []
    assert lines(helper + "prepare(model)\nwith torch.no_grad():\n    model(torch.randn(1, 8))\n", "ML302") == []
    other = "def log(m):\n    print(m)\n"
    assert lines(other + "log(model)\ntorch.jit.trace(model, torch.randn(1, 8))\n", "ML302") == [8]
