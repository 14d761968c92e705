"""Writes the binary seeds of tests/fuzz/corpus/ (small zips and pickles) with Debian's python3,
python3-torch and tests/sb3/make_sb3_fixture.py. The seeds are committed; rerun this only to
refresh them.

usage: make_corpus.py   (from anywhere; writes next to this file)
"""
import collections
import io
import os
import pickle
import subprocess
import sys
import tempfile
import zipfile

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
CORPUS = os.path.join(HERE, "corpus")


def write(target, name, data):
    os.makedirs(os.path.join(CORPUS, target), exist_ok=True)
    with open(os.path.join(CORPUS, target, name), "wb") as f:
        f.write(data)


def torch_save(value):
    buffer = io.BytesIO()
    torch.save(value, buffer)
    return buffer.getvalue()


def tiny_zip(compression):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression) as z:
        z.writestr("data", b'{"a": 1}')
        z.writestr("dir/member.txt", b"hello hello hello hello")
    return buffer.getvalue()


# Zips: tiny stored and deflated archives and a small torch.save file (itself a zip).
write("zip", "tiny_stored.zip", tiny_zip(zipfile.ZIP_STORED))
write("zip", "tiny_deflated.zip", tiny_zip(zipfile.ZIP_DEFLATED))
small_state = collections.OrderedDict(w=torch.arange(6, dtype=torch.float32).reshape(2, 3).t())
write("zip", "torch_save_small.pth", torch_save(small_state))

# Pickles: the data.pkl of torch.save files (a state dict, an optimizer state) and plain pickles.
for name, value in {
    "state_dict": small_state,
    "optimizer": {"state": {0: {"step": torch.tensor(2.0), "exp_avg": torch.zeros(3)}},
                  "param_groups": [{"lr": 3e-4, "betas": (0.9, 0.999), "eps": 1e-5,
                                    "amsgrad": False, "params": [0]}]},
    "mixed_dtypes": {"i64": torch.tensor([1, 2], dtype=torch.int64),
                     "f64": torch.tensor([0.5], dtype=torch.float64),
                     "u8": torch.tensor([1], dtype=torch.uint8),
                     "b": torch.tensor([True])},
}.items():
    with zipfile.ZipFile(io.BytesIO(torch_save(value))) as z:
        pkl = next(n for n in z.namelist() if n.endswith("/data.pkl"))
        write("torch_pickle", name + ".pkl", z.read(pkl))
for protocol in (2, 3, 4, 5):
    write("torch_pickle", "plain_p%d.pkl" % protocol,
          pickle.dumps({"a": [1, -2, 3.5, None, True, "x" * 3, b"\x00\x01", (1, 2), 2**40]},
                       protocol=protocol))
write("torch_pickle", "plain_p0.pkl", pickle.dumps({"a": [1, 2.5, "s", None]}, protocol=0))

# SB3 data: the `data` member of an SB3-layout PPO zip (make_sb3_fixture.py) and its policy pickle.
with tempfile.TemporaryDirectory() as tmp:
    subprocess.run([sys.executable, os.path.join(HERE, "..", "sb3", "make_sb3_fixture.py"), tmp],
                   check=True, stdout=subprocess.DEVNULL)
    with zipfile.ZipFile(os.path.join(tmp, "sb3_ppo_deflated.zip")) as z:
        write("sb3_data", "sb3_ppo_data.json", z.read("data"))
        write("zip", "sb3_ppo_deflated.zip", open(os.path.join(tmp, "sb3_ppo_deflated.zip"), "rb").read())
# The same `data` with SAC's and TD3's policy classes (protocol-2 class pickles, as cloudpickle
# writes importable classes by name).
import base64
import json
data = json.loads(open(os.path.join(CORPUS, "sb3_data", "sb3_ppo_data.json"), "rb").read())
for algo, cls in (("sac", "stable_baselines3.sac.policies\nSACPolicy"),
                  ("td3", "stable_baselines3.td3.policies\nTD3Policy")):
    pkl = b"\x80\x02c" + cls.encode() + b"\nq\x00."
    data["policy_class"][":serialized:"] = base64.b64encode(pkl).decode()
    write("sb3_data", "sb3_%s_data.json" % algo, json.dumps(data, indent=4).encode())
print("wrote", CORPUS)
