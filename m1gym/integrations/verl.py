"""verl: reward functions and a reward-loop manager that score through ``m1gym serve``.

Which verl setting calls what (docs/service.md has the full YAML):

=============================================================  ======================================
verl setting                                                   use
=============================================================  ======================================
reward loop (verl >= 0.8 default; 0.9 has only this), any      ``M1GymRewardManager`` (this module, via
manager, best                                                  ``pkg://m1gym.integrations.verl``): batches
                                                               concurrent samples into one HTTP request
reward loop, ``naive`` / ``dapo`` manager                      ``compute_score_async`` (or ``compute_score``)
legacy managers (``use_reward_loop: false``): ``naive``,       ``compute_score``
``dapo``
legacy ``batch`` manager                                       ``compute_score_batch``
legacy ``prime`` manager (process pool; wants a number)        ``compute_score_prime``
=============================================================  ======================================

Settings come from verl's ``reward_kwargs`` (merged into each call by verl): ``server_url``,
``token`` (default ``$M1GYM_SERVER`` / ``$M1GYM_TOKEN``), ``env`` (the env of every bare-answer
ground truth) and ``default_env`` (the env for a ``data_source`` that is neither a served env nor a
known verl data source).

How a sample finds its task, first match wins: ``extra_info["m1gym_task"]``; a ``ground_truth`` that
is a Task (JSON) or an ``{env, seed|answer}`` object (what ``m1gym export --format verl`` writes);
else the ground truth is a bare answer for ``env=``, ``extra_info["m1gym_env"]``, the ``data_source``
when the service serves an env of that name, the m1gym env of a known verl ``data_source``
(``VERL_DATA_SOURCES``: verl's GSM8K, MATH, DAPO, AIME, Numina preprocessors -> ``math/dataset``),
or ``default_env=``. A sample none of these place, or one naming an env the service does not serve,
raises ``LabelError``: a data bug is an error, not a silent reward of 0.
"""

from __future__ import annotations

import asyncio
import inspect
from typing import Any, Optional, Sequence

from m1gym.integrations import _service
from m1gym.service.labels import LabelError, item_from_label

#: verl's example preprocessors' ``data_source`` values (examples/data_preprocess, and the names
#: verl's default_compute_score dispatches on) whose ground truth is a final maths answer.
VERL_DATA_SOURCES: dict[str, str] = {
    name: "math/dataset" for name in (
        "openai/gsm8k", "lighteval/MATH", "DigitalLearningGmbH/MATH-lighteval", "HuggingFaceH4/MATH-500",
        "math_dapo", "math", "math_dapo_reasoning", "hiyouga/geometry3k",
        "numina_aops_forum", "numina_synthetic_math", "numina_amc_aime", "numina_synthetic_amc",
        "numina_cn_k12", "numina_olympiads")
}
#: what verl's preprocessor for a data source asked of the model (its GSM8K prompt: 'output the final
#: answer after "####"'), so the env accepts that answer form for it
VERL_DATA_SOURCE_META: dict[str, dict[str, Any]] = {"openai/gsm8k": {"answer_marker": "####"}}
#: prefixes verl maps the same way (``aime2024``, ``aime_2025``, ...)
VERL_DATA_SOURCE_PREFIXES: tuple[tuple[str, str], ...] = (("aime", "math/dataset"),)


def verl_env(data_source: Any) -> Optional[str]:
    """The m1gym env for one of verl's known ``data_source`` values (None if unknown)."""
    if not isinstance(data_source, str):
        return None
    if data_source in VERL_DATA_SOURCES:
        return VERL_DATA_SOURCES[data_source]
    return next((env for prefix, env in VERL_DATA_SOURCE_PREFIXES if data_source.startswith(prefix)), None)


def _plain(value: Any) -> Any:
    """verl hands numpy scalars/arrays out of its object arrays; JSON wants Python values."""
    if hasattr(value, "tolist") and not isinstance(value, (str, bytes)):
        return value.tolist()
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


