"""Safe file writes for `--fix`, `--add-noqa` and baselines.

`atomic_write` writes a temporary file in the target's directory and renames
it over the target (`os.replace`), so a reader never sees a half-written file
and a crash leaves the original intact. The file mode is kept. A symlink is
written through to its target only when that target lies inside `root` (the
linted tree); a link pointing elsewhere is refused, never followed.
"""

from __future__ import annotations

import os
import stat
import tempfile
from pathlib import Path


class WriteError(Exception):
    """The file was not written (reason in the message); the original is intact."""


def _inside(path: Path, root: Path) -> bool:
    try:
        path.relative_to(root)
        return True
    except ValueError:
        return False


Roots = "str | Path | Sequence[str | Path] | None"


def _roots(root) -> list[Path]:
    if root is None:
        return []
    if isinstance(root, (str, Path)):
        return [Path(root).resolve()]
    return [Path(r).resolve() for r in root]


def resolve_target(path: str | Path, root: Roots = None) -> Path:
    """The real file to write for `path`. When a symlink (the file or a
    directory above it) leads somewhere else, the real target must lie inside
    `root` (one directory or several: the linted tree); with no root, a
    symlinked file is refused."""
    p = Path(path)
    real = p.resolve()
    if real == p.absolute():
        return p
    roots = _roots(root)
    if not roots:
        if p.is_symlink():
            raise WriteError(f"{path}: is a symlink (to {real}); not written")
        return p
    if not any(_inside(real, r) for r in roots):
        raise WriteError(f"{path}: is a symlink to {real}, outside the linted tree; not written")
    return real


def atomic_write(
    path: str | Path,
    data: bytes,
    root: Roots = None,
    expected: bytes | None = None,
) -> None:
    """Replace the contents of `path` with `data` atomically.

    `expected`: the bytes the caller read; if the file changed on disk since,
    the write is refused (someone else edited it meanwhile)."""
    target = resolve_target(path, root)
    st: os.stat_result | None
    try:
        st = target.stat()
    except FileNotFoundError:
        st = None
    except OSError as exc:
        raise WriteError(f"{path}: cannot stat: {exc.strerror or exc}") from None
    mode = stat.S_IMODE(st.st_mode) if st is not None else None
    if st is not None and not os.access(target, os.W_OK):
        raise WriteError(f"{path}: is read-only; not written")
    if expected is not None:
        try:
            current = target.read_bytes()
        except OSError as exc:
            raise WriteError(f"{path}: cannot re-read before writing: {exc.strerror or exc}") from None
        if current != expected:
            raise WriteError(f"{path}: changed on disk while mllint was working on it; not written")
    directory = target.parent
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".mllint-tmp", dir=directory)
    except OSError as exc:
        raise WriteError(f"{path}: cannot create a temporary file in {directory}: {exc.strerror or exc}") from None
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        if mode is not None:
            os.chmod(tmp, mode)
        if st is not None and hasattr(os, "chown"):
            try:  # keep the owner when running with the rights to do so
                os.chown(tmp, st.st_uid, st.st_gid)
            except OSError:
                pass
        os.replace(tmp, target)
    except BaseException as exc:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        if isinstance(exc, OSError):
            raise WriteError(f"{path}: cannot write: {exc.strerror or exc}") from None
        raise
