"""The RL loop (M1 Section 3): tasks -> G responses -> rewards -> group advantages -> dynamic
sampling -> soft overlong penalty -> N off-policy minibatch updates with the configured loss.

One step, top to bottom (``RLTrainer.step``):

1. ``collect``: draw ``tasks_per_step`` tasks from the fixed mix, sample G responses each with the
   rollout engine (recording pi_old log-probs), score them through ``Environment.score``.
   Reward shaping: DAPO's soft overlong penalty. Advantages per group (Eq. 2):
   A_i = (R_i - mean(R)) / std(R), and A_i = 0 when all rewards of the group are equal.
   Dynamic sampling (DAPO): groups with equal rewards carry no signal and are dropped; new tasks are
   drawn to refill the batch, at most ``max_refill_rounds`` extra rounds.
2. ``update``: the kept groups are split into ``updates_per_batch`` minibatches; each gives one
   AdamW step (betas 0.9/0.95, eps 1e-15) after gradient clipping. The importance ratio of every
   minibatch is anchored on the rollout log-probs, so minibatches after the first are off-policy and
   the CISPO weight clip (or the PPO clip of the baselines) can act.
3. Metrics, checkpoint.

Everything random is derived from (seed, step, round, index) with stable hashes, so a run resumed
from a checkpoint continues exactly as the uninterrupted run would (bitwise on CPU).
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
import random
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

import numpy as np
import torch

from ..core import Score, Task, stable_rng, stable_seed
from .batch import flat_logprobs, group_logprobs
from .config import Config, dump_config
from .guard import StabilityGuard
from .losses import policy_loss
from .metrics import MetricsWriter, plot_run
from .precision import compute_context
from ..inference.rollout import EmbeddedEngine, Rollout, RolloutEngine, SamplingParams


# ---- pieces of the loop, each testable on its own ----------------------------------------------

def group_advantages(rewards: Sequence[float], eps: float = 1e-6) -> list[float]:
    """Eq. 2: (R_i - mean) / std over the group; a group of equal rewards gets 0 (no NaN)."""
    r = np.asarray(rewards, dtype=np.float64)
    std = r.std()
    if len(r) < 2 or std < eps:
        return [0.0] * len(r)
    return list(((r - r.mean()) / std).astype(float))


def overlong_penalty(length: int, max_len: int, buffer: int) -> float:
    """DAPO soft overlong punishment: 0 up to L - C, linear to -1 at L, -1 beyond."""
    if buffer <= 0:
        return 0.0
    start = max_len - buffer
    if length <= start:
        return 0.0
    if length <= max_len:
        return (start - length) / buffer
    return -1.0


def pearson(x: Sequence[float], y: Sequence[float]) -> float:
    a, b = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
    if len(a) < 2 or a.std() == 0 or b.std() == 0:
        return float("nan")
    return float(np.corrcoef(a, b)[0, 1])


@dataclass
class Group:
    task: Task
    rollouts: list[Rollout]
    scores: list[Score]
    rewards: list[float]  # shaped: task reward + overlong penalty
    advantages: list[float] = field(default_factory=list)

    def informative(self, std_floor: float) -> bool:
        """Dynamic sampling's test: do the task rewards (before length shaping) vary enough to teach?"""
        task_rewards = np.asarray([s.reward for s in self.scores], dtype=np.float64)
        return len(task_rewards) > 1 and float(task_rewards.std()) >= std_floor


def set_threads(n: int) -> None:
    if n > 0:
        torch.set_num_threads(n)


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed % (2 ** 32))
    torch.manual_seed(seed)


