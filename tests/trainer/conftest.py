"""Fixtures of the trainer tests: the toy env and a briefly warm-started tiny model."""

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

import toy_env  # noqa: E402

HERE = Path(__file__).resolve().parent


def toy_config(run_dir, **sections):
    """A very small config on the toy env (dict form, YAML-dumpable)."""
    cfg = {
        "seed": 0, "run_dir": str(run_dir),
        "model": {"preset": "tiny", "threads": 1},
        "mix": [{"env": toy_env.NAME, "level": 0}],
        "rollout": {"group_size": 4, "max_new_tokens": 6, "max_prompt_tokens": 64, "batch_size": 64},
        "trainer": {"steps": 3, "tasks_per_step": 4, "updates_per_batch": 2, "lr": 2e-3, "checkpoint_every": 0,
                    "plots": False},
        "sft": {"steps": 100, "batch_size": 16, "lr": 3e-3, "warmup_steps": 5, "cache": False},
        "eval": {"tasks_per_env": 16, "samples": 4, "greedy": False},
    }
    for key, value in sections.items():
        if isinstance(value, dict):
            cfg.setdefault(key, {}).update(value)
        else:
            cfg[key] = value
    return cfg


@pytest.fixture(scope="session")
def warm_start(tmp_path_factory):
    """A tiny model after 100 SFT steps on the toy env: knows the format (93-98% of responses) and
    half-knows the task (held-out pass rate 0.375-0.461 over 5 eval seeds, 1 and 2 threads). After
    40 steps it solved 5-8%, and RL's gain from there hung on float luck (issue 14)."""
    import torch

    from m1gym.trainer.config import config_from_dict
    from m1gym.trainer.sft import run_sft

    torch.set_num_threads(1)
    out = tmp_path_factory.mktemp("warm")
    cfg = config_from_dict(toy_config(out / "run"))
    return run_sft(cfg, out_dir=out / "sft", progress=False, log=lambda *a: None)
