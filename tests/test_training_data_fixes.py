"""The Fix objects attached by ML304, ML306, ML401 and ML405 (applied later by
mllint.fix.apply): checked here by applying their edits to the text directly."""

from __future__ import annotations

import textwrap

from helpers import lint


def _apply(text: str, fix) -> str:
    lines = text.split("\n")
    # apply from the end so earlier positions stay valid
    for e in sorted(fix.edits, key=lambda e: (e.line, e.col), reverse=True):
        assert e.line == e.end_line, "single-line edits expected here"
        row = lines[e.line - 1]
        lines[e.line - 1] = row[: e.col] + e.text + row[e.end_col :]
    return "\n".join(lines)


def _fixed(src: str, code: str) -> tuple[str, str]:
    src = textwrap.dedent(src).lstrip("\n")
    found = [f for f in lint(src) if f.code == code]
    assert len(found) == 1, found
    fix = found[0].fix
    assert fix is not None
    return _apply(src, fix), fix.applicability


def test_ml304_calls_the_module() -> None:
    out, kind = _fixed(
        """
        import torch.nn as nn
        net = nn.Sequential(nn.Linear(2, 2))
        y = net.forward(x, mask=m)
        """,
        "ML304",
    )
    assert "y = net(x, mask=m)" in out and kind == "safe"


def test_ml306_accumulates_detached() -> None:
    out, kind = _fixed(
        """
        import torch
        for x in loader:
            optimizer.zero_grad()
            loss = model(x).mean()
            loss.backward()
            optimizer.step()
            total += loss
        """,
        "ML306",
    )
    assert "total += loss.detach()" in out and kind == "safe"


def test_ml401_pandas_receiver_uses_isna() -> None:
    out, kind = _fixed(
        """
        import numpy as np
        import pandas as pd
        df = pd.read_csv("a.csv", dtype={"x": "float64"})
        rows = df[df["x"] != np.nan]
        """,
        "ML401",
    )
    assert 'rows = df[df["x"].notna()]' in out and kind == "unsafe"


def test_ml401_numpy_only_uses_isnan() -> None:
    out, _ = _fixed(
        """
        import numpy as np
        if value == np.nan:
            pass
        """,
        "ML401",
    )
    assert "if np.isnan(value):" in out


def test_ml401_no_fix_when_unsure() -> None:
    src = "import math\nif value != math.nan:\n    pass\n"
    found = [f for f in lint(src) if f.code == "ML401"]
    assert len(found) == 1 and found[0].fix is None


def test_ml405_to_numpy() -> None:
    out, kind = _fixed(
        """
        import pandas as pd
        df = pd.read_csv("a.csv", dtype={"x": "float64"})
        X = df[["x"]].values
        """,
        "ML405",
    )
    assert 'X = df[["x"]].to_numpy()' in out and kind == "safe"


def test_loop_positions_in_messages_use_cells_in_notebooks() -> None:
    from helpers import lint_notebook_text, notebook_from_cells

    nb = notebook_from_cells(
        [
            "import torch\nopt = torch.optim.SGD(m.parameters(), lr=0.1)",
            "for x in data:\n    m(x).sum().backward()\n    opt.step()",
        ]
    )
    found = [f for f in lint_notebook_text(nb) if f.code == "ML301"]
    assert len(found) == 1 and "cell 2, line 1" in found[0].message


def test_ml405_keeps_parentheses() -> None:
    out, _ = _fixed(
        """
        import pandas as pd
        a = pd.read_csv("a.csv", dtype={"x": "float64"})
        b = pd.read_csv("b.csv", dtype={"x": "float64"})
        total = (a[["x"]] + b[["x"]]).values
        """,
        "ML405",
    )
    assert 'total = (a[["x"]] + b[["x"]]).to_numpy()' in out
