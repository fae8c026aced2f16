"""Refactors keep what users have on disk: task ids and instances, the catalogue and a checkpoint
are the same bytes as the recorded ones (scripts/stable_bytes.py records them)."""

import importlib.util
import json
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
RECORDED = json.loads((Path(__file__).parent / "data" / "stable_bytes.json").read_text())


def _script():
    spec = importlib.util.spec_from_file_location("stable_bytes", ROOT / "scripts" / "stable_bytes.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_catalogue_is_unchanged():
    assert _script().catalogue() == RECORDED["catalogue"]


def test_generated_instances_are_the_same_bytes():
    now = _script().instances()
    changed = sorted(k for k in RECORDED["instances"] if now.get(k) != RECORDED["instances"][k])
    assert not changed, f"instances changed for {changed}; bump the task's version if deliberate"
    assert set(now) == set(RECORDED["instances"])


def test_checkpoint_is_the_same_bytes():
    assert _script().checkpoint() == RECORDED["checkpoint"]
