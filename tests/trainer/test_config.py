"""Typed configs: YAML loading, unknown keys rejected by name, validation, shipped configs load."""

from pathlib import Path

import pytest

from m1gym.trainer.config import Config, ConfigError, load_config

ROOT = Path(__file__).resolve().parents[2]


def test_shipped_configs_load():
    tiny = load_config(ROOT / "configs" / "tiny.yaml")
    assert tiny.model.preset == "tiny" and tiny.mix and tiny.loss.name == "cispo"
    assert tiny.trainer.betas == [0.9, 0.95] and tiny.trainer.eps == 1e-15
    gpu = load_config(ROOT / "configs" / "gpu-small.yaml")
    assert gpu.model.preset == "small" and gpu.model.dtype == "bfloat16"


def test_unknown_key_is_named(tmp_path):
    p = tmp_path / "c.yaml"
    p.write_text("trainer:\n  stepz: 3\n")
    with pytest.raises(ConfigError, match=r"trainer\.stepz.*did you mean 'steps'"):
        load_config(p)
    p.write_text("mix:\n  - {env: math/arithmetic, levle: 0}\n")
    with pytest.raises(ConfigError, match=r"mix\.levle|levle"):
        load_config(p)


def test_types_choices_and_overrides(tmp_path):
    p = tmp_path / "c.yaml"
    p.write_text("loss:\n  name: ppo\n")
    with pytest.raises(ConfigError, match="loss.name"):
        load_config(p)
    p.write_text("trainer:\n  steps: many\n")
    with pytest.raises(ConfigError, match="trainer.steps must be an integer"):
        load_config(p)
    cfg = load_config(None, ["trainer.steps=7", "loss.is_clip_high=0.5", "trainer.eps=1e-15"])
    assert cfg.trainer.steps == 7 and cfg.loss.is_clip_high == 0.5 and cfg.trainer.eps == 1e-15
    with pytest.raises(ConfigError, match="section.key=value"):
        load_config(None, ["trainer.steps"])
    with pytest.raises(ConfigError, match="not found"):
        load_config(tmp_path / "missing.yaml")


def test_defaults_are_the_m1_recipe():
    cfg = Config()
    assert cfg.loss.is_clip_low is None  # M1: no lower bound on the IS weight
    assert cfg.trainer.updates_per_batch == 4 and cfg.rollout.repetition_k == 3000
