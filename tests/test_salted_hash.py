"""ML110 salted-hash-seed: what the fixtures cannot say (messages, the call
filter's near misses, spellings, the request-handler part)."""

from __future__ import annotations

import textwrap

from helpers import lint

from mllint.rules.salted_hash import SaltedHashSeed


def _ml110(src: str) -> list:
    return [f for f in lint(textwrap.dedent(src)) if f.code == "ML110"]


def lines(src: str) -> list[int]:
    return [f.line for f in _ml110(src)]


def test_message_suggests_a_stable_hash_with_the_same_bucket() -> None:
    (f,) = _ml110("def v(user_id: str):\n    return hash(user_id) % 100 < 50\n")
    assert "`zlib.crc32(user_id.encode()) % 100`" in f.message and "PYTHONHASHSEED" in f.message
    (g,) = _ml110("import random\ndef v(u):\n    random.seed(hash(u))\n")
    assert "`zlib.crc32(str(u).encode())`" in g.message  # type unknown: str() first


def test_aliased_star_and_attribute_spellings_reach_the_rule() -> None:
    src = """
    import random as r
    from numpy.random import default_rng as make_rng
    from random import *
    import torch

    def f(name):
        r.seed(hash(name))
        g = make_rng(hash(name))
        seed(hash(name))
        torch.cuda.manual_seed_all(hash(name) % 2**31)
        return random_split(ds, [0.8, 0.2], generator=torch.Generator().manual_seed(hash(name)))
    """
    assert lines(src) == [8, 9, 10, 11, 12]


def test_not_the_builtin_hash_or_a_number() -> None:
    src = """
    import random
    from xxhash import xxh64_intdigest as hash

    def f(name, n: int, x: float):
        random.seed(hash(name))
        return hash(name) % 100

    def g(name, hash=None):
        return hash(name) % 100

    def h(n: int, x: float, k):
        return hash(n) % 10, hash((n, x)) % 10, hash(-n) % 3, hash(n * 2 + 1) % 3, k.hash(n) % 2
    """
    assert lines(src) == []


def test_a_seed_assigned_from_a_hash_is_reported_where_it_is_used() -> None:
    src = """
    import numpy as np

    def f(name):
        seed = hash(name) % 2**32
        other = seed + 1
        rng = np.random.default_rng(other)
        return rng
    """
    (f,) = _ml110(src)
    assert f.line == 7 and "hash(name)" in f.message


def test_reseeding_inside_handlers_and_their_helpers() -> None:
    src = """
    import random
    import numpy as np
    from flask import Flask

    app = Flask(__name__)
    random.seed(0)

    def helper(user_id):
        np.random.seed(7)
        return np.random.rand()

    @app.route("/ab/<user_id>")
    def ab(user_id):
        random.seed(hash(user_id))
        return {"v": random.random(), "x": helper(user_id)}
    """
    found = {f.line: f.message for f in _ml110(src)}
    assert sorted(found) == [10, 15]
    assert "inside request handler `ab`" in found[15] and "seeds from `hash(user_id)`" in found[15]
    assert "reseeds NumPy's global random state inside request handler `ab`" in found[10]
    # the same functions without a web framework: only the salted seed
    plain = src.replace("from flask import Flask", "").replace("app = Flask(__name__)", "").replace('@app.route("/ab/<user_id>")', "")
    assert lines(plain) == [15 - 0]


def test_call_filter_covers_the_seed_spellings() -> None:
    names = SaltedHashSeed.call_names or frozenset()
    for name in ("hash", "seed", "manual_seed", "default_rng", "Random", "RandomState", "PRNGKey", "seed_everything", "set_seed"):
        assert name in names
    assert SaltedHashSeed.call_keywords == frozenset({"seed", "random_state", "random_seed"})
    # project helpers are recognised by the look of their name
    src = "def f(cfg):\n    seed_all(hash(cfg.name))\n    fix_seeds(hash(cfg.name))\n    configure(hash(cfg.name))\n"
    assert lines(src) == [2, 3]


def test_configured_seed_helpers_take_a_seed() -> None:
    src = "from myproj.repro import init_everything\ndef f(name):\n    init_everything(hash(name))\n"
    assert lines(src) == []
    assert [f.line for f in lint(src, seed_helpers=["myproj.repro.init_everything"]) if f.code == "ML110"] == [3]
