"""Isolated execution: the Sandbox interface, the Docker backend and its warm container pool.

    from m1gym.sandbox import DockerSandbox, Limits
    with DockerSandbox() as sb, sb.session(Limits(wall_s=2)) as s:
        s.put({"main.py": "print(input())"})
        r = s.run(["python3", "main.py"], stdin="hi\\n")   # RunResult(exit_code=0, stdout=b"hi\\n", ...)

Importing this package never touches Docker; the first session connects (and raises
SandboxUnavailable naming `m1gym sandbox doctor` when the daemon or the base image is missing).
"""

from .base import (DOCTOR_HINT, Limits, LocalSandbox, RunResult, Sandbox, SandboxError, SandboxUnavailable,
                   Session, run_deadline)
from .docker_sandbox import DockerSandbox, default_sandbox
from .image import base_image_tag

__all__ = ["Sandbox", "Session", "Limits", "RunResult", "SandboxError", "SandboxUnavailable", "DockerSandbox",
           "LocalSandbox", "default_sandbox", "base_image_tag", "DOCTOR_HINT", "run_deadline"]
