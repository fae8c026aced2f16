"""Rollout workers as Ray actors (``trainer.ray: true``).

Rollout actors each hold a copy of the policy and run the embedded engine; after every optimiser
round the trainer pushes its weights (``sync_weights``). Prompts are split across actors in
contiguous slices, each with its ``offset`` into the full list, so per-response sampling noise is
keyed exactly as in process. With the same seed, one rollout actor and the same thread count, a
Ray run gives the same results as the in-process run. Rewards run on the scoring pool's Ray
actors (``m1gym.scoring.RayPool``, built by ``scoring.ray_scorer``) in the same Ray instance.
Without ``trainer.ray_address`` a local instance is started (``ray.init(num_cpus=2)``).
"""

from __future__ import annotations

from typing import Any

from ..inference.rollout import RolloutEngine


def _ray():
    try:
        import ray
    except ImportError:
        raise ImportError("trainer.ray: true needs Ray (`pip install m1gym[ray]`)") from None
    return ray


def ensure_ray(cfg: Any):
    ray = _ray()
    if not ray.is_initialized():
        if cfg.trainer.ray_address:
            ray.init(address=cfg.trainer.ray_address, ignore_reinit_error=True, log_to_driver=False)
        else:
            ray.init(num_cpus=2, include_dashboard=False, ignore_reinit_error=True, log_to_driver=False)
    return ray


class _RolloutWorker:
    """One rollout engine in a Ray actor, on the trainer's device and in its compute dtype."""

    def __init__(self, model_dir_or_preset: Any, state: Any, threads: int, batch_size: int,
                 device: str = "cpu", dtype: str = "float32", attn_implementation: str = "eager"):
        import torch

        from ..inference.model import build_model

        if threads > 0:  # (as rl.set_threads, which this module must not import: rl imports it)
            torch.set_num_threads(threads)
        self.model, self.tokenizer = build_model(model_dir_or_preset, device=device, dtype=dtype,
                                                 attn_implementation=attn_implementation)
        self.model.load_state_dict(state)  # load_state_dict casts the float32 master weights
        from ..inference.rollout import EmbeddedEngine

        self.engine = EmbeddedEngine(self.model, self.tokenizer, batch_size=batch_size)
        self._torch = torch

    def describe(self) -> dict:
        p = next(self.model.parameters())
        return {"device": str(p.device), "dtype": str(p.dtype).replace("torch.", "")}

    def set_weights(self, state: Any) -> bool:
        self.model.load_state_dict(state)
        return True

    def generate(self, prompts, n, params, seed, offset):
        return [[r.to_dict() for r in g] for g in self.engine.generate(prompts, n, params, seed=seed, offset=offset)]


def _cpu_state(model: Any) -> dict:
    return {k: v.detach().cpu().clone() for k, v in model.state_dict().items()}


class RayRolloutEngine(RolloutEngine):
    def __init__(self, cfg: Any, model: Any, tokenizer: Any):
        ray = ensure_ray(cfg)
        self.ray = ray
        self.tokenizer = tokenizer
        import tempfile

        from ..inference.model import save_checkpoint_model

        # workers build the same architecture from a saved config, then take the live weights
        self._tmp = tempfile.TemporaryDirectory(prefix="m1gym-ray-")
        save_checkpoint_model(model, tokenizer, self._tmp.name)
        mc = cfg.model
        # a worker on a GPU must hold one, or Ray hides every device from it (CUDA_VISIBLE_DEVICES="")
        gpus = 1 if mc.device.startswith("cuda") else 0
        actor = ray.remote(num_cpus=0, num_gpus=gpus)(_RolloutWorker)
        state = ray.put(_cpu_state(model))
        self.workers = [actor.remote(self._tmp.name, state, mc.threads, cfg.rollout.batch_size,
                                     "cuda" if gpus else mc.device, mc.dtype, mc.attn_implementation)
                        for _ in range(max(1, cfg.trainer.ray_rollout_workers))]

    def sync_weights(self, model: Any) -> None:
        ref = self.ray.put(_cpu_state(model))
        self.ray.get([w.set_weights.remote(ref) for w in self.workers])

    def update_weights(self, state_dict) -> None:
        ref = self.ray.put(state_dict)
        self.ray.get([w.set_weights.remote(ref) for w in self.workers])

    def generate(self, prompts, n, params, seed=0, offset=0):
        from ..inference.rollout import Rollout

        k = len(self.workers)
        size = (len(prompts) + k - 1) // k
        futures = []
        for i, w in enumerate(self.workers):
            part = prompts[i * size:(i + 1) * size]
            if part:
                futures.append(w.generate.remote([list(p) for p in part], n, params, seed, offset + i * size))
        out = []
        for res in self.ray.get(futures):
            out.extend([[Rollout.from_dict(d) for d in g] for g in res])
        return out

    def close(self) -> None:
        _kill_actors(self.ray, self.workers)
        self._tmp.cleanup()


def _kill_actors(ray: Any, actors: list) -> None:
    for a in actors:
        try:
            ray.kill(a)
        except Exception:  # already gone
            pass

