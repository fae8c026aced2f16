"""The lazy registry: m1gym/catalogue.py is what the env modules register, `import m1gym` imports no
env module (nor sympy or torch), an env's module is imported when the env is first made, and
multi-turn envs are gymnasium envs only."""

import json
import subprocess
import sys
from pathlib import Path

import gymnasium
import pytest

import m1gym
from m1gym import registry

ROOT = Path(__file__).resolve().parents[2]


def _run(code: str) -> str:
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert out.returncode == 0, out.stderr
    return out.stdout.strip().splitlines()[-1]


def test_catalogue_is_what_the_env_modules_register():
    out = subprocess.run([sys.executable, str(ROOT / "scripts" / "env_catalogue.py")], capture_output=True,
                         text=True, timeout=600, cwd=ROOT)
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-1000:]


def test_import_m1gym_imports_no_env_module_sympy_or_torch():
    code = ("import sys, json, m1gym; n = len(m1gym.list_envs()); "
            "print(json.dumps([n, sorted(m for m in sys.modules if m.split('.')[0] in ('sympy', 'torch', "
            "'gymnasium', 'numpy') or (m.startswith('m1gym.envs.') and m.count('.') > 2))]))")
    n, heavy = json.loads(_run(code))
    assert n >= 60 and heavy == []


def test_first_make_imports_only_that_env():
    code = ("import sys, json, m1gym; e = m1gym.make('logic/sudoku'); t = e.generate(0, 1); "
            "print(json.dumps([e.score(t, e.reference(t)).reward, sorted(m for m in sys.modules "
            "if m.startswith('m1gym.envs.') and m.count('.') > 2), 'sympy' in sys.modules]))")
    reward, envs, sympy = json.loads(_run(code))
    assert reward == 1.0 and "m1gym.envs.logic.sudoku" in envs and not sympy
    assert not [m for m in envs if m.startswith(("m1gym.envs.math", "m1gym.envs.code", "m1gym.envs.swe"))]


@pytest.mark.parametrize("first", ["m1gym", "gymnasium"])
def test_gymnasium_ids_registered_whichever_is_imported_first(first):
    other = "gymnasium" if first == "m1gym" else "m1gym"
    code = (f"import {first}, {other}, json; ids = [i for i in gymnasium.registry if i.startswith('m1gym/')]; "
            "print(json.dumps([len(ids) - len(m1gym.list_envs()), gymnasium.spec('m1gym/logic.sudoku-v0').kwargs, "
            "gymnasium.spec('m1gym/swe-agent-v0').entry_point, type(gymnasium.__loader__).__name__]))")
    extra, kwargs, agent, loader = json.loads(_run(code))
    # every env of a fresh process (this one holds the tests' toy envs too), and the SWE agent's older id
    assert extra == 1
    assert kwargs == {"env_name": "logic/sudoku"} and agent == "m1gym.envs.swe.agent:SWEAgentEnv"
    assert loader == "SourceFileLoader"  # gymnasium is left as its own loader made it


def test_spec_fields_come_from_the_class_once_loaded():
    spec = registry.get_spec("math/linear")
    cls = spec.factory  # imports the family
    assert spec.entry_point == f"{cls.__module__}:{cls.__qualname__}"
    assert (spec.kind, spec.levels, spec.description) == (cls.kind, tuple(cls.levels), cls.description)
    assert registry.get_spec("math/linear").catalogue_entry() == spec.catalogue_entry()


def test_multi_turn_env_is_listed_but_not_made():
    spec = registry.get_spec("swe/agent")
    assert spec.multi_turn and spec.to_dict()["gym_id"] is None
    assert "swe/agent" in m1gym.registry.env_names()
    with pytest.raises(registry.MultiTurnEnvError, match="gymnasium.make"):
        m1gym.make("swe/agent")
    with pytest.raises(registry.MultiTurnEnvError):
        m1gym.get_env("swe/agent")
    assert gymnasium.spec("m1gym/swe.agent-v0").entry_point == spec.entry_point


def test_register_by_entry_point_stays_lazy_and_the_module_takes_its_place(tmp_path, monkeypatch):
    (tmp_path / "lazy_demo_env.py").write_text(
        "import m1gym\n"
        "from m1gym import Environment, Score\n"
        "class Echo(Environment):\n"
        "    description = 'echo'\n"
        "    levels = (0,)\n"
        "    def generate(self, seed, level=None, **knobs):\n"
        "        return self.make_task(str(seed), 'say hi', 'hi', {'level': 0})\n"
        "    def _score(self, task, response):\n"
        "        return Score.ok() if response == '<answer>hi</answer>' else Score.fail('no')\n"
        "    def reference(self, task):\n"
        "        return '<answer>hi</answer>'\n"
        "m1gym.register('demo/lazy-echo', Echo)\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    try:
        spec = m1gym.register("demo/lazy-echo", "lazy_demo_env:Echo", kind="rule", description="echo", levels=(0,),
                              answer_format="hi", procedural=True)
        assert "lazy_demo_env" not in sys.modules and spec.to_dict()["levels"] == [0]
        env = m1gym.make("demo/lazy-echo")  # imports the module, whose own registration replaces the entry
        assert env.score(env.generate(0), "<answer>hi</answer>").reward == 1.0
        assert registry.get_spec("demo/lazy-echo").factory is sys.modules["lazy_demo_env"].Echo
        with pytest.raises(registry.DuplicateEnvError):
            m1gym.register("demo/lazy-echo", sys.modules["lazy_demo_env"].Echo)
    finally:
        registry.unregister("demo/lazy-echo")
        sys.modules.pop("lazy_demo_env", None)


def test_math_families_are_discovered():
    from m1gym.envs.math import ENV_MODULES, FAMILIES

    assert len(FAMILIES) >= 10 and "linear" in FAMILIES and "dataset" not in FAMILIES
    assert "m1gym.envs.math.base" not in ENV_MODULES and "m1gym.envs.math.equations" in ENV_MODULES
    names = {s.name for s in m1gym.list_envs() if s.name.startswith("math/")}
    assert names == {f"math/{f}" for f in FAMILIES} | {"math/dataset"}
