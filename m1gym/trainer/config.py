"""Typed trainer configuration, loaded from YAML by the one config loader (``m1gym.config``).

Every knob is a documented dataclass field with a default; a YAML file only overrides what it
names. Unknown keys are rejected with the full dotted name of the key and a close match (a typo
never silently falls back to a default); types, choices and bounds are checked as the file is read.
``m1gym train --help-config`` prints every key with its type, default and doc. Every section maps
to one part of the loop:

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

Options that exclude each other are errors, not silent overrides (``Config.validate``):

- ``trainer.ray: true`` runs rollouts on Ray actors with the embedded engine and scores on
  ``scoring.workers`` Ray actors, so it needs ``rollout.engine: embedded`` and
  ``scoring.backend: inprocess`` (both defaults); any other engine or backend is an error.
- ``trainer.ray_address``, ``ray_rollout_workers`` and ``ray_imports`` need ``trainer.ray: true``.
- ``rollout.url`` and ``rollout.served_model`` need ``rollout.engine: openai``; ``scoring.url`` and
  ``scoring.token`` need ``scoring.backend: http``.
- ``guard.rollback: true`` needs ``guard.enabled: true`` and ``trainer.checkpoint_every > 0``.

Documented, not errors (the value is used, only differently): with a ``curriculum`` section the
RL response window is the curriculum's length stage (``curriculum.windows.stages``), and
``rollout.max_new_tokens`` caps the held-out evaluation's responses only; a non-zero
``trainer.overlong_buffer`` is replaced by ``curriculum.windows.overlong_buffer`` times the window.
Loss bounds that the chosen ``loss.name`` does not use (``is_clip_*`` under grpo/dapo, ``eps_*``
under cispo) and ``loss.sample_weight`` outside ``norm: mix`` are inert, so that one config can be
swept across losses.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Literal

from ..config import ConfigError, Range, apply_overrides, check, format_help, from_dict, non_default, read_yaml, \
    to_dict
from ..curriculum.config import CurriculumConfig

__all__ = ["ConfigError", "Config", "ModelConfig", "MixEntry", "RolloutConfig", "ScoringConfig", "LossConfig",
           "TrainerConfig", "GuardConfig", "SFTConfig", "EvalConfig", "config_from_dict", "load_config",
           "dump_config", "config_hash", "config_help"]

#: an integer that must be at least 1
Positive = Annotated[int, Range(ge=1)]
#: an integer that must be at least 0
Count = Annotated[int, Range(ge=0)]


@dataclass
class ModelConfig:
    #: ``tiny`` | ``small`` | ``m1`` (meta device only) or a checkpoint directory (save_pretrained)
    preset: str = "tiny"
    #: the compute dtype; master weights and AdamW state stay float32 (a bf16/fp16 dtype runs the
    #: forward under autocast), and the LM head is always computed in float32
    dtype: Literal["float32", "bfloat16", "float16"] = "float32"
    #: cpu | cuda | cuda:N
    device: str = "cpu"
    #: torch intra-op threads on CPU (0 = leave torch's default). 1 is fastest for the tiny preset:
    #: its matrices are too small to split, and on a busy machine a second thread waiting on a
    #: core made decoding 20x slower in our measurements.
    threads: Count = 1
    #: attention implementation for the softmax layers
    attn_implementation: Literal["eager", "sdpa"] = "eager"


@dataclass
class MixEntry:
    """One entry of the fixed task mix (``- {env: math/arithmetic, level: 0, weight: 1.0}``)."""

    #: registered environment name, e.g. ``math/arithmetic`` or ``logic/dyck_language``
    env: str = ""
    #: difficulty level passed to generate(); None = the env's default
    level: int | None = None
    #: relative sampling weight of this entry
    weight: Annotated[float, Range(gt=0)] = 1.0


@dataclass
class RolloutConfig:
    #: embedded (transformers model in process) | decode (the decode engine in process: preallocated
    #: state, CUDA graphs, on-device sampling, continuous batching; m1gym.inference.decode) | auto
    #: (decode on CUDA, embedded on CPU) | openai (any OpenAI-compatible server) | vllm (in
    #: process). With trainer.ray: true it must stay embedded: the Ray workers run the embedded engine.
    engine: Literal["embedded", "decode", "auto", "openai", "vllm"] = "embedded"
    #: base URL of the OpenAI-compatible server, e.g. http://127.0.0.1:8000; required by engine: openai
    #: and an error with any other engine
    url: str | None = None
    #: model name sent to the server (engine: openai only); None sends none (a vLLM server answers 404
    #: to a name it was not started with: `--served-model-name`)
    served_model: str | None = None
    #: G: responses sampled per task (the group of the group-relative advantage)
    group_size: Positive = 8
    #: sampling temperature of RL rollouts (0 = greedy; the trainer's log-probs then use temperature 1,
    #: as greedy decoding has no distribution of its own)
    temperature: Annotated[float, Range(ge=0)] = 1.0
    #: nucleus sampling: sample from the smallest token set holding this much probability (1 = off)
    top_p: Annotated[float, Range(gt=0, le=1)] = 1.0
    #: L: maximum response length in tokens (also the L of the soft overlong penalty). With a
    #: curriculum section, RL uses the curriculum's current window instead (curriculum.windows.stages);
    #: this value then caps the held-out evaluation only
    max_new_tokens: Positive = 32
    #: tasks whose prompt is longer than this are skipped (another seed is drawn); also bounds the
    #: prompts of SFT data
    max_prompt_tokens: Positive = 512
    #: stop a response after K consecutive sampled tokens each with probability > repetition_p
    #: (M1 used K = 3000 with 0.99); 0 disables the rule
    repetition_k: Count = 3000
    #: the probability above which a sampled token counts towards repetition_k
    repetition_p: Annotated[float, Range(ge=0, le=1)] = 0.99
    #: sequences generated per forward batch by the embedded engine (also inside each Ray rollout
    #: worker); unused by the openai and vllm engines
    batch_size: Positive = 64


@dataclass
class ScoringConfig:
    #: inprocess (in the trainer's process) | pool (a process pool of `workers` processes) | http (the
    #: reward service, `m1gym serve`, at `url`). With trainer.ray: true scoring runs on `workers` Ray
    #: actors and this must stay inprocess (the default).
    backend: Literal["inprocess", "pool", "http"] = "inprocess"
    #: scoring processes (backend: pool) or Ray actors (trainer.ray: true); unused otherwise
    workers: Positive = 2
    #: address of `m1gym serve`, e.g. http://127.0.0.1:8000; required by backend: http, an error otherwise
    url: str | None = None
    #: bearer token of the service (backend: http only; `m1gym serve --token`)
    token: str | None = None
    #: seconds one item may take on the scoring pool (backend: pool, or trainer.ray: true): an item
    #: past it scores 0 with a timeout reason and its worker is replaced, so a hanging verifier never
    #: stalls a step (an item whose worker dies is retried once, then scores 0 as worker_crashed)
    item_timeout: Annotated[float, Range(gt=0)] = 30.0
    #: modules (dotted names or .py paths) every pool worker (backend: pool, or trainer.ray: true)
    #: imports first: environments that register on import and are not `m1gym.envs` entry points
    imports: list[str] = field(default_factory=list)


@dataclass
class LossConfig:
    #: cispo (M1 Eq. 4-5) | cispo_masked (Eq. 6-7) | grpo (PPO clip) | dapo (clip-higher)
    name: Literal["cispo", "cispo_masked", "grpo", "dapo"] = "cispo"
    #: CISPO importance-weight bounds (cispo, cispo_masked; inert under grpo and dapo), as OFFSETS
    #: from 1: the weight is clip(r, 1 - is_clip_low, 1 + is_clip_high), then detached. None = no bound
    #: on that side. M1 sets no lower bound and tunes only the upper one (value unpublished); 4.0 caps
    #: r at 5 as ScaleRL does.
    is_clip_low: float | None = None
    #: the upper CISPO bound (see is_clip_low)
    is_clip_high: float | None = 4.0
    #: trust-region bounds of the token mask M (cispo_masked, Eq. 7) and of the PPO clip (grpo, dapo;
    #: inert under cispo), as offsets from 1: r outside [1 - eps_low, 1 + eps_high] is clipped / masked.
    #: Defaults per loss when None: grpo 0.2/0.2, dapo 0.2/0.28, cispo_masked 0.2/0.28.
    eps_low: float | None = None
    #: the upper trust-region bound (see eps_low)
    eps_high: float | None = None
    #: normalisation: token (1 / sum_i |o_i| over the whole batch, M1 and DAPO) | sample (mean over
    #: each response, then over responses, GRPO) | mix (sample_weight * sample + (1 - sample_weight) * token,
    #: M1's long-window stage)
    norm: Literal["token", "sample", "mix"] = "token"
    #: the weight of the sample-level term under norm: mix (inert otherwise)
    sample_weight: Annotated[float, Range(ge=0, le=1)] = 0.5


@dataclass
class TrainerConfig:
    #: RL steps (one generation batch each)
    steps: Count = 50
    #: tasks (groups) per generation batch; each gets rollout.group_size responses
    tasks_per_step: Positive = 8
    #: N: off-policy minibatch updates per generation batch (M1: 16; CPU default 4). With 1, the
    #: importance ratio is exactly 1 at the update and no clip ever acts.
    updates_per_batch: Positive = 4
    #: peak learning rate of AdamW
    lr: Annotated[float, Range(gt=0)] = 1e-3
    #: learning-rate schedule over optimizer updates (one per minibatch): linear warmup from 0 over
    #: lr_warmup_updates, then constant | cosine (to lr * lr_min_ratio at the last update). A fresh
    #: AdamW's first steps move every weight by ~lr (lr * sign(g)): without warmup a tiny model's first
    #: RL update cost 0.21 nats of KL and broke the policy on some CPUs (issue 14).
    lr_schedule: Literal["constant", "cosine"] = "constant"
    #: optimizer updates of linear warmup (0 = none)
    lr_warmup_updates: Count = 10
    #: final learning rate of the cosine schedule as a fraction of lr (inert under constant)
    lr_min_ratio: Annotated[float, Range(ge=0, le=1)] = 0.1
    #: KL guard: before each minibatch after the first, the k3 estimate of KL(pi_old || pi_theta) on
    #: that minibatch; above kl_target the step's remaining minibatches are skipped. None = off (and
    #: inert with updates_per_batch: 1, as there is no second minibatch).
    kl_target: float | None = 0.05
    #: how the trainer computes log-probs: flat (one forward over [prompt + response] rows) | group
    #: (each prompt once, its cache under the group's responses) | auto = flat on CUDA, group on CPU.
    #: Measured (tiny, CPU, fwd+bwd): flat 1.1x faster at 60-token prompts, 5.6x slower at 200 and
    #: 4.3x slower at 700 (it recomputes the prompt per response); on an H200 without fla-core the
    #: cached response pass runs the lightning layers token by token, 7.4x slower than flat.
    logprob_pass: Literal["auto", "flat", "group"] = "auto"
    #: fewest groups in one minibatch: a minibatch of one group at ~10% success is mostly noise, so a
    #: batch with few kept groups takes fewer, larger minibatches
    min_minibatch_groups: Positive = 2
    #: AdamW betas and eps as in M1 (0.9, 0.95, 1e-15); (0.9, 0.999, 1e-8) failed to converge there
    betas: list[float] = field(default_factory=lambda: [0.9, 0.95])
    #: AdamW epsilon (see betas)
    eps: float = 1e-15
    #: AdamW decoupled weight decay
    weight_decay: Annotated[float, Range(ge=0)] = 0.0
    #: clip the global gradient norm to this
    grad_clip: float = 1.0
    #: DAPO dynamic sampling: drop groups whose task rewards (before length shaping) do not vary,
    #: refill with new tasks. Filtering on the shaped reward kept all-wrong groups whose only signal
    #: was the overlong penalty, and taught length alone.
    dynamic_sampling: bool = True
    #: a group is kept only when the std of its task rewards is at least this (dynamic_sampling only)
    group_std_floor: Annotated[float, Range(ge=0)] = 0.05
    #: cap on extra generation rounds per step when refilling (dynamic_sampling only)
    max_refill_rounds: Count = 2
    #: C of the soft overlong penalty (tokens before max_new_tokens where the penalty starts); 0 = off.
    #: With a curriculum section any value > 0 turns the penalty on with the curriculum's buffer
    #: (curriculum.windows.overlong_buffer times the current window); 0 keeps it off
    overlong_buffer: Count = 0
    #: a response cut by max_new_tokens (no EOS): fail = scores 0 as a format failure (the default: a
    #: truncated answer is no answer, and a policy may not pad to the cap) | keep = scored as written
    truncated: Literal["fail", "keep"] = "fail"
    #: checkpoint every N steps (and at the end); 0 = only at the end
    checkpoint_every: Count = 10
    #: keep only the newest N checkpoints
    keep_checkpoints: int = 2
    #: rollout and reward workers as Ray actors (local instance unless ray_address is set): rollouts
    #: run the embedded engine on ray_rollout_workers actors, scoring on scoring.workers actors.
    #: Needs rollout.engine: embedded and scoring.backend: inprocess (the defaults).
    ray: bool = False
    #: address of a Ray cluster to join (trainer.ray: true only); None starts a local instance
    ray_address: str | None = None
    #: Ray actors running the embedded rollout engine (trainer.ray: true only)
    ray_rollout_workers: Positive = 1
    #: modules every Ray worker imports first (environments that register on import and are not
    #: installed as `m1gym.envs` entry points; trainer.ray: true only)
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

    #: watch the metrics at all (false: no events, no rollback)
    enabled: bool = True
    #: steps in the reference mean
    window: Positive = 4
    #: steps in the current mean
    recent: Positive = 2
    #: event when format rate < format_drop * its reference
    format_drop: float = 0.5
    #: event when entropy > entropy_rise * reference
    entropy_rise: float = 2.0
    #: event when entropy < entropy_collapse * reference
    entropy_collapse: float = 0.25
    #: entropy changes smaller than this (nats, absolute) are no event: on the tiny main job a
    #: sharpened policy's entropy went 0.057 -> 0.154 and 0.069 -> 0.016 while its pass rate rose
    entropy_min_change: Annotated[float, Range(ge=0)] = 0.1
    #: event when the truncation rate rises by more than this (absolute)
    truncation_jump: float = 0.3
    #: on an event, reload the newest checkpoint saved before the degradation began and multiply
    #: the learning rate by lr_cut (needs guard.enabled and trainer.checkpoint_every > 0)
    rollback: bool = False
    #: learning-rate factor of each rollback
    lr_cut: Annotated[float, Range(gt=0)] = 0.5
    #: log the k3 KL to the starting policy (one extra forward of a frozen copy per step)
    ref_kl: bool = True


@dataclass
class SFTConfig:
    #: optimizer steps of the warm start (`m1gym train`); 0 = no warm start: RL starts from
    #: model.preset as it is (fresh weights for a preset name, the saved ones for a checkpoint dir)
    steps: Count = 300
    #: (prompt, reference response) pairs per step
    batch_size: Positive = 32
    #: peak learning rate (linear warmup, then constant)
    lr: Annotated[float, Range(gt=0)] = 3e-3
    #: steps of linear warmup
    warmup_steps: Count = 20
    #: drop the <think> block of reference responses (short targets for tiny models)
    strip_think: bool = True
    #: distinct training tasks per mix entry
    tasks_per_env: Positive = 2000
    #: reuse a finished warm start with the same settings (cached under cache_dir)
    cache: bool = True
    #: default: $M1GYM_CACHE or ~/.cache/m1gym, subfolder sft/ (unused when cache is false)
    cache_dir: str | None = None


@dataclass
class EvalConfig:
    """The held-out pass rate per mix entry, before and after RL. It always decodes with the policy in
    process (rollout.engine when that is a local engine, else auto), at rollout.max_new_tokens."""

    #: held-out tasks per mix entry (seeds disjoint from training seeds)
    tasks_per_env: Count = 40
    #: sampled responses per task (pass rate = mean over them)
    samples: Positive = 4
    #: sampling temperature of the held-out evaluation
    temperature: Annotated[float, Range(ge=0)] = 1.0
    #: also report greedy-decoding pass rate
    greedy: bool = True
    #: held-out seeds start here (training seeds stay below it)
    seed_offset: Count = 10_000_000


@dataclass
class Config:
    #: seed of every generator, sampler and initialisation of the run
    seed: int = 0
    #: run folder (config, metrics.jsonl, TensorBoard events, checkpoints, plots)
    run_dir: str = "runs/tiny"
    #: the network
    model: ModelConfig = field(default_factory=ModelConfig)
    #: the fixed task mix: RL tasks (without a curriculum), SFT data and the held-out evaluation set
    mix: list[MixEntry] = field(default_factory=list)
    #: the rollout engine and sampling
    rollout: RolloutConfig = field(default_factory=RolloutConfig)
    #: where rewards are computed
    scoring: ScoringConfig = field(default_factory=ScoringConfig)
    #: the policy loss
    loss: LossConfig = field(default_factory=LossConfig)
    #: the RL loop
    trainer: TrainerConfig = field(default_factory=TrainerConfig)
    #: the SFT warm start
    sft: SFTConfig = field(default_factory=SFTConfig)
    #: the held-out pass-rate evaluation
    eval: EvalConfig = field(default_factory=EvalConfig)
    #: the stability guard
    guard: GuardConfig = field(default_factory=GuardConfig)
    #: the curriculum scheduler (m1gym/curriculum/config.py) picks the RL tasks; null = RL on the
    #: fixed mix
    curriculum: CurriculumConfig | None = None

    def to_dict(self) -> dict[str, Any]:
        return to_dict(self)

    def validate(self) -> "Config":
        if isinstance(self.curriculum, dict):  # built in code with the section as a mapping
            self.curriculum = from_dict(CurriculumConfig, self.curriculum, "curriculum")
        check(self)  # types, choices and bounds of a config built in code, as load_config checks a file
        if len(self.trainer.betas) != 2:
            raise ConfigError("config key trainer.betas must be a list of two numbers, e.g. [0.9, 0.95]")
        self._check_exclusive()
        from ..registry import UnknownEnvError, env_names

        known = env_names()
        for i, entry in enumerate(self.mix):
            if not entry.env:
                raise ConfigError(f"config key mix[{i}].env is empty; name a registered env (`m1gym envs list`)")
            if entry.env not in known:  # rejected before any work starts
                raise ConfigError(f"config key mix[{i}].env: {UnknownEnvError(entry.env, known)}")
        if self.curriculum is not None:
            self.curriculum.validate()  # a CurriculumConfigError is a ConfigError naming curriculum.*
        return self

    def _check_exclusive(self) -> None:
        """Options that another option would silently ignore are errors naming both keys and the fix."""
        r, s, t, g = self.rollout, self.scoring, self.trainer, self.guard
        if t.ray:
            if r.engine != "embedded":
                raise ConfigError(f"trainer.ray: true runs rollouts on Ray actors with the embedded engine, so "
                                  f"rollout.engine: {r.engine} would be ignored; set rollout.engine: embedded (the "
                                  f"default) or trainer.ray: false")
            if s.backend != "inprocess":
                raise ConfigError(f"trainer.ray: true scores on scoring.workers Ray actors, so scoring.backend: "
                                  f"{s.backend} would be ignored; set scoring.backend: inprocess (the default) or "
                                  f"trainer.ray: false")
        else:
            for name in ("ray_address", "ray_rollout_workers", "ray_imports"):
                if non_default(t, name):
                    raise ConfigError(f"trainer.{name} is only used with trainer.ray: true, which is false; set "
                                      f"trainer.ray: true or remove trainer.{name}")
        if r.engine == "openai" and not r.url:
            raise ConfigError("rollout.engine: openai needs rollout.url (e.g. http://127.0.0.1:8000)")
        for name in ("url", "served_model"):
            if r.engine != "openai" and getattr(r, name) is not None:
                raise ConfigError(f"rollout.{name} is only used with rollout.engine: openai, but the engine is "
                                  f"{r.engine}; set rollout.engine: openai or remove rollout.{name}")
        if s.backend == "http" and not s.url:
            raise ConfigError("scoring.backend: http needs scoring.url (the address of `m1gym serve`)")
        for name in ("url", "token"):
            if s.backend != "http" and getattr(s, name) is not None:
                raise ConfigError(f"scoring.{name} is only used with scoring.backend: http, but the backend is "
                                  f"{s.backend}; set scoring.backend: http or remove scoring.{name}")
        if g.rollback and not g.enabled:
            raise ConfigError("guard.rollback: true never fires with guard.enabled: false (no events); set "
                              "guard.enabled: true or guard.rollback: false")
        if g.rollback and t.checkpoint_every == 0:
            raise ConfigError("guard.rollback: true reloads a checkpoint saved before the collapse, but "
                              "trainer.checkpoint_every: 0 saves only at the end; set trainer.checkpoint_every "
                              "(e.g. 10) or guard.rollback: false")


# ---- loading ---------------------------------------------------------------------------------

def config_from_dict(data: dict[str, Any] | None) -> Config:
    """A validated ``Config`` from a mapping (parsed YAML); ``ConfigError`` names any bad key."""
    return from_dict(Config, data or {}).validate()


def load_config(path: str | Path | None = None, overrides: list[str] | None = None) -> Config:
    """Load a YAML config; ``overrides`` are ``dotted.key=value`` strings (value parsed as YAML)."""
    data = read_yaml(path) if path is not None else {}
    return config_from_dict(apply_overrides(data, overrides or []))


def dump_config(cfg: Config) -> str:
    """The YAML a run folder stores (every key, defaults included); ``load_config`` reads it back."""
    import yaml

    return yaml.safe_dump(cfg.to_dict(), sort_keys=False)


def config_help() -> str:
    """Every key of the trainer config with its type, default and doc (``m1gym train --help-config``)."""
    return format_help(Config, "Trainer config keys (YAML file given with --config; any key also as "
                               "--set KEY=VALUE). Format: key: type = default, then what it does.")


def config_hash(obj: Any) -> str:
    import hashlib

    return hashlib.sha256(json.dumps(obj, sort_keys=True, default=str).encode()).hexdigest()[:16]
