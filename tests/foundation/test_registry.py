import os
import subprocess
import sys
import textwrap

import gymnasium
import pytest
from gymnasium.utils.env_checker import check_env

import m1gym
from m1gym import registry
from m1gym.registry import DuplicateEnvError, UnknownEnvError


def test_register_make_and_metadata(toy_envs):
    env = m1gym.make("test/add")
    assert env.name == "test/add"
    spec = registry.get_spec("test/add")
    assert spec.kind == "rule" and spec.levels == (0, 1) and spec.answer_format == "integer"
    assert "test/add" in [s.name for s in m1gym.list_envs(kind="rule")]
    assert "test/add" not in [s.name for s in m1gym.list_envs(kind="sandbox")]
    assert spec.to_dict()["gym_id"] == "m1gym/test.add-v0"


def test_duplicate_name_is_an_error(toy_envs):
    from toy_envs import AddEnv

    with pytest.raises(DuplicateEnvError, match="already registered"):
        m1gym.register("test/add", AddEnv)


def test_unknown_name_lists_close_matches(toy_envs):
    with pytest.raises(UnknownEnvError) as err:
        m1gym.make("test/ad")
    assert "test/add" in str(err.value) and "m1gym envs list" in str(err.value)


def test_bad_kind_and_bad_name_rejected():
    from toy_envs import AddEnv

    with pytest.raises(ValueError, match="kind must be one of"):
        m1gym.register("test/kind", AddEnv, kind="magic")
    with pytest.raises(ValueError, match="non-empty"):
        m1gym.register(" spaced", AddEnv)
    with pytest.raises(ValueError, match="unknown kind"):
        m1gym.list_envs(kind="magic")


def test_make_overrides_defaults(toy_envs):
    from toy_envs import AddEnv

    m1gym.register("test/add-configured", AddEnv, scale=3)
    try:
        assert m1gym.make("test/add-configured").config == {"scale": 3}
        assert m1gym.make("test/add-configured", scale=5).config == {"scale": 5}
    finally:
        registry.unregister("test/add-configured")


def test_gymnasium_one_step_env_passes_env_checker(toy_envs):
    env = gymnasium.make("m1gym/test.add-v0")
    check_env(env.unwrapped, skip_render_check=True)
    obs, info = env.reset(seed=7)
    assert "What is" in obs and info["task_id"].startswith("test/add:")
    task = env.unwrapped.task
    obs2, reward, terminated, truncated, info = env.step(env.unwrapped.env.reference(task))
    assert reward == 1.0 and terminated and not truncated and info["correct"] is True
    env.reset(seed=7)
    assert env.unwrapped.task == task  # seeded reset is deterministic
    _, reward, *_ = env.step("<answer>-1</answer>")
    assert reward == 0.0


def test_builtin_envs_are_gymnasium_envs():
    specs = [s for s in m1gym.list_envs() if s.procedural and not s.multi_turn and s.kind == "rule"]
    if not specs:
        pytest.skip("no built-in procedural env registered yet")
    for spec in specs[:: max(1, len(specs) // 8)]:  # a spread of them; all share the same wrapper
        env = gymnasium.make(spec.gym_id)
        check_env(env.unwrapped, skip_render_check=True)


def test_entry_point_plugin_is_loaded_on_first_use(tmp_path):
    """A third-party package registering through the `m1gym.envs` entry point group."""
    pkg = tmp_path / "m1gym_plugin_demo"
    pkg.mkdir()
    (pkg / "__init__.py").write_text(textwrap.dedent('''
        from m1gym.core import Environment, Score
        class Echo(Environment):
            name = "plugin/echo"
            description = "echo (test plugin)"
            levels = (0,)
            def generate(self, seed, level=None, **k):
                return self.make_task(str(seed), "say hi", "hi", {"level": 0})
            def _score(self, task, response):
                return Score.ok() if response.strip() == "<answer>hi</answer>" else Score.fail("no hi")
            def reference(self, task):
                return "<answer>hi</answer>"
        def register():
            import m1gym
            m1gym.register("plugin/echo", Echo)
    '''))
    dist = tmp_path / "m1gym_plugin_demo-0.1.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: m1gym-plugin-demo\nVersion: 0.1\n")
    (dist / "entry_points.txt").write_text("[m1gym.envs]\necho = m1gym_plugin_demo:register\n")
    code = ("import m1gym; e = m1gym.make('plugin/echo'); t = e.generate(0); "
            "print(e.score(t, e.reference(t)).reward)")
    env = {**os.environ, "PYTHONPATH": str(tmp_path) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip().splitlines()[-1] == "1.0"
