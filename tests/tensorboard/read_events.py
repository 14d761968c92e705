#!/usr/bin/env python3
"""Reads a TensorBoard run folder the way TensorBoard does, independently of rlpipe's writer.

The event files are read in name order; each record's length and data CRC-32C are checked; each
record is parsed with Google's protobuf runtime over tb_event.proto (compiled here with protoc).
TensorBoard's restart rule is applied: a SessionLog START at step s discards the points read so
far with step >= s. Prints JSON: {"files": n, "version": "...", "starts": [s...],
"scalars": {tag: [[step, value], ...]}}. Exits non-zero on any framing or parse error.

usage: read_events.py RUN_DIR
"""
import glob
import importlib
import json
import os
import struct
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))


def crc32c(data):
    crc = 0xFFFFFFFF
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = (crc >> 1) ^ 0x82F63B78 if crc & 1 else crc >> 1
    return crc ^ 0xFFFFFFFF


def masked(data):
    crc = crc32c(data)
    return (((crc >> 15) | (crc << 17)) + 0xA282EAD8) & 0xFFFFFFFF


def load_proto_module():
    out = tempfile.mkdtemp(prefix="tb_proto_")
    subprocess.run(["protoc", f"--proto_path={HERE}", f"--python_out={out}", "tb_event.proto"],
                   check=True)
    sys.path.insert(0, out)
    return importlib.import_module("tb_event_pb2")


def records(path):
    with open(path, "rb") as f:
        data = f.read()
    pos = 0
    while pos < len(data):
        if len(data) - pos < 12:
            raise SystemExit(f"{path}: truncated record header at byte {pos}")
        header = data[pos:pos + 8]
        (length,) = struct.unpack("<Q", header)
        (length_crc,) = struct.unpack("<I", data[pos + 8:pos + 12])
        if length_crc != masked(header):
            raise SystemExit(f"{path}: bad length CRC at byte {pos}")
        body = data[pos + 12:pos + 12 + length]
        (data_crc,) = struct.unpack("<I", data[pos + 12 + length:pos + 16 + length])
        if data_crc != masked(body):
            raise SystemExit(f"{path}: bad data CRC at byte {pos}")
        yield body
        pos += 16 + length


def main():
    run_dir = sys.argv[1]
    pb = load_proto_module()
    files = sorted(glob.glob(os.path.join(run_dir, "*tfevents*")))
    if not files:
        raise SystemExit(f"{run_dir}: no event files")
    scalars = {}
    starts = []
    versions = []
    for path in files:
        first = True
        for body in records(path):
            event = pb.Event()
            event.ParseFromString(body)
            kind = event.WhichOneof("what")
            if first and kind != "file_version":
                raise SystemExit(f"{path}: first event is {kind}, not file_version")
            first = False
            if kind == "file_version":
                versions.append(event.file_version)
            elif kind == "session_log" and event.session_log.status == pb.SessionLog.START:
                starts.append(event.step)
                # TensorBoard's purge: keep only points with step < the START event's step.
                for tag in scalars:
                    scalars[tag] = [p for p in scalars[tag] if p[0] < event.step]
            elif kind == "summary":
                for value in event.summary.value:
                    scalars.setdefault(value.tag, []).append([event.step, value.simple_value])
    print(json.dumps({"files": len(files), "versions": versions, "starts": starts,
                      "scalars": scalars}))


if __name__ == "__main__":
    main()
