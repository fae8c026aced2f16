"""The one typed config loader (m1gym.config): mapping / YAML / dotted overrides -> nested dataclasses,
errors that name the key, the bad value and the fix, and docs taken from where each field is defined."""

from __future__ import annotations

import ast
import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, ClassVar, Literal, Optional

import pytest

from m1gym.config import (ConfigError, Range, apply_overrides, describe, field_docs, format_help, from_dict, load,
                          to_dict)
from m1gym.errors import UserError

ROOT = Path(__file__).resolve().parents[2]


@dataclass
class Item:
    """One item of a list."""

    __config_scalar__: ClassVar[str] = "name"

    #: the item's name
    name: str
    #: how much of it
    weight: Annotated[float, Range(gt=0)] = 1.0


@dataclass
class Inner:
    #: an engine
    engine: Literal["embedded", "openai", "vllm"] = "embedded"
    #: a count, at least 1
    size: Annotated[int, Range(ge=1)] = 8
    url: Optional[str] = None  #: trailing doc
    ratio: float = field(default=0.5, metadata={"doc": "doc from metadata"})


@dataclass
class Outer:
    #: a seed
    seed: int = 0
    #: a flag
    flag: bool = False
    #: a section
    inner: Inner = field(default_factory=Inner)
    #: a list of sections
    items: list[Item] = field(default_factory=list)
    #: a mapping
    weights: dict[str, float] = field(default_factory=lambda: {"a": 1.0})
    #: names
    names: tuple[str, ...] = ()
    #: an optional section
    extra: Optional[Inner] = None


def test_mapping_to_nested_dataclasses():
    cfg = from_dict(Outer, {"seed": 3, "inner": {"engine": "vllm", "ratio": 1}, "items": ["a", {"name": "b", "weight": 2}],
                            "weights": {"x": 2}, "names": ["m"], "extra": {"size": 2}})
    assert cfg.inner == Inner(engine="vllm", ratio=1.0) and isinstance(cfg.inner.ratio, float)
    assert cfg.items == [Item("a"), Item("b", 2.0)]  # a bare string is the scalar shorthand
    assert cfg.weights == {"x": 2.0} and cfg.names == ("m",) and cfg.extra == Inner(size=2)
    assert from_dict(Outer, None) == Outer()
    assert from_dict(Outer, to_dict(cfg)) == cfg  # what a run folder stores reads back unchanged


def test_unknown_key_named_in_full_with_a_close_match():
    with pytest.raises(ConfigError, match=r"inner\.engin: unknown key \(did you mean 'engine'\?\)"):
        from_dict(Outer, {"inner": {"engin": "vllm"}})
    with pytest.raises(ConfigError, match=r"items\[1\]\.wieght: unknown key \(did you mean 'weight'\?\)"):
        from_dict(Outer, {"items": ["a", {"name": "b", "wieght": 1}]})
    # the right key in the wrong section: say where it lives
    with pytest.raises(ConfigError, match=r"^size: unknown key \(it is a key of another section: inner\.size"):
        from_dict(Outer, {"size": 3})
    # a section's prefix is part of the name
    with pytest.raises(ConfigError, match=r"^outer\.inner\.bogus: unknown key"):
        from_dict(Outer, {"inner": {"bogus": 1}}, "outer")


@pytest.mark.parametrize("data, message", [
    ({"seed": "many"}, r"config key seed must be an integer, got 'many'; e.g. seed: 0"),
    ({"seed": 1.5}, r"config key seed must be an integer, got 1.5"),
    ({"flag": "yes"}, r"config key flag must be true or false, got 'yes'; e.g. flag: false"),
    ({"inner": {"size": 0}}, r"config key inner.size must be >= 1, got 0"),
    ({"inner": {"url": 8000}}, r"config key inner.url must be a string, got the number 8000; quote it: url: '8000'"),
    ({"inner": {"ratio": "half"}}, r"config key inner.ratio must be a number, got 'half'; e.g. ratio: 0.5"),
    ({"inner": 3}, r"config key inner is a section: it must be a mapping"),
    ({"items": [{"weight": 2}]}, r"config key items\[0\].name is required"),
    ({"items": [{"name": "a", "weight": -1}]}, r"config key items\[0\].weight must be > 0, got -1"),
    ({"weights": [1, 2]}, r"config key weights must be a mapping"),
    ({"names": 3}, r"config key names must be a list, got 3"),
])
def test_bad_types_name_the_key_the_value_and_the_fix(data, message):
    with pytest.raises(ConfigError, match=message):
        from_dict(Outer, data)


