"""Notebook-only rules (ML108, ML109).

Both read the notebook itself rather than the joined module: ML108 the
IPython commands recorded on each cell by the reader (`CellSpan.magics`, the
body of `%%bash`/`%%sh` cells), ML109 the saved execution counts.
"""

from __future__ import annotations

import ast
import re
import shlex

from mllint.core.notebooks import SHELL_CELL_MAGICS
from mllint.core.sources import CellSpan
from mllint.rules.base import Rule, register

# --- ML108 ---------------------------------------------------------------------

# pip options that take a value (as the next token unless written `--opt=value`).
_PIP_VALUE_OPTS = frozenset(
    {
        "-i", "--index-url", "--extra-index-url", "-f", "--find-links", "-t", "--target",
        "--prefix", "--root", "--src", "--platform", "--python-version", "--implementation",
        "--abi", "--no-binary", "--only-binary", "--progress-bar", "--cache-dir", "--log",
        "--proxy", "--retries", "--timeout", "--exists-action", "--trusted-host", "--cert",
        "--client-cert", "--upgrade-strategy", "-C", "--config-settings", "--global-option",
        "--report", "--root-user-action", "--python", "--keyring-provider", "--use-feature",
        "--use-deprecated", "--hash", "--group", "--extra", "--index-strategy",
        "--resolution", "--prerelease", "--python-platform", "--exclude-newer",
    }
)
# Options whose value is a file of requirements or constraints.
_PIP_FILE_OPTS = frozenset({"-r", "--requirement", "-c", "--constraint", "--constraints", "--overrides"})
_CONDA_VALUE_OPTS = frozenset({"-c", "--channel", "-n", "--name", "-p", "--prefix", "--repodata-fn", "--subdir"})
_CONDA_FILE_OPTS = frozenset({"--file"})
_CONDA_TOOLS = frozenset({"conda", "mamba", "micromamba"})
# Installing the packaging tools themselves does not change results.
_TOOLING = frozenset({"pip", "setuptools", "wheel", "uv"})

_NAME = re.compile(r"^(?P<name>[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?)(?P<extras>\[[^\]]*\])?(?P<rest>.*)$", re.S)
_PY = re.compile(r"^(python(\d(\.\d+)?)?|.*/python(\d(\.\d+)?)?|\{sys\.executable\}|\$\{?PYTHON\}?)$")
_PIP = re.compile(r"^(.*/)?pip(\d(\.\d+)?)?$")
_SEPARATORS = frozenset({"&&", "||", ";", "|", "&", ";;"})


_REDIRECT = re.compile(r"(?:^|(?<=\s))\d*(?:>>?|<|&>)&?\s*\S+")


def _tokens(command: str) -> list[str]:
    command = _REDIRECT.sub(" ", command)
    lex = shlex.shlex(command, posix=True, punctuation_chars=";&|")
    lex.whitespace_split = True
    lex.commenters = "#"
    try:
        return list(lex)
    except ValueError:  # unbalanced quotes
        return command.split()


def _segments(command: str) -> list[list[str]]:
    out: list[list[str]] = [[]]
    for tok in _tokens(command):
        if tok in _SEPARATORS or set(tok) <= set(";&|"):
            out.append([])
        else:
            out[-1].append(tok)
    return [seg for seg in out if seg]