class TaskSampler:
    """Draws tasks from the fixed mix; task k of (step, round) is a pure function of the seed."""

    def __init__(self, cfg: Config, tokenizer: Any):
        from ..registry import get_env, get_spec

        self.cfg = cfg
        self.tokenizer = tokenizer
        if not cfg.mix:
            raise ValueError("the config has an empty mix; add entries like `mix: [{env: math/arithmetic, level: 0}]`")
        self.entries = cfg.mix
        for e in self.entries:
            spec = get_spec(e.env)  # unknown env -> UnknownEnvError naming close matches
            if not spec.procedural:
                raise ValueError(f"mix entry {e.env} is a dataset env; the fixed mix needs procedural envs")
        self.envs = {e.env: get_env(e.env) for e in self.entries}
        weights = np.asarray([e.weight for e in self.entries], dtype=np.float64)
        self.cum = np.cumsum(weights / weights.sum())
        self.skipped_long = 0

    def _entry(self, rng: random.Random):
        u = rng.random()
        return self.entries[int(min(np.searchsorted(self.cum, u, side="right"), len(self.entries) - 1))]

    def task(self, *key: Any, seed_offset: int = 0, entry: Any = None) -> tuple[Task, list[int]]:
        """A task whose prompt fits rollout.max_prompt_tokens (redraws the seed otherwise)."""
        limit = self.cfg.rollout.max_prompt_tokens
        for attempt in range(50):
            rng = stable_rng("m1gym-task", self.cfg.seed, *key, attempt)
            e = entry if entry is not None else self._entry(rng)
            task_seed = seed_offset + rng.randrange(self.cfg.eval.seed_offset if seed_offset == 0 else 10 ** 9)
            task = self.envs[e.env].generate(task_seed, e.level)
            ids = self.tokenizer.prompt_ids(task.prompt)
            if len(ids) <= limit:
                return task, ids
            self.skipped_long += 1
        raise ValueError(f"{e.env} level {e.level}: 50 tasks in a row have prompts over rollout.max_prompt_tokens="
                         f"{limit}; raise it or pick a lower level")


TRUNCATED = "truncated: no EOS within the response window (rollout.max_new_tokens)"


def ended_properly(rollout: Rollout) -> bool:
    return rollout.stop_reason == "eos"


def score_groups(scorer: Any, tasks: Sequence[Task], rollouts: Sequence[list[Rollout]], cfg: Config) -> list[Group]:
    flat_tasks = [t for t, g in zip(tasks, rollouts) for _ in g]
    flat_text = [r.text for g in rollouts for r in g]
    scores = scorer.score(flat_tasks, flat_text)
    if cfg.trainer.truncated == "fail":
        # a response cut by the cap (or by the repetition stop) is no answer, whatever it contains:
        # otherwise a policy learns to pad every answer with junk up to the cap (issue 14)
        flat = [r for g in rollouts for r in g]
        scores = [s if ended_properly(r) else Score.fail(TRUNCATED, stop_reason=r.stop_reason)
                  for s, r in zip(scores, flat)]
    groups, k = [], 0
    for task, g in zip(tasks, rollouts):
        sc = scores[k:k + len(g)]
        k += len(g)
        rewards = [s.reward + overlong_penalty(len(r.token_ids), cfg.rollout.max_new_tokens,
                                               cfg.trainer.overlong_buffer) for s, r in zip(sc, g)]
        groups.append(Group(task, g, sc, rewards, group_advantages(rewards)))
    return groups


def sampling_params(cfg: Config, temperature: float | None = None) -> SamplingParams:
    r = cfg.rollout
    return SamplingParams(max_new_tokens=r.max_new_tokens, temperature=r.temperature if temperature is None else temperature,
                          top_p=r.top_p, repetition_k=r.repetition_k, repetition_p=r.repetition_p)


def make_engine(cfg: Config, model: Any, tokenizer: Any) -> RolloutEngine:
    if cfg.trainer.ray:
        from .ray_workers import RayRolloutEngine

        return RayRolloutEngine(cfg, model, tokenizer)
    if cfg.rollout.engine in ("embedded", "decode", "auto"):
        from ..inference.decode import local_engine

        return local_engine(model, tokenizer, cfg.rollout.engine, batch_size=cfg.rollout.batch_size)
    if cfg.rollout.engine == "openai":
        from ..inference.rollout import OpenAIEngine

        return OpenAIEngine(cfg.rollout.url, tokenizer, cfg.rollout.served_model)
    from ..inference.rollout import VLLMEngine

    return VLLMEngine.from_policy(model, tokenizer, workdir=Path(cfg.run_dir) / "vllm_policy")


