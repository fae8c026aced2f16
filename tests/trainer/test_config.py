"""Typed configs: YAML loading, unknown keys rejected by name, validation, shipped configs load."""

import re
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


def test_every_shipped_config_loads_and_round_trips(tmp_path):
    import yaml

    from m1gym.trainer.config import config_from_dict, dump_config

    paths = sorted((ROOT / "configs").glob("*.yaml"))
    assert len(paths) >= 2
    for path in paths:
        cfg = load_config(path)
        # what a run folder (and so a resumed run) stores reads back to the same config
        assert config_from_dict(yaml.safe_load(dump_config(cfg))) == cfg, path.name
    tiny = load_config(ROOT / "configs" / "tiny.yaml")
    assert tiny.curriculum is not None and tiny.curriculum.sources[0].env == "math/arithmetic"
    assert load_config(ROOT / "configs" / "tiny.yaml", ["curriculum=null"]).curriculum is None


def test_a_run_folder_config_written_before_the_typed_curriculum_loads(tmp_path):
    """Run folders store config.yaml; one written by the old dumper (curriculum section as given,
    every other section complete) must still load for `m1gym train` to resume from it."""
    import dataclasses

    import yaml

    cfg = load_config(ROOT / "configs" / "tiny.yaml")
    old = {f.name: dataclasses.asdict(getattr(cfg, f.name)) if dataclasses.is_dataclass(getattr(cfg, f.name))
           else getattr(cfg, f.name) for f in dataclasses.fields(cfg) if f.name not in ("mix", "curriculum")}
    old["mix"] = [dataclasses.asdict(e) for e in cfg.mix]
    old["curriculum"] = yaml.safe_load((ROOT / "configs" / "tiny.yaml").read_text())["curriculum"]
    p = tmp_path / "config.yaml"
    p.write_text(yaml.safe_dump(old, sort_keys=False))
    assert load_config(p) == cfg


@pytest.mark.parametrize("overrides, keys", [
    (["trainer.ray=true", "rollout.engine=vllm"], ["trainer.ray", "rollout.engine: vllm", "rollout.engine: embedded"]),
    (["trainer.ray=true", "scoring.backend=pool"], ["trainer.ray", "scoring.backend: pool", "scoring.backend: inprocess"]),
    (["trainer.ray=true", "scoring.backend=http", "scoring.url=http://x"], ["trainer.ray", "scoring.backend: http"]),
    (["trainer.ray_address=ray://head:10001"], ["trainer.ray_address", "trainer.ray: true"]),
    (["trainer.ray_rollout_workers=4"], ["trainer.ray_rollout_workers", "trainer.ray: true"]),
    (["rollout.url=http://127.0.0.1:8000"], ["rollout.url", "rollout.engine: openai"]),
    (["rollout.served_model=m"], ["rollout.served_model", "rollout.engine: openai"]),
    (["rollout.engine=openai"], ["rollout.engine: openai needs rollout.url"]),
    (["scoring.url=http://127.0.0.1:8000"], ["scoring.url", "scoring.backend: http"]),
    (["scoring.backend=pool", "scoring.token=t"], ["scoring.token", "scoring.backend: http"]),
    (["guard.rollback=true", "guard.enabled=false"], ["guard.rollback", "guard.enabled"]),
    (["guard.rollback=true", "trainer.checkpoint_every=0"], ["guard.rollback", "trainer.checkpoint_every"]),
    (["curriculum.family_weights={math: 1.0}"], ["curriculum.sources[2]", "family_weights.logic"]),
])
def test_exclusive_options_are_errors_naming_both_keys(overrides, keys):
    with pytest.raises(ConfigError) as info:
        load_config(ROOT / "configs" / "tiny.yaml", overrides)
    for key in keys:
        assert key in str(info.value)


def test_ray_with_its_defaults_is_accepted():
    cfg = load_config(ROOT / "configs" / "tiny.yaml", ["trainer.ray=true", "trainer.ray_rollout_workers=2",
                                                       "scoring.workers=4"])
    assert cfg.trainer.ray and cfg.rollout.engine == "embedded" and cfg.scoring.backend == "inprocess"


def test_misplaced_key_bad_choice_and_bad_bound_messages():
    with pytest.raises(ConfigError, match=r"trainer\.group_size: unknown key \(it is a key of another section: "
                                          r"rollout\.group_size"):
        load_config(None, ["trainer.group_size=4"])
    with pytest.raises(ConfigError, match=r"config key loss\.name: 'cispp' is not one of cispo, cispo_masked, grpo, "
                                          r"dapo \(did you mean cispo\?\)"):
        load_config(None, ["loss.name=cispp"])
    with pytest.raises(ConfigError, match=r"config key rollout\.top_p must be > 0 and <= 1, got 0"):
        load_config(None, ["rollout.top_p=0"])
    with pytest.raises(ConfigError, match=r"curriculum\.windows\.history must be >= 2"):
        load_config(ROOT / "configs" / "tiny.yaml", ["curriculum.windows.history=1"])


def test_a_config_built_in_code_is_checked_like_a_file():
    from m1gym.trainer.config import LossConfig

    with pytest.raises(ConfigError, match="loss.name: 'ppo' is not one of"):
        Config(loss=LossConfig(name="ppo")).validate()  # type: ignore[arg-type]
    cfg = load_config(ROOT / "configs" / "tiny.yaml")
    curriculum = cfg.curriculum.to_dict()
    cfg.curriculum = curriculum  # the section as a mapping, as code wrote it before it was typed
    assert cfg.validate().curriculum.sources[0].env == "math/arithmetic"


def test_help_config_prints_every_key(capsys):
    from m1gym.cli import main

    with pytest.raises(SystemExit) as info:
        main(["train", "--help-config"])
    assert info.value.code == 0
    out = capsys.readouterr().out
    assert re.search(r"\n  rollout\.engine: embedded \|[a-z |]*\| vllm = embedded\n", out)
    assert "  trainer.ray: bool = false\n" in out and "rollout.engine: embedded and scoring.backend: inprocess" in out
    assert "curriculum.windows.stages" in out and "  loss.is_clip_high: float | null = 4.0" in out