def _install_args(seg: list[str]) -> tuple[str, list[str]] | None:
    """("pip"|"conda", arguments after `install`) if the command installs."""
    toks = list(seg)
    while toks and ("=" in toks[0] and not toks[0].startswith("-") and "/" not in toks[0].split("=", 1)[0]):
        toks.pop(0)  # environment assignments: PIP_NO_CACHE_DIR=1 pip install ...
    while toks and toks[0] in ("sudo", "time", "nohup", "env", "command"):
        toks.pop(0)
    if not toks:
        return None
    head = toks[0]
    rest = toks[1:]
    if _PY.match(head):
        if len(rest) >= 2 and rest[0] == "-m" and rest[1] in ("pip", "pip3", "uv"):
            if rest[1] == "uv":
                rest = rest[2:]
                if not rest or rest[0] != "pip":
                    return None
                rest = rest[1:]
            else:
                rest = rest[2:]
            head = "pip"
        else:
            return None
    elif head == "uv":
        if not rest or rest[0] != "pip":
            return None
        head, rest = "pip", rest[1:]
    elif _PIP.match(head):
        head = "pip"
    elif head in _CONDA_TOOLS:
        head = "conda"
    else:
        return None
    # Global options before the subcommand (`pip -q install x`).
    while rest and rest[0].startswith("-"):
        rest = rest[1:]
    if not rest or rest[0] != "install":
        return None
    return head, rest[1:]


def _vcs_pinned(url: str) -> bool:
    """`git+https://host/org/repo.git@v1.2` is pinned; without `@ref` it is not."""
    after = url.split("://", 1)[1] if "://" in url else url
    after = after.split("#", 1)[0]
    path = after.split("/", 1)[1] if "/" in after else ""
    return "@" in path and bool(path.rsplit("@", 1)[1].strip())


def _pip_requirement_unpinned(req: str) -> str | None:
    """The package name if `req` names a registry package without `==`."""
    if any(c in req for c in "{}$`") or not req.strip():
        return None  # variable expansion: unknown
    if " @ " in req or re.match(r"^[A-Za-z0-9._-]+(\[[^\]]*\])?\s*@\s*\S", req):
        name, url = re.split(r"\s*@\s*", req, maxsplit=1)
        if url.startswith(("git+", "hg+", "svn+", "bzr+")) and not _vcs_pinned(url):
            return name.strip()
        return None
    if req.startswith(("git+", "hg+", "svn+", "bzr+")):
        if _vcs_pinned(req):
            return None
        egg = re.search(r"[#&]egg=([A-Za-z0-9._-]+)", req)
        return egg.group(1) if egg else req.rsplit("/", 1)[-1].removesuffix(".git") or req
    if "://" in req or req.startswith((".", "/", "~")) or req.endswith((".whl", ".tar.gz", ".zip", ".tgz")):
        return None  # a URL, an archive or a local path: a fixed thing or a local project
    if "/" in req or "\\" in req:
        return None  # a relative local path
    spec = req.split(";", 1)[0]
    m = _NAME.match(spec)
    if not m:
        return None
    name = m.group("name")
    rest = m.group("rest").strip()
    if name.lower() in _TOOLING:
        return None
    for clause in rest.split(","):
        clause = clause.strip()
        if clause.startswith("==") and clause.lstrip("=").strip() and "*" not in clause:
            return None
    return name + (m.group("extras") or "")


def _conda_requirement_unpinned(req: str) -> str | None:
    if any(c in req for c in "{}$`") or not req.strip():
        return None
    if "://" in req or req.startswith((".", "/", "~")) or req.endswith((".tar.bz2", ".conda")):
        return None
    spec = req.split("::", 1)[-1]
    m = re.match(r"^([A-Za-z0-9][A-Za-z0-9._-]*)(.*)$", spec)
    if not m:
        return None
    name, rest = m.group(1), m.group(2).strip()
    if name.lower() in _TOOLING:
        return None
    pin = re.match(r"^(==?|\s+)\s*([0-9][^\s,|*]*)(=[^\s]*)?$", rest)
    if pin and "*" not in rest:
        return None
    return name


