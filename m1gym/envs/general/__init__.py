"""General-domain tasks: instruction following (rule-checked) and GenRM-judged tasks."""

from . import instructions, judged  # noqa: F401