def make_run_scorer(cfg: Config):
    """The run's scorer: the scoring pool on Ray actors with ``trainer.ray``, else ``scoring.backend``."""
    from .scoring import make_scorer, ray_scorer

    return ray_scorer(cfg) if cfg.trainer.ray else make_scorer(cfg.scoring)


# ---- evaluation ----------------------------------------------------------------------------------

def evaluate(cfg: Config, model: Any, tokenizer: Any, scorer: Any = None, progress: bool = False) -> dict[str, Any]:
    """Held-out pass rate per mix entry: eval.samples sampled responses per task (and greedy)."""
    from .scoring import InProcessScorer

    from ..inference.model import DTYPES

    scorer = scorer or InProcessScorer()
    sampler = TaskSampler(cfg, tokenizer)
    # float32 master weights of a bf16 config: decode in the compute dtype, as training does
    autocast = compute_context(model, DTYPES[cfg.model.dtype])
    from ..inference.decode import LOCAL_ENGINES, local_engine

    # the policy in process, whatever engine the RL rollouts use (a server or vLLM holds other weights)
    kind = cfg.rollout.engine if cfg.rollout.engine in LOCAL_ENGINES else "auto"
    engine = local_engine(model, tokenizer, kind, batch_size=cfg.rollout.batch_size)
    ev = cfg.eval
    result: dict[str, Any] = {}
    for ei, entry in enumerate(cfg.mix):
        name = entry.env if entry.level is None else f"{entry.env}@{entry.level}"
        pairs = [sampler.task("eval", ei, i, seed_offset=ev.seed_offset, entry=entry) for i in range(ev.tasks_per_env)]
        tasks, prompts = [p[0] for p in pairs], [p[1] for p in pairs]
        row: dict[str, float] = {}
        with autocast:
            outs = engine.generate(prompts, ev.samples, sampling_params(cfg, ev.temperature),
                                   seed=stable_seed("eval", cfg.seed, ei))
        groups = score_groups(scorer, tasks, outs, cfg)
        row["sampled"] = float(np.mean([s.reward >= cfg.trainer.pass_threshold for g in groups for s in g.scores]))
        row["format_ok"] = float(np.mean([bool(s.format_ok) for g in groups for s in g.scores]))
        row["truncated"] = float(np.mean([not ended_properly(r) for g in groups for r in g.rollouts]))
        if ev.greedy:
            with autocast:
                outs = engine.generate(prompts, 1, sampling_params(cfg, 0.0), seed=0)
            groups = score_groups(scorer, tasks, outs, cfg)
            row["greedy"] = float(np.mean([s.reward >= cfg.trainer.pass_threshold for g in groups for s in g.scores]))
        result[name] = row
    keys = ["sampled", "greedy", "format_ok", "truncated"]
    result["mean"] = {k: float(np.mean([r[k] for n, r in result.items() if k in r])) for k in keys
                      if any(k in r for r in result.values())}
    return result


# ---- the trainer -----------------------------------------------------------------------------------

CKPT_PREFIX = "step_"


