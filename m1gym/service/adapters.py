"""Reward functions in other trainers' calling conventions (kept for old import paths and verl
configs that name this file). They live in ``m1gym.integrations``, one module per trainer:

- ``m1gym.integrations.verl``: ``compute_score`` / ``compute_score_async`` / ``compute_score_batch`` /
  ``compute_score_prime`` and the reward-loop manager ``M1GymRewardManager``
- ``m1gym.integrations.trl``: ``trl_reward`` / ``trl_reward_async``, ``swe_environment_factory``
- ``m1gym.integrations.openrlhf``: ``reward_func`` (a ``--reward.remote_url`` file) and the SWE agent
- ``m1gym.integrations.verifiers`` / ``m1gym.integrations.skyrl``

See docs/service.md.
"""

from m1gym.integrations.trl import RewardFunction, m1gym_reward_async, trl_reward, trl_reward_async
from m1gym.integrations.verl import compute_score, compute_score_async, compute_score_batch, compute_score_prime
from m1gym.service.labels import LabelError

__all__ = ["compute_score", "compute_score_async", "compute_score_batch", "compute_score_prime",
           "trl_reward", "trl_reward_async", "RewardFunction", "m1gym_reward_async",
           "LabelError"]


def __getattr__(name: str):
    if name == "M1GymRewardManager":  # resolved lazily: it imports verl
        from m1gym.integrations import verl

        return verl.M1GymRewardManager
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
