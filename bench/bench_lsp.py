"""Language server latency: time from `textDocument/didChange` to the
`textDocument/publishDiagnostics` for that version, on a 2,000-line training
script, with a real LSP client (pygls) talking to `mllint server` over stdio.

    .venv/bin/python bench/bench_lsp.py              # 80 edits, prints a table
    .venv/bin/python bench/bench_lsp.py --edits 200 --lines 2000 --json

Each edit is what an editor sends while typing: an incremental change (one
character typed into, then deleted from, a variable name inside a function
body, at a different place each time: the text stays valid Python, so each
change needs a full analysis), sent after the diagnostics of the previous
edit arrived plus a pause (default 120 ms, a fast typist). 100 ms is the bar
for "interactive".
"""

from __future__ import annotations

import argparse
import asyncio
import json
import platform
import random
import statistics
import sys
import time
from pathlib import Path

from lsprotocol import types
from pygls.lsp.client import LanguageClient

SECTION = '''

# ---------------------------------------------------------------------------
# Experiment {i}: {name}
# ---------------------------------------------------------------------------


class {cls}Dataset(Dataset):
    """Rows of the {name} table as tensors; labels are the last column."""

    def __init__(self, frame: pd.DataFrame, target: str = "label"):
        self.features = torch.tensor(frame.drop(columns=[target]).to_numpy(), dtype=torch.float32)
        self.labels = torch.tensor(frame[target].to_numpy(), dtype=torch.long)

    def __len__(self) -> int:
        return len(self.labels)

    def __getitem__(self, index: int):
        return self.features[index], self.labels[index]


class {cls}Net(nn.Module):
    def __init__(self, n_features: int, n_classes: int, hidden: int = {hidden}):
        super().__init__()
        self.body = nn.Sequential(
            nn.Linear(n_features, hidden),
            nn.ReLU(),
            nn.Dropout(0.1),
            nn.Linear(hidden, hidden),
            nn.ReLU(),
        )
        self.head = nn.Linear(hidden, n_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.body(x))


def load_{fn}(path: str = "data/{fn}.csv") -> pd.DataFrame:
    """Read the raw table and drop rows without a label."""
    frame = pd.read_csv(path)
    frame = frame.dropna(subset=["label"])
    logger.info("loaded %d rows from %s", len(frame), path)
    return frame


def split_{fn}(frame: pd.DataFrame, seed: int = SEED):
    train, test = train_test_split(frame, test_size=0.2, random_state=seed, stratify=frame["label"])
    train, valid = train_test_split(train, test_size=0.1, random_state=seed, stratify=train["label"])
    return train, valid, test


def baseline_{fn}(train: pd.DataFrame, test: pd.DataFrame) -> float:
    """A gradient-boosting baseline to compare the network against."""
    model = make_pipeline(StandardScaler(), GradientBoostingClassifier(n_estimators={trees}, random_state=SEED))
    model.fit(train.drop(columns=["label"]), train["label"])
    predictions = model.predict(test.drop(columns=["label"]))
    return f1_score(test["label"], predictions, average="macro")


def train_{fn}(config: TrainConfig, device: str = "cpu") -> dict:
    frame = load_{fn}()
    train, valid, test = split_{fn}(frame)
    train_loader = DataLoader({cls}Dataset(train), batch_size=config.batch_size, shuffle=True)
    valid_loader = DataLoader({cls}Dataset(valid), batch_size=config.batch_size)
    model = {cls}Net(train.shape[1] - 1, int(frame["label"].nunique())).to(device)
    optimizer = torch.optim.AdamW(model.parameters(), lr=config.lr, weight_decay=config.weight_decay)
    criterion = nn.CrossEntropyLoss()
    best, history = 0.0, []
    for epoch in range(config.epochs):
        model.train()
        running = 0.0
        for inputs, targets in train_loader:
            inputs, targets = inputs.to(device), targets.to(device)
            optimizer.zero_grad()
            loss = criterion(model(inputs), targets)
            loss.backward()
            optimizer.step()
            running += loss.item()
        model.eval()
        correct = total = 0
        with torch.no_grad():
            for inputs, targets in valid_loader:
                logits = model(inputs.to(device))
                correct += (logits.argmax(dim=1) == targets.to(device)).sum().item()
                total += len(targets)
        accuracy = correct / max(total, 1)
        history.append({{"epoch": epoch, "loss": running / len(train_loader), "accuracy": accuracy}})
        if accuracy > best:
            best = accuracy
            torch.save(model.state_dict(), f"checkpoints/{fn}_best.pt")
        logger.info("epoch %d loss %.4f accuracy %.4f", epoch, running / len(train_loader), accuracy)
    return {{"best": best, "history": history, "baseline": baseline_{fn}(train, test)}}
'''

