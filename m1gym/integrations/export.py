"""``m1gym export``: an env's tasks as the dataset file each trainer reads.

Every row carries the full Task JSON as its label, so the trainer-side adapters score it exactly as
generated (no env inference, no lost metadata):

========  =======================  ====================================================================
format    file                     columns
========  =======================  ====================================================================
verl      .parquet                 data_source (env), prompt (chat), ability (family),
                                   reward_model {style: rule, ground_truth: Task JSON}, extra_info
trl       .jsonl or .parquet       prompt (chat), task (Task JSON), env
openrlhf  .jsonl                   input (the user text, or the chat when it has several messages),
                                   label (Task JSON)
skyrl     .parquet                 data_source, prompt (chat), env_class "m1gym",
                                   reward_spec {method: rule, ground_truth: Task JSON}, extra_info
========  =======================  ====================================================================
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Iterable, Optional

from m1gym.core import Task

FORMATS = ("verl", "trl", "openrlhf", "skyrl")


class ExportError(ValueError):
    """Bad export arguments; the message names the fix."""


def tasks_for(env: str, n: int, seed: int = 0, level: Optional[int] = None,
              source: Optional[str] = None) -> tuple[list[Task], str]:
    """(tasks, where they came from): loaded from ``source`` (a file the env's loader reads, or Task
    JSON lines), generated (procedural envs), or the env's bundled examples (dataset envs)."""
    from m1gym.registry import get_env, get_spec

    if get_spec(env).multi_turn:  # a multi-turn gymnasium env (swe/agent) makes no tasks
        raise ExportError(f"{env} is a multi-turn env with no tasks of its own: export the tasks it runs on "
                          "(swe/agent: `m1gym export swe/bugfix ...`; its TRL environment and OpenRLHF agent "
                          "take those rows)")
    environment = get_env(env)
    if source:
        tasks = _load(environment, source)
        return tasks[:n] if n else tasks, f"loaded from {source}"
    if n < 1:
        raise ExportError("--n must be at least 1")
    if getattr(environment, "procedural", True):
        levels = tuple(environment.levels or ())
        if level is not None and levels and level not in levels:
            raise ExportError(f"{env} has levels {min(levels)}-{max(levels)}, not {level}")
        return [environment.generate(seed + i, level) for i in range(n)], f"generated, seeds {seed}..{seed + n - 1}"
    tasks = list(environment.examples(n, seed))
    return tasks, f"{len(tasks)} bundled example(s) ({env} is a dataset env: pass --from FILE for your data)"


def _load(environment: Any, source: str) -> list[Task]:
    path = Path(source)
    if not path.exists():
        raise ExportError(f"--from {source}: no such file")
    first = path.read_text(encoding="utf-8", errors="replace").lstrip()[:1] if path.suffix == ".jsonl" else ""
    if first == "{":
        try:  # Task JSON lines (`m1gym sample ENV --json`)?
            tasks = [Task.from_json(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
            wrong = [t.env for t in tasks if t.env != environment.name]
            if wrong:
                raise ExportError(f"--from {source}: holds tasks of {wrong[0]!r}, not {environment.name!r}")
            return tasks
        except ExportError:
            raise
        except Exception:  # noqa: BLE001 - not Task JSON: the env's own loader reads it
            pass
    return list(environment.load(str(path)))


def _family(env: str) -> str:
    return env.split("/", 1)[0]


def _openrlhf_input(task: Task) -> Any:
    msgs = list(task.prompt)
    if len(msgs) == 1 and msgs[0].get("role") == "user":
        return msgs[0]["content"]  # a string works with and without --data.apply_chat_template
    return msgs


def row(task: Task, fmt: str, index: int, split: str = "train") -> dict[str, Any]:
    """One dataset row for ``fmt``."""
    task_json = task.to_json()
    prompt = [{"role": m["role"], "content": m["content"]} for m in task.prompt]
    extra = {"index": index, "split": split, "task_id": task.id, "m1gym_env": task.env}
    if fmt == "verl":
        return {"data_source": task.env, "prompt": prompt, "ability": _family(task.env),
                "reward_model": {"style": "rule", "ground_truth": task_json}, "extra_info": extra}
    if fmt == "trl":
        return {"prompt": prompt, "task": task_json, "env": task.env}
    if fmt == "openrlhf":
        return {"input": _openrlhf_input(task), "label": task_json}
    if fmt == "skyrl":
        return {"data_source": task.env, "prompt": prompt, "env_class": "m1gym",
                "reward_spec": {"method": "rule", "ground_truth": task_json}, "extra_info": extra}
    raise ExportError(f"unknown format {fmt!r}; choose one of {', '.join(FORMATS)}")


def write(rows: Iterable[dict[str, Any]], out: str, fmt: str) -> Path:
    """Parquet for verl/skyrl, JSONL for openrlhf; TRL by the file's extension."""
    path = Path(out)
    rows = list(rows)
    parquet = path.suffix == ".parquet"
    if fmt in ("verl", "skyrl") and not parquet:
        raise ExportError(f"{fmt} reads Parquet: name the output *.parquet (got {out})")
    if fmt == "openrlhf" and path.suffix not in (".jsonl", ".json"):
        raise ExportError(f"write OpenRLHF data as JSON lines: name the output *.jsonl (got {out})")
    if fmt == "trl" and not parquet and path.suffix not in (".jsonl", ".json"):
        raise ExportError(f"TRL reads *.jsonl or *.parquet (got {out})")
    path.parent.mkdir(parents=True, exist_ok=True)
    if parquet:
        import pyarrow as pa
        import pyarrow.parquet as pq

        pq.write_table(pa.Table.from_pylist(rows), path)
    else:
        with open(path, "w", encoding="utf-8") as fh:
            for r in rows:
                fh.write(json.dumps(r, ensure_ascii=False) + "\n")
    return path


def export(env: str, fmt: str, out: str, n: int = 0, seed: int = 0, level: Optional[int] = None,
           source: Optional[str] = None, split: str = "train") -> tuple[Path, int, str]:
    if fmt not in FORMATS:
        raise ExportError(f"unknown format {fmt!r}; choose one of {', '.join(FORMATS)}")
    tasks, origin = tasks_for(env, n, seed, level, source)
    if not tasks:
        raise ExportError(f"no tasks to export for {env} ({origin})")
    path = write((row(t, fmt, i, split) for i, t in enumerate(tasks)), out, fmt)
    return path, len(tasks), origin
