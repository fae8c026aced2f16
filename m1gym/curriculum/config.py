"""Curriculum configuration: typed, documented, validated before any work starts.

A bad config (unknown env, a window list that is not increasing, weights that do not sum to a
positive number, a threshold outside its range) raises ``CurriculumConfigError`` naming the key.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from typing import Any

FAMILIES = ("math", "logic", "code", "swe", "general")


class CurriculumConfigError(ValueError):
    pass


@dataclass
class Source:
    env: str                       # registered env name
    family: str = ""               # math | logic | code | swe | general (default: the env name's prefix)
    weight: float = 1.0            # base sampling weight inside its family
    min_level: int | None = None   # bounds for the difficulty controller (default: the env's level table)
    max_level: int | None = None
    start_level: int | None = None


@dataclass
class DifficultyConfig:
    window: int = 32               # answers at the current level before a decision
    up: float = 0.7                # level up when accuracy over the window is above this
    down: float = 0.3              # level down when below this


@dataclass
class PassFilterConfig:
    low: float = 0.0               # keep tasks whose pass rate p satisfies low < p < high (M1, POLARIS)
    high: float = 0.9
    min_samples: int = 4           # judge a task only after this many answers


@dataclass
class GeneralRampConfig:
    start_step: int = 50           # rule-verified tasks only before this step (M1's first phase)
    ramp_steps: int = 50           # general weight grows linearly over this many steps ...
    max_share: float = 0.3         # ... up to this share of each batch
    hold_on_bias: bool = True      # freeze the ramp while the length-bias monitor has fired recently


@dataclass
class WindowConfig:
    stages: list[int] = field(default_factory=lambda: [256, 320, 384, 448, 512])
    p99_ratio: float = 0.95        # advance when p99 response length >= ratio * window ...
    ppl_tolerance: float = 0.05    # ... and rolling perplexity changed by less than this (relative)
    history: int = 8               # steps in the rolling statistics
    overlong_buffer: float = 0.25  # soft overlong penalty buffer as a fraction of the window (DAPO's C / L)
    logic_long_window_factor: float = 0.5  # logic weight multiplier from the second half of the stages on


@dataclass
class CurriculumConfig:
    sources: list[Source] = field(default_factory=list)
    family_weights: dict[str, float] = field(default_factory=lambda: {"math": 1.0, "logic": 1.0, "code": 1.0})
    adaptive: bool = True          # sample families in proportion to 1 - success (Kimi), with a floor
    weight_floor: float = 0.1      # no family's share of the rule mix drops below floor / n_families
    success_window: int = 64       # answers per family in the success estimate
    difficulty: DifficultyConfig = field(default_factory=DifficultyConfig)
    pass_filter: PassFilterConfig = field(default_factory=PassFilterConfig)
    general: GeneralRampConfig = field(default_factory=GeneralRampConfig)
    windows: WindowConfig = field(default_factory=WindowConfig)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def validate(self, check_envs: bool = True) -> "CurriculumConfig":
        if not self.sources:
            raise CurriculumConfigError("curriculum.sources: at least one source is needed")
        names = []
        if check_envs:
            from ..registry import env_names

            names = env_names()
        for i, s in enumerate(self.sources):
            key = f"curriculum.sources[{i}]"
            if check_envs and s.env not in names:
                from ..registry import UnknownEnvError

                raise CurriculumConfigError(f"{key}.env: {UnknownEnvError(s.env, names)}")
            s.family = s.family or s.env.split("/")[0]
            if s.family not in FAMILIES:
                raise CurriculumConfigError(f"{key}.family: {s.family!r} is not one of {FAMILIES}")
            if not s.weight > 0:
                raise CurriculumConfigError(f"{key}.weight must be > 0, got {s.weight}")
        rule = [s for s in self.sources if s.family != "general"]
        fam_total = sum(max(0.0, self.family_weights.get(s.family, 0.0)) for s in rule)
        if rule and not fam_total > 0:
            raise CurriculumConfigError("curriculum.family_weights: the rule-verified families in sources must have "
                                        f"weights summing to a positive number, got {self.family_weights}")
        for k, v in self.family_weights.items():
            if k not in FAMILIES or v < 0:
                raise CurriculumConfigError(f"curriculum.family_weights.{k}: unknown family or negative weight {v}")
        st = self.windows.stages
        if not st or any(b <= a for a, b in zip(st, st[1:])) or st[0] <= 0:
            raise CurriculumConfigError(f"curriculum.windows.stages must be positive and strictly increasing, got {st}")
        d = self.difficulty
        if not (0 <= d.down < d.up <= 1) or d.window < 1:
            raise CurriculumConfigError(f"curriculum.difficulty: need 0 <= down < up <= 1 and window >= 1, got {d}")
        p = self.pass_filter
        if not (0 <= p.low < p.high <= 1):
            raise CurriculumConfigError(f"curriculum.pass_filter: need 0 <= low < high <= 1, got {p}")
        if not 0 <= self.general.max_share < 1:
            raise CurriculumConfigError(f"curriculum.general.max_share must be in [0, 1), got {self.general.max_share}")
        if not 0 < self.weight_floor <= 1:
            raise CurriculumConfigError(f"curriculum.weight_floor must be in (0, 1], got {self.weight_floor}")
        return self


def _build(cls: type, data: Any, key: str) -> Any:
    if not isinstance(data, dict):
        raise CurriculumConfigError(f"{key}: expected a mapping, got {type(data).__name__}")
    known = {f.name: f for f in fields(cls)}
    unknown = sorted(set(data) - set(known))
    if unknown:
        raise CurriculumConfigError(f"{key}: unknown key(s) {unknown}; known: {sorted(known)}")
    nested = {"difficulty": DifficultyConfig, "pass_filter": PassFilterConfig, "general": GeneralRampConfig,
              "windows": WindowConfig}
    out = {}
    for k, v in data.items():
        if cls is CurriculumConfig and k == "sources":
            if not isinstance(v, list):
                raise CurriculumConfigError(f"{key}.sources: expected a list")
            out[k] = [Source(env=x) if isinstance(x, str) else _build(Source, x, f"{key}.sources[{i}]")
                      for i, x in enumerate(v)]
        elif cls is CurriculumConfig and k in nested:
            out[k] = _build(nested[k], v, f"{key}.{k}")
        else:
            out[k] = v
    try:
        return cls(**out)
    except TypeError as exc:
        raise CurriculumConfigError(f"{key}: {exc}") from None


def curriculum_from_dict(data: dict[str, Any], check_envs: bool = True) -> CurriculumConfig:
    return _build(CurriculumConfig, data, "curriculum").validate(check_envs)
