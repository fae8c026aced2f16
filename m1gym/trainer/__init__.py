"""The embedded CISPO trainer: the M1 losses, the RL loop with dynamic sampling and its stability
guard, the SFT warm start and checkpoints. Models, tokenizers and rollout engines live in
``m1gym.inference``.

Submodules import torch; this package file does not, so ``m1gym`` stays cheap to import.
"""
