"""Typed trainer configuration, loaded from YAML.

Every knob is a documented dataclass field with a default; a YAML file only overrides what it
names. Unknown keys are rejected with the full dotted name of the key (a typo never silently
falls back to a default). Every section maps to one part of the loop:

    model     which network (preset or checkpoint dir), dtype, device, CPU threads
    mix       the fixed task mix: registered env names, levels, weights
    rollout   the rollout engine and sampling (G, temperature, top-p, lengths, repetition stop)
    scoring   where rewards are computed (in process, a process pool, the HTTP service)
    loss      the policy loss (cispo, cispo_masked, grpo, dapo) and its bounds
    trainer   the RL loop (steps, batch, updates per batch, optimiser, dynamic sampling, Ray)
    sft       the warm start
    eval      the held-out pass-rate evaluation
    guard     the stability guard (collapse events, optional rollback)
    curriculum  optional: the curriculum scheduler (m1gym.curriculum) replaces the fixed mix for RL;
              the mix then only names the SFT data and the held-out evaluation set
"""

from __future__ import annotations

import dataclasses
import json
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


class ConfigError(ValueError):
    """A configuration file or override is invalid; the message names the key and the fix."""


@dataclass
class ModelConfig:
    #: ``tiny`` | ``small`` | ``m1`` (meta device only) or a checkpoint directory (save_pretrained)
    preset: str = "tiny"
    #: float32 | bfloat16 | float16 (the LM head is always computed in float32)
    dtype: str = "float32"
    #: cpu | cuda | cuda:N
    device: str = "cpu"
    #: torch intra-op threads on CPU (0 = leave torch's default). 1 is fastest for the tiny preset:
    #: its matrices are too small to split, and on a busy machine a second thread waiting on a
    #: core made decoding 20x slower in our measurements.
    threads: int = 1
    #: attention implementation for the softmax layers (eager | sdpa)
    attn_implementation: str = "eager"


@dataclass
class MixEntry:
    #: registered environment name, e.g. ``math/arithmetic`` or ``logic/dyck_language``
    env: str = ""
    #: difficulty level passed to generate(); None = the env's default
    level: int | None = None
    #: relative sampling weight of this entry
    weight: float = 1.0


@dataclass
class RolloutConfig:
    #: embedded (transformers model in process) | openai (any OpenAI-compatible server) | vllm (in process)
    engine: str = "embedded"
    #: base URL of the OpenAI-compatible server (engine: openai), e.g. http://127.0.0.1:8000
    url: str | None = None
    #: model name sent to the server (engine: openai); None sends none (a vLLM server answers 404 to a
    #: name it was not started with: `--served-model-name`)
    served_model: str | None = None
    #: G: responses sampled per task (the group of the group-relative advantage)
    group_size: int = 8
    temperature: float = 1.0
    top_p: float = 1.0
    #: L: maximum response length in tokens (also the L of the soft overlong penalty)
    max_new_tokens: int = 32
    #: tasks whose prompt is longer than this are skipped (another seed is drawn)
    max_prompt_tokens: int = 512
    #: stop a response after K consecutive sampled tokens each with probability > repetition_p
    #: (M1 used K = 3000 with 0.99); 0 disables the rule
    repetition_k: int = 3000
    repetition_p: float = 0.99
    #: sequences generated per forward batch by the embedded engine
    batch_size: int = 64


@dataclass
class ScoringConfig:
    #: inprocess | pool (process pool) | http (the reward service, `m1gym serve`)
    backend: str = "inprocess"
    workers: int = 2
    url: str | None = None
    token: str | None = None


@dataclass
class LossConfig:
    #: cispo (M1 Eq. 4-5) | cispo_masked (Eq. 6-7) | grpo (PPO clip) | dapo (clip-higher)
    name: str = "cispo"
    #: CISPO importance-weight bounds, as OFFSETS from 1: the weight is clip(r, 1 - is_clip_low,
    #: 1 + is_clip_high), then detached. None = no bound on that side. M1 sets no lower bound and
    #: tunes only the upper one (value unpublished); 4.0 caps r at 5 as ScaleRL does.
    is_clip_low: float | None = None
    is_clip_high: float | None = 4.0
    #: trust-region bounds of the token mask M (cispo_masked, Eq. 7) and of the PPO clip (grpo, dapo),
    #: as offsets from 1: r outside [1 - eps_low, 1 + eps_high] is clipped / masked.
    #: Defaults per loss when None: grpo 0.2/0.2, dapo 0.2/0.28, cispo_masked 0.2/0.28.
    eps_low: float | None = None
    eps_high: float | None = None
    #: normalisation: token (1 / sum_i |o_i| over the whole batch, M1 and DAPO) | sample (mean over
    #: each response, then over responses, GRPO) | mix (sample_weight * sample + (1 - sample_weight) * token,
    #: M1's long-window stage)
    norm: str = "token"
    sample_weight: float = 0.5