def _is_self_describing(label: Any) -> bool:
    """A Task / {env, ...} label names its own env; anything else is a bare answer."""
    if isinstance(label, dict):
        return "env" in label
    if isinstance(label, str) and label.lstrip().startswith("{"):
        return '"env"' in label
    return False


def build_item(data_source: Any, solution_str: str, ground_truth: Any, extra_info: Any, *,
               served: frozenset[str], env: Optional[str] = None,
               default_env: Optional[str] = None) -> dict[str, Any]:
    """The ``/v1/score`` item for one verl sample (see the module doc for the order of rules)."""
    extra = extra_info if isinstance(extra_info, dict) else {}
    label = _plain(extra.get("m1gym_task", ground_truth))
    where = f"verl sample with data_source {data_source!r}"
    if _is_self_describing(label):
        try:
            item = item_from_label(label, solution_str)
        except LabelError as exc:
            raise LabelError(f"{where}: {exc}") from None
        _service.check_env(_service.item_env(item) or "", served, where)
        return item
    meta: dict[str, Any] = {}
    name = env or extra.get("m1gym_env")
    if not name and isinstance(data_source, str) and data_source in served:
        name = data_source
    if not name and verl_env(data_source):
        name = verl_env(data_source)
        meta = {"data_source": data_source, "preset": "verl", **VERL_DATA_SOURCE_META.get(data_source, {})}
    name = name or default_env
    if not name:
        raise LabelError(
            f"{where}: ground_truth {str(label)[:60]!r} is a bare answer and no env is known for this data_source "
            f"(it is neither an env the reward service serves nor one of verl's data sources m1gym maps: "
            f"{', '.join(sorted(VERL_DATA_SOURCES))}, aime*). Fix: set custom_reward_function.reward_kwargs.env "
            "(every sample) or .default_env (unknown data sources), or write Task JSON ground truths with "
            "`m1gym export ENV --format verl`")
    _service.check_env(name, served, where)
    question = extra.get("question") if isinstance(extra.get("question"), str) else None
    try:
        return item_from_label({"env": name, "answer": label, "meta": meta}, solution_str, prompt=question)
    except LabelError as exc:
        raise LabelError(f"{where}: {exc}") from None


def verl_result(result: dict[str, Any]) -> dict[str, Any]:
    """A wire result -> verl's dict (``score`` is the reward; the rest become reward_extra_info)."""
    return {"score": float(result["reward"]), "acc": bool(result.get("correct")),
            "format_ok": bool(result.get("format_ok")), "service_error": result.get("error") is not None}


def compute_score(data_source: Any, solution_str: str, ground_truth: Any, extra_info: Any = None, *,
                  server_url: Optional[str] = None, token: Optional[str] = None, env: Optional[str] = None,
                  default_env: Optional[str] = None, **_: Any) -> dict[str, Any]:
    """verl's reward-function signature, scored by the service: ``{"score", "acc", "format_ok",
    "service_error"}``. Extra keyword arguments verl passes (``reward_router_address``, ...) are ignored."""
    served = _service.served_envs(server_url, token)
    item = build_item(data_source, solution_str, ground_truth, extra_info, served=served, env=env,
                      default_env=default_env)
    return verl_result(_service.client(server_url, token).score_raw([item])[0])


async def compute_score_async(data_source: Any, solution_str: str, ground_truth: Any, extra_info: Any = None, *,
                              server_url: Optional[str] = None, token: Optional[str] = None,
                              env: Optional[str] = None, default_env: Optional[str] = None,
                              **_: Any) -> dict[str, Any]:
    """``compute_score`` for verl's reward loop, which awaits coroutine functions (the legacy managers
    would get an un-awaited coroutine: use ``compute_score`` there)."""
    served = await _service.served_envs_async(server_url, token)
    item = build_item(data_source, solution_str, ground_truth, extra_info, served=served, env=env,
                      default_env=default_env)
    return verl_result((await _service.aclient(server_url, token).score_raw([item]))[0])