def test_bad_choice_lists_the_choices_and_a_close_match():
    with pytest.raises(ConfigError, match=r"config key inner.engine: 'vlm' is not one of embedded, openai, vllm "
                                          r"\(did you mean vllm\?\)"):
        from_dict(Outer, {"inner": {"engine": "vlm"}})
    with pytest.raises(ConfigError, match="is not one of"):
        from_dict(Outer, {"inner": {"engine": True}})


def test_config_error_is_a_user_error():
    assert issubclass(ConfigError, UserError) and issubclass(ConfigError, ValueError)


def test_yaml_file_and_dotted_overrides(tmp_path):
    p = tmp_path / "c.yaml"
    p.write_text("seed: 1\ninner: {engine: openai}\nitems: [a, {name: b}]\n")
    cfg = load(Outer, p, ["inner.size=4", "items.1.weight=3", "flag=true", "extra={size: 2}", "weights.y=1e-3"])
    assert cfg.seed == 1 and cfg.inner.engine == "openai" and cfg.inner.size == 4 and cfg.flag
    assert cfg.items[1].weight == 3.0 and cfg.extra.size == 2 and cfg.weights == {"y": 1e-3}  # the file's mapping, not the default
    with pytest.raises(ConfigError, match="section.key=value"):
        apply_overrides({}, ["seed"])
    with pytest.raises(ConfigError, match=r"items.0 is a value \('a'\), not a section"):
        load(Outer, p, ["items.0.weight=1"])
    with pytest.raises(ConfigError, match=r"items.5 needs an index below 2"):
        load(Outer, p, ["items.5.weight=1"])
    with pytest.raises(ConfigError, match=r"extra is null in the config; set the whole section"):
        apply_overrides({"extra": None}, ["extra.size=2"])
    with pytest.raises(ConfigError, match=r"seed is a value \(1\), not a section"):
        apply_overrides({"seed": 1}, ["seed.x=2"])
    with pytest.raises(ConfigError, match="not found"):
        load(Outer, tmp_path / "missing.yaml")
    (tmp_path / "list.yaml").write_text("- 1\n")
    with pytest.raises(ConfigError, match="must hold a mapping"):
        load(Outer, tmp_path / "list.yaml")
    (tmp_path / "bad.yaml").write_text("a: [1\n")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load(Outer, tmp_path / "bad.yaml")


def test_null_for_a_required_section_is_an_error():
    with pytest.raises(ConfigError, match="config key inner is a section"):
        from_dict(Outer, {"inner": None})


def test_docs_come_from_where_fields_are_defined():
    docs = field_docs(Inner)
    assert docs == {"engine": "an engine", "size": "a count, at least 1", "url": "trailing doc",
                    "ratio": "doc from metadata"}
    rows = {d.key: d for d in describe(Outer)}
    assert rows["inner.engine"].type == "embedded | openai | vllm" and rows["inner.engine"].default == "embedded"
    assert rows["inner.size"].type == "int >= 1" and rows["items[].weight"].type == "float > 0"
    assert rows["items[].name"].default == "required" and rows["items"].section
    assert rows["extra"].default == "null (off)" and "extra.size" in rows
    text = format_help(Outer, "title")
    assert "  inner.size: int >= 1 = 8\n      a count, at least 1" in text


def _undocumented(cls) -> list[str]:
    return [d.key for d in describe(cls) if not d.doc]


def test_every_field_of_the_trainer_curriculum_and_service_configs_is_documented():
    from m1gym.curriculum.config import CurriculumConfig
    from m1gym.service.config import ServiceConfig
    from m1gym.trainer.config import Config

    for cls in (Config, CurriculumConfig, ServiceConfig):
        assert _undocumented(cls) == [], cls.__name__


def test_the_loader_sits_at_the_bottom_of_the_layers():
    tree = ast.parse((ROOT / "m1gym" / "config.py").read_text())
    inside = {(n.module or "") for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.level > 0}
    absolute = {a.name.split(".")[0] for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    assert inside <= {"errors"} and "m1gym" not in absolute


def test_defaults_load_from_an_empty_mapping():
    from m1gym.curriculum.config import CurriculumConfig
    from m1gym.service.config import ServiceConfig
    from m1gym.trainer.config import Config

    for cls in (Config, CurriculumConfig, ServiceConfig):
        assert from_dict(cls, {}) == cls()
