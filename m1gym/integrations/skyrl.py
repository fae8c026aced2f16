"""SkyRL-gym: ``M1GymTextEnv``, a single-turn ``BaseTextEnv`` scoring through ``m1gym serve``.

SkyRL builds one env per sample as ``Env(env_config, extras)`` where ``extras`` is the dataset row;
the task is ``extras["reward_spec"]["ground_truth"]`` (a Task JSON, ``{env, seed}``, ``{env, answer}``,
or a bare answer with ``env_config.env``). Register it once per process with ``register()`` (id
``m1gym``) and set ``env_class: m1gym`` in the dataset (``m1gym export ENV --format skyrl``).
Settings (``server_url``, ``token``, ``env``) come from ``env_config`` (SkyRL's
``environment.skyrl_gym.m1gym`` section), else ``$M1GYM_SERVER`` / ``$M1GYM_TOKEN``.
"""

from __future__ import annotations

from typing import Any, Optional

from m1gym.integrations import _service
from m1gym.service.labels import LabelError, item_from_label

try:
    from skyrl_gym.envs.base_text_env import BaseTextEnv as _Base
except Exception:  # noqa: BLE001 - SkyRL not installed: still usable by duck typing
    _Base = object  # type: ignore[assignment,misc]

ENV_ID = "m1gym"


def _get(config: Any, key: str) -> Any:
    if config is None:
        return None
    if hasattr(config, "get"):
        return config.get(key)
    return getattr(config, key, None)


class M1GymTextEnv(_Base):  # type: ignore[misc,valid-type]
    """``init(prompt)`` -> the prompt unchanged; ``step(action)`` scores the action once and ends the
    episode: ``{"observations": [], "reward", "done": True, "metadata": {correct, format_ok, reason, error}}``."""

    def __init__(self, env_config: Any = None, extras: Optional[dict[str, Any]] = None):
        if _Base is not object:
            super().__init__()
        extras = extras or {}
        spec = extras.get("reward_spec") or {}
        if "ground_truth" not in spec:
            raise LabelError("SkyRL row has no reward_spec.ground_truth; write rows with "
                             "`m1gym export ENV --format skyrl`")
        self.server_url: Optional[str] = _get(env_config, "server_url")
        self.token: Optional[str] = _get(env_config, "token")
        self.label = spec["ground_truth"]
        self.default_env: Optional[str] = _get(env_config, "env")
        item_from_label(self.label, "", default_env=self.default_env)  # a bad row fails here, at build time
        self.max_turns = 1
        self.turns = 0

    def init(self, prompt: Any) -> tuple[Any, dict[str, Any]]:
        return prompt, {}

    def step(self, action: str) -> dict[str, Any]:
        self.turns += 1
        item = item_from_label(self.label, action, default_env=self.default_env)
        result = _service.client(self.server_url, self.token).score_raw([item])[0]
        return {"observations": [], "reward": float(result["reward"]), "done": True,
                "metadata": {"correct": bool(result.get("correct")), "format_ok": bool(result.get("format_ok")),
                             "reason": result.get("reason"), "error": result.get("error")}}


def register() -> None:
    """Make ``skyrl_gym.make("m1gym", env_config=..., extras=row)`` build ``M1GymTextEnv``."""
    from skyrl_gym.envs.registration import register as skyrl_register, registry

    if ENV_ID not in registry:
        skyrl_register(id=ENV_ID, entry_point="m1gym.integrations.skyrl:M1GymTextEnv")