HEADER = '''"""Train the tabular classifiers of the churn project and their baselines.

Run: python train.py --epochs 20
"""

from __future__ import annotations

import argparse
import logging
import random
from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch
from sklearn.ensemble import GradientBoostingClassifier
from sklearn.metrics import f1_score
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from torch import nn
from torch.utils.data import DataLoader, Dataset

logger = logging.getLogger(__name__)
SEED = 1234
random.seed(SEED)
np.random.seed(SEED)
torch.manual_seed(SEED)


@dataclass
class TrainConfig:
    epochs: int = 20
    batch_size: int = 256
    lr: float = 3e-4
    weight_decay: float = 0.01
'''

FOOTER = '''

def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--epochs", type=int, default=20)
    args = parser.parse_args()
    config = TrainConfig(epochs=args.epochs)
    results = {{}}
{calls}
    for name, result in results.items():
        logger.info("%s: best %.4f baseline %.4f", name, result["best"], result["baseline"])


if __name__ == "__main__":
    main()
'''

NAMES = ["churn", "fraud", "credit", "retention", "upsell", "claims", "default", "returns", "engagement", "support"]


def training_script(target_lines: int) -> str:
    """Header, as many experiment sections as fit, and the `main()` that runs
    them all behind `if __name__ == "__main__":`, padded with blank lines
    between sections to `target_lines` lines. The footer is never cut: a
    script that ends mid-`main()` would not be a realistic training script
    (and, without its entry point, analyses differently)."""

    def n_lines(s: str) -> int:
        return s.count("\n") + 1

    def section(i: int) -> tuple[str, str]:
        name = f"{NAMES[i % len(NAMES)]}_{i}"
        cls = "".join(w.title() for w in name.split("_"))
        return name, SECTION.format(i=i, name=name, cls=cls, fn=name, hidden=64 + 32 * (i % 4), trees=100 + i)

    def footer(fns: list[str]) -> str:
        return FOOTER.format(calls="\n".join(f'    results["{f}"] = train_{f}(config)' for f in fns))

    parts, fns = [HEADER], []
    while True:
        name, text = section(len(fns))
        if n_lines("".join([*parts, text]) + footer([*fns, name])) > target_lines:
            break
        parts.append(text)
        fns.append(name)
    body = "".join(parts)
    pad = max(0, target_lines - n_lines(body + footer(fns)))
    return body + "\n" * pad + footer(fns)


def edit_points(text: str, rng: random.Random, n: int) -> list[tuple[int, int]]:
    """(line, column) positions just after an assignment target inside a
    function body (`running| = 0.0`): typing there renames the variable, so
    every change leaves valid Python with a different tree, the case that
    needs a full analysis (a change that breaks the syntax is cheaper: one
    ML000)."""
    lines = text.split("\n")
    out = []
    for i, line in enumerate(lines):
        stripped = line.strip()
        if line.startswith("        ") and " = " in line and stripped.split(" = ")[0].isidentifier():
            out.append((i, line.index(" = ")))
    return rng.sample(out, min(n, len(out)))


