"""Hashes of what must stay byte-identical across refactors: the env catalogue (names, kinds,
gym ids), generated task instances of every procedural env (seeds x levels), and a tiny-preset
checkpoint. `python scripts/stable_bytes.py > tests/foundation/data/stable_bytes.json` records
them; tests/foundation/test_stable_bytes.py compares. Re-record only for a deliberate change
(a new task version), and say so in the commit."""

from __future__ import annotations

import hashlib
import json
import sys
import tempfile
from pathlib import Path

SEEDS = (0, 1, 7)


def _h(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()[:16]


def _builtin(spec) -> bool:
    # tests register their own toy envs in the same process
    factory = spec.factory
    module = factory.split(":")[0] if isinstance(factory, str) else getattr(factory, "__module__", "")
    return module.startswith("m1gym.")


def catalogue() -> str:
    from m1gym.registry import list_envs

    rows = [(s.name, s.kind, s.procedural, s.multi_turn, list(s.levels)) for s in list_envs() if _builtin(s)]
    return _h(json.dumps(rows, sort_keys=True).encode())


def instances() -> dict[str, str]:
    """One hash per procedural single-turn env over SEEDS x (its levels or None)."""
    from m1gym.registry import list_envs, make

    out = {}
    for spec in list_envs():
        if not _builtin(spec) or not spec.procedural or spec.multi_turn or spec.kind == "genrm":
            continue
        env = make(spec.name)
        levels = list(spec.levels)[:3] or [None]
        blob = "\n".join(env.generate(seed, level=lv).to_json() for seed in SEEDS for lv in levels)
        out[spec.name] = _h(blob.encode())
    return out


def checkpoint() -> dict[str, str]:
    from m1gym.inference.model import build_model, save_checkpoint_model

    with tempfile.TemporaryDirectory() as d:
        save_checkpoint_model(*build_model("tiny", seed=0), d)
        return {p.name: _h(_without_versions(p)) for p in sorted(Path(d).iterdir()) if p.is_file()}


def _without_versions(path: Path) -> bytes:
    # transformers writes its own version into the JSON files; that is the installed library's
    # business, not ours
    if path.suffix != ".json":
        return path.read_bytes()
    data = json.loads(path.read_text())
    data.pop("transformers_version", None)
    return json.dumps(data, sort_keys=True).encode()


def record() -> dict:
    return {"catalogue": catalogue(), "instances": instances(), "checkpoint": checkpoint()}


if __name__ == "__main__":
    json.dump(record(), sys.stdout, indent=1, sort_keys=True)
    sys.stdout.write("\n")
