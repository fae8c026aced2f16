"""General-domain tasks: instruction following (rule-checked) and GenRM-judged tasks.

Importing this package imports neither module; each registers its envs at its bottom.
"""

#: the modules that register general envs
ENV_MODULES = (f"{__name__}.instructions", f"{__name__}.judged")