class BenchClient(LanguageClient):
    def __init__(self) -> None:
        super().__init__("mllint-bench", "1")
        self.arrivals: dict[tuple[str, int], float] = {}
        self.events: dict[tuple[str, int], asyncio.Event] = {}
        self.counts: dict[tuple[str, int], int] = {}

        @self.feature(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
        def publish(ls: BenchClient, params: types.PublishDiagnosticsParams) -> None:
            key = (params.uri, params.version if params.version is not None else -1)
            ls.arrivals.setdefault(key, time.perf_counter())
            ls.counts[key] = len(params.diagnostics)
            ls.events.setdefault(key, asyncio.Event()).set()

    async def wait(self, uri: str, version: int, timeout: float = 30.0) -> float:
        event = self.events.setdefault((uri, version), asyncio.Event())
        await asyncio.wait_for(event.wait(), timeout)
        return self.arrivals[(uri, version)]


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    k = max(0, min(len(ordered) - 1, int(round(p / 100 * len(ordered) + 0.5)) - 1))
    return ordered[k]


def changes(kind: str, line: int, col: int) -> tuple:
    """The two changes made at an edit point: "rename" types one character
    into the variable name and deletes it again; "newline" breaks the line
    after the name (`running` / `= 0.0` on the next line, still valid
    Python) and joins it again, so every later line moves: the case the
    incremental analysis cannot reuse much of."""
    at = types.Range(start=types.Position(line, col), end=types.Position(line, col))
    if kind == "newline":
        return (
            types.TextDocumentContentChangePartial(range=at, text=" \\\n       "),
            types.TextDocumentContentChangePartial(
                range=types.Range(start=types.Position(line, col), end=types.Position(line + 1, 7)), text=""
            ),
        )
    return (
        types.TextDocumentContentChangePartial(range=at, text="x"),
        types.TextDocumentContentChangePartial(
            range=types.Range(start=types.Position(line, col), end=types.Position(line, col + 1)), text=""
        ),
    )


async def run(n_edits: int, n_lines: int, pause: float, workdir: Path, kind: str = "rename") -> dict:
    text = training_script(n_lines)
    path = workdir / "train.py"
    path.write_text(text)
    uri = path.as_uri()
    # Every rule, opt-in ones included: the latency of the full rule set
    # (and the same work as before the default rule set existed).
    (workdir / ".mllint.yaml").write_text("select: [ALL]\n", encoding="utf-8")
    client = BenchClient()
    await client.start_io(sys.executable, "-m", "mllint", "server")
    await client.initialize_async(
        types.InitializeParams(
            capabilities=types.ClientCapabilities(
                text_document=types.TextDocumentClientCapabilities(
                    publish_diagnostics=types.PublishDiagnosticsClientCapabilities(version_support=True)
                )
            ),
            root_uri=workdir.as_uri(),
        )
    )
    client.initialized(types.InitializedParams())
    t0 = time.perf_counter()
    client.text_document_did_open(
        types.DidOpenTextDocumentParams(types.TextDocumentItem(uri=uri, language_id="python", version=1, text=text))
    )
    open_ms = (await client.wait(uri, 1) - t0) * 1000
    rng = random.Random(42)
    points = edit_points(text, rng, n_edits)
    latencies: list[float] = []
    version = 1
    for line, col in points:
        for change in changes(kind, line, col):
            await asyncio.sleep(pause)
            version += 1
            start = time.perf_counter()
            client.text_document_did_change(
                types.DidChangeTextDocumentParams(
                    text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=version), content_changes=[change]
                )
            )
            latencies.append((await client.wait(uri, version) - start) * 1000)
    findings = client.counts.get((uri, version), 0)
    await client.shutdown_async(None)
    client.exit(None)
    await client.stop()
    return {
        "lines": text.count("\n") + 1,
        "diagnostics": findings,
        "edits": len(latencies),
        "open_ms": round(open_ms, 1),
        "p50_ms": round(statistics.median(latencies), 1),
        "p95_ms": round(pct(latencies, 95), 1),
        "max_ms": round(max(latencies), 1),
        "mean_ms": round(statistics.fmean(latencies), 1),
        "python": platform.python_version(),
    }


def in_process(n_points: int, n_lines: int) -> dict:
    """The same edits analysed in this process, without LSP: how much of the
    latency is the analysis itself (wall and CPU time of `analyse_python`,
    incremental parse included)."""
    from mllint.core.config import Config
    from mllint.engine.incremental import StatementCache
    from mllint.engine.runner import tune_gc
    from mllint.lsp.analysis import analyse_python
    from mllint.lsp.parse import IncrementalParser
    from mllint.lsp.server import parallel_rule_groups
    from mllint.lsp.worker import RuleWorker

    tune_gc()  # the collector settings of the server process
    text = training_script(n_lines)
    points = edit_points(text, random.Random(42), n_points)
    parser = IncrementalParser()
    cache = StatementCache()
    config = Config(select=["ALL"])  # every rule, as the server runs with select = ["ALL"]
    # As the server: module-scoped rules in two child processes.
    workers = [RuleWorker(group) for group in parallel_rule_groups()]
    analyse_python("file:///train.py", None, text, 1, config, "utf-16", parser, cache=cache, workers=workers)
    wall: list[float] = []
    cpu: list[float] = []
    lines = text.split("\n")
    for line, col in points:
        for new in (lines[line][:col] + "x" + lines[line][col:], lines[line]):
            edited = "\n".join([*lines[:line], new, *lines[line + 1 :]])
            w, c = time.perf_counter(), time.thread_time()
            analyse_python("file:///train.py", None, edited, 2, config, "utf-16", parser, cache=cache, workers=workers)
            wall.append((time.perf_counter() - w) * 1000)
            cpu.append((time.thread_time() - c) * 1000)
    for worker in workers:
        worker.close()
    return {
        "analysis_p50_ms": round(statistics.median(wall), 1),
        "analysis_p95_ms": round(pct(wall, 95), 1),
        "analysis_cpu_p50_ms": round(statistics.median(cpu), 1),
    }


