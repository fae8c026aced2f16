"""The universal-answer probe's fixed candidates: constant and degenerate responses (label ->
response) that must not score on any task. Imports nothing of m1gym: ``core.Environment``'s
default ``probe_responses`` returns them, and the probe runner (m1gym/probe.py) sits above core and
the registry.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # annotation only: core imports this module
    from .core import Task

#: length of the digit-string candidate (the math checker's cap on an answer)
DIGITS_CHARS = 2000


def _digit_string(n: int = DIGITS_CHARS) -> str:
    """0123456789101112...: every integer up to three digits occurs in it as a substring."""
    out, i = [], 0
    while sum(map(len, out)) < n:
        out.append(str(i))
        i += 1
    return "".join(out)[:n]


_DIGITS = _digit_string()
_CANDIDATES = [str(i) for i in range(-20, 21)]

#: answers that are the same for every task (label -> text inside one <answer> block)
CONSTANT_ANSWERS: dict[str, str] = {
    "0": "0",
    "1": "1",
    "-1": "-1",
    "True": "True",
    "yes": "yes",
    "no": "no",
    "all of the above": "all of the above",
    "empty answer": "",
    "\\infty": "\\infty",
    "-\\infty": "-\\infty",
    "\\pm\\infty": "\\pm\\infty",
    "(\\infty, \\infty)": "(\\infty, \\infty)",
    "\\mathbb{R}": "\\mathbb{R}",
    "empty set": "\\emptyset",
    "digit string": _DIGITS,
    "candidate list": ", ".join(_CANDIDATES),
}

#: programs for code envs: they do nothing useful whatever the input
PROGRAMS: dict[str, str] = {
    "program: prints nothing": "```python\npass\n```",
    "program: exit 0": "```python\nimport sys\nsys.exit(0)\n```",
    "program: echoes input": "```python\nimport sys\nsys.stdout.write(sys.stdin.read())\n```",
    "program: C++ empty main": "```cpp\nint main() { return 0; }\n```",
}

#: patches for SWE envs: an empty diff, and a diff that only adds a test that always passes
PATCHES: dict[str, str] = {
    "patch: empty diff": "```diff\n```",
    "patch: tests only": (
        "```diff\n"
        "diff --git a/tests/test_m1gym_probe.py b/tests/test_m1gym_probe.py\n"
        "new file mode 100644\n"
        "--- /dev/null\n"
        "+++ b/tests/test_m1gym_probe.py\n"
        "@@ -0,0 +1,2 @@\n"
        "+def test_probe():\n"
        "+    assert True\n"
        "```"
    ),
}


#: the text candidates a sandbox env gets besides its programs and patches
SANDBOX_TEXT = ("0", "empty answer", "digit string", "prompt echoed", "many answer blocks", "think block only")


def default_probe_responses(task: Task, kind: str = "rule") -> dict[str, str]:
    """The fixed candidate list for one task: label -> complete response."""
    out = {label: f"<answer>{text}</answer>" for label, text in CONSTANT_ANSWERS.items()}
    out["\\boxed{\\infty} (no tag)"] = "\\boxed{\\infty}"
    out["prompt echoed"] = f"<answer>{task.prompt_text}</answer>"
    out["many answer blocks"] = "\n".join(f"<answer>{c}</answer>" for c in _CANDIDATES)
    out["think block only"] = "<think>\nThe answer is 1.\n</think>"
    if kind == "sandbox":
        # every run costs a container: the infinities and words are just more programs that do
        # nothing, so a sandbox env gets a few text constants and the programs and patches
        out = {k: v for k, v in out.items() if k in SANDBOX_TEXT}
        out.update({label: f"<answer>\n{text}\n</answer>" for label, text in {**PROGRAMS, **PATCHES}.items()})
    return out
