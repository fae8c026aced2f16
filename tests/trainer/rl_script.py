"""Runs the RL loop in a fresh process (used by the SIGKILL resume test): rl_script.py CONFIG INIT_DIR."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # this checkout's m1gym, whatever is installed

import toy_env  # noqa: E402,F401  (registers test/echo_digit)
from m1gym.trainer.config import load_config  # noqa: E402
from m1gym.trainer.rl import RLTrainer  # noqa: E402

if __name__ == "__main__":
    cfg = load_config(sys.argv[1])
    trainer = RLTrainer(cfg, init_from=sys.argv[2], resume=True, progress=False)
    trainer.train()
    trainer.close()
