"""Adapters that let other trainers use m1gym's environments, scoring through ``m1gym serve``.

One module per trainer, each importable without that trainer installed (it subclasses the
trainer's base classes only when they import): ``verl``, ``trl``, ``openrlhf`` (+ the agent file
``openrlhf_agent``), ``verifiers`` (PrimeIntellect), ``skyrl`` (SkyRL-gym); ``export`` writes the
dataset files they read (``m1gym export``). See docs/service.md.
"""
