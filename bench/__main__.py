"""`python -m bench`: download the pinned corpus and the peer tools into the
bench cache, measure everything in one run, print a table and rewrite the
generated block of docs/performance.md.

    python -m bench                   # the full run (make bench)
    python -m bench --smoke           # tiny generated corpus, installed peers only, no downloads
    python -m bench --no-docs         # print only
"""

from __future__ import annotations

import argparse
import os
import shlex
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def default_cache() -> Path:
    env = os.environ.get("MLLINT_BENCH_CACHE")
    if env:
        return Path(env).expanduser()
    base = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache"))
    return base / "mllint-bench"


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    p.add_argument("--cache-dir", type=Path, default=None, help="corpus, peer venvs and work files (default ~/.cache/mllint-bench)")
    p.add_argument("--smoke", action="store_true", help="tiny generated corpus; no downloads, no installs")
    p.add_argument("--doc", type=Path, default=REPO / "docs" / "performance.md", help="the document to update")
    p.add_argument("--no-docs", action="store_true", help="do not rewrite the document")
    p.add_argument("--no-peers", action="store_true", help="skip flake8, ruff and dslinter")
    p.add_argument("--skip-select-ml", action="store_true", help="skip the `flake8 --select ML` row")
    p.add_argument("--fraction", type=float, default=1.0,
                   help="measure a fixed random sample of this fraction of the corpus (all tools, same files)")
    p.add_argument("--rerender", action="store_true",
                   help="re-evaluate and re-render the last run's results (no measuring)")
    p.add_argument("--jobs", type=int, default=None, help="processes for the parallel rows (default: all cores)")
    args = p.parse_args(argv)

    sys.path.insert(0, str(REPO))
    from bench.corpus import build_corpus, tiny_corpus
    from bench.harness import run_benchmark
    from bench.peers import existing_peers, setup_peers
    from bench.report import markdown, text_table, update_document

    cache = (args.cache_dir or default_cache()).resolve()
    cache.mkdir(parents=True, exist_ok=True)
    if args.rerender:
        import json

        from bench.harness import Results, evaluate_targets

        res = Results.from_json(json.loads((cache / "last-results.json").read_text()))
        res.targets = evaluate_targets(res)
        print(text_table(res))
        if not args.no_docs:
            update_document(args.doc, markdown(res))
        return 0
    log = lambda msg: print(msg, file=sys.stderr, flush=True)  # noqa: E731
    if args.smoke:
        corpus = tiny_corpus(cache / "smoke-corpus")
        peers = {} if args.no_peers else existing_peers(default_cache() if args.cache_dir else cache)
    else:
        corpus = build_corpus(cache, log)
        if args.fraction < 1:
            full = len(corpus.python)
            corpus.python = corpus.sample(args.fraction, seed=11)
            corpus.notebooks = corpus.notebooks[:: max(1, round(1 / args.fraction))]
            corpus.description += (
                f" — a fixed random {args.fraction:.0%} sample ({len(corpus.python):,} of {full:,} Python files, "
                f"seed 11), every tool on the same sample"
            )
        peers = {} if args.no_peers else setup_peers(cache, log)
    res = run_benchmark(corpus, peers, cache / ("smoke-work" if args.smoke else "work"), jobs=args.jobs, log=log,
                        with_select_ml=not args.skip_select_ml, smoke=args.smoke)
    res.command = "make bench" if not argv and not args.smoke else "python -m bench " + shlex.join(argv or sys.argv[1:])
    for name, peer in peers.items():
        if not peer.available and peer.note:
            res.notes.append(f"{name}: {peer.note}")
    res.notes += NOTES
    print(text_table(res))
    import dataclasses
    import json

    (cache / "last-results.json").write_text(json.dumps(dataclasses.asdict(res), indent=1, default=str))
    if not args.no_docs:
        update_document(args.doc, markdown(res))
        log(f"wrote {args.doc}")
    return 0


NOTES = [
    "flake8 runs every installed plugin whatever `--select` says (`--select`/`--ignore` only filter what "
    "is reported), so \"flake8 without the plugin\" is flake8 in its own virtualenv without mllint installed. "
    "`flake8 --select ML` still runs pycodestyle and pyflakes; it only skips formatting their reports.",
    "The transformers and lightning sdists ship no notebooks, so the notebook rows use notebooks built from "
    "corpus modules (top-level statements split into cells, a markdown cell before every def/class).",
    "ruff is given one thread (RAYON_NUM_THREADS=1) in the one-process row.",
    "The dslinter row runs pylint with only dslinter's checkers enabled, on a fixed 100-file sample; the "
    "ratio compares it with `mllint check` on the same sample, both as whole commands.",
    "Peak RSS is the kernel's high-water mark of each command (`wait4`); it survives `exec`, so a value near "
    "the harness's own size (~45 MB) means \"at most that\".",
    "mllint is measured from a copy of `src/mllint` and `rules/` taken when the run starts (the tree was being "
    "edited during the run), with bytecode caching on, as an installed package has it.",
]


if __name__ == "__main__":
    raise SystemExit(main())