class CurriculumDriver:
    """Glue between the RL loop and ``m1gym.curriculum.Scheduler``: tasks come from the scheduler,
    the response window and overlong penalty follow its length stage, scored groups feed its pass
    rates, difficulty controllers and family weights, and the GenRM length-bias monitor (fed with
    the general-family groups) holds the general-task ramp when it fires."""

    def __init__(self, cfg: Config):
        from ..curriculum import Scheduler, curriculum_from_dict
        from ..genrm import LengthBiasMonitor

        self.scheduler = Scheduler(curriculum_from_dict(cfg.curriculum), seed=cfg.seed)
        self.monitor = LengthBiasMonitor()
        self.max_prompt = cfg.rollout.max_prompt_tokens
        self.skipped_long = 0

    def draw(self, n: int, tokenizer: Any) -> list[tuple[Task, list[int]]]:
        out: list[tuple[Task, list[int]]] = []
        for _ in range(50):
            for task in self.scheduler.next_batch(n - len(out)):
                ids = tokenizer.prompt_ids(task.prompt)
                if len(ids) <= self.max_prompt:
                    out.append((task, ids))
                else:
                    self.skipped_long += 1
            if len(out) >= n:
                return out
        raise ValueError(f"the curriculum keeps drawing prompts over rollout.max_prompt_tokens={self.max_prompt} "
                         f"({self.skipped_long} skipped); raise it or drop the source with long prompts")

    def step_config(self, cfg: Config) -> Config:
        window, buffer = self.scheduler.overlong()
        if cfg.trainer.overlong_buffer == 0:
            buffer = 0  # the config turned the soft penalty off
        return dataclasses.replace(cfg, rollout=dataclasses.replace(cfg.rollout, max_new_tokens=window),
                                   trainer=dataclasses.replace(cfg.trainer, overlong_buffer=buffer))

    def feed(self, step: int, scored: Sequence[Group]) -> dict[str, Any]:
        from ..curriculum import GroupResult

        results = [GroupResult(g.task, [bool(s.correct) for s in g.scores], list(g.rewards),
                               [len(r.token_ids) for r in g.rollouts]) for g in scored]
        changes = self.scheduler.record(results)
        n_tok = sum(len(r.logprobs) for g in scored for r in g.rollouts)
        lp = sum(sum(r.logprobs) for g in scored for r in g.rollouts)
        ppl = math.exp(-lp / n_tok) if n_tok else None  # perplexity of the generated text
        general = [[(rw, n, s.correct) for rw, n, s in zip(g.rewards, r.lengths, g.scores)]
                   for g, r in zip(scored, results) if self.scheduler.sources[g.task.env].family == "general"]
        event = self.monitor.update(step, general) if general else None
        if event is not None:
            self.scheduler.note_bias_event(step)
        # the window widens on responses that ended properly: a policy that pads to the cap must not
        # earn itself a longer window (issue 14)
        ended = [len(r.token_ids) for g in scored for r in g.rollouts if ended_properly(r)]
        events = self.scheduler.end_step(ended or [0], ppl)
        row: dict[str, Any] = dict(self.scheduler.metrics())
        row.update(self.monitor.metrics())
        row["curriculum/ppl"] = ppl
        row["curriculum/level_changes"] = {k: list(v) for k, v in changes.items()} or None
        row["curriculum/window_advanced"] = events.window_advanced
        row["curriculum/bias_event"] = event.triggered if event else None
        return row

    def state_dict(self) -> dict[str, Any]:
        return {"scheduler": self.scheduler.state_dict(), "monitor": self.monitor.state_dict(),
                "skipped_long": self.skipped_long}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.scheduler.load_state_dict(state["scheduler"])
        self.monitor.load_state_dict(state["monitor"])
        self.skipped_long = state["skipped_long"]


