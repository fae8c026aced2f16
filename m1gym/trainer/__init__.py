"""The embedded CISPO trainer: model presets on transformers' MiniMax (partial RoPE, FP32 head),
rollout engines, the M1 losses, the RL loop with dynamic sampling, and the SFT warm start.

Submodules import torch; this package file does not, so ``m1gym`` stays cheap to import.
"""