def parts(n_points: int, n_lines: int) -> dict:
    """CPU time per change (p50, ms) of each part the server splits an
    analysis into, each run on its own in this process: the server's own
    rules (statement-scoped, incremental), the leakage analysis (calls
    remembered), the other module-scoped rules."""
    from mllint.core.config import Config
    from mllint.core.sources import Source
    from mllint.engine.incremental import StatementCache
    from mllint.engine.lint import RuleSet, lint_source
    from mllint.engine.runner import tune_gc
    from mllint.lsp.parse import IncrementalParser
    from mllint.lsp.server import parallel_rule_groups
    from mllint.rules.base import registered_rules

    tune_gc()
    by_name = {rc.__name__: rc for rc in registered_rules()}
    config = Config(select=["ALL"])  # every rule, as the server runs with select = ["ALL"]
    leakage, others = parallel_rule_groups()
    every = RuleSet.for_config(config).classes
    groups = {
        "server_rules_cpu_ms": [rc for rc in every if rc.__name__ not in (*leakage, *others)],
        "leakage_child_cpu_ms": [by_name[n] for n in leakage],
        "module_rules_child_cpu_ms": [by_name[n] for n in others],
    }
    text = training_script(n_lines)
    lines = text.split("\n")
    edits = [
        "\n".join([*lines[:line], new, *lines[line + 1 :]])
        for line, col in edit_points(text, random.Random(42), n_points)
        for new in (lines[line][:col] + "x" + lines[line][col:], lines[line])
    ]
    out = {}
    for name, classes in groups.items():
        parser, cache = IncrementalParser(), StatementCache()
        lint_source(Source(path="t.py", text=text), config, rule_classes=classes, tree=parser.parse(text), incremental=cache)
        cpu = []
        for edited in edits:
            c = time.thread_time()
            lint_source(Source(path="t.py", text=edited), config, rule_classes=classes, tree=parser.parse(edited), incremental=cache)
            cpu.append((time.thread_time() - c) * 1000)
        out[name] = round(statistics.median(cpu), 1)
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--edits", type=int, default=40, help="edit points; each is typed then deleted (2 changes)")
    p.add_argument("--lines", type=int, default=2000)
    p.add_argument("--pause", type=float, default=0.12, help="seconds between changes")
    p.add_argument(
        "--kind", choices=("rename", "newline"), default="rename",
        help="rename: type into a name and delete it (the default); newline: break the line and join it (later lines move)",
    )
    p.add_argument("--json", action="store_true")
    p.add_argument("--no-breakdown", action="store_true", help="skip the in-process analysis timing")
    args = p.parse_args(argv)
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        result = asyncio.run(run(args.edits, args.lines, args.pause, Path(tmp), args.kind))
    result["kind"] = args.kind
    if not args.no_breakdown and args.kind == "rename":
        result.update(in_process(args.edits, args.lines))
        result.update(parts(min(args.edits, 20), args.lines))
    if args.json:
        print(json.dumps(result))
    else:
        print(f"lines {result['lines']}, diagnostics {result['diagnostics']}, changes {result['edits']}")
        print(f"open->diagnostics {result['open_ms']} ms")
        print(
            f"didChange->diagnostics: p50 {result['p50_ms']} ms, p95 {result['p95_ms']} ms, "
            f"max {result['max_ms']} ms, mean {result['mean_ms']} ms"
        )
        if "analysis_p50_ms" in result:
            print(
                f"of which analysis (in process, same edits): p50 {result['analysis_p50_ms']} ms, "
                f"p95 {result['analysis_p95_ms']} ms, CPU p50 {result['analysis_cpu_p50_ms']} ms"
            )
            print(
                f"CPU per change, p50, by part: server {result['server_rules_cpu_ms']} ms, leakage child "
                f"{result['leakage_child_cpu_ms']} ms, module-rules child {result['module_rules_child_cpu_ms']} ms"
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
