"""``m1gym/swe.agent-v0``: a multi-turn gymnasium environment for SWE tasks (text in, text out).

``reset(seed, options)`` starts a fresh container for one task (a bundled sample chosen by the seed,
or ``options["task"]``: a Task, a Task dict or a SWE instance dict) with the repository at its base
commit in /work/testbed, and returns the issue and the tool instructions. ``step(action)`` runs one
tool call and returns its output; ``submit`` takes ``git diff`` of the working tree against the base
commit and grades it like ``swe/bugfix`` in another fresh container, ending the episode with reward
1 iff the issue is resolved. After ``max_steps`` steps without a submission the episode is truncated
(reward 0). The container is removed at the end of every episode, on ``close()``, when a step raises,
and at interpreter exit.

Actions: a JSON object, or the simple command syntax (one tool call per action):

    {"tool": "bash", "command": "python -m pytest -q"}         bash <command...>   (or a ```bash block)
    {"tool": "view", "path": "pkg/mod.py", "start": 1, "end": 40}  view <path> [<start> [<end>]]
    {"tool": "search", "pattern": "def slugify", "path": "."}   search <regex> [<path>]
    {"tool": "create", "path": "notes.txt", "content": "..."}   create <path>  + content lines
    {"tool": "str_replace", "path": "p.py", "old": "a", "new": "b"}
                                                               str_replace <path>
                                                               <<<<<<< SEARCH
                                                               old lines
                                                               =======
                                                               new lines
                                                               >>>>>>> REPLACE
    {"tool": "submit"}                                         submit

``{"name": ..., "arguments": {...}}`` (OpenAI function calls; arguments may be a JSON string) works
too. Text after the last ``</think>`` is the action. Every command runs as the unprivileged user,
from /work/testbed, with a timeout (``command_timeout``, 120 s); processes it leaves are killed;
shell state (cwd, variables) does not carry over between steps. A bad action costs a step and
returns an error message. The container has no network and no git history past the base commit;
the gold patch and the test patch never enter it.
"""

from __future__ import annotations

import atexit
import json
import re
import shlex
import weakref
from dataclasses import dataclass, field
from typing import Any

import gymnasium
from gymnasium import spaces

from ...core import Task, TaskFormatError
from ...registry import register
from .grading import DEFAULT_TEST_TIMEOUT_S, Grader, Workspace
from .instance import Instance, samples

_CHARSET = "\t\n\r" + "".join(chr(c) for c in range(32, 0x3000) if not 0xD800 <= c <= 0xDFFF)
MAX_OBS_CHARS = 100_000
MAX_ACTION_CHARS = 100_000
TOOLS = ("bash", "view", "search", "create", "str_replace", "submit")
_ALIASES = {"execute_bash": "bash", "run": "bash", "shell": "bash", "sh": "bash", "cmd": "bash",
            "view_file": "view", "open": "view", "cat": "view", "read": "view", "read_file": "view",
            "grep": "search", "find": "search", "search_code": "search",
            "edit": "str_replace", "replace": "str_replace", "str_replace_editor": "str_replace",
            "write": "create", "create_file": "create", "write_file": "create",
            "finish": "submit", "done": "submit", "submit_patch": "submit"}

TOOL_DOC = """Tools (one call per turn). Either JSON or the simple syntax:
  bash <command>                       run a shell command in the repository root (timeout {timeout:g}s)
  view <path> [<start> [<end>]]        show a file with line numbers (or list a directory)
  search <regex> [<path>]              search files for a regular expression
  create <path>                        create a new file; its content follows on the next lines
  str_replace <path>                   replace one exact occurrence of a text block:
  <<<<<<< SEARCH
  old text (must match exactly once)
  =======
  new text
  >>>>>>> REPLACE
  submit                               finish: your changes (git diff) are graded by the tests
JSON: {{"tool": "bash", "command": "..."}}, {{"tool": "view", "path": "...", "start": 1, "end": 50}},
{{"tool": "search", "pattern": "...", "path": "."}}, {{"tool": "create", "path": "...", "content": "..."}},
{{"tool": "str_replace", "path": "...", "old": "...", "new": "..."}}, {{"tool": "submit"}}.
Shell state does not persist between commands; every command starts in the repository root.
You have at most {max_steps} tool calls."""


class ActionError(ValueError):
    """An action that is not a valid tool call (the episode goes on)."""


@dataclass
class Action:
    tool: str
    args: dict[str, Any] = field(default_factory=dict)