def compute_score_batch(data_sources: Sequence[Any], solution_strs: Sequence[str], ground_truths: Sequence[Any],
                        extra_infos: Optional[Sequence[Any]] = None, *, server_url: Optional[str] = None,
                        token: Optional[str] = None, env: Optional[str] = None, default_env: Optional[str] = None,
                        **_: Any) -> list[dict[str, Any]]:
    """verl's legacy ``batch`` reward manager form: lists in, one result dict per sample out, one
    request per 256 samples instead of one per sample."""
    served = _service.served_envs(server_url, token)
    extras = list(extra_infos) if extra_infos is not None else [None] * len(solution_strs)
    items = [build_item(d, s, g, e, served=served, env=env, default_env=default_env)
             for d, s, g, e in zip(data_sources, solution_strs, ground_truths, extras)]
    return [verl_result(r) for r in _service.client(server_url, token).score_raw(items)]


def compute_score_prime(data_source: Any, solution_str: str, ground_truth: Any, extra_info: Any = None,
                        **kwargs: Any) -> float:
    """For verl's legacy ``prime`` manager, which calls the function in a process pool (load it with a
    ``pkg://`` path so it pickles) and reads a number (a dict would fail there)."""
    return compute_score(data_source, solution_str, ground_truth, extra_info, **kwargs)["score"]


# ---- the reward-loop manager ----------------------------------------------------------------------

class _Batcher:
    """Coalesces the items of concurrent ``run_single`` calls (verl runs one per sample) into one
    ``/v1/score`` request: a request goes out when ``max_batch`` items wait or ``window_s`` after the
    first of them arrived."""

    def __init__(self, server_url: Optional[str], token: Optional[str], max_batch: int, window_s: float):
        self.server_url, self.token = server_url, token
        self.max_batch, self.window_s = max_batch, window_s
        self.pending: list[tuple[dict[str, Any], asyncio.Future]] = []
        self.timer: Optional[asyncio.TimerHandle] = None
        self.in_flight: set[asyncio.Task] = set()  # held so a sending task is not garbage-collected
        self.requests = 0

    async def score(self, item: dict[str, Any]) -> dict[str, Any]:
        loop = asyncio.get_running_loop()
        future = loop.create_future()
        self.pending.append((item, future))
        if len(self.pending) >= self.max_batch:
            self._flush()
        elif self.timer is None:
            self.timer = loop.call_later(self.window_s, self._flush)
        return await future

    def _flush(self) -> None:
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None
        batch, self.pending = self.pending, []
        if batch:
            self.requests += 1
            task = asyncio.get_running_loop().create_task(self._send(batch))
            self.in_flight.add(task)
            task.add_done_callback(self.in_flight.discard)

    async def _send(self, batch: list[tuple[dict[str, Any], asyncio.Future]]) -> None:
        try:
            results = await _service.aclient(self.server_url, self.token).score_raw([it for it, _ in batch])
        except BaseException as exc:  # noqa: BLE001 - handed to every waiting sample
            for _, fut in batch:
                if not fut.done():
                    fut.set_exception(exc)
            return
        for (_, fut), result in zip(batch, results):
            if not fut.done():
                fut.set_result(result)


def _section(config: Any, *path: str) -> Any:
    node = config
    for key in path:
        if node is None:
            return None
        node = node.get(key) if hasattr(node, "get") else getattr(node, key, None)
    return node


def _reward_kwargs(config: Any) -> dict[str, Any]:
    """verl 0.9 keeps them under ``reward``; 0.8 under ``reward_model`` / ``custom_reward_function``."""
    out: dict[str, Any] = {}
    for path in (("reward_model", "reward_kwargs"), ("custom_reward_function", "reward_kwargs"),
                 ("reward", "reward_kwargs"), ("reward", "custom_reward_function", "reward_kwargs")):
        found = _section(config, *path)
        if found:
            out.update({str(k): found[k] for k in found})
    return out


