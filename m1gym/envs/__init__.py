"""The environment catalogue: math, logic, code, swe, general."""