def _require(args: dict, key: str, tool: str, allow_empty: bool = False) -> str:
    value = args.get(key)
    if not isinstance(value, str) or (not allow_empty and not value.strip()):
        raise ActionError(f"{tool} needs a string argument '{key}'")
    return value


def _int_arg(value: Any, name: str) -> int | None:
    if value is None or value == "":
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        raise ActionError(f"view: {name} must be a line number, got {value!r}") from None


def _validate(tool: str, args: dict[str, Any]) -> Action:
    tool = _ALIASES.get(tool, tool)
    if tool not in TOOLS:
        raise ActionError(f"unknown tool {tool!r}; use one of {', '.join(TOOLS)}")
    if tool == "bash":
        cmd = args.get("command", args.get("cmd"))
        return Action("bash", {"command": _require({"command": cmd}, "command", tool)})
    if tool == "view":
        return Action("view", {"path": _require(args, "path", tool), "start": _int_arg(args.get("start"), "start"),
                               "end": _int_arg(args.get("end"), "end")})
    if tool == "search":
        return Action("search", {"pattern": _require(args, "pattern", tool),
                                 "path": args.get("path") if isinstance(args.get("path"), str) else "."})
    if tool == "create":
        return Action("create", {"path": _require(args, "path", tool),
                                 "content": _require(args, "content", tool, allow_empty=True)})
    if tool == "str_replace":
        old = args.get("old", args.get("old_str"))
        new = args.get("new", args.get("new_str"))
        return Action("str_replace", {"path": _require(args, "path", tool),
                                      "old": _require({"old": old}, "old", tool),
                                      "new": _require({"new": new}, "new", tool, allow_empty=True)})
    return Action("submit", {})


_SR_RE = re.compile(r"^<{5,9} ?SEARCH[ \t]*\n(.*?)^={5,9}[ \t]*\n(.*?)^>{5,9} ?REPLACE[ \t]*$", re.S | re.M)


def parse_action(text: Any) -> Action:
    """A tool call from an action string (see the module doc); ActionError says what is wrong."""
    if isinstance(text, bytes):
        text = text.decode("utf-8", errors="replace")
    if not isinstance(text, str):
        raise ActionError("an action must be a string")
    if len(text) > MAX_ACTION_CHARS:
        raise ActionError(f"action longer than {MAX_ACTION_CHARS} characters")
    close = text.rfind("</think>")
    if close >= 0:
        text = text[close + len("</think>"):]
    elif "<think>" in text:
        raise ActionError("unclosed <think> block: no action after it")
    body = text.strip()
    m = re.fullmatch(r"<(tool_call|action)>(.*)</\1>", body, re.S)
    if m:
        body = m.group(2).strip()
    fence = re.fullmatch(r"```([\w-]*)[^\n]*\n(.*?)\n?```", body, re.S)
    if fence and fence.group(1).lower() in ("bash", "sh", "shell", "console"):
        return _validate("bash", {"command": fence.group(2)})
    if fence and fence.group(1).lower() in ("json", ""):
        body = fence.group(2).strip()
    if not body:
        raise ActionError("empty action; call one of the tools")
    if body.startswith("{"):
        try:
            data = json.loads(body)
        except (json.JSONDecodeError, RecursionError) as exc:
            raise ActionError(f"action is not valid JSON: {str(exc)[:100]}") from None
        if not isinstance(data, dict):
            raise ActionError("a JSON action must be an object")
        tool = data.get("tool", data.get("name", data.get("action")))
        if not isinstance(tool, str):
            raise ActionError('a JSON action needs "tool" (or "name")')
        args = next((data[k] for k in ("arguments", "args", "input", "parameters") if k in data), None)
        if isinstance(args, str):
            try:
                args = json.loads(args)
            except (json.JSONDecodeError, RecursionError):
                raise ActionError("the call's arguments are not valid JSON") from None
        if args is None:
            args = {k: v for k, v in data.items() if k not in ("tool", "name", "action")}
        if not isinstance(args, dict):
            raise ActionError("a call's arguments must be an object")
        return _validate(tool.strip().lower(), args)
    first, _, rest = body.partition("\n")
    word, _, tail = first.strip().partition(" ")
    word = word.lower()
    tool = _ALIASES.get(word, word)
    if tool == "bash":
        return _validate("bash", {"command": (tail + ("\n" + rest if rest else "")).strip()})
    if tool == "submit":
        return Action("submit", {})
    try:
        argv = shlex.split(tail)
    except ValueError as exc:
        raise ActionError(f"{tool}: cannot split the arguments ({exc})") from None
    if tool == "view":
        if not argv:
            raise ActionError("view needs a path")
        path, nums = argv[0], argv[1:]
        if len(nums) == 1 and re.fullmatch(r"\d+[-:]\d+", nums[0]):
            nums = re.split(r"[-:]", nums[0])
        return _validate("view", {"path": path, "start": nums[0] if nums else None,
                                  "end": nums[1] if len(nums) > 1 else None})
    if tool == "search":
        if not argv:
            raise ActionError("search needs a pattern")
        return _validate("search", {"pattern": argv[0], "path": argv[1] if len(argv) > 1 else "."})
    if tool == "create":
        if len(argv) != 1:
            raise ActionError("create needs one path on its line and the content on the following lines")
        return _validate("create", {"path": argv[0], "content": rest + ("\n" if rest and not rest.endswith("\n") else "")})
    if tool == "str_replace":
        if len(argv) != 1:
            raise ActionError("str_replace needs one path on its line, then a SEARCH/REPLACE block")
        m = _SR_RE.search(rest + "\n")
        if not m:
            raise ActionError("str_replace: expected <<<<<<< SEARCH / ======= / >>>>>>> REPLACE after the path line")
        return _validate("str_replace", {"path": argv[0], "old": m.group(1), "new": m.group(2)})
    raise ActionError(f"unknown tool {word!r}; use one of {', '.join(TOOLS)}")


