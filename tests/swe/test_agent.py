"""The multi-turn agent env against the real daemon: scripted episodes, timeouts, step limit,
container clean-up, gymnasium's env checker."""

import gymnasium
import pytest

from m1gym.envs.swe import SWEAgentEnv
from m1gym.envs.swe.images import ImageError
from m1gym.sandbox import SandboxError
from m1gym.sandbox.testing import own_containers

pytestmark = pytest.mark.docker

FIX = '''str_replace textkit/slug.py
<<<<<<< SEARCH
    text = re.sub(r"[^a-z0-9]", "-", text)
=======
    text = re.sub(r"[^a-z0-9]+", "-", text)
>>>>>>> REPLACE'''


@pytest.fixture
def agent(grader, by_name):
    env = SWEAgentEnv([by_name["textkit"]], grader=grader, command_timeout=20, max_steps=8)
    yield env
    env.close()


def _running(docker_client):
    import time

    deadline = time.monotonic() + 10
    # SWE envs use fresh containers only; warm pool containers belong to other suites' sandboxes
    while own_containers(docker_client, include_pool=False) and time.monotonic() < deadline:
        time.sleep(0.1)
    return own_containers(docker_client, include_pool=False)


def test_scripted_gold_episode(agent, docker_client):
    obs, info = agent.reset(seed=1)
    assert "slugify" in obs and "str_replace" in obs and info["instance_id"] == "m1gym__textkit-1"
    assert "collapses_runs" not in obs  # the new test is not shown
    obs, r, term, trunc, _ = agent.step("view textkit/slug.py")
    assert '7\t    text = re.sub(r"[^a-z0-9]", "-", text)' in obs and (r, term, trunc) == (0.0, False, False)
    obs, *_ = agent.step("bash git log --all --oneline | wc -l; ls /work/testbed/tests")
    assert obs.splitlines()[0] == "1" and "test_slug.py" in obs
    obs, *_ = agent.step(FIX)
    assert obs.startswith("edited textkit/slug.py")
    obs, *_ = agent.step('{"tool": "bash", "command": "python -m pytest -q -p no:cacheprovider"}')
    assert "3 passed" in obs
    obs, r, term, trunc, info = agent.step("submit")
    assert (r, term, trunc) == (1.0, True, False) and info["resolved"], info["reason"]
    assert 'r"[^a-z0-9]+"' in info["patch"]
    assert not _running(docker_client)
    with pytest.raises(gymnasium.error.ResetNeeded):
        agent.step("submit")


def test_submit_without_fix_scores_zero(agent):
    agent.reset(seed=0)
    obs, *_ = agent.step("create scratch.txt\nnotes")
    assert obs.startswith("created scratch.txt")
    obs, r, term, trunc, info = agent.step("submit")
    assert r == 0.0 and term and not info["resolved"] and info["reason"].startswith("not resolved")


def test_hanging_command_is_cut_and_episode_continues(grader, by_name):
    env = SWEAgentEnv([by_name["textkit"]], grader=grader, command_timeout=2, max_steps=5)
    try:
        env.reset(seed=0)
        obs, r, term, trunc, info = env.step("bash sleep 300")
        assert "timed out after 2s" in obs and info["killed"] == "wall" and not (term or trunc)
        obs, *_ = env.step("bash echo still-here")
        assert obs.startswith("still-here")
    finally:
        env.close()


def test_bad_actions_and_step_limit(agent, docker_client):
    agent.reset(seed=0, options={"max_steps": 3})
    obs, r, term, trunc, info = agent.step("frobnicate")
    assert obs.startswith("error: unknown tool") and not (term or trunc)
    obs, *_ = agent.step("str_replace textkit/slug.py\n<<<<<<< SEARCH\nnot there\n=======\nx\n>>>>>>> REPLACE")
    assert "does not occur" in obs
    obs, r, term, trunc, info = agent.step("view textkit")
    assert "slug.py" in obs and trunc and not term and r == 0.0
    assert not _running(docker_client)


def test_close_and_errors_remove_the_container(grader, by_name, docker_client):
    env = SWEAgentEnv([by_name["textkit"]], grader=grader)
    env.reset(seed=0)
    name = env.ws.session.container.name
    assert name in [c.name for c in own_containers(docker_client)]
    env.close()
    assert not _running(docker_client)
    # the container dies under the episode: the step raises, and nothing is left
    env.reset(seed=0)
    docker_client.containers.get(env.ws.session.container.name).kill()
    with pytest.raises(SandboxError):
        env.step("bash true")
    assert env.ws is None and not _running(docker_client)
    env.close()


def test_missing_image_error(grader, by_name):
    task = {**by_name["textkit"].to_dict(), "image": "m1gym-no-such-image:missing"}
    env = SWEAgentEnv(grader=grader)
    with pytest.raises(ImageError, match="m1gym-no-such-image:missing.*not present"):
        env.reset(options={"task": task})
    env.close()


def test_gymnasium_make_and_check_env(grader, by_name, docker_client):
    from gymnasium.utils.env_checker import check_env

    env = gymnasium.make("m1gym/swe-agent-v0", tasks=[by_name["intervals"]], max_steps=4)
    check_env(env.unwrapped, skip_render_check=True)
    env.close()
    assert not _running(docker_client)