def unpinned_packages(command: str) -> list[str]:
    """Registry packages a shell/magic command installs without an exact pin."""
    out: list[str] = []
    for seg in _segments(command):
        parsed = _install_args(seg)
        if parsed is None:
            continue
        tool, args = parsed
        value_opts = _PIP_VALUE_OPTS if tool == "pip" else _CONDA_VALUE_OPTS
        file_opts = _PIP_FILE_OPTS if tool == "pip" else _CONDA_FILE_OPTS
        constrained = False
        reqs: list[str] = []
        i = 0
        while i < len(args):
            a = args[i]
            if a.startswith("-"):
                opt = a.split("=", 1)[0]
                attached = "=" in a or (len(opt) > 2 and not opt.startswith("--"))
                if opt in ("-e", "--editable"):
                    if not attached and i + 1 < len(args):
                        i += 1
                        target = args[i]
                    else:
                        target = a.split("=", 1)[1] if "=" in a else a[2:]
                    if tool == "pip" and target.startswith(("git+", "hg+", "svn+", "bzr+")):
                        reqs.append(target)
                elif opt in file_opts or (tool == "pip" and opt[:2] in ("-r", "-c") and len(opt) > 2):
                    if opt.startswith(("-c", "--constraint", "--overrides")):
                        constrained = True
                    if not attached:
                        i += 1
                elif opt in value_opts and not attached:
                    i += 1
                i += 1
                continue
            reqs.append(a)
            i += 1
        if constrained:
            continue  # versions come from a constraints file we cannot see
        check = _pip_requirement_unpinned if tool == "pip" else _conda_requirement_unpinned
        for req in reqs:
            name = check(req)
            if name and name not in out:
                out.append(name)
    return out


def _shell_cell(span: CellSpan) -> bool:
    if span.cell_magic in SHELL_CELL_MAGICS and span.cell_magic != "script":
        return True
    if span.cell_magic == "script":
        first = span.cell_magic_args.split()[:1]
        return bool(first) and first[0].rsplit("/", 1)[-1] in ("bash", "sh", "zsh")
    return False


def _shell_cell_commands(span: CellSpan):
    """(line, col, end_col, command) for each command line of a shell cell."""
    lines = span.source.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    seen_magic = False
    i = 0
    while i < len(lines):
        line = lines[i]
        if not seen_magic:
            if line.strip().startswith("%%"):
                seen_magic = True
            i += 1
            continue
        start = i
        parts = [line.rstrip()]
        while parts[-1].endswith("\\") and i + 1 < len(lines):
            parts[-1] = parts[-1][:-1]
            i += 1
            parts.append(lines[i].strip())
        if line.strip() and not line.strip().startswith("#"):
            col = len(line) - len(line.lstrip())
            yield start + 1, col, i + 1, len(lines[i]), " ".join(p.strip() for p in parts)
        i += 1


def _without_comment(command: str) -> str:
    """Drop a trailing shell comment (` # ...` outside quotes)."""
    quote = None
    for i, ch in enumerate(command):
        if quote:
            if ch == quote:
                quote = None
        elif ch in "'\"":
            quote = ch
        elif ch == "#" and (i == 0 or command[i - 1].isspace()):
            return command[:i].rstrip()
    return command


