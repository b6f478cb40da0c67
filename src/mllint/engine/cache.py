"""A content-hash cache of per-file results, so an unchanged file is not
analysed again.

An entry's key is sha256 over: the file's bytes, the path as given (findings
carry it, per-file-ignores match on it), and a *salt* made of everything else
that can change a result: the mllint version, the catalogue fingerprint, a
hash of mllint's own source code (so an editable install never serves stale
results after a rule is edited), the Python minor version (its `ast`), and
every config setting except the ones that only steer the run (`jobs`,
`cache-dir`, `fail-on`).

Entries are JSON (never pickle: a cache directory that came with a checkout
must not be able to run code), one file per key under `<dir>/v1/<aa>/<key>.json`,
written to a temporary file and moved into place with `os.replace`, so two
processes writing at once leave one complete entry, never a torn one. A
missing, corrupt, foreign or unreadable entry is a miss, never an error; a
cache directory that cannot be written disables writing silently.
Results that contain an internal error (ML001) are not stored.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
import tempfile
from dataclasses import dataclass, fields
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

from mllint.core.findings import Finding
from mllint.core.version import __version__

if TYPE_CHECKING:
    from mllint.core.config import Config
    from mllint.engine.runner import FileResult

FORMAT = "v1"
DEFAULT_DIR_NAME = ".mllint_cache"
# Settings that steer the run but never change a file's findings.
RUN_ONLY_SETTINGS = frozenset({"jobs", "cache_dir", "fail_on"})


# ---------------------------------------------------------------------------
# Fingerprints
# ---------------------------------------------------------------------------

def config_fingerprint(config: "Config") -> str:
    data = config.model_dump(mode="json", exclude=set(RUN_ONLY_SETTINGS), by_alias=False)
    data["__root__"] = str(config.root) if config.root is not None else None
    blob = json.dumps(data, sort_keys=True, default=str)
    return hashlib.sha256(blob.encode()).hexdigest()


PACKAGE_DIR = Path(__file__).resolve().parent.parent  # the mllint package


@lru_cache(maxsize=4)
def code_fingerprint(pkg: Path = PACKAGE_DIR) -> str:
    """Hash of every .py file of the mllint package (once per process)."""
    h = hashlib.sha256()
    for path in sorted(pkg.rglob("*.py")):
        try:
            data = path.read_bytes()
        except OSError:
            continue
        h.update(path.relative_to(pkg).as_posix().encode())
        h.update(b"\0")
        h.update(hashlib.sha256(data).digest())
    return h.hexdigest()


def make_salt(
    config: "Config",
    catalog_fingerprint: str,
    version: str = __version__,
    code: str | None = None,
) -> str:
    parts = [
        FORMAT,
        version,
        catalog_fingerprint,
        code if code is not None else code_fingerprint(),
        f"{sys.version_info[0]}.{sys.version_info[1]}",
        config_fingerprint(config),
    ]
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()


def default_cache_dir(config: "Config") -> Path:
    root = config.root or Path.cwd()
    if config.cache_dir:
        d = Path(config.cache_dir).expanduser()
        return d if d.is_absolute() else root / d
    return root / DEFAULT_DIR_NAME


# ---------------------------------------------------------------------------
# (De)serialisation of results: `Finding.to_dict` / `Finding.from_dict`
# ---------------------------------------------------------------------------

_FINDING_FIELDS = frozenset(f.name for f in fields(Finding))


def _finding_from_entry(d: dict[str, Any]) -> Finding:
    """A finding of a cache entry: every field present (an entry written by
    another version of Finding is a miss), then `Finding.from_dict`."""
    if not isinstance(d, dict) or set(d) != _FINDING_FIELDS:
        raise ValueError("entry written by another version of Finding")
    return Finding.from_dict(d)


# ---------------------------------------------------------------------------
# The cache
# ---------------------------------------------------------------------------

@dataclass
class ResultCache:
    """Entries for one salt under one directory."""

    directory: Path
    salt: str

    def key(self, path: str, data: bytes) -> str:
        h = hashlib.sha256()
        h.update(self.salt.encode())
        h.update(b"\0")
        h.update(path.encode("utf-8", "surrogateescape"))
        h.update(b"\0")
        h.update(data)
        return h.hexdigest()

    def _entry(self, key: str) -> Path:
        return self.directory / FORMAT / key[:2] / f"{key}.json"

    def get(self, key: str) -> "FileResult | None":
        from mllint.engine.runner import FileResult

        try:
            raw = self._entry(key).read_bytes()
            doc = json.loads(raw)
            if not isinstance(doc, dict) or doc.get("key") != key:
                return None  # foreign or hand-edited entry
            findings = [_finding_from_entry(d) for d in doc["findings"]]
            info = doc.get("info")
            return FileResult(str(doc["path"]), findings, None if info is None else str(info))
        except Exception:  # missing, unreadable, corrupt: all a miss
            return None

    def put(self, key: str, result: "FileResult") -> bool:
        if any(f.code == "ML001" for f in result.findings):
            return False  # an internal error may be transient; never pin it
        doc = {
            "key": key,
            "path": result.path,
            "info": result.info,
            "findings": [f.to_dict() for f in result.findings],
        }
        entry = self._entry(key)
        tmp = None
        try:
            entry.parent.mkdir(parents=True, exist_ok=True)
            self._mark(self.directory)
            fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=".json", dir=entry.parent)
            with os.fdopen(fd, "wb") as fh:
                fh.write(json.dumps(doc, separators=(",", ":")).encode())
            os.replace(tmp, entry)
            tmp = None
            return True
        except (OSError, TypeError, ValueError):
            return False
        finally:
            if tmp is not None:
                try:
                    os.unlink(tmp)
                except OSError:
                    pass

    @staticmethod
    def _mark(directory: Path) -> None:
        """A .gitignore and CACHEDIR.TAG so the cache is never committed or backed up."""
        gi = directory / ".gitignore"
        if gi.exists():
            return
        try:
            gi.write_text("# created by mllint\n*\n", encoding="utf-8")
            (directory / "CACHEDIR.TAG").write_text(
                "Signature: 8a477f597d28d172789f06886806bc55\n# mllint result cache\n", encoding="utf-8"
            )
        except OSError:
            pass


def rules_fingerprint() -> str:
    """Which rule classes are registered (a plugin or a test may add one)."""
    from mllint.rules.base import registered_rules

    names = sorted(f"{c.__module__}.{c.__qualname__}:{','.join(c.codes)}" for c in registered_rules())
    return hashlib.sha256("\n".join(names).encode()).hexdigest()


def open_cache(config: "Config", directory: Path | None = None) -> ResultCache:
    from mllint.core.catalog import default_catalog

    salt = make_salt(config, default_catalog().fingerprint(), code=code_fingerprint() + rules_fingerprint())
    return ResultCache(Path(directory) if directory is not None else default_cache_dir(config), salt)


def _read(path: str) -> bytes | None:
    """The file's bytes, or None for anything that is not a readable regular
    file (a FIFO would block forever; the lint function reports why)."""
    from mllint.core.sources import SourceError, read_source_bytes

    try:
        return read_source_bytes(path)
    except (SourceError, OSError):
        return None


@dataclass
class CachedLint:
    """A per-file lint function (`runner.lint_files(lint=...)`) that consults
    the cache first. Picklable, so pool workers use it as they are."""

    cache: ResultCache
    inner: Callable[..., "FileResult"] | None = None

    def is_cached(self, path: str) -> bool:
        """Whether `path`'s current bytes have a readable entry (the runner
        answers such files in process, without a pool). The entry read here is
        kept for the call that follows, so a hit costs one read and one hash."""
        return self.probe(path)[2] is not None

    def probe(self, path: str) -> "tuple[bytes | None, str | None, FileResult | None]":
        """`path`'s bytes, their key and their entry: (None, None, None) for
        a file that cannot be read, (data, key, None) for a miss. A hit is
        kept for the call that follows (as `is_cached`); the Dask runner
        sends a miss's bytes or key on and stores its result under the key."""
        data = _read(path)
        if data is None:
            return None, None, None
        key = self.cache.key(path, data)
        hit = self.cache.get(key)
        if hit is not None:
            self._prefetched()[path] = hit
        return data, key, hit

    def _prefetched(self) -> "dict[str, FileResult]":
        d = self.__dict__.get("_hits")
        if d is None:
            d = self.__dict__["_hits"] = {}
        return d

    def __getstate__(self) -> dict:
        state = dict(self.__dict__)
        state.pop("_hits", None)  # hits are answered in the parent; workers get misses
        return state

    def __call__(self, path: str, config: "Config") -> "FileResult":
        from mllint.engine.runner import lint_file

        hit = self._prefetched().pop(path, None)
        if hit is not None:
            return hit
        inner = self.inner or lint_file
        data = _read(path)
        if data is None:
            return inner(path, config)  # reports why it cannot be read
        key = self.cache.key(path, data)
        hit = self.cache.get(key)
        if hit is not None:
            return hit
        result = inner(path, config, data=data)
        self.cache.put(key, result)
        return result
