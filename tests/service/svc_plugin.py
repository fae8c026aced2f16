"""Loaded by the test servers with ``m1gym serve --import tests/service/svc_plugin.py``: registers
the test envs of svc_envs.py (the way a user serves their own envs)."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import svc_envs  # noqa: E402

svc_envs.register_all()
