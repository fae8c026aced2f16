"""`m1gym serve` settings: flags over the --config YAML over $M1GYM_TOKEN over defaults, read by the
one config loader; bad values are one-line errors naming the flag or key. No server is started."""

import argparse

import pytest

from m1gym.config import ConfigError
from m1gym.service.cli import add_commands, build_config
from m1gym.service.config import ServiceConfig


def settings(*argv, monkeypatch=None):
    ap = argparse.ArgumentParser()
    add_commands(ap.add_subparsers())
    return build_config(ap.parse_args(["serve", *argv]))


@pytest.fixture(autouse=True)
def _no_token(monkeypatch):
    monkeypatch.delenv("M1GYM_TOKEN", raising=False)


def test_defaults_and_precedence(tmp_path, monkeypatch):
    assert settings() == ServiceConfig()
    p = tmp_path / "serve.yaml"
    p.write_text("port: 9001\nmax-batch: 10\nmax_body_mb: 1\nimport: [a_mod]\ntoken: file\nlog-level: info\n")
    cfg = settings("--config", str(p), "--import", "b_mod", "--port", "0")
    assert cfg.port == 0 and cfg.max_batch == 10 and cfg.max_body_bytes == 1024 * 1024
    assert cfg.imports == ("a_mod", "b_mod") and cfg.token == "file" and cfg.log_level == "info"
    monkeypatch.setenv("M1GYM_TOKEN", "env")
    assert settings().token == "env" and settings("--token", "flag").token == "flag"
    assert settings("--config", str(p)).token == "file"


@pytest.mark.parametrize("argv, message", [
    (["--workers", "0"], r"^--workers must be >= 1, got 0$"),
    (["--port", "70000"], r"^--port must be >= 0 and <= 65535, got 70000$"),
    (["--item-timeout", "0"], r"^--item-timeout must be > 0"),
    (["--ray-actor-cpus", "2"], r"ray_actor_cpus \(--ray-actor-cpus\) is only used with ray"),
])
def test_bad_flags(argv, message):
    with pytest.raises(ConfigError, match=message):
        settings(*argv)


def test_bad_yaml_keys(tmp_path):
    p = tmp_path / "serve.yaml"
    for text, message in [("workerz: 3\n", r"workerz: unknown key \(did you mean 'workers'\?\)"),
                          ("workers: many\n", r"config key workers must be an integer, got 'many'"),
                          ("log_level: loud\n", r"log_level: 'loud' is not one of critical"),
                          ("- 1\n", "must hold a mapping of flag names to values")]:
        p.write_text(text)
        with pytest.raises(ConfigError, match=message):
            settings("--config", str(p))
    with pytest.raises(ConfigError, match="not found; check the --config path"):
        settings("--config", str(tmp_path / "missing.yaml"))


def test_ray_actor_cpus_with_ray_is_accepted():
    assert settings("--ray", "auto", "--ray-actor-cpus", "2").ray_actor_cpus == 2.0


def test_help_config_lists_every_setting(capsys):
    with pytest.raises(SystemExit):
        settings("--help-config")
    out = capsys.readouterr().out
    for f in ("host", "port", "workers", "ray_actor_cpus", "max_body_bytes", "task_cache", "log_level"):
        assert f"\n  {f}: " in out
