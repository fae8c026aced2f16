"""Software-engineering tasks in Docker sandboxes (SWE-bench's instance format).

Registered here:
    swe/bugfix    single turn: a patch that resolves the issue (graded by the repository's tests)
    swe/localize  single turn: the files and functions the fix edits (F1 against the gold patch)
    swe/testgen   single turn: tests that fail on the buggy code and pass with the fix
    swe/agent     multi-turn gymnasium env ``m1gym/swe.agent-v0`` (alias ``m1gym/swe-agent-v0``):
                  bash / view / search / create / str_replace / submit in a fresh container

Images: ``m1gym swe build-images`` (see images.py); clean-up: ``m1gym swe prune``.
Importing this package touches neither Docker nor the network.
"""

from __future__ import annotations

from ...registry import register
from .agent import SWEAgentEnv, parse_action, register_gym
from .envs import SWEBugfixEnv, SWELocalizeEnv, SWETestgenEnv
from .grading import Grade, Grader
from .images import ImageBuilder, ImageError, image_for
from .instance import Instance, load_instances, samples

__all__ = ["SWEBugfixEnv", "SWELocalizeEnv", "SWETestgenEnv", "SWEAgentEnv", "Grader", "Grade", "ImageBuilder",
           "ImageError", "Instance", "load_instances", "samples", "image_for", "parse_action"]

register("swe/bugfix", SWEBugfixEnv)
register("swe/localize", SWELocalizeEnv)
register("swe/testgen", SWETestgenEnv)
register("swe/agent", SWEAgentEnv, kind="sandbox", procedural=False, multi_turn=True,
         description="multi-turn agent: bash, view, search, edit and submit in a sandboxed repository "
                     "(gymnasium id m1gym/swe.agent-v0)",
         answer_format="one tool call per step: JSON {\"tool\": ...} or `bash ...`, `view ...`, `str_replace ...`, "
                       "`submit`")
register_gym()
