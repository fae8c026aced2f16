"""Curriculum configuration: typed, documented, validated before any work starts.

Read by the one config loader (``m1gym.config``): unknown keys are rejected by their dotted name
with a close match, types and bounds are checked as the section is read, and a bad config (unknown
env, a window list that is not increasing, weights that do not sum to a positive number, a
threshold outside its range, a source whose family has no weight) raises
``CurriculumConfigError`` naming the key. ``m1gym train --help-config`` lists every key.

Documented, not errors: ``family_weights.general`` is inert (the general family's share follows
the ``general`` ramp, not a weight), and a source's ``weight`` only splits its family's share among
the family's sources.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Annotated, Any, ClassVar

from ..config import ConfigError, Range, from_dict, to_dict

FAMILIES = ("math", "logic", "code", "swe", "general")

Fraction = Annotated[float, Range(ge=0, le=1)]


class CurriculumConfigError(ConfigError):
    """A curriculum section is invalid; the message names the ``curriculum.*`` key and the fix."""


@dataclass
class Source:
    """One source of tasks: ``- {env: math/linear, max_level: 2}``, or just ``- math/linear``."""

    #: a bare string in a source list is the env name
    __config_scalar__: ClassVar[str] = "env"

    #: registered env name
    env: str
    #: math | logic | code | swe | general (default: the env name's prefix)
    family: str = ""
    #: base sampling weight among the sources of its family
    weight: Annotated[float, Range(gt=0)] = 1.0
    #: lowest level of the difficulty controller (default: the env's level table)
    min_level: int | None = None
    #: highest level of the difficulty controller (default: the env's level table)
    max_level: int | None = None
    #: level to start at (default: min_level)
    start_level: int | None = None


@dataclass
class DifficultyConfig:
    """Per-env difficulty controllers of generated tasks: level up or down on accuracy."""

    #: answers at the current level before a decision
    window: Annotated[int, Range(ge=1)] = 32
    #: level up when accuracy over the window is above this
    up: Fraction = 0.7
    #: level down when accuracy over the window is below this (must be < up)
    down: Fraction = 0.3


@dataclass
class PassFilterConfig:
    """The pass-rate filter (M1, POLARIS): keep tasks whose pass rate p satisfies low < p < high."""

    #: keep tasks whose pass rate is strictly above this
    low: Fraction = 0.0
    #: keep tasks whose pass rate is strictly below this (must be > low)
    high: Fraction = 0.9
    #: judge a task only after this many answers (unseen or rarely seen tasks are kept)
    min_samples: Annotated[int, Range(ge=0)] = 4


@dataclass
class GeneralRampConfig:
    """Mixing general (GenRM-judged) tasks in: none before start_step, then a linear ramp."""

    #: rule-verified tasks only before this step (M1's first phase)
    start_step: Annotated[int, Range(ge=0)] = 50
    #: general share grows linearly over this many steps ...
    ramp_steps: Annotated[int, Range(ge=0)] = 50
    #: ... up to this share of each batch
    max_share: Annotated[float, Range(ge=0, lt=1)] = 0.3
    #: freeze the ramp while the length-bias monitor has fired recently
    hold_on_bias: bool = True


@dataclass
class WindowConfig:
    """Staged output-length windows: the RL response cap (replacing rollout.max_new_tokens during
    RL) advances to the next stage when responses fill the window and perplexity has settled."""

    #: response windows in tokens, strictly increasing; RL starts at the first
    stages: list[int] = field(default_factory=lambda: [256, 320, 384, 448, 512])
    #: advance when p99 response length >= ratio * window ...
    p99_ratio: Annotated[float, Range(gt=0, le=1)] = 0.95
    #: ... and rolling perplexity changed by less than this (relative)
    ppl_tolerance: Annotated[float, Range(ge=0)] = 0.05
    #: steps in the rolling statistics (at least 2: perplexity compares two halves)
    history: Annotated[int, Range(ge=2)] = 8
    #: soft overlong penalty buffer as a fraction of the window (DAPO's C / L); applies when the
    #: trainer's trainer.overlong_buffer is > 0 (0 there keeps the penalty off)
    overlong_buffer: Fraction = 0.25
    #: logic weight multiplier from the second half of the stages on
    logic_long_window_factor: Annotated[float, Range(ge=0)] = 0.5


@dataclass
class CurriculumConfig:
    """The curriculum scheduler: which sources, family weights, difficulty, filtering, length windows."""

    #: where tasks come from (at least one); a bare env name is a source with defaults
    sources: list[Source] = field(default_factory=list)
    #: base weight of each rule-verified family (math, logic, code, swe) in the rule mix; every
    #: rule-verified family of the sources needs an entry. general is inert here (see `general`)
    family_weights: dict[str, float] = field(default_factory=lambda: {"math": 1.0, "logic": 1.0, "code": 1.0})
    #: sample families in proportion to 1 - success (Kimi), with a floor
    adaptive: bool = True
    #: no family's share of the rule mix drops below floor / n_families (adaptive only)
    weight_floor: Annotated[float, Range(gt=0, le=1)] = 0.1
    #: answers per family in the success estimate
    success_window: Annotated[int, Range(ge=1)] = 64
    #: difficulty controllers of generated tasks
    difficulty: DifficultyConfig = field(default_factory=DifficultyConfig)
    #: the pass-rate filter
    pass_filter: PassFilterConfig = field(default_factory=PassFilterConfig)
    #: the general-task ramp
    general: GeneralRampConfig = field(default_factory=GeneralRampConfig)
    #: the staged length windows
    windows: WindowConfig = field(default_factory=WindowConfig)

    def to_dict(self) -> dict[str, Any]:
        return to_dict(self)

    def validate(self, check_envs: bool = True) -> "CurriculumConfig":
        if not self.sources:
            raise CurriculumConfigError("curriculum.sources: at least one source is needed, e.g. "
                                        "sources: [{env: math/arithmetic, max_level: 1}]")
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
                raise CurriculumConfigError(f"{key}.family: {s.family!r} is not one of {FAMILIES}; set "
                                            f"{key}.family (an env outside them needs one)")
            if not s.weight > 0:
                raise CurriculumConfigError(f"{key}.weight must be > 0, got {s.weight}")
        for k, v in self.family_weights.items():
            if k not in FAMILIES or v < 0:
                raise CurriculumConfigError(f"curriculum.family_weights.{k}: unknown family or negative weight {v}; "
                                            f"families are {', '.join(FAMILIES)}")
        rule = [s for s in self.sources if s.family != "general"]
        for i, s in enumerate(self.sources):
            if s.family != "general" and s.family not in self.family_weights:
                raise CurriculumConfigError(
                    f"curriculum.sources[{i}] ({s.env}) is in family {s.family}, which has no weight in "
                    f"curriculum.family_weights {self.family_weights}, so it would never be sampled; add "
                    f"family_weights.{s.family} (e.g. 1.0) or drop the source")
        fam_total = sum(max(0.0, self.family_weights.get(s.family, 0.0)) for s in rule)
        if rule and not fam_total > 0:
            raise CurriculumConfigError("curriculum.family_weights: the rule-verified families in sources must have "
                                        f"weights summing to a positive number, got {self.family_weights}")
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


def curriculum_from_dict(data: dict[str, Any] | CurriculumConfig, check_envs: bool = True) -> CurriculumConfig:
    """A validated ``CurriculumConfig`` from the ``curriculum:`` section of a config (or one built in code)."""
    try:
        cfg = from_dict(CurriculumConfig, data, "curriculum")
    except CurriculumConfigError:
        raise
    except ConfigError as exc:
        raise CurriculumConfigError(str(exc)) from None
    return cfg.validate(check_envs)
