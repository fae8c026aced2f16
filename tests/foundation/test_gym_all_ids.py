"""Every gymnasium id m1gym registers passes gymnasium's own env checker, a bare reset() included
(dataset envs draw from their bundled examples or a file given as path=)."""

import json

import gymnasium
import pytest
from gymnasium.utils.env_checker import check_env

import m1gym

m1gym.list_envs()  # loads the built-in envs, which registers their gymnasium ids
IDS = sorted(i for i in gymnasium.registry if i.startswith("m1gym/"))


def test_every_single_turn_env_has_an_id():
    # read the registry now, not at collection: other test folders' conftests register test envs
    # (test/echo_digit) after this module was collected
    specs = [s for s in m1gym.list_envs() if not s.multi_turn]
    assert {s.gym_id for s in specs} <= {i for i in gymnasium.registry if i.startswith("m1gym/")}
    assert len(IDS) >= 59


@pytest.mark.parametrize("gym_id", IDS)
def test_registered_id_passes_check_env(gym_id, request):
    if gymnasium.spec(gym_id).entry_point != "m1gym.gym_env:SingleTurnEnv":
        request.getfixturevalue("sandbox")  # the multi-turn SWE agent runs in Docker
    env = gymnasium.make(gym_id)
    try:
        check_env(env.unwrapped, skip_render_check=True)
        obs, info = env.reset()
        assert isinstance(obs, str) and obs
    finally:
        env.close()


def test_dataset_env_draws_from_a_file_and_reset_is_seeded(tmp_path):
    rows = [{"problem": f"What is {i} + {i}?", "answer": str(2 * i)} for i in range(5)]
    path = tmp_path / "plain.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    env = gymnasium.make("m1gym/math.dataset-v0", path=str(path))
    seen = set()
    for seed in range(20):
        obs, _ = env.reset(seed=seed)
        seen.add(obs)
        task = env.unwrapped.task
        assert env.step(f"<answer>{task.answer}</answer>")[1] == 1.0
    assert len(seen) == 5  # every row reachable
    first, _ = env.reset(seed=3)
    again, _ = env.reset(seed=3)
    assert first == again
    bare = gymnasium.make("m1gym/math.dataset-v0")  # no path: the bundled examples
    obs, info = bare.reset(seed=0)
    assert obs and info["task_id"].startswith("math/dataset:")
    with pytest.raises(Exception, match="does not exist"):
        gymnasium.make("m1gym/math.dataset-v0", path=str(tmp_path / "missing.jsonl"))