def _short(text: str, limit: int = 60) -> str:
    text = " ".join(_without_comment(text).split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


_SUBPROCESS = frozenset(
    {
        "subprocess.run",
        "subprocess.call",
        "subprocess.check_call",
        "subprocess.check_output",
        "subprocess.Popen",
        "os.system",
    }
)
# Last names of the calls `_command_of_call` reads (`get_ipython().system`/`.run_line_magic` too).
_COMMAND_CALL_NAMES = frozenset(q.rpartition(".")[2] for q in _SUBPROCESS) | {"system", "run_line_magic"}


def _const_str(node: ast.AST) -> str | None:
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else None


def _command_of_call(ctx, call: ast.Call) -> str | None:
    """The shell command a Python call in a cell runs, when it is spelled
    with literals: `subprocess.check_call([sys.executable, "-m", "pip",
    "install", "x"])`, `os.system("pip install x")`,
    `get_ipython().system("pip install x")`,
    `get_ipython().run_line_magic("pip", "install x")`."""
    func = call.func
    if (
        isinstance(func, ast.Attribute)
        and isinstance(func.value, ast.Call)
        and isinstance(func.value.func, ast.Name)
        and func.value.func.id == "get_ipython"
    ):
        args = [_const_str(a) for a in call.args]
        if func.attr == "system" and len(args) >= 1 and args[0] is not None:
            return args[0]
        if func.attr == "run_line_magic" and len(args) >= 2 and args[0] is not None and args[1] is not None:
            return f"{args[0]} {args[1]}"
        return None
    if ctx.semantic.call_qualname(call) not in _SUBPROCESS or not call.args:
        return None
    first = call.args[0]
    if isinstance(first, ast.Constant):
        return _const_str(first)
    if isinstance(first, (ast.List, ast.Tuple)):
        parts = []
        for elt in first.elts:
            text = _const_str(elt)
            if text is None:
                q = ctx.semantic.qualname(elt)
                if q == "sys.executable":
                    text = "python"
                else:
                    return None  # built from variables: unknown
            parts.append(shlex.quote(text))
        return " ".join(parts)
    return None


@register
class UnpinnedNotebookInstall(Rule):
    codes = ("ML108",)
    nodes = (ast.Call,)
    call_names = _COMMAND_CALL_NAMES

    def __init__(self, ctx):
        super().__init__(ctx)
        if not ctx.is_notebook:
            self.nodes = ()  # nothing to do in a .py file: not dispatched at all

    def visit(self, node: ast.Call) -> None:  # type: ignore[override]
        command = _command_of_call(self.ctx, node)
        if command is None:
            return
        pkgs = unpinned_packages(command)
        if pkgs:
            shown = self.ctx.segment(node).split("\n", 1)[0]
            self.report("ML108", node, self._message(shown, pkgs))

    def finish(self) -> None:
        if not self.ctx.is_notebook:
            return
        for span in self.ctx.source.cells:
            for magic in span.magics:
                if magic.kind in ("shell", "assign") and not magic.name:
                    shown = "!" + magic.text
                    pkgs = unpinned_packages(magic.text)
                elif magic.kind in ("line", "assign") and magic.name in ("pip", "conda", "mamba", "micromamba", "uv"):
                    shown = "%" + magic.text
                    pkgs = unpinned_packages(magic.text)
                else:
                    continue
                if pkgs:
                    self._report(span, magic.line, magic.col, magic.end_line, magic.end_col, shown, pkgs)
            if _shell_cell(span):
                for line, col, end_line, end_col, command in _shell_cell_commands(span):
                    pkgs = unpinned_packages(command)
                    if pkgs:
                        self._report(span, line, col, end_line, end_col, command, pkgs)

    def _report(self, span: CellSpan, line: int, col: int, end_line: int, end_col: int, shown: str, pkgs: list[str]) -> None:
        # A command continued over several lines is reported from the line
        # naming its first unpinned package.
        if end_line > line:
            first = pkgs[0].split("[")[0]
            for k in range(line, end_line + 1):
                text = _without_comment(span.line_text(k))
                if re.search(rf"(?<![\w.-]){re.escape(first)}(?![\w-])", text if k > line else text[col:]):
                    if k > line:
                        line, col = k, len(text) - len(text.lstrip())
                    break
        self.report(
            "ML108",
            (span.start + line - 1, col, span.start + end_line - 1, end_col),
            self._message(shown, pkgs),
        )

    @staticmethod
    def _message(shown: str, pkgs: list[str]) -> str:
        names = ", ".join(f"`{p}`" for p in pkgs)
        example = f"`{pkgs[0].split('[')[0]}==<version>`"
        plural = "them" if len(pkgs) > 1 else "it"
        return (
            f"`{_short(shown)}` installs {names} without an exact version, so a rerun gets whatever "
            f"release is newest that day; pin {plural} ({example}) or install from a pinned requirements file."
        )


# --- ML109 ---------------------------------------------------------------------

def _has_text(span: CellSpan) -> bool:
    for line in span.source.splitlines():
        s = line.strip()
        if s and not s.startswith("#"):
            return True
    return False


def _is_inert(stmt: ast.stmt) -> bool:
    """A statement that changes no state: a bare string (a cell holding
    only a docstring or quoted-out code), `...`, `pass`."""
    if isinstance(stmt, ast.Pass):
        return True
    return isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Constant) and (
        isinstance(stmt.value.value, str) or stmt.value.value is Ellipsis
    )