@dataclass
class TrainerConfig:
    #: RL steps (one generation batch each)
    steps: int = 50
    #: tasks (groups) per generation batch; each gets rollout.group_size responses
    tasks_per_step: int = 8
    #: N: off-policy minibatch updates per generation batch (M1: 16; CPU default 4). With 1, the
    #: importance ratio is exactly 1 at the update and no clip ever acts.
    updates_per_batch: int = 4
    lr: float = 1e-3
    #: learning-rate schedule over optimizer updates (one per minibatch): linear warmup from 0 over
    #: lr_warmup_updates, then constant | cosine (to lr * lr_min_ratio at the last update). A fresh
    #: AdamW's first steps move every weight by ~lr (lr * sign(g)): without warmup a tiny model's first
    #: RL update cost 0.21 nats of KL and broke the policy on some CPUs (issue 14).
    lr_schedule: str = "constant"
    lr_warmup_updates: int = 10
    lr_min_ratio: float = 0.1
    #: KL guard: before each minibatch after the first, the k3 estimate of KL(pi_old || pi_theta) on
    #: that minibatch; above kl_target the step's remaining minibatches are skipped. None = off.
    kl_target: float | None = 0.05
    #: how the trainer computes log-probs: flat (one forward over [prompt + response] rows) | group
    #: (each prompt once, its cache under the group's responses) | auto = flat on CUDA, group on CPU.
    #: Measured (tiny, CPU, fwd+bwd): flat 1.1x faster at 60-token prompts, 5.6x slower at 200 and
    #: 4.3x slower at 700 (it recomputes the prompt per response); on an H200 without fla-core the
    #: cached response pass runs the lightning layers token by token, 7.4x slower than flat.
    logprob_pass: str = "auto"
    #: fewest groups in one minibatch: a minibatch of one group at ~10% success is mostly noise, so a
    #: batch with few kept groups takes fewer, larger minibatches
    min_minibatch_groups: int = 2
    #: AdamW betas and eps as in M1 (0.9, 0.95, 1e-15); (0.9, 0.999, 1e-8) failed to converge there
    betas: list[float] = field(default_factory=lambda: [0.9, 0.95])
    eps: float = 1e-15
    weight_decay: float = 0.0
    grad_clip: float = 1.0
    #: DAPO dynamic sampling: drop groups whose task rewards (before length shaping) do not vary,
    #: refill with new tasks. Filtering on the shaped reward kept all-wrong groups whose only signal
    #: was the overlong penalty, and taught length alone.
    dynamic_sampling: bool = True
    #: a group is kept only when the std of its task rewards is at least this
    group_std_floor: float = 0.05
    #: cap on extra generation rounds per step when refilling
    max_refill_rounds: int = 2
    #: C of the soft overlong penalty (tokens before max_new_tokens where the penalty starts); 0 = off
    overlong_buffer: int = 0
    #: a response cut by max_new_tokens (no EOS): fail = scores 0 as a format failure (the default: a
    #: truncated answer is no answer, and a policy may not pad to the cap) | keep = scored as written
    truncated: str = "fail"
    #: checkpoint every N steps (and at the end); 0 = only at the end
    checkpoint_every: int = 10
    #: keep only the newest N checkpoints
    keep_checkpoints: int = 2
    #: rollout and reward workers as Ray actors (local instance unless ray_address is set)
    ray: bool = False
    ray_address: str | None = None
    ray_rollout_workers: int = 1
    #: modules every Ray worker imports first (environments that register on import and are not
    #: installed as `m1gym.envs` entry points)
    ray_imports: list[str] = field(default_factory=list)
    #: pass rate of a response: reward >= this counts as solved
    pass_threshold: float = 1.0
    #: write PNG curves at the end of a run
    plots: bool = True


@dataclass
class GuardConfig:
    """The stability guard: watches each step's health metrics and raises a ``collapse`` event when
    the policy breaks (format rate halves, entropy doubles or collapses, truncation jumps). The
    current value (mean of the last ``recent`` steps) is compared with the mean of the ``window``
    steps before them."""

    enabled: bool = True
    window: int = 4
    recent: int = 2
    #: event when format rate < format_drop * its reference
    format_drop: float = 0.5
    #: event when entropy > entropy_rise * reference, or < entropy_collapse * reference
    entropy_rise: float = 2.0
    entropy_collapse: float = 0.25
    #: event when the truncation rate rises by more than this (absolute)
    truncation_jump: float = 0.3
    #: on an event, reload the newest checkpoint saved before the degradation began and multiply
    #: the learning rate by lr_cut (needs trainer.checkpoint_every > 0)
    rollback: bool = False
    lr_cut: float = 0.5
    #: log the k3 KL to the starting policy (one extra forward of a frozen copy per step)
    ref_kl: bool = True