class _RewardManager:
    """A verl reward-loop manager scoring through ``m1gym serve``, batching concurrent samples.

    verl >= 0.9::

        reward.reward_manager.source=importlib
        reward.reward_manager.name=M1GymRewardManager
        reward.reward_manager.module.path=pkg://m1gym.integrations.verl

    verl 0.8 (``reward_model.use_reward_loop=true``)::

        reward_model.reward_loop_source=importlib
        reward_model.reward_loop_module_path=pkg://m1gym.integrations.verl
        reward_model.reward_loop_class_name=M1GymRewardManager

    Settings (``server_url``, ``token``, ``env``, ``default_env``, ``max_batch`` = 256,
    ``batch_window_ms`` = 5) come from ``reward_kwargs`` (``reward.reward_kwargs``, or
    ``custom_reward_function.reward_kwargs``). A ``custom_reward_function`` verl passes is not called:
    the service is the reward.
    """

    def __init__(self, config: Any, tokenizer: Any, compute_score: Any = None, reward_router_address: Any = None,
                 reward_model_tokenizer: Any = None, **kwargs: Any):
        base = _verl_base()
        if base is not None:
            if "compute_score" in inspect.signature(base.__init__).parameters:  # verl 0.9 added it
                base.__init__(self, config, tokenizer, compute_score)
            else:
                base.__init__(self, config, tokenizer)
        else:
            self.config, self.tokenizer = config, tokenizer
        opts = {**_reward_kwargs(config), **kwargs}
        self.server_url: Optional[str] = opts.get("server_url")
        self.token: Optional[str] = opts.get("token")
        self.env: Optional[str] = opts.get("env")
        self.default_env: Optional[str] = opts.get("default_env")
        self.max_batch = int(opts.get("max_batch", 256))
        self.window_s = float(opts.get("batch_window_ms", 5.0)) / 1000.0
        if self.max_batch < 1 or self.window_s < 0:
            raise ValueError("M1GymRewardManager: max_batch must be >= 1 and batch_window_ms >= 0")
        self._batchers: dict[Any, _Batcher] = {}

    def batcher(self) -> _Batcher:
        loop = asyncio.get_running_loop()
        b = self._batchers.get(loop)
        if b is None:
            b = self._batchers[loop] = _Batcher(self.server_url, self.token, self.max_batch, self.window_s)
        return b

    async def run_single(self, data: Any) -> dict[str, Any]:
        data = data[-1:]  # a multi-sequence sample is scored on its last sequence, as verl's managers do
        row = data[0]
        response_ids = row.batch["responses"]
        valid = int(row.batch["attention_mask"][-response_ids.shape[-1]:].sum())
        text = self.tokenizer.decode(response_ids[:valid], skip_special_tokens=True)
        nt = row.non_tensor_batch
        reward_model = nt.get("reward_model") or {}
        served = await _service.served_envs_async(self.server_url, self.token)
        item = build_item(nt.get("data_source"), text, reward_model.get("ground_truth"), nt.get("extra_info"),
                          served=served, env=self.env, default_env=self.default_env)
        info = verl_result(await self.batcher().score(item))
        return {"reward_score": info["score"], "reward_extra_info": info}


def _verl_base() -> Any:
    try:
        from verl.experimental.reward_loop.reward_manager.base import RewardManagerBase
    except Exception:  # noqa: BLE001 - verl missing or too old: the class works by duck typing
        return None
    return RewardManagerBase


def __getattr__(name: str) -> Any:
    # Built on first access, so importing this module does not import verl (torch, ray, tensordict);
    # verl's loaders look the class up by name, which lands here. With verl present it subclasses
    # verl's RewardManagerBase, so verl's type checks pass.
    if name == "M1GymRewardManager":
        base = _verl_base()
        cls = type("M1GymRewardManager", (_RewardManager,) + ((base,) if base is not None else ()),
                   {"__module__": __name__, "__doc__": _RewardManager.__doc__, "__qualname__": "M1GymRewardManager"})
        globals()[name] = cls
        return cls
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