def _code_cells(ctx) -> set[int]:
    """The cells (by index) that hold code whose running or not matters:
    a statement that is not a bare string, `...` or `pass`, an IPython
    command, or text that does not parse (kept to be safe). Cells of only
    comments (commented-out code too), blank lines or a string do not."""
    source = ctx.source
    with_statements: set[int] = set()
    for stmt in ctx.tree.body:
        if not _is_inert(stmt):
            loc = source.locate(stmt.lineno)
            if loc is not None:
                with_statements.add(loc[0])
    out: set[int] = set()
    for span in source.cells:
        if span.index in with_statements or span.magics or span.masked:
            out.add(span.index)
        elif _has_text(span) and not _only_inert(span):
            out.add(span.index)
    return out


def _only_inert(span: CellSpan) -> bool:
    """A cell with no statement in the analysed module: parsed alone, is it
    only strings / `...` / `pass` (rather than a cell that does not parse)?"""
    try:
        tree = ast.parse(span.source)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return False
    return all(_is_inert(stmt) for stmt in tree.body)


def _first_code_line(span: CellSpan) -> tuple[int, int, int]:
    """(line in cell, col, end col) of the cell's first line of Python (not
    blank, not a comment, not a magic or shell escape), else its first
    non-blank line."""
    lines = span.source.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    fallback = None
    for i, line in enumerate(lines, start=1):
        s = line.strip()
        if s and fallback is None:
            fallback = (i, len(line) - len(line.lstrip()), len(line))
        if s and not s.startswith(("#", "%", "!")) and not span.masked:
            return i, len(line) - len(line.lstrip()), len(line)
    return fallback or (1, 0, 0)


@register
class OutOfOrderNotebook(Rule):
    codes = ("ML109",)
    nodes = ()

    def finish(self) -> None:
        if not self.ctx.is_notebook:
            return
        first_problem: tuple[CellSpan, str] | None = None
        problems = 0
        max_count: int | None = None
        max_cell: CellSpan | None = None
        unexecuted: CellSpan | None = None
        code_cells = _code_cells(self.ctx)
        for span in self.ctx.source.cells:
            if span.index not in code_cells:
                continue
            count = span.execution_count
            if count is None:
                if unexecuted is None:
                    unexecuted = span
                continue
            why = None
            if max_count is not None and count <= max_count and max_cell is not None:
                why = (
                    f"cell {span.index} has execution count {count} but cell {max_cell.index} above it has "
                    f"{max_count}: the cells were not run top to bottom"
                )
            elif unexecuted is not None:
                why = (
                    f"cell {span.index} was run (execution count {count}) but cell {unexecuted.index} above it "
                    f"never was: its saved output was computed without that cell"
                )
            if why is not None:
                problems += 1
                if first_problem is None:
                    first_problem = (span, why)
            if max_count is None or count > max_count:
                max_count, max_cell = count, span
        if first_problem is None:
            return
        span, why = first_problem
        more = f" ({problems} cells in all are out of order)" if problems > 1 else ""
        line, col, end_col = _first_code_line(span)
        module_line = span.start + line - 1
        self.report(
            "ML109",
            (module_line, col, module_line, end_col),
            f"{why}{more}, so the saved outputs may depend on state the code no longer shows. "
            "Restart the kernel and run all cells before saving, or clear all outputs.",
        )