@dataclass
class SFTConfig:
    steps: int = 300
    batch_size: int = 32
    lr: float = 3e-3
    warmup_steps: int = 20
    #: drop the <think> block of reference responses (short targets for tiny models)
    strip_think: bool = True
    #: distinct training tasks per mix entry
    tasks_per_env: int = 2000
    #: reuse a finished warm start with the same settings (cached under cache_dir)
    cache: bool = True
    #: default: $M1GYM_CACHE or ~/.cache/m1gym, subfolder sft/
    cache_dir: str | None = None


@dataclass
class EvalConfig:
    #: held-out tasks per mix entry (seeds disjoint from training seeds)
    tasks_per_env: int = 40
    #: sampled responses per task (pass rate = mean over them)
    samples: int = 4
    temperature: float = 1.0
    #: also report greedy-decoding pass rate
    greedy: bool = True
    #: held-out seeds start here (training seeds stay below it)
    seed_offset: int = 10_000_000


@dataclass
class Config:
    seed: int = 0
    #: run folder (config, metrics.jsonl, TensorBoard events, checkpoints, plots)
    run_dir: str = "runs/tiny"
    model: ModelConfig = field(default_factory=ModelConfig)
    mix: list[MixEntry] = field(default_factory=list)
    rollout: RolloutConfig = field(default_factory=RolloutConfig)
    scoring: ScoringConfig = field(default_factory=ScoringConfig)
    loss: LossConfig = field(default_factory=LossConfig)
    trainer: TrainerConfig = field(default_factory=TrainerConfig)
    sft: SFTConfig = field(default_factory=SFTConfig)
    eval: EvalConfig = field(default_factory=EvalConfig)
    guard: GuardConfig = field(default_factory=GuardConfig)
    #: the curriculum section (see m1gym/curriculum/config.py); None = RL on the fixed mix
    curriculum: Any = None

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def validate(self) -> "Config":
        choices = {
            "model.dtype": (self.model.dtype, ("float32", "bfloat16", "float16")),
            "rollout.engine": (self.rollout.engine, ("embedded", "openai", "vllm")),
            "scoring.backend": (self.scoring.backend, ("inprocess", "pool", "http")),
            "loss.name": (self.loss.name, ("cispo", "cispo_masked", "grpo", "dapo")),
            "loss.norm": (self.loss.norm, ("token", "sample", "mix")),
            "trainer.lr_schedule": (self.trainer.lr_schedule, ("constant", "cosine")),
            "trainer.truncated": (self.trainer.truncated, ("fail", "keep")),
            "trainer.logprob_pass": (self.trainer.logprob_pass, ("auto", "flat", "group")),
        }
        for key, (value, allowed) in choices.items():
            if value not in allowed:
                raise ConfigError(f"config key {key}: {value!r} is not one of {', '.join(allowed)}")
        positive = {
            "rollout.group_size": self.rollout.group_size, "rollout.max_new_tokens": self.rollout.max_new_tokens,
            "trainer.tasks_per_step": self.trainer.tasks_per_step,
            "trainer.updates_per_batch": self.trainer.updates_per_batch,
            "rollout.batch_size": self.rollout.batch_size,
            "trainer.min_minibatch_groups": self.trainer.min_minibatch_groups,
            "guard.window": self.guard.window, "guard.recent": self.guard.recent,
        }
        for key, value in positive.items():
            if value < 1:
                raise ConfigError(f"config key {key} must be >= 1, got {value}")
        if self.rollout.engine == "openai" and not self.rollout.url:
            raise ConfigError("rollout.engine: openai needs rollout.url (e.g. http://127.0.0.1:8000)")
        if self.scoring.backend == "http" and not self.scoring.url:
            raise ConfigError("scoring.backend: http needs scoring.url (the address of `m1gym serve`)")
        if not 0.0 < self.rollout.top_p <= 1.0:
            raise ConfigError(f"config key rollout.top_p must be in (0, 1], got {self.rollout.top_p}")
        if self.rollout.temperature < 0:
            raise ConfigError("config key rollout.temperature must be >= 0")
        if len(self.trainer.betas) != 2:
            raise ConfigError("config key trainer.betas must be a list of two numbers, e.g. [0.9, 0.95]")
        from ..registry import UnknownEnvError, env_names

        known = env_names()
        for i, entry in enumerate(self.mix):
            if not entry.env:
                raise ConfigError(f"config key mix[{i}].env is empty; name a registered env (`m1gym envs list`)")
            if entry.env not in known:  # rejected before any work starts
                raise ConfigError(f"config key mix[{i}].env: {UnknownEnvError(entry.env, known)}")
            if entry.weight <= 0:
                raise ConfigError(f"config key mix[{i}].weight must be > 0")
        if self.curriculum is not None:
            from ..curriculum import CurriculumConfigError, curriculum_from_dict

            try:
                curriculum_from_dict(self.curriculum)
            except CurriculumConfigError as exc:
                raise ConfigError(f"config key {exc}") from None
        return self


