"""Checks an rlpipe checkpoint the way Stable-Baselines3 2.x would read it, with Debian's
python3-torch and python3-numpy only (SB3 itself is not installed).

usage: check_rlpipe_zip.py MODEL.zip ALGORITHM   (ALGORITHM: PPO, A2C, SAC, TD3)

Exits non-zero with a message on the first mismatch. On success prints one line per policy tensor
("name [shape]"), then "ok", so the C++ test can compare names and shapes with its module.
"""
import base64
import io
import json
import pickle
import pickletools
import sys
import types
import zipfile

import numpy as np
import torch

PATH, ALGORITHM = sys.argv[1], sys.argv[2]
POLICY_CLASS = {
    "PPO": ("stable_baselines3.common.policies", "ActorCriticPolicy"),
    "A2C": ("stable_baselines3.common.policies", "ActorCriticPolicy"),
    "SAC": ("stable_baselines3.sac.policies", "SACPolicy"),
    "TD3": ("stable_baselines3.td3.policies", "TD3Policy"),
}[ALGORITHM]
OPTIMIZERS = {
    "PPO": ["policy.optimizer.pth"],
    "A2C": ["policy.optimizer.pth"],
    "SAC": ["actor.optimizer.pth", "critic.optimizer.pth"],
    "TD3": ["actor.optimizer.pth", "critic.optimizer.pth"],
}[ALGORITHM]


def fail(message):
    sys.exit(f"check_rlpipe_zip: {PATH}: {message}")


def expect(condition, message):
    if not condition:
        fail(message)


# Stub modules standing in for gymnasium and SB3: unpickling resolves the classes to these.
class Box:
    def __init__(self, low, high, shape=None, dtype=np.float32, seed=None):
        self.low, self.high, self.shape, self.dtype = low, high, shape, dtype


def register(module_name, **attributes):
    # Parent packages first: pickle's find_class imports the top-level package too.
    parts = module_name.split(".")
    for depth in range(1, len(parts)):
        sys.modules.setdefault(".".join(parts[:depth]), types.ModuleType(".".join(parts[:depth])))
    module = types.ModuleType(module_name)
    for key, value in attributes.items():
        value.__module__ = module_name
        setattr(module, key, value)
    sys.modules[module_name] = module


register("gymnasium.spaces.box", Box=Box)
register(POLICY_CLASS[0], **{POLICY_CLASS[1]: type(POLICY_CLASS[1], (), {})})

archive = zipfile.ZipFile(PATH)
names = archive.namelist()
model = json.loads(archive.read("rlpipe_model.json"))

# Members: SB3's, and ours never ending in .pth (SB3 torch.loads every .pth member).
for member in ["data", "policy.pth", "pytorch_variables.pth", "_stable_baselines3_version",
               "system_info.txt"] + OPTIMIZERS:
    expect(member in names, f"member {member} missing (members: {names})")
sb3_pth = {"policy.pth", "pytorch_variables.pth", "ent_coef_optimizer.pth"} | set(OPTIMIZERS)
for member in names:
    expect(not member.endswith(".pth") or member in sb3_pth, f"unexpected .pth member {member}")

# data: SB3's json_to_data decodes every ":serialized:" entry with (cloud)pickle.loads.
data = json.loads(archive.read("data"))
loaded = {}
for key, value in data.items():
    if isinstance(value, dict) and ":serialized:" in value:
        raw = base64.b64decode(value[":serialized:"].encode())
        ops = [(op.name, arg) for op, arg, _ in pickletools.genops(raw)]
        expect(ops[0] == ("PROTO", 2), f"{key}: expected protocol 2, found {ops[0]}")
        expect(ops[-1][0] == "STOP", f"{key}: no STOP")
        globals_named = [arg for name, arg in ops if name == "GLOBAL"]
        if key == "policy_class":
            expect(globals_named == [" ".join(POLICY_CLASS)], f"policy_class globals {globals_named}")
        if key.endswith("_space"):
            expect(globals_named == ["gymnasium.spaces.box Box", "numpy array", "numpy array",
                                     "numpy float32"], f"{key} globals {globals_named}")
            expect([n for n, _ in ops].count("REDUCE") == 3, f"{key}: expected 3 REDUCEs")
        loaded[key] = pickle.loads(raw)
    else:
        loaded[key] = value