class RLTrainer:
    def __init__(self, cfg: Config, init_from: str | None = None, resume: bool = True, progress: bool = True):
        from ..inference.model import DTYPES, build_model, load_model

        self.cfg = cfg
        self.progress = progress
        set_threads(cfg.model.threads)
        seed_everything(cfg.seed)
        self.run_dir = Path(cfg.run_dir)
        self.run_dir.mkdir(parents=True, exist_ok=True)
        (self.run_dir / "config.yaml").write_text(dump_config(cfg))
        self.ckpt_dir = self.run_dir / "checkpoints"
        latest = latest_checkpoint(self.ckpt_dir) if resume else None
        mc = cfg.model
        # Master weights and AdamW state stay float32; a bf16/fp16 config is the COMPUTE dtype
        # (autocast). AdamW stepping bf16 weights kept 9% of the fp32 descent at lr 1e-5 and 1% at
        # 1e-6 (updates below half a bf16 ulp round away): a typical RL learning rate froze training.
        self.compute_dtype = DTYPES[mc.dtype]

        def load(source: Any, built: bool = False):
            if built:
                return build_model(mc.preset, seed=cfg.seed, device=mc.device, dtype="float32",
                                   attn_implementation=mc.attn_implementation)
            return load_model(source, device=mc.device, dtype="float32", attn_implementation=mc.attn_implementation)

        if latest is not None:
            self.model, self.tokenizer = load(latest / "model")
        elif init_from is not None:
            self.model, self.tokenizer = load(init_from)
        else:
            self.model, self.tokenizer = load(None, built=True)
        # the starting policy, frozen: the guard's KL-to-start (a resumed run reloads the same start)
        self.ref_model = None
        if cfg.guard.ref_kl:
            self.ref_model = load(init_from)[0] if init_from is not None else load(None, built=True)[0]
            self.ref_model.eval().requires_grad_(False)
        t = cfg.trainer
        self.optimizer = torch.optim.AdamW(self.model.parameters(), lr=t.lr, betas=tuple(t.betas), eps=t.eps,
                                           weight_decay=t.weight_decay)
        self.step_idx = 0
        self.updates_done = 0  # optimizer updates so far: the clock of the learning-rate schedule
        self.lr_scale = 1.0  # cut by the guard's rollbacks
        self.guard = StabilityGuard(cfg.guard)
        resume_lines = None
        if latest is not None:
            state = torch.load(latest / "trainer_state.pt", weights_only=False)
            self.optimizer.load_state_dict(state["optimizer"])
            self.step_idx = state["step"]
            self.updates_done = state.get("updates_done", 0)
            self.lr_scale = state.get("lr_scale", 1.0)
            if "guard" in state:
                self.guard.load_state_dict(state["guard"])
            resume_lines = state["metrics_lines"]
            random.setstate(state["python_rng"])
            np.random.set_state(state["numpy_rng"])
            torch.set_rng_state(state["torch_rng"])
        self.resumed_from = latest
        self.metrics = MetricsWriter(self.run_dir, resume_lines=resume_lines, start_step=self.step_idx + 1)
        self.sampler = TaskSampler(cfg, self.tokenizer)
        self.curriculum = CurriculumDriver(cfg) if cfg.curriculum is not None else None
        if self.curriculum is not None and latest is not None and "curriculum" in state:
            self.curriculum.load_state_dict(state["curriculum"])
        self.engine = make_engine(cfg, self.model, self.tokenizer)
        self.scorer = make_run_scorer(cfg)

    # ---- one step ----
    def collect(self, step: int) -> tuple[list[Group], dict[str, Any]]:
        cfg = self.cfg
        want = cfg.trainer.tasks_per_step
        kept: list[Group] = []
        scored: list[Group] = []
        t_roll = t_score = 0.0
        rounds = 0
        for rnd in range(1 + (cfg.trainer.max_refill_rounds if cfg.trainer.dynamic_sampling else 0)):
            need = want - len(kept)
            if need <= 0:
                break
            rounds = rnd + 1
            if self.curriculum is not None:
                pairs = self.curriculum.draw(need, self.tokenizer)
                step_cfg = self.curriculum.step_config(cfg)  # the current length window
            else:
                pairs = [self.sampler.task("train", step, rnd, i) for i in range(need)]
                step_cfg = cfg
            tasks, prompts = [p[0] for p in pairs], [p[1] for p in pairs]
            t0 = time.perf_counter()
            with self.compute():
                outs = self.engine.generate(prompts, cfg.rollout.group_size, sampling_params(step_cfg),
                                            seed=stable_seed("train", cfg.seed, step, rnd))
            t1 = time.perf_counter()
            groups = score_groups(self.scorer, tasks, outs, step_cfg)
            t_score += time.perf_counter() - t1
            t_roll += t1 - t0
            scored.extend(groups)
            if cfg.trainer.dynamic_sampling:
                kept.extend(g for g in groups if g.informative(cfg.trainer.group_std_floor))
            else:
                kept.extend(groups)
        info = {"time_rollout": t_roll, "time_scoring": t_score, "rounds": rounds}
        return kept[:want], {"scored": scored, **info}

    def compute(self):
        """The compute-dtype context: autocast to bf16/fp16 over float32 master weights."""
        return compute_context(self.model, self.compute_dtype)

    def lr_at(self, update: int) -> float:
        """Learning rate of optimizer update ``update`` (0-based): linear warmup, then constant or cosine."""
        t = self.cfg.trainer
        warm = t.lr_warmup_updates
        if warm > 0 and update < warm:
            factor = (update + 1) / warm
        elif t.lr_schedule == "cosine":
            total = max(1, t.steps * t.updates_per_batch - warm)
            progress = min(1.0, (update - warm) / total)
            factor = t.lr_min_ratio + (1 - t.lr_min_ratio) * 0.5 * (1 + math.cos(math.pi * progress))
        else:
            factor = 1.0
        return t.lr * factor * self.lr_scale

    def _logprobs(self, model: Any, gs: Sequence[Group], with_entropy: bool):
        mode = self.cfg.trainer.logprob_pass
        if mode == "auto":
            mode = "flat" if next(model.parameters()).device.type == "cuda" else "group"
        fn = flat_logprobs if mode == "flat" else group_logprobs
        with self.compute():
            return fn(model, [g.rollouts[0].prompt_ids for g in gs],
                                  [[r.token_ids for r in g.rollouts] for g in gs],
                                  temperature=self.cfg.rollout.temperature or 1.0,
                                  with_entropy=with_entropy, pad_id=self.tokenizer.pad_id)

    def update(self, groups: list[Group], step: int) -> dict[str, float]:
        cfg = self.cfg
        t = cfg.trainer
        model = self.model
        model.train()
        order = list(range(len(groups)))
        stable_rng("minibatch", cfg.seed, step).shuffle(order)
        n_mb = max(1, min(t.updates_per_batch, len(groups) // t.min_minibatch_groups))
        chunks = [order[i::n_mb] for i in range(n_mb)]
        stats: dict[str, list[float]] = {}
        probs_train, probs_roll = [], []
        result: dict[str, float] = {}
        applied = 0
        for mb_i, chunk in enumerate(chunks):
            gs = [groups[i] for i in sorted(chunk)]
            logp, entropy, mask = self._logprobs(model, gs, with_entropy=True)
            old = torch.zeros_like(logp)
            flat = [r for g in gs for r in g.rollouts]
            for i, r in enumerate(flat):
                if r.logprobs:
                    old[i, :len(r.logprobs)] = torch.tensor(r.logprobs, dtype=old.dtype)
            adv = torch.tensor([a for g in gs for a in g.advantages], dtype=logp.dtype, device=logp.device)
            out = policy_loss(logp, old.to(logp.device), adv, mask, cfg.loss)
            m = mask.bool()
            if mb_i > 0 and t.kl_target is not None and out.stats["kl_old"] > t.kl_target:
                # the policy has moved past the trust region on data it has not trained on yet:
                # the rest of this batch would push further on stale samples (issue 14)
                result["kl_stop"] = out.stats["kl_old"]
                break
            if mb_i == 0:
                # before any update of this batch: pure train/inference mismatch (M1 Fig. 3)
                probs_train.extend(logp.detach()[m].exp().tolist())
                probs_roll.extend(old.to(logp.device)[m].exp().tolist())
                if self.ref_model is not None and m.any():
                    # k3 estimate of KL(pi_theta || pi_start) on samples of pi_theta
                    with torch.no_grad():
                        ref_logp = self._logprobs(self.ref_model, gs, with_entropy=False)[0]
                        log_r = (ref_logp - logp.detach())[m].clamp(-20, 20)
                        result["kl_start"] = float(((log_r.exp() - 1) - log_r).mean())
            lr = self.lr_at(self.updates_done)
            for pg in self.optimizer.param_groups:
                pg["lr"] = lr
            self.optimizer.zero_grad(set_to_none=True)
            out.loss.backward()
            gn = torch.nn.utils.clip_grad_norm_(model.parameters(), t.grad_clip if t.grad_clip > 0 else float("inf"))
            self.optimizer.step()
            self.updates_done += 1
            applied += 1
            for k, v in out.stats.items():
                stats.setdefault(k, []).append(v)
            stats.setdefault("loss", []).append(float(out.loss.detach()))
            stats.setdefault("grad_norm", []).append(float(gn))
            stats.setdefault("lr", []).append(lr)
            stats.setdefault("entropy", []).append(float(entropy[m].mean()) if m.any() else 0.0)
        result.update({k: float(np.mean(v)) for k, v in stats.items()})
        if "ratio_max" in stats:
            result["ratio_max"] = float(np.max(stats["ratio_max"]))
            result["ratio_min"] = float(np.min(stats["ratio_min"]))
            result["kl_old_max"] = float(np.max(stats["kl_old"]))
        result["prob_corr"] = pearson(probs_train, probs_roll)
        result["minibatches"] = applied
        return result

    def step(self) -> dict[str, Any]:
        cfg = self.cfg
        step = self.step_idx + 1
        t0 = time.perf_counter()
        groups, info = self.collect(step)
        scored: list[Group] = info.pop("scored")
        row: dict[str, Any] = {}
        all_scores = [(g.task.env, s, r) for g in scored for s, r in zip(g.scores, g.rollouts)]
        row["reward_mean"] = float(np.mean([rw for g in scored for rw in g.rewards])) if scored else 0.0
        row["pass_rate"] = float(np.mean([s.reward >= cfg.trainer.pass_threshold for _, s, _ in all_scores]))
        for env in sorted({e for e, _, _ in all_scores}):
            row[f"pass_rate/{env}"] = float(np.mean([s.reward >= cfg.trainer.pass_threshold
                                                     for e, s, _ in all_scores if e == env]))
        lengths = [len(r.token_ids) for _, _, r in all_scores]
        row["len_mean"] = float(np.mean(lengths))
        row["len_p99"] = float(np.percentile(lengths, 99))
        row["stop_repetition"] = float(np.mean([r.stop_reason == "repetition" for _, _, r in all_scores]))
        row["eos_rate"] = float(np.mean([ended_properly(r) for _, _, r in all_scores]))
        row["truncation_rate"] = 1.0 - row["eos_rate"]
        row["format_rate"] = float(np.mean([bool(s.format_ok) for _, s, _ in all_scores]))
        row["groups_kept"] = len(groups)
        row["groups_scored"] = len(scored)
        if self.curriculum is not None:
            row.update(self.curriculum.feed(step, scored))
        row.update({k: v for k, v in info.items()})
        t_upd = time.perf_counter()
        if groups:
            row.update(self.update(groups, step))
            if hasattr(self.engine, "sync_weights"):
                self.engine.sync_weights(self.model)
        else:  # every group had equal rewards even after refilling: nothing to learn from this step
            row.update({k: None for k in ("loss", "grad_norm", "entropy", "clip_frac", "ratio_mean", "ratio_max",
                                          "ratio_min", "prob_corr", "lr", "kl_old", "kl_start")})
            row["minibatches"] = 0
        event = self.guard.update(step, row)
        row["collapse"] = event["reasons"] if event else None
        row["time_update"] = time.perf_counter() - t_upd
        row["time_step"] = time.perf_counter() - t0
        n_tok = sum(len(r.prompt_ids) + len(r.token_ids) for g in groups for r in g.rollouts)
        row["tokens_per_s"] = n_tok / max(row["time_step"], 1e-9)
        self.step_idx = step
        self.metrics.write(step, row)
        return row

    # ---- checkpoints ----
    def save_checkpoint(self) -> Path:
        from ..inference.model import save_checkpoint_model

        final = self.ckpt_dir / f"{CKPT_PREFIX}{self.step_idx:06d}"
        tmp = self.ckpt_dir / f".tmp_{CKPT_PREFIX}{self.step_idx:06d}"
        if tmp.exists():
            shutil.rmtree(tmp)
        tmp.mkdir(parents=True)
        save_checkpoint_model(self.model, self.tokenizer, tmp / "model")
        torch.save({"optimizer": self.optimizer.state_dict(), "step": self.step_idx,
                    "updates_done": self.updates_done, "lr_scale": self.lr_scale, "guard": self.guard.state_dict(),
                    "metrics_lines": self.metrics.lines, "python_rng": random.getstate(),
                    "numpy_rng": np.random.get_state(), "torch_rng": torch.get_rng_state(),
                    "data_position": {"step": self.step_idx},
                    **({"curriculum": self.curriculum.state_dict()} if self.curriculum is not None else {})},
                   tmp / "trainer_state.pt")
        (tmp / "COMPLETE").write_text("ok")
        if final.exists():
            shutil.rmtree(final)
        os.replace(tmp, final)
        keep = self.cfg.trainer.keep_checkpoints
        done = sorted(p for p in self.ckpt_dir.glob(f"{CKPT_PREFIX}*") if (p / "COMPLETE").exists())
        for old in done[:-keep] if keep > 0 else []:
            shutil.rmtree(old, ignore_errors=True)
        return final

    def train(self) -> dict[str, Any]:
        from tqdm import tqdm

        cfg = self.cfg
        total = cfg.trainer.steps
        bar = tqdm(total=total, initial=self.step_idx, desc="rl", disable=not self.progress, dynamic_ncols=True)
        last: dict[str, Any] = {}
        try:
            while self.step_idx < total:
                last = self.step()
                if last["collapse"] and cfg.guard.rollback:
                    self.rollback(self.guard.events[-1])
                bar.update(1)
                bar.set_postfix(reward=f"{last['reward_mean']:.2f}", pass_=f"{last['pass_rate']:.2f}",
                                kept=last["groups_kept"])
                every = cfg.trainer.checkpoint_every
                if (every and self.step_idx % every == 0) or self.step_idx == total:
                    self.save_checkpoint()
        finally:
            bar.close()
            self.metrics.close()
        if cfg.trainer.plots:
            try:
                plot_run(self.run_dir)
            except Exception:
                pass
        return last

    def rollback(self, event: dict[str, Any]) -> Path | None:
        """Reload the newest checkpoint saved before the degradation began; cut the learning rate.

        The step counter runs on (steps count compute spent); weights, optimizer and curriculum state
        return to the checkpoint's. Returns the checkpoint used, or None when none is old enough.
        """
        from ..inference.model import load_model

        good = [p for p in sorted(self.ckpt_dir.glob(f"{CKPT_PREFIX}*")) if (p / "COMPLETE").exists()
                and int(p.name[len(CKPT_PREFIX):]) < event["good_before"]]
        if not good:
            event["rollback"] = None
            return None
        ckpt = good[-1]
        weights, _ = load_model(ckpt / "model", device=self.cfg.model.device, dtype="float32",
                                attn_implementation=self.cfg.model.attn_implementation)
        self.model.load_state_dict(weights.state_dict())
        state = torch.load(ckpt / "trainer_state.pt", weights_only=False)
        self.optimizer.load_state_dict(state["optimizer"])
        if self.curriculum is not None and "curriculum" in state:
            self.curriculum.load_state_dict(state["curriculum"])
        self.lr_scale *= self.cfg.guard.lr_cut
        if hasattr(self.engine, "sync_weights"):
            self.engine.sync_weights(self.model)
        event["rollback"] = {"checkpoint": ckpt.name, "lr_scale": self.lr_scale}
        return ckpt

    def close(self) -> None:
        for obj in (self.engine, self.scorer):
            try:
                obj.close()
            except Exception:
                pass


def latest_checkpoint(ckpt_dir: Path) -> Path | None:
    if not ckpt_dir.exists():
        return None
    done = sorted(p for p in ckpt_dir.glob(f"{CKPT_PREFIX}*") if (p / "COMPLETE").exists())
    return done[-1] if done else None