# ---- loading ---------------------------------------------------------------------------------

def _type_name(tp: Any) -> str:
    return getattr(tp, "__name__", str(tp))


def _convert(value: Any, tp: Any, key: str) -> Any:
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        args = typing.get_args(tp)
        if value is None and type(None) in args:
            return None
        errors = []
        for arg in args:
            if arg is type(None):
                continue
            try:
                return _convert(value, arg, key)
            except ConfigError as exc:
                errors.append(str(exc))
        raise ConfigError(errors[0] if errors else f"config key {key}: bad value {value!r}")
    if dataclasses.is_dataclass(tp):
        if not isinstance(value, dict):
            raise ConfigError(f"config key {key} must be a mapping, got {type(value).__name__}")
        return _from_dict(tp, value, key)
    if origin is list:
        (item_tp,) = typing.get_args(tp) or (Any,)
        if not isinstance(value, list):
            raise ConfigError(f"config key {key} must be a list, got {type(value).__name__}")
        return [_convert(v, item_tp, f"{key}[{i}]") for i, v in enumerate(value)]
    if tp is Any:
        return value
    if tp is bool:
        if isinstance(value, bool):
            return value
        raise ConfigError(f"config key {key} must be true or false, got {value!r}")
    if tp is int:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        raise ConfigError(f"config key {key} must be an integer, got {value!r}")
    if tp is float:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return float(value)
        if isinstance(value, str):  # YAML reads 1e-15 as a string
            try:
                return float(value)
            except ValueError:
                pass
        raise ConfigError(f"config key {key} must be a number, got {value!r}")
    if tp is str:
        if isinstance(value, str):
            return value
        raise ConfigError(f"config key {key} must be a string, got {value!r}")
    raise ConfigError(f"config key {key}: unsupported type {_type_name(tp)}")


def _from_dict(cls: type, data: dict[str, Any], prefix: str = "") -> Any:
    hints = typing.get_type_hints(cls)
    names = [f.name for f in dataclasses.fields(cls)]
    kwargs = {}
    for key, value in data.items():
        dotted = f"{prefix}.{key}" if prefix else str(key)
        if key not in names:
            import difflib

            close = difflib.get_close_matches(str(key), names, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise ConfigError(f"unknown config key {dotted!r}{hint}; known keys here: {', '.join(names)}")
        kwargs[key] = _convert(value, hints[key], dotted)
    return cls(**kwargs)


def config_from_dict(data: dict[str, Any] | None) -> Config:
    return _from_dict(Config, data or {}).validate()


def _set_dotted(data: dict[str, Any], dotted: str, value: Any) -> None:
    parts = dotted.split(".")
    node = data
    for part in parts[:-1]:
        node = node.setdefault(part, {})
        if not isinstance(node, dict):
            raise ConfigError(f"override {dotted}: {part} is not a section")
    node[parts[-1]] = value


def load_config(path: str | Path | None = None, overrides: list[str] | None = None) -> Config:
    """Load a YAML config; ``overrides`` are ``dotted.key=value`` strings (value parsed as YAML)."""
    import yaml

    data: dict[str, Any] = {}
    if path is not None:
        p = Path(path)
        if not p.exists():
            raise ConfigError(f"config file {p} not found; use one of configs/*.yaml or write your own")
        try:
            data = yaml.safe_load(p.read_text()) or {}
        except yaml.YAMLError as exc:
            raise ConfigError(f"{p} is not valid YAML: {exc}") from None
        if not isinstance(data, dict):
            raise ConfigError(f"{p} must hold a mapping of config sections at the top level")
    for item in overrides or []:
        if "=" not in item:
            raise ConfigError(f"override {item!r} must look like section.key=value, e.g. trainer.steps=10")
        key, raw = item.split("=", 1)
        _set_dotted(data, key.strip(), yaml.safe_load(raw))
    return config_from_dict(data)


def dump_config(cfg: Config) -> str:
    import yaml

    return yaml.safe_dump(cfg.to_dict(), sort_keys=False)


def config_hash(obj: Any) -> str:
    import hashlib

    return hashlib.sha256(json.dumps(obj, sort_keys=True, default=str).encode()).hexdigest()[:16]