for key in ["policy_class", "observation_space", "action_space", "policy_kwargs"]:
    expect(key in loaded, f"data has no {key}")
expect(loaded["policy_class"].__name__ == POLICY_CLASS[1], "policy_class")
for key in ["learning_rate", "gamma", "num_timesteps", "n_envs"]:
    expect(isinstance(loaded[key], (int, float)), f"data {key} is not a number: {loaded[key]!r}")

# Spaces: float32 boxes with exactly the bounds rlpipe trained with.
for key in ["observation_space", "action_space"]:
    space = loaded[key]
    expect(isinstance(space, Box), f"{key} is {type(space)}")
    for bound in ["low", "high"]:
        array = getattr(space, bound)
        expect(isinstance(array, np.ndarray) and array.dtype == np.float32,
               f"{key}.{bound}: expected a float32 array, found {array!r}")
        expected = np.array(model[key][bound], dtype=np.float32)
        expect(np.array_equal(array, expected), f"{key}.{bound}: {array} != {expected}")
    expect(space.dtype is np.float32, f"{key} dtype {space.dtype}")
kwargs = loaded["policy_kwargs"]
expect(issubclass(kwargs["activation_fn"], torch.nn.Module), f"activation_fn {kwargs}")
expect("pi" in kwargs["net_arch"], f"net_arch {kwargs['net_arch']}")

# policy.pth: a state dict torch.load reads, float32 tensors.
policy = torch.load(io.BytesIO(archive.read("policy.pth")))
for name, tensor in policy.items():
    expect(tensor.dtype == torch.float32, f"{name} is {tensor.dtype}")

# Optimizers: a torch.optim state dict that the matching optimizer loads (as SB3's set_parameters).
for member in OPTIMIZERS + (["ent_coef_optimizer.pth"] if "ent_coef_optimizer.pth" in names else []):
    state = torch.load(io.BytesIO(archive.read(member)))
    expect(set(state) == {"state", "param_groups"}, f"{member} keys {set(state)}")
    group = state["param_groups"][0]
    prefix = member.split(".")[0]
    if member == "ent_coef_optimizer.pth":
        params = [torch.zeros(1, requires_grad=True)]
    elif prefix == "policy":
        params = [t.clone().requires_grad_() for t in policy.values()]
    else:
        params = [t.clone().requires_grad_() for n, t in policy.items() if n.startswith(prefix + ".")]
    expect(group["params"] == list(range(len(params))), f"{member} params {group['params']}")
    if "betas" in group:
        optimizer = torch.optim.Adam(params)
        for key in ["lr", "betas", "eps", "weight_decay", "amsgrad"]:
            expect(key in group, f"{member}: param group has no {key}")
    else:
        optimizer = torch.optim.RMSprop(params)
        for key in ["lr", "alpha", "eps", "momentum", "centered", "weight_decay"]:
            expect(key in group, f"{member}: param group has no {key}")
    optimizer.load_state_dict(state)
    for index, entry in state["state"].items():
        for key, value in entry.items():
            if key != "step":
                expect(value.shape == params[index].shape, f"{member} state {index}.{key} shape")
    if ALGORITHM == "PPO" and member == "policy.optimizer.pth":
        expect(abs(group["eps"] - 1e-5) < 1e-12, f"PPO Adam eps {group['eps']}")

variables = torch.load(io.BytesIO(archive.read("pytorch_variables.pth")))
expect(isinstance(variables, dict), "pytorch_variables.pth is not a dict")
if ALGORITHM in ("PPO", "A2C", "TD3"):
    expect(variables == {}, f"pytorch_variables {variables}")

for name, tensor in policy.items():
    print(name, list(tensor.shape))
print("ok")
