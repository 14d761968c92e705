"""SB3 side of the rlpipe-vs-SB3 comparison (docs/performance.md, "Side by side with SB3"):
env-steps/s of model.learn() on Pendulum-v1, wall and CPU time.

Needs Stable-Baselines3 2.3.2 and Gymnasium 0.29.1 importable (not installed by
scripts/install-deps.sh: they are not Debian packages; docs/performance.md says how they were set
up here) and Debian's python3-torch. Run it with one torch and one OpenBLAS thread, interleaved
with rlpipe's bench/off_policy_step and bench/on_policy_step end-to-end runs.

sac / td3: SB3 defaults, one env, 3000 steps. ppo: RL-Zoo Pendulum-v1 (n_envs 4, n_steps 1024,
gae_lambda 0.95, gamma 0.9, n_epochs 10, ent_coef 0, lr 1e-3, clip 0.2), use_sde False, [64, 64].
Then 10 deterministic evaluation episodes (not timed). Prints one JSON line.
"""
import argparse
import ctypes
import ctypes.util
import json
import time

import torch

torch.set_num_threads(1)

import gymnasium as gym  # noqa: E402
import numpy as np  # noqa: E402
import stable_baselines3  # noqa: E402
from stable_baselines3 import PPO, SAC, TD3  # noqa: E402
from stable_baselines3.common.env_util import make_vec_env  # noqa: E402
from stable_baselines3.common.evaluation import evaluate_policy  # noqa: E402


def openblas_threads():
    try:
        lib = ctypes.CDLL("libopenblas.so.0")
        return lib.openblas_get_num_threads()
    except OSError:
        return None


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--algo", choices=["sac", "td3", "ppo"], required=True)
    p.add_argument("--steps", type=int, default=None)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--eval-episodes", type=int, default=10)
    a = p.parse_args()

    if a.algo == "ppo":
        steps = a.steps or 49152
        env = make_vec_env("Pendulum-v1", n_envs=4, seed=a.seed)
        model = PPO("MlpPolicy", env, n_steps=1024, batch_size=64, gae_lambda=0.95, gamma=0.9,
                    n_epochs=10, ent_coef=0.0, learning_rate=1e-3, clip_range=0.2, use_sde=False,
                    policy_kwargs=dict(net_arch=[64, 64]), seed=a.seed, device="cpu", verbose=0)
    else:
        steps = a.steps or 3000
        env = gym.make("Pendulum-v1")
        cls = SAC if a.algo == "sac" else TD3
        model = cls("MlpPolicy", env, seed=a.seed, device="cpu", verbose=0)  # SB3 defaults

    start, cpu_start = time.perf_counter(), time.process_time()
    model.learn(total_timesteps=steps)
    seconds, cpu_seconds = time.perf_counter() - start, time.process_time() - cpu_start

    eval_env = gym.make("Pendulum-v1")
    eval_env.reset(seed=100 + a.seed)
    mean_r, std_r = evaluate_policy(model, eval_env, n_eval_episodes=a.eval_episodes,
                                    deterministic=True)
    print(json.dumps({
        "side": "sb3", "algo": a.algo, "seed": a.seed, "steps": int(model.num_timesteps),
        "seconds": round(seconds, 3), "steps_per_s": round(model.num_timesteps / seconds, 1),
        "cpu_seconds": round(cpu_seconds, 3),
        "steps_per_cpu_s": round(model.num_timesteps / cpu_seconds, 1),
        "eval_mean_return": round(float(mean_r), 1), "eval_std_return": round(float(std_r), 1),
        "torch_threads": torch.get_num_threads(), "openblas_threads": openblas_threads(),
        "sb3": stable_baselines3.__version__, "gymnasium": gym.__version__,
        "torch": torch.__version__, "numpy": np.__version__,
    }), flush=True)


if __name__ == "__main__":
    main()