# Runs inside the container as the sandbox user (python3 -I -c TOOL_SRC < request.json).
TOOL_SRC = r'''
import json, os, re, sys
req = json.load(sys.stdin)
tool, root = req["tool"], os.getcwd()
def full(p):
    return os.path.normpath(os.path.join(root, p or "."))
def fail(msg):
    print("error: " + msg); sys.exit(1)
SKIP = {".git", "__pycache__", ".pytest_cache", "node_modules", ".mypy_cache"}
def files_under(top):
    if os.path.isfile(top):
        yield top; return
    for d, dirs, names in os.walk(top):
        dirs[:] = sorted(x for x in dirs if x not in SKIP)
        for n in sorted(names):
            yield os.path.join(d, n)
def read(path):
    with open(path, "rb") as fh:
        data = fh.read(4 << 20)
    if b"\0" in data[:8192]:
        fail(path + " is a binary file")
    return data.decode("utf-8", errors="replace")
if tool == "view":
    path = full(req["path"])
    if os.path.isdir(path):
        for d, dirs, names in os.walk(path):
            dirs[:] = sorted(x for x in dirs if x not in SKIP)
            depth = os.path.relpath(d, path).count(os.sep) + (0 if d == path else 1)
            if depth >= 2:
                dirs[:] = []
            for n in sorted(names):
                print(os.path.relpath(os.path.join(d, n), path))
        sys.exit(0)
    if not os.path.isfile(path):
        fail("no such file: " + req["path"])
    lines = read(path).splitlines()
    start = max(1, req.get("start") or 1)
    end = min(len(lines), req.get("end") or len(lines))
    if start > max(len(lines), 1):
        fail("start %d is past the end (%d lines)" % (start, len(lines)))
    for i in range(start, end + 1):
        print("%6d\t%s" % (i, lines[i - 1]))
elif tool == "search":
    try:
        rx = re.compile(req["pattern"])
    except re.error as e:
        fail("bad regular expression: %s" % e)
    hits = 0
    for f in files_under(full(req.get("path"))):
        try:
            with open(f, "rb") as fh:
                data = fh.read(2 << 20)
        except OSError:
            continue
        if b"\0" in data[:8192]:
            continue
        for n, line in enumerate(data.decode("utf-8", "replace").splitlines(), 1):
            if rx.search(line):
                print("%s:%d: %s" % (os.path.relpath(f, root), n, line[:300]))
                hits += 1
                if hits >= 200:
                    print("... (stopped at 200 matches)"); sys.exit(0)
    if not hits:
        print("no matches")
elif tool == "create":
    path = full(req["path"])
    if os.path.exists(path):
        fail(req["path"] + " exists; use str_replace to edit it")
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as fh:
        fh.write(req["content"])
    print("created %s (%d lines)" % (req["path"], req["content"].count("\n")))
elif tool == "str_replace":
    path = full(req["path"])
    if not os.path.isfile(path):
        fail("no such file: " + req["path"])
    text = read(path)
    old, new = req["old"], req["new"]
    count = text.count(old)
    if count == 0:
        fail("the old text does not occur in %s (it must match exactly, whitespace included)" % req["path"])
    if count > 1:
        fail("the old text occurs %d times in %s; include more lines to make it unique" % (count, req["path"]))
    at = text.index(old)
    text = text[:at] + new + text[at + len(old):]
    mode = os.stat(path).st_mode & 0o777
    with open(path, "w") as fh:
        fh.write(text)
    os.chmod(path, mode)
    first = text[:at].count("\n") + 1
    lines = text.splitlines()
    lo, hi = max(1, first - 3), min(len(lines), first + new.count("\n") + 3)
    print("edited %s; lines %d-%d now read:" % (req["path"], lo, hi))
    for i in range(lo, hi + 1):
        print("%6d\t%s" % (i, lines[i - 1]))
'''


