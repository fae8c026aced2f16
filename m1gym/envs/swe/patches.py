"""Unified diffs: parse them, find the patch in a model's answer, and locate what a patch touches.

Pure text processing; nothing here runs a program or touches the file system. The grader applies
patches inside the container (``git apply``, then ``patch --fuzz=5``); this module only reads them
(which files a patch touches, which lines, which functions), so it may be lenient.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass, field

from ...verifiers.extract import answer_region, answer_tags

#: how a test file is recognised (the grader restores these to the base commit before grading)
_TEST_DIRS = {"test", "tests", "testing"}


def is_test_path(path: str) -> bool:
    """A path that holds tests: under a test(s)/testing directory, test_*.py, *_test.py, conftest.py."""
    parts = [p for p in path.replace("\\", "/").split("/") if p]
    if not parts:
        return False
    name = parts[-1]
    if any(p in _TEST_DIRS for p in parts[:-1]):
        return True
    return name == "conftest.py" or (name.endswith(".py") and (name.startswith("test_") or name.endswith("_test.py")))


@dataclass
class Hunk:
    old_start: int
    old_len: int
    new_start: int
    new_len: int
    lines: list[str] = field(default_factory=list)  # with their ' ', '-', '+' prefix ('\\' lines dropped)


@dataclass
class FilePatch:
    old_path: str | None  # None: a new file
    new_path: str | None  # None: a deleted file
    hunks: list[Hunk] = field(default_factory=list)
    binary: bool = False

    @property
    def path(self) -> str:
        return self.new_path or self.old_path or ""

    @property
    def paths(self) -> list[str]:
        return sorted({p for p in (self.old_path, self.new_path) if p})


_HUNK_RE = re.compile(r"^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@")
_C_ESCAPES = {"n": "\n", "t": "\t", '"': '"', "\\": "\\", "a": "\a", "b": "\b", "f": "\f", "r": "\r", "v": "\v"}


def _unquote(path: str) -> str:
    """git quotes unusual paths C-style: "a/caf\\303\\251.py"."""
    if len(path) >= 2 and path[0] == '"' and path[-1] == '"':
        out = bytearray()
        s, i = path[1:-1], 0
        while i < len(s):
            ch = s[i]
            if ch == "\\" and i + 1 < len(s):
                nxt = s[i + 1]
                if nxt in "01234567" and i + 3 < len(s) + 1 and re.match(r"[0-7]{3}", s[i + 1:i + 4]):
                    out.append(int(s[i + 1:i + 4], 8))
                    i += 4
                    continue
                out.extend(_C_ESCAPES.get(nxt, nxt).encode())
                i += 2
                continue
            out.extend(ch.encode())
            i += 1
        return out.decode("utf-8", errors="replace")
    return path


def _strip_prefix(path: str) -> str | None:
    path = _unquote(path.split("\t")[0].strip())
    if path == "/dev/null":
        return None
    for prefix in ("a/", "b/"):
        if path.startswith(prefix):
            return path[len(prefix):]
    return path


def parse_patch(text: str) -> list[FilePatch]:
    """The files of a unified diff (git-style or plain ``---``/``+++``), with their hunks."""
    files: list[FilePatch] = []
    cur: FilePatch | None = None
    hunk: Hunk | None = None
    left = (0, 0)  # old/new lines still expected in the current hunk
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        line = lines[i]
        if hunk is not None and (left[0] > 0 or left[1] > 0):
            tag = line[:1]
            if tag in (" ", "") and not line.startswith("\\"):
                hunk.lines.append(" " + line[1:])
                left = (left[0] - 1, left[1] - 1)
                i += 1
                continue
            if tag == "-":
                hunk.lines.append(line)
                left = (left[0] - 1, left[1])
                i += 1
                continue
            if tag == "+":
                hunk.lines.append(line)
                left = (left[0], left[1] - 1)
                i += 1
                continue
            if line.startswith("\\"):
                i += 1
                continue
            hunk = None  # malformed hunk: stop reading it
        if line.startswith("diff --git "):
            m = re.match(r'^diff --git ("(?:[^"\\]|\\.)*"|\S+) ("(?:[^"\\]|\\.)*"|\S+)\s*$', line)
            cur = FilePatch(_strip_prefix(m.group(1)) if m else None, _strip_prefix(m.group(2)) if m else None)
            files.append(cur)
            hunk = None
        elif line.startswith("--- ") and i + 1 < len(lines) and lines[i + 1].startswith("+++ "):
            old, new = _strip_prefix(line[4:]), _strip_prefix(lines[i + 1][4:])
            if cur is None or cur.hunks or cur.binary:
                cur = FilePatch(old, new)
                files.append(cur)
            else:
                cur.old_path, cur.new_path = old, new
            hunk = None
            i += 1
        elif line.startswith("new file mode") and cur is not None:
            cur.old_path = None
        elif line.startswith("deleted file mode") and cur is not None:
            cur.new_path = None
        elif line.startswith("rename from ") and cur is not None:
            cur.old_path = _unquote(line[len("rename from "):])
        elif line.startswith("rename to ") and cur is not None:
            cur.new_path = _unquote(line[len("rename to "):])
        elif (line.startswith("GIT binary patch") or line.startswith("Binary files ")) and cur is not None:
            cur.binary = True
        else:
            m = _HUNK_RE.match(line)
            if m and cur is not None:
                old_len = int(m.group(2)) if m.group(2) is not None else 1
                new_len = int(m.group(4)) if m.group(4) is not None else 1
                hunk = Hunk(int(m.group(1)), old_len, int(m.group(3)), new_len)
                cur.hunks.append(hunk)
                left = (old_len, new_len)
        i += 1
    return [f for f in files if f.old_path or f.new_path]


def touched_paths(text: str) -> list[str]:
    """Every path a patch reads or writes (old and new names of renames), sorted."""
    return sorted({p for f in parse_patch(text) for p in f.paths})


def looks_like_patch(text: str) -> bool:
    return bool(parse_patch(text)) and bool(re.search(r"^(?:diff --git |--- |@@ )", text, re.M))


_FENCE_RE = re.compile(r"^```([\w+-]*)[^\n]*\n(.*?)^```[ \t]*$", re.M | re.S)


def _normalise(patch: str) -> str:
    lines = patch.strip("\n").splitlines()
    # leading prose before the first diff header
    for i, line in enumerate(lines):
        if line.startswith(("diff --git ", "--- ")):
            lines = lines[i:]
            break
    return "\n".join(lines) + "\n" if lines else ""


def extract_patch(response: str) -> str | None:
    """The patch in a response: after the last ``</think>``, the last ``<answer>`` block (its fenced
    diff block when it holds one), else the last fenced ``diff``/``patch`` block (or any fence that
    holds a diff), else a bare diff. None when there is no patch."""
    region = answer_region(response)
    if not region:
        return None
    tags = answer_tags(region)
    candidates = [tags[-1]] if tags else [region]
    for text in candidates:
        fences = _FENCE_RE.findall(text)
        for lang, body in reversed(fences):
            if lang.lower() in ("diff", "patch", "udiff") or looks_like_patch(body):
                if looks_like_patch(body):
                    return _normalise(body)
        if looks_like_patch(text):
            return _normalise(text)
    return None


# ---- locations: which files and functions a patch touches --------------------------------------

@dataclass(frozen=True)
class _Unit:
    name: str  # qualified: "func", "Class.method"
    start: int  # first line (decorators included)
    end: int
    indent: int  # column of the ``def``


def _units(source: str) -> list[_Unit]:
    """Top-level functions and methods of (nested) classes; nested functions belong to their outer one."""
    tree = ast.parse(source)
    out: list[_Unit] = []

    def visit(node: ast.AST, prefix: str) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)):
                start = min([child.lineno] + [d.lineno for d in child.decorator_list])
                out.append(_Unit(prefix + child.name, start, child.end_lineno or child.lineno, child.col_offset))
            elif isinstance(child, ast.ClassDef):
                visit(child, prefix + child.name + ".")
    visit(tree, "")
    return out


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip(" \t"))


def touched_functions(base_source: str, fp: FilePatch) -> list[str]:
    """Qualified names of the base file's functions that the patch edits.

    A removed or replaced line belongs to the innermost function whose lines hold it. An added line
    inserted after base line k belongs to the innermost function holding line k when it is indented
    deeper than that function's ``def`` (so a new function appended after another one is not counted:
    it is new code, not a location in the base). Syntax errors in the base file give no functions.
    """
    try:
        units = _units(base_source)
    except (SyntaxError, ValueError, RecursionError):
        return []

    def innermost(line: int) -> list[_Unit]:
        holding = [u for u in units if u.start <= line <= u.end]
        return sorted(holding, key=lambda u: u.end - u.start)

    hit: set[str] = set()
    for h in fp.hunks:
        old = h.old_start
        # the functions an added run may continue; a line at or left of a def's column closes it
        open_units: list[_Unit] | None = None
        for line in h.lines:
            tag, body = line[:1], line[1:]
            if tag != "+":
                open_units = None
            if tag == "-":
                inner = innermost(old)
                if inner:
                    hit.add(inner[0].name)
                old += 1
            elif tag == "+":
                if open_units is None:
                    open_units = innermost(old - 1)
                if body.strip():
                    open_units = [u for u in open_units if _indent(body) > u.indent]
                    if open_units:
                        hit.add(open_units[0].name)
            else:
                old += 1
    return sorted(hit)


def gold_locations(patch: str, base_files: dict[str, str] | None) -> dict[str, list[str]]:
    """{"files": [...], "functions": ["path::name", ...]} that ``patch`` touches.

    ``base_files`` maps paths to their text at the base commit; without it (or for non-Python files)
    only files are located.
    """
    files, funcs = set(), set()
    for fp in parse_patch(patch):
        if fp.old_path is None:  # a new file is not a location in the base
            continue
        files.add(fp.old_path)
        src = (base_files or {}).get(fp.old_path)
        if src is not None and fp.old_path.endswith(".py"):
            funcs.update(f"{fp.old_path}::{name}" for name in touched_functions(src, fp))
    return {"files": sorted(files), "functions": sorted(funcs)}
