"""The README stays true: its Python example runs and its env passes the contract."""

import json
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import m1gym
from m1gym import registry
from m1gym.checker import check_envs

README = Path(__file__).resolve().parents[2] / "README.md"


def test_readme_python_example_registers_a_working_env():
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(), re.DOTALL)
    example = next(b for b in blocks if "m1gym.register(" in b)
    try:
        exec(compile(example, "README.md", "exec"), {"__name__": "readme_example"})  # our own doc, not model output
        report = check_envs(["demo/parity"], samples=3, quick=True)
        assert report.ok, report.text()
        env = m1gym.make("demo/parity")
        task = env.generate(3, 1)
        assert env.score(task, "<answer>maybe</answer>").reward == 0.0
    finally:
        registry.unregister("demo/parity")


def test_readme_names_the_two_commands():
    text = README.read_text()
    assert "make train" in text and "make test" in text
    ci = (README.parent / ".ci" / "run").read_text()
    assert "make test" in ci


def _examples() -> list[str]:
    return re.findall(r"```python\n(.*?)```", README.read_text(), re.DOTALL)


@pytest.mark.parametrize("marker, name", [("register_logic(", "logic/demo_sum"),
                                          ("register_family(", "math/demo_doubling")])
def test_readme_logic_and_math_examples_pass_the_contract(marker, name):
    example = next(b for b in _examples() if marker in b)
    try:
        exec(compile(example, "README.md", "exec"), {"__name__": "readme_example"})  # our own doc
        report = check_envs([name], samples=3, quick=True)
        assert report.ok, report.text()
    finally:
        registry.unregister(name)


def _m1gym(tmp_path) -> list[str]:
    """The `m1gym` command as a user runs it: a script outside the current directory (so the current
    directory is not on the path, as with the installed console script)."""
    exe = shutil.which("m1gym")
    if exe:
        return [exe]
    launcher = tmp_path / "bin" / "m1gym_launcher.py"
    launcher.parent.mkdir(exist_ok=True)
    launcher.write_text("import sys\nfrom m1gym.cli import main\nsys.exit(main())\n")
    return [sys.executable, str(launcher)]


def test_readme_next_step_checks_a_module_of_your_own(tmp_path):
    """`m1gym envs check --import my_module demo/parity`, as the README says, cross-process check included;
    with a path to the file from elsewhere; probe too; and without --import, one line naming it."""
    work = tmp_path / "work"
    work.mkdir()
    (work / "my_module.py").write_text(next(b for b in _examples() if "m1gym.register(" in b))
    m1gym_cmd = _m1gym(tmp_path)
    command = next(line for line in re.findall(r"```bash\n(.*?)```", README.read_text(), re.DOTALL)
                   if "--import my_module" in line).strip()
    assert command == "m1gym envs check --import my_module demo/parity"

    def run(*args, cwd=work):
        return subprocess.run([*m1gym_cmd, *args], cwd=cwd, capture_output=True, text=True, timeout=600)

    out = run(*command.split()[1:])
    assert out.returncode == 0, out.stdout + out.stderr
    assert "cross-process determinism" in out.stdout and "1/1 environments pass" in out.stdout

    out = run("envs", "check", "--import", str(work / "my_module.py"), "demo/parity", "--no-probe", cwd=tmp_path)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "FAIL" not in out.stdout and "cross-process determinism" in out.stdout

    out = run("envs", "probe", "--import", "my_module", "demo/parity", "--json")
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["ok"] is True

    out = run("sample", "--import", "my_module", "demo/parity", "--json")
    assert out.returncode == 0 and json.loads(out.stdout)["env"] == "demo/parity"

    out = run("envs", "check", "demo/parity")
    assert out.returncode == 2 and "--import" in out.stderr and "Traceback" not in out.stderr

    out = run("envs", "check", "--import", "no_such_module_here", "demo/parity")
    assert out.returncode == 2 and "no module named 'no_such_module_here'" in out.stderr


def test_env_defined_in_a_script_is_named_in_the_cross_process_check(tmp_path):
    script = tmp_path / "script.py"
    script.write_text(next(b for b in _examples() if "m1gym.register(" in b)
                      + "\nfrom m1gym.checker import check_envs\n"
                        "print(check_envs(['demo/parity'], samples=2, probe_n=0).text())\n")
    out = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=300, cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert "--import" in out.stdout and "__main__" in out.stdout


def test_readme_environment_commands_run_as_written(tmp_path):
    """The command block of the Environments section, but for `--all` (CI runs that)."""
    block = re.findall(r"```bash\n(.*?)```", README.read_text().split("## Environments", 1)[1], re.DOTALL)[0]
    lines = [ln.split("  #")[0].strip() for ln in block.splitlines() if ln.strip() and "--all" not in ln]
    m1gym_cmd = " ".join(shlex.quote(c) for c in _m1gym(tmp_path))
    for line in lines:
        out = subprocess.run(["bash", "-c", line.replace("m1gym ", m1gym_cmd + " ")], cwd=tmp_path,
                             capture_output=True, text=True, timeout=300)
        assert out.returncode == 0, f"{line}: {out.stderr}"
    assert "reward 0" in out.stdout  # the last line scores a (wrong) answer