def _clip(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    head = limit // 2
    return text[:head] + f"\n... [{len(text) - limit} characters cut] ...\n" + text[-(limit - head):]


_LIVE: "weakref.WeakSet[SWEAgentEnv]" = weakref.WeakSet()


@atexit.register
def _close_live() -> None:
    for env in list(_LIVE):
        try:
            env.close()
        except Exception:  # noqa: BLE001
            pass


class SWEAgentEnv(gymnasium.Env):
    """See the module doc. Constructor arguments are the episode's defaults; ``reset`` options
    (``task``, ``max_steps``) override them per episode."""

    metadata = {"render_modes": ["ansi"]}

    def __init__(self, tasks: list[Any] | None = None, *, max_steps: int = 30, command_timeout: float = 120.0,
                 test_timeout: float = DEFAULT_TEST_TIMEOUT_S, max_output_chars: int = 10_000,
                 auto_build: bool = True, grader: Grader | None = None, render_mode: str | None = None):
        if max_steps < 1:
            raise ValueError("max_steps must be at least 1")
        if not 0 < command_timeout <= 3600:
            raise ValueError("command_timeout must be in (0, 3600] seconds")
        self.tasks = [self._coerce(t) for t in tasks] if tasks else None
        self.max_steps = int(max_steps)
        self.command_timeout = float(command_timeout)
        self.max_output_chars = int(max_output_chars)
        self.grader = grader or Grader(test_timeout=test_timeout, auto_build=auto_build)
        self.render_mode = render_mode
        self.observation_space = spaces.Text(max_length=MAX_OBS_CHARS, min_length=0, charset=_CHARSET)
        self.action_space = spaces.Text(max_length=MAX_ACTION_CHARS, min_length=0, charset=_CHARSET)
        self.inst: Instance | None = None
        self.ws: Workspace | None = None
        self.steps = 0
        self.done = True
        self._episode_max = self.max_steps
        self._last_obs = ""
        _LIVE.add(self)

    # ---- tasks ----------------------------------------------------------------------------------
    @staticmethod
    def _coerce(task: Any) -> Instance:
        if isinstance(task, Instance):
            return task
        if isinstance(task, Task):
            return Instance.from_dict(task.answer, f"task {task.id}")
        if isinstance(task, dict):
            if "instance_id" in task:
                return Instance.from_dict(task)
            return Instance.from_dict(Task.from_dict(task).answer, "task")
        raise TaskFormatError(f"a SWE agent task must be a Task, a Task dict or a SWE instance dict, "
                              f"got {type(task).__name__}")

    def _obs(self, text: str) -> str:
        text = _clip(text, MAX_OBS_CHARS)
        cs = self.observation_space.character_set
        text = "".join(ch if ch in cs else "?" for ch in text)
        self._last_obs = text
        return text

    # ---- gymnasium API ----------------------------------------------------------------------------
    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        super().reset(seed=seed)
        self._end_episode()
        options = options or {}
        if options.get("task") is not None:
            inst = self._coerce(options["task"])
        else:
            pool = self.tasks or samples()
            if not pool:
                raise TaskFormatError("no SWE task: pass tasks=[...] or options={'task': ...}")
            inst = pool[int(self.np_random.integers(0, len(pool)))]
        self._episode_max = int(options.get("max_steps", self.max_steps))
        self.inst = inst
        self.ws = self.grader.workspace(inst)  # a fresh container; raises ImageError naming the fix
        self.steps = 0
        self.done = False
        obs = (f"You are working in the repository {inst.repo} at /work/testbed (commit {inst.base_commit[:12]}). "
               f"Resolve this issue by editing the code, then submit.\n\n<issue>\n{inst.problem_statement.strip()}\n"
               f"</issue>\n\n" + TOOL_DOC.format(timeout=self.command_timeout, max_steps=self._episode_max))
        return self._obs(obs), {"instance_id": inst.instance_id, "image": self.ws.image,
                                "max_steps": self._episode_max}

    def step(self, action: str):
        if self.done or self.ws is None or self.inst is None:
            raise gymnasium.error.ResetNeeded("the episode is over; call reset()")
        try:
            return self._step(action)
        except BaseException:
            self._end_episode()  # the container never outlives an error
            raise

    def _step(self, action: str):
        self.steps += 1
        info: dict[str, Any] = {"instance_id": self.inst.instance_id, "steps": self.steps}
        try:
            act = parse_action(action)
        except ActionError as exc:
            info["error"] = str(exc)
            return self._after(f"error: {exc}", info)
        info["tool"] = act.tool
        if act.tool == "submit":
            return self._submit(info)
        text = self._run_tool(act, info)
        return self._after(text, info)

    def _after(self, text: str, info: dict[str, Any]):
        truncated = self.steps >= self._episode_max
        if truncated:
            text += f"\n\n[step limit of {self._episode_max} reached without a submission; the episode ends]"
            info["reason"] = "step limit reached"
            self._end_episode()
        else:
            text += f"\n\n[{self._episode_max - self.steps} steps left]"
        return self._obs(text), 0.0, False, truncated, info

    def _run_tool(self, act: Action, info: dict[str, Any]) -> str:
        assert self.ws is not None
        if act.tool == "bash":
            r = self.ws.run(["bash", "-c", "exec 2>&1\n" + act.args["command"]], timeout=self.command_timeout)
        else:
            r = self.ws.run(["python3", "-I", "-c", TOOL_SRC], timeout=self.command_timeout,
                            stdin=json.dumps({"tool": act.tool, **act.args}).encode())
        out = (r.stdout + r.stderr).decode("utf-8", errors="replace")
        out = _clip(out, self.max_output_chars)
        info.update(exit_code=r.exit_code, killed=r.killed)
        if r.killed == "wall":
            return f"{out}\n[command timed out after {self.command_timeout:g}s and was killed; the episode continues]"
        if r.killed:
            return f"{out}\n[command stopped by the sandbox: {r.killed} limit]"
        if act.tool == "bash":
            return f"{out}\n[exit code {r.exit_code}]" if r.exit_code else (out or "[no output, exit code 0]")
        return out

    def _submit(self, info: dict[str, Any]):
        assert self.ws is not None and self.inst is not None
        script = ('git add -A >/dev/null 2>&1; git diff --cached --binary "$1" 2>/dev/null '
                  '|| git diff --cached --binary HEAD')
        r = self.ws.run(["sh", "-c", script, "sh", self.inst.base_commit], timeout=self.command_timeout)
        patch = r.stdout.decode("utf-8", errors="replace") if r.ok else ""
        inst = self.inst
        self._end_episode()  # the agent's container goes before grading starts
        grade = self.grader.grade_patch(inst, patch)
        info.update(patch=patch, resolved=grade.resolved, reason=grade.reason, grade=grade.details())
        reward = 1.0 if grade.resolved else 0.0
        text = f"Submitted. {grade.reason}" if patch.strip() else f"Submitted with no changes. {grade.reason}"
        return self._obs(text), reward, True, False, info

    def _end_episode(self) -> None:
        self.done = True
        ws, self.ws = self.ws, None
        if ws is not None:
            ws.close()

    def render(self):
        return self._last_obs if self.render_mode == "ansi" else None

    def close(self) -> None:
        self._end_episode()
        super().close()

    def __del__(self) -> None:
        try:
            self._end_episode()
        except Exception:  # noqa: BLE001
            pass


# a gymnasium env only: listed by the registry, made with gymnasium.make (m1gym/swe-agent-v0 is its older id)
register("swe/agent", SWEAgentEnv, kind="sandbox", procedural=False, multi_turn=True,
         gym_aliases=("m1gym/swe-agent-v0",),
         description="multi-turn agent: bash, view, search, edit and submit in a sandboxed repository "
                     "(gymnasium id m1gym/swe.agent-v0)",
         answer_format="one tool call per step: JSON {\"tool\": ...} or `bash ...`, `view ...`, `str_replace ...`, "
                       "`submit`")
