"""Writes Stable-Baselines3-layout model zips the way SB3 2.x's save_to_zip_file does, without SB3
(not installable here): Debian's python3-torch and python3-numpy only. Run at test time (CTest
fixture) into the build tree; nothing binary is committed.

usage: make_sb3_fixture.py OUT_DIR

Writes OUT_DIR/sb3_ppo.zip (members stored, as SB3 writes them), OUT_DIR/sb3_ppo_deflated.zip (the
same, deflated), OUT_DIR/sb3_ppo_expected.json ({name: {"shape", "values"}} of every policy.pth
tensor) and OUT_DIR/sb3_marker_path.txt (a file the pickled "closures" would create if anything
executed them).
The network matches rlpipe's pendulum PPO session of tests/sb3 (obs 3, act 1, [8, 8] tanh).
"""
import base64
import collections
import io
import json
import os
import pickle
import sys
import types
import zipfile

import numpy as np
import torch

OUT = sys.argv[1]
OBS, ACT, HIDDEN = 3, 1, [8, 8]
os.makedirs(OUT, exist_ok=True)
MARKER = os.path.join(OUT, "sb3_closure_was_executed")
if os.path.exists(MARKER):
    os.remove(MARKER)

# The policy's state dict with SB3's ActorCriticPolicy names, in SB3's order.
generator = torch.Generator().manual_seed(1234)
state = collections.OrderedDict()
state["log_std"] = torch.full((ACT,), -0.5)
for net in ("policy_net", "value_net"):
    fan_in = OBS
    for i, width in enumerate(HIDDEN):
        state[f"mlp_extractor.{net}.{2 * i}.weight"] = torch.randn(width, fan_in, generator=generator)
        state[f"mlp_extractor.{net}.{2 * i}.bias"] = torch.randn(width, generator=generator)
        fan_in = width
state["action_net.weight"] = torch.randn(ACT, HIDDEN[-1], generator=generator)
state["action_net.bias"] = torch.randn(ACT, generator=generator)
state["value_net.weight"] = torch.randn(1, HIDDEN[-1], generator=generator)
state["value_net.bias"] = torch.randn(1, generator=generator)
# A transposed (non-contiguous) tensor and a slice at an offset into a larger storage exercise
# strides and storage offsets.
state["mlp_extractor.value_net.2.weight"] = torch.randn(HIDDEN[1], HIDDEN[0], generator=generator).t()
state["value_net.weight"] = torch.randn(3, HIDDEN[-1], generator=generator)[1:2]
state._metadata = collections.OrderedDict({"": {"version": 1}})  # as nn.Module.state_dict() adds

# An Adam optimizer (SB3's PPO: eps 1e-5) that has taken two steps.
params = [t.clone().requires_grad_() for t in state.values()]
adam = torch.optim.Adam(params, lr=3e-4, eps=1e-5)
for _ in range(2):
    adam.zero_grad()
    sum((p * p).sum() for p in params).backward()
    adam.step()


# Class references pickled as cloudpickle does for importable classes (protocol 5, by name).
def class_pickle(module_name, class_name):
    parts = module_name.split(".")
    for depth in range(1, len(parts) + 1):
        sys.modules.setdefault(".".join(parts[:depth]), types.ModuleType(".".join(parts[:depth])))
    cls = type(class_name, (), {"__module__": module_name})
    setattr(sys.modules[module_name], class_name, cls)
    return pickle.dumps(cls, protocol=5)


class Box:  # pickled with its state, like a gymnasium Box instance
    pass


Box.__module__ = "gymnasium.spaces.box"
class_pickle("gymnasium.spaces.box", "Box")
sys.modules["gymnasium.spaces.box"].Box = Box


def box_pickle(low, high):
    box = Box()
    box.low = np.array(low, dtype=np.float32)
    box.high = np.array(high, dtype=np.float32)
    box.dtype = np.dtype("float32")
    box._shape = (len(low),)
    return pickle.dumps(box, protocol=5)


def serialized(type_name, raw):
    return {":type:": type_name, ":serialized:": base64.b64encode(raw).decode()}


# "Closures": pickles that would run code if unpickled (they must be skipped, not executed).
closure = b"\x80\x02cbuiltins\nexec\nX" + len(
    f"open({MARKER!r}, 'w').close()".encode()).to_bytes(4, "little") + \
    f"open({MARKER!r}, 'w').close()".encode() + b"\x85R."
not_even_a_pickle = b"\x80\x05\x95\xff\xff\xff\xff\xff\xff\xff\xff\xfe garbage"

data = {
    "policy_class": serialized("<class 'abc.ABCMeta'>", class_pickle(
        "stable_baselines3.common.policies", "ActorCriticPolicy")),
    "observation_space": serialized("<class 'gymnasium.spaces.box.Box'>",
                                    box_pickle([-1, -1, -8], [1, 1, 8])),
    "action_space": serialized("<class 'gymnasium.spaces.box.Box'>", box_pickle([-2], [2])),
    "policy_kwargs": {},
    "num_timesteps": 20480,
    "_total_timesteps": 20480,
    "_num_timesteps_at_start": 0,
    "seed": None,
    "action_noise": None,
    "start_time": 1700000000000000000,
    "learning_rate": 0.0003,
    "tensorboard_log": None,
    "_last_obs": None,
    "_episode_num": 0,
    "use_sde": False,
    "sde_sample_freq": -1,
    "_current_progress_remaining": 0.0,
    "_stats_window_size": 100,
    "ep_info_buffer": serialized("<class 'collections.deque'>", closure),
    "_n_updates": 100,
    "observation_space_extra": None,
    "n_steps": 2048,
    "gamma": 0.99,
    "gae_lambda": 0.95,
    "ent_coef": 0.0,
    "vf_coef": 0.5,
    "max_grad_norm": 0.5,
    "batch_size": 64,
    "n_epochs": 10,
    "clip_range": serialized("<class 'function'>", closure),
    "clip_range_vf": None,
    "normalize_advantage": True,
    "target_kl": None,
    "lr_schedule": serialized("<class 'function'>", not_even_a_pickle),
    "n_envs": 4,
}
del data["observation_space_extra"]


def write(path, compression):
    # As save_to_zip_file: data, pytorch_variables.pth, the state dicts, version, system info.
    with zipfile.ZipFile(path, mode="w", compression=compression) as archive:
        archive.writestr("data", json.dumps(data, indent=4))
        with archive.open("pytorch_variables.pth", mode="w", force_zip64=True) as f:
            torch.save({}, f)
        for name, obj in [("policy", state), ("policy.optimizer", adam.state_dict())]:
            with archive.open(name + ".pth", mode="w", force_zip64=True) as f:
                torch.save(obj, f)
        archive.writestr("_stable_baselines3_version", "2.3.2")
        archive.writestr("system_info.txt", "- OS: Linux\n- Python: 3.11\n- Stable-Baselines3: 2.3.2\n")


write(os.path.join(OUT, "sb3_ppo.zip"), zipfile.ZIP_STORED)
write(os.path.join(OUT, "sb3_ppo_deflated.zip"), zipfile.ZIP_DEFLATED)
expected = {name: {"shape": list(t.shape), "values": t.flatten().tolist()}
            for name, t in state.items()}
with open(os.path.join(OUT, "sb3_ppo_expected.json"), "w") as f:
    json.dump(expected, f)
with open(os.path.join(OUT, "sb3_marker_path.txt"), "w") as f:
    f.write(MARKER)
print("wrote", OUT)
