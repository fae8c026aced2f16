"""Software-engineering tasks in Docker sandboxes (SWE-bench's instance format).

Registered (at the bottom of envs.py and agent.py):
    swe/bugfix    single turn: a patch that resolves the issue (graded by the repository's tests)
    swe/localize  single turn: the files and functions the fix edits (F1 against the gold patch)
    swe/testgen   single turn: tests that fail on the buggy code and pass with the fix
    swe/agent     multi-turn gymnasium env ``m1gym/swe.agent-v0`` (alias ``m1gym/swe-agent-v0``):
                  bash / view / search / create / str_replace / submit in a fresh container

Images: ``m1gym swe build-images`` (see images.py and image_builder.py); clean-up: ``m1gym swe prune``.
Importing this package imports none of its modules (the names below load on first use) and touches
neither Docker nor the network.
"""

from __future__ import annotations

from ...lazy import lazy_exports

#: the modules that register swe envs (at their bottom)
ENV_MODULES = (f"{__name__}.envs", f"{__name__}.agent")

_EXPORTS = {"SWEAgentEnv": ".agent", "parse_action": ".agent", "SWEBugfixEnv": ".envs", "SWELocalizeEnv": ".envs",
            "SWETestgenEnv": ".envs", "Grade": ".grading", "Grader": ".grading", "ImageBuilder": ".image_builder",
            "ImageError": ".images", "image_for": ".images", "Instance": ".instance",
            "load_instances": ".instance", "samples": ".instance"}

__all__ = ["SWEBugfixEnv", "SWELocalizeEnv", "SWETestgenEnv", "SWEAgentEnv", "Grader", "Grade", "ImageBuilder",
           "ImageError", "Instance", "load_instances", "samples", "image_for", "parse_action"]


__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS, globals())
