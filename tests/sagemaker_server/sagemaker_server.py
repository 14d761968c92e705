#!/usr/bin/python3
"""A local SageMaker + CloudWatch Logs + SNS test server for rlpipe's end-to-end tests.

It speaks the real wire protocols:
  * SageMaker and CloudWatch Logs: AWS JSON 1.1 (POST /, X-Amz-Target "SageMaker.<Op>" or
    "Logs_20140328.<Op>", Content-Type application/x-amz-json-1.1), errors as
    {"__type": "ValidationException", "message": ...} with HTTP 400;
  * SNS: the query protocol (Action=Publish, form-encoded), answering XML.
Every request must carry an AWS4-HMAC-SHA256 Authorization header whose credential scope names
the service; CreateTrainingJob input is checked with botocore's validator against the real
service model, so a request AWS would reject is rejected here too.

A training job runs the real container entrypoint (`rlpipe train`) as a local process over a
temp folder standing in for /opt/ml (RLPIPE_SM_ROOT): hyperparameters.json, resourceconfig.json
and checkpointconfig.json are written from the request; CheckpointConfig.S3Uri is downloaded into
the checkpoints folder before the process starts and mirrored back to S3 while it runs
(deletions included, as SageMaker does); on exit /opt/ml/model goes to
OutputDataConfig.S3OutputPath/<job>/output/model.tar.gz and /opt/ml/output/failure becomes
FailureReason ("AlgorithmError: <text>"). The process's output lines become the log stream
"<job>/algo-1-<epoch>" in /aws/sagemaker/TrainingJobs.

Scenarios (POST /_test/scenario with a JSON body, or --scenario at start):
  {"spot_interrupt": ["<substring of a job name>", ...]}   SIGTERM the job's process once, after
      its first checkpoint (`latest`) is synced; the job goes Training -> Interrupted -> Starting
      and restarts on a fresh /opt/ml with the synced checkpoints (a managed-spot restart).
  {"phase_delay_s": 0.2}   time spent in each secondary status before Training.
StopTrainingJob SIGTERMs the process (SIGKILL after 120 s, as SageMaker does) and ends Stopped.
Warm pools: a job with ResourceConfig.KeepAlivePeriodInSeconds > 0 keeps its pool "Available"
after it ends; the next job with equal match keys takes it ("Reused" / ReusedByJob on the old
job, "InUse" on the new one, and its Starting phase says so); UpdateTrainingJob with
KeepAlivePeriodInSeconds 0 terminates an Available pool.

Test hooks: GET /_test/jobs (every job as Describe shows it, plus its scenario record), GET
/_test/sns (published messages), GET /_test/requests (operation names received, in order).

Usage: sagemaker_server.py --rlpipe BIN --s3-endpoint URL --work-dir DIR [--port N]
       [--port-file F] [--scenario JSON]
Prints "listening on <port>" when ready.
"""
import argparse
import http.server
import io
import json
import math
import os
import random
import re
import shutil
import signal
import subprocess
import tarfile
import threading
import time
import urllib.parse

import boto3
import botocore.config
import botocore.session
import botocore.validate
from botocore.exceptions import ParamValidationError

REGION = "us-east-1"
ACCOUNT = "123456789012"
LOG_GROUP = "/aws/sagemaker/TrainingJobs"
# What SageMaker compares to decide that a warm pool can serve a new job.
WARM_POOL_MATCH_KEYS = ("InstanceType", "InstanceCount", "VolumeSizeInGB", "VolumeKmsKeyId")
STOP_GRACE_S = 120.0


class ApiError(Exception):
    def __init__(self, code, message, status=400):
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status


def now():
    return time.time()


def parse_s3_uri(uri):
    match = re.match(r"^s3://([^/]+)/?(.*)$", uri or "")
    if not match:
        raise ValueError(f"not an s3:// URI: {uri!r}")
    return match.group(1), match.group(2).rstrip("/")


class Job:
    """One training job: its request, its Describe fields and its local process."""

    def __init__(self, server, request):
        self.server = server
        self.request = request
        self.name = request["TrainingJobName"]
        self.arn = f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:training-job/{self.name.lower()}"
        self.status = "InProgress"
        self.secondary = None
        self.transitions = []
        self.failure_reason = None
        self.created = now()
        self.start_time = None
        self.end_time = None
        self.model_artifacts = None
        self.final_metrics = {}
        self.warm_pool = None  # WarmPoolStatus dict
        self.reused_pool = False
        self.stop_requested = False
        self.process = None
        self.attempts = 0
        self.interruptions = 0
        self.exit_codes = []
        self.stream = f"{self.name}/algo-1-{int(self.created)}"
        self.lock = threading.Lock()

    def set_secondary(self, status, message):
        with self.lock:
            t = now()
            if self.transitions and "EndTime" not in self.transitions[-1]:
                self.transitions[-1]["EndTime"] = t
            self.transitions.append({"Status": status, "StartTime": t, "StatusMessage": message})
            self.secondary = status

    def describe(self):
        with self.lock:
            out = {
                "TrainingJobName": self.name,
                "TrainingJobArn": self.arn,
                "TrainingJobStatus": self.status,
                "SecondaryStatus": self.secondary or "Starting",
                "HyperParameters": self.request.get("HyperParameters", {}),
                "AlgorithmSpecification": self.request["AlgorithmSpecification"],
                "RoleArn": self.request["RoleArn"],
                "OutputDataConfig": self.request["OutputDataConfig"],
                "ResourceConfig": self.request["ResourceConfig"],
                "StoppingCondition": self.request["StoppingCondition"],
                "CreationTime": self.created,
                "LastModifiedTime": now(),
                "SecondaryStatusTransitions": [dict(t) for t in self.transitions],
                "EnableManagedSpotTraining": self.request.get("EnableManagedSpotTraining", False),
            }
            for key in ("CheckpointConfig", "Environment", "VpcConfig", "RetryStrategy"):
                if key in self.request:
                    out[key] = self.request[key]
            if self.failure_reason:
                out["FailureReason"] = self.failure_reason
            if self.start_time:
                out["TrainingStartTime"] = self.start_time
            if self.end_time:
                out["TrainingEndTime"] = self.end_time
                out["TrainingTimeInSeconds"] = int(self.end_time - (self.start_time or self.created))
                out["BillableTimeInSeconds"] = out["TrainingTimeInSeconds"]
            out["ModelArtifacts"] = {"S3ModelArtifacts": self.model_artifacts or ""}
            if self.final_metrics:
                out["FinalMetricDataList"] = [
                    {"MetricName": k, "Value": v, "Timestamp": now()}
                    for k, v in self.final_metrics.items()]
            if self.warm_pool:
                out["WarmPoolStatus"] = dict(self.warm_pool)
            return out


class TuningJob:
    """One hyper-parameter tuning job: its request, the training jobs it started, its status.
    Grid enumerates every combination of the categorical ranges; Random and Bayesian both draw
    points at random (a fixed seed: the server is a test double, not an optimiser)."""

    def __init__(self, server, request):
        self.server = server
        self.request = request
        self.name = request["HyperParameterTuningJobName"]
        self.arn = (f"arn:aws:sagemaker:{REGION}:{ACCOUNT}:hyper-parameter-tuning-job/"
                    f"{self.name.lower()}")
        self.status = "InProgress"
        self.created = now()
        self.end_time = None
        self.jobs = []  # Job objects, in start order
        self.stop_requested = False
        self.lock = threading.Lock()

    def points(self):
        config = self.request["HyperParameterTuningJobConfig"]
        ranges = config.get("ParameterRanges", {})
        limit = config["ResourceLimits"].get("MaxNumberOfTrainingJobs")
        if config["Strategy"] == "Grid":
            points = [{}]
            for r in ranges.get("CategoricalParameterRanges", []):
                points = [dict(p, **{r["Name"]: v}) for p in points for v in r["Values"]]
            return points[:limit] if limit else points
        rng = random.Random(7)
        points = []
        for _ in range(limit):
            point = {}
            for r in ranges.get("IntegerParameterRanges", []):
                lo, hi = int(r["MinValue"]), int(r["MaxValue"])
                if r.get("ScalingType") == "Logarithmic":
                    value = int(math.exp(rng.uniform(math.log(lo), math.log(hi + 1))))
                    point[r["Name"]] = str(min(hi, max(lo, value)))
                else:
                    point[r["Name"]] = str(rng.randint(lo, hi))
            for r in ranges.get("ContinuousParameterRanges", []):
                lo, hi = float(r["MinValue"]), float(r["MaxValue"])
                if r.get("ScalingType") == "Logarithmic":
                    point[r["Name"]] = repr(math.exp(rng.uniform(math.log(lo), math.log(hi))))
                else:
                    point[r["Name"]] = repr(rng.uniform(lo, hi))
            for r in ranges.get("CategoricalParameterRanges", []):
                point[r["Name"]] = rng.choice(r["Values"])
            points.append(point)
        return points

    def objective(self, job):
        metric = self.request["HyperParameterTuningJobConfig"][
            "HyperParameterTuningJobObjective"]["MetricName"]
        return job.final_metrics.get(metric)

    def summary(self, job, tuned):
        d = job.describe()
        out = {"TrainingJobName": job.name, "TrainingJobArn": job.arn,
               "CreationTime": job.created, "TrainingJobStatus": d["TrainingJobStatus"],
               "TunedHyperParameters": tuned}
        value = self.objective(job)
        if value is not None and d["TrainingJobStatus"] == "Completed":
            config = self.request["HyperParameterTuningJobConfig"]
            objective = config["HyperParameterTuningJobObjective"]
            out["FinalHyperParameterTuningJobObjectiveMetric"] = {
                "Type": objective["Type"], "MetricName": objective["MetricName"], "Value": value}
            out["ObjectiveStatus"] = "Succeeded"
        elif d["TrainingJobStatus"] in ("Failed", "Stopped", "Completed"):
            out["ObjectiveStatus"] = "Failed"
        else:
            out["ObjectiveStatus"] = "Pending"
        if "TrainingEndTime" in d:
            out["TrainingEndTime"] = d["TrainingEndTime"]
        if "TrainingStartTime" in d:
            out["TrainingStartTime"] = d["TrainingStartTime"]
        return out

    def summaries(self):
        with self.lock:
            jobs = list(self.jobs)
        return [self.summary(job, tuned) for job, tuned in jobs]

    def best(self):
        maximize = self.request["HyperParameterTuningJobConfig"][
            "HyperParameterTuningJobObjective"]["Type"] == "Maximize"
        scored = [s for s in self.summaries()
                  if "FinalHyperParameterTuningJobObjectiveMetric" in s]
        if not scored:
            return None
        key = (lambda s: s["FinalHyperParameterTuningJobObjectiveMetric"]["Value"])
        return max(scored, key=key) if maximize else min(scored, key=key)

    def describe(self):
        counters = {"Completed": 0, "InProgress": 0, "RetryableError": 0,
                    "NonRetryableError": 0, "Stopped": 0}
        objective = {"Succeeded": 0, "Pending": 0, "Failed": 0}
        for s in self.summaries():
            status = s["TrainingJobStatus"]
            key = {"Failed": "NonRetryableError", "Stopping": "InProgress"}.get(status, status)
            counters[key] = counters.get(key, 0) + 1
            objective[s["ObjectiveStatus"]] += 1
        out = {"HyperParameterTuningJobName": self.name,
               "HyperParameterTuningJobArn": self.arn,
               "HyperParameterTuningJobConfig": self.request["HyperParameterTuningJobConfig"],
               "TrainingJobDefinition": self.request["TrainingJobDefinition"],
               "HyperParameterTuningJobStatus": self.status,
               "CreationTime": self.created, "LastModifiedTime": now(),
               "TrainingJobStatusCounters": counters, "ObjectiveStatusCounters": objective}
        best = self.best()
        if best:
            out["BestTrainingJob"] = best
        if self.end_time:
            out["HyperParameterTuningEndTime"] = self.end_time
        return out

    def run(self):
        """Starts the points' training jobs, at most MaxParallelTrainingJobs at once."""
        config = self.request["HyperParameterTuningJobConfig"]
        parallel = config["ResourceLimits"]["MaxParallelTrainingJobs"]
        definition = self.request["TrainingJobDefinition"]
        threads = []
        for index, tuned in enumerate(self.points()):
            while not self.stop_requested and sum(t.is_alive() for t in threads) >= parallel:
                time.sleep(0.05)
            if self.stop_requested:
                break
            name = f"{self.name[:15]}-{index + 1:03d}-{os.urandom(4).hex()}"
            request = {"TrainingJobName": name,
                       "HyperParameters": dict(definition.get("StaticHyperParameters", {}),
                                               **tuned)}
            for key in ("AlgorithmSpecification", "RoleArn", "OutputDataConfig",
                        "ResourceConfig", "StoppingCondition", "VpcConfig",
                        "EnableNetworkIsolation", "EnableInterContainerTrafficEncryption",
                        "EnableManagedSpotTraining", "CheckpointConfig"):
                if key in definition:
                    request[key] = definition[key]
            job = Job(self.server, request)
            with self.server.lock:
                self.server.jobs[job.name] = job
                self.server.log_streams[job.stream] = []
            with self.lock:
                self.jobs.append((job, tuned))
            thread = threading.Thread(target=self.server.run_job, args=(job,), daemon=True)
            thread.start()
            threads.append(thread)
        for thread in threads:
            thread.join()
        with self.lock:
            self.end_time = now()
            self.status = "Stopped" if self.stop_requested else "Completed"


class SageMakerServer:
    def __init__(self, args):
        self.rlpipe = args.rlpipe
        self.s3_endpoint = args.s3_endpoint
        self.work_dir = os.path.abspath(args.work_dir)
        self.scenario = json.loads(args.scenario) if args.scenario else {}
        self.jobs = {}
        self.tuning_jobs = {}
        self.log_streams = {}  # name -> list of events
        self.sns_messages = []
        self.requests = []
        self.lock = threading.Lock()
        self.sagemaker_model = botocore.session.get_session().get_service_model("sagemaker")
        self.s3 = boto3.client(
            "s3", endpoint_url=self.s3_endpoint, region_name=REGION,
            aws_access_key_id="S3RVER", aws_secret_access_key="S3RVER",
            config=botocore.config.Config(s3={"addressing_style": "path"}))

    # ----- logs -------------------------------------------------------------------------------
    def log_event(self, stream, message):
        with self.lock:
            events = self.log_streams.setdefault(stream, [])
            t = int(now() * 1000)
            events.append({"timestamp": t, "message": message, "ingestionTime": t})

    # ----- S3 helpers -------------------------------------------------------------------------
    def sync_up(self, local_dir, s3_uri, uploaded):
        """Mirrors local_dir to s3_uri: new or changed files up, deleted files deleted."""
        bucket, prefix = parse_s3_uri(s3_uri)
        present = {}
        for base, _, files in os.walk(local_dir):
            for name in files:
                path = os.path.join(base, name)
                rel = os.path.relpath(path, local_dir)
                if ".tmp" in name:  # partly written files are not synced mid-write
                    continue
                try:
                    stat = os.stat(path)
                except FileNotFoundError:
                    continue
                present[rel] = (stat.st_size, stat.st_mtime_ns)
        for rel, signature in list(present.items()):
            if uploaded.get(rel) != signature:
                key = f"{prefix}/{rel}" if prefix else rel
                try:
                    with open(os.path.join(local_dir, rel), "rb") as f:
                        body = f.read()
                except FileNotFoundError:
                    # Rotated away by the job between the listing and the read (rlpipe keeps
                    # only the newest periodic checkpoints): gone, as if never listed.
                    del present[rel]
                    continue
                self.s3.put_object(Bucket=bucket, Key=key, Body=body)
                uploaded[rel] = signature
        for rel in list(uploaded):
            if rel not in present:
                key = f"{prefix}/{rel}" if prefix else rel
                self.s3.delete_object(Bucket=bucket, Key=key)
                del uploaded[rel]

    def sync_down(self, s3_uri, local_dir):
        bucket, prefix = parse_s3_uri(s3_uri)
        paginator = self.s3.get_paginator("list_objects_v2")
        count = 0
        for page in paginator.paginate(Bucket=bucket, Prefix=prefix + "/" if prefix else ""):
            for obj in page.get("Contents", []):
                rel = obj["Key"][len(prefix) + 1:] if prefix else obj["Key"]
                path = os.path.join(local_dir, rel)
                os.makedirs(os.path.dirname(path), exist_ok=True)
                self.s3.download_file(bucket, obj["Key"], path)
                count += 1
        return count

    def upload_model(self, job, model_dir):
        bucket, prefix = parse_s3_uri(job.request["OutputDataConfig"]["S3OutputPath"])
        key = "/".join(p for p in (prefix, job.name, "output", "model.tar.gz") if p)
        buffer = io.BytesIO()
        with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
            if os.path.isdir(model_dir):
                for name in sorted(os.listdir(model_dir)):
                    tar.add(os.path.join(model_dir, name), arcname=name)
        self.s3.put_object(Bucket=bucket, Key=key, Body=buffer.getvalue())
        job.model_artifacts = f"s3://{bucket}/{key}"

    # ----- the job runner ---------------------------------------------------------------------
    def write_container_files(self, job, root):
        config_dir = os.path.join(root, "input", "config")
        os.makedirs(config_dir, exist_ok=True)
        with open(os.path.join(config_dir, "hyperparameters.json"), "w") as f:
            json.dump(job.request.get("HyperParameters", {}), f)
        with open(os.path.join(config_dir, "resourceconfig.json"), "w") as f:
            json.dump({"current_host": "algo-1", "hosts": ["algo-1"],
                       "network_interface_name": "eth0"}, f)
        checkpoint = job.request.get("CheckpointConfig")
        if checkpoint:
            with open(os.path.join(config_dir, "checkpointconfig.json"), "w") as f:
                json.dump({"LocalPath": checkpoint.get("LocalPath", "/opt/ml/checkpoints"),
                           "S3Uri": checkpoint["S3Uri"]}, f)
        os.makedirs(os.path.join(root, "model"), exist_ok=True)
        os.makedirs(os.path.join(root, "output"), exist_ok=True)

    def local_checkpoints(self, job, root):
        local = job.request.get("CheckpointConfig", {}).get("LocalPath", "/opt/ml/checkpoints")
        return os.path.join(root, os.path.relpath(local, "/opt/ml"))

    def metric_values(self, job, line):
        for definition in job.request["AlgorithmSpecification"].get("MetricDefinitions", []):
            match = re.search(definition["Regex"], line)
            if match:
                try:
                    job.final_metrics[definition["Name"]] = float(match.group(1))
                except (IndexError, ValueError):
                    pass

    def run_attempt(self, job, root, checkpoints_s3):
        """One container start; returns (exit code, interrupted-by-spot)."""
        self.write_container_files(job, root)
        checkpoints_dir = self.local_checkpoints(job, root)
        os.makedirs(checkpoints_dir, exist_ok=True)
        uploaded = {}
        if checkpoints_s3:
            count = self.sync_down(checkpoints_s3, checkpoints_dir)
            for base, _, files in os.walk(checkpoints_dir):
                for name in files:
                    path = os.path.join(base, name)
                    stat = os.stat(path)
                    uploaded[os.path.relpath(path, checkpoints_dir)] = (stat.st_size,
                                                                        stat.st_mtime_ns)
            if count:
                self.log_event(job.stream, f"[sagemaker] {count} checkpoint file(s) restored")
        env = dict(os.environ)
        for key in list(env):
            if key.startswith("SM_") or key == "RLPIPE_SM_ROOT":
                del env[key]
        env.update(job.request.get("Environment", {}))
        env.update({
            "RLPIPE_SM_ROOT": root,
            "AWS_ACCESS_KEY_ID": "S3RVER", "AWS_SECRET_ACCESS_KEY": "S3RVER",
            "AWS_REGION": REGION, "AWS_ENDPOINT_URL_S3": self.s3_endpoint,
            "AWS_EC2_METADATA_DISABLED": "true",
        })
        env.pop("AWS_SESSION_TOKEN", None)
        job.attempts += 1
        process = subprocess.Popen([self.rlpipe, "train"], env=env, stdout=subprocess.PIPE,
                                   stderr=subprocess.STDOUT, text=True, bufsize=1)
        with job.lock:
            job.process = process
        spot = any(s in job.name for s in self.scenario.get("spot_interrupt", []))
        interrupt_once = spot and job.interruptions == 0
        state = {"spot_sent": False}

        def reader():
            for line in process.stdout:
                line = line.rstrip("\n")
                self.log_event(job.stream, line)
                self.metric_values(job, line)

        reader_thread = threading.Thread(target=reader, daemon=True)
        reader_thread.start()
        # Mirror checkpoints while the process runs; play the spot interruption.
        while process.poll() is None:
            time.sleep(0.1)
            if checkpoints_s3:
                self.sync_up(checkpoints_dir, checkpoints_s3, uploaded)
            if (interrupt_once and not state["spot_sent"] and
                    os.path.exists(os.path.join(checkpoints_dir, "latest"))):
                state["spot_sent"] = True
                self.log_event(job.stream, "[sagemaker] spot capacity reclaimed: SIGTERM")
                process.send_signal(signal.SIGTERM)
        reader_thread.join(timeout=10)
        code = process.returncode
        job.exit_codes.append(code)
        if checkpoints_s3:
            self.sync_up(checkpoints_dir, checkpoints_s3, uploaded)
        with job.lock:
            job.process = None
        return code, state["spot_sent"]

    def take_warm_pool(self, job):
        keep = job.request["ResourceConfig"].get("KeepAlivePeriodInSeconds", 0)
        if not keep:
            return None
        keys = self.match_keys(job.request)
        with self.lock:
            for other in self.jobs.values():
                if (other is not job and other.warm_pool and
                        other.warm_pool["Status"] == "Available" and
                        self.match_keys(other.request) == keys):
                    other.warm_pool = {"Status": "Reused", "ReusedByJob": job.name,
                                       "ResourceRetainedBillableTimeInSeconds": 1}
                    return other
        return None

    @staticmethod
    def match_keys(request):
        resource = request["ResourceConfig"]
        return (tuple(resource.get(k) for k in WARM_POOL_MATCH_KEYS),
                request["RoleArn"], json.dumps(request.get("VpcConfig"), sort_keys=True),
                request["AlgorithmSpecification"].get("TrainingImage"))

    def run_job(self, job):
        delay = float(self.scenario.get("phase_delay_s", 0.2))
        checkpoints_s3 = job.request.get("CheckpointConfig", {}).get("S3Uri")
        try:
            reused = self.take_warm_pool(job)
            if reused:
                job.reused_pool = True
                job.warm_pool = {"Status": "InUse"}
                job.set_secondary("Starting", f"Reusing the warm pool of {reused.name}")
            else:
                job.set_secondary("Starting", "Launching requested ML instances")
                time.sleep(delay)
            attempt = 0
            while True:
                attempt += 1
                root = os.path.join(self.work_dir, job.name, f"attempt-{attempt}", "opt_ml")
                shutil.rmtree(root, ignore_errors=True)
                job.set_secondary("Downloading", "Downloading input data")
                time.sleep(delay)
                if job.stop_requested:
                    code, spot = None, False
                    break
                job.set_secondary("Training", "Training image download completed. Training in "
                                  "progress.")
                if job.start_time is None:
                    job.start_time = now()
                code, spot = self.run_attempt(job, root, checkpoints_s3)
                if spot and not job.stop_requested:
                    job.interruptions += 1
                    job.set_secondary("Interrupted", "Spot instance interrupted (exit code "
                                      f"{code}); restarting from the synced checkpoints")
                    job.set_secondary("Starting", "Launching a replacement ML instance")
                    time.sleep(delay)
                    continue
                break
            # The end: model upload, then the final status.
            model_dir = os.path.join(root, "model")
            if job.stop_requested:
                job.set_secondary("Uploading", "Uploading generated training model")
                self.upload_model(job, model_dir)
                self.finish(job, "Stopped", "The job was stopped.")
            elif code == 0:
                job.set_secondary("Uploading", "Uploading generated training model")
                self.upload_model(job, model_dir)
                self.finish(job, "Completed", "Training job completed")
            else:
                failure = os.path.join(root, "output", "failure")
                reason = ""
                if os.path.exists(failure):
                    with open(failure, encoding="utf-8", errors="replace") as f:
                        reason = f.read()
                reason = "AlgorithmError: " + (reason or f"the container exited with code {code}")
                self.finish(job, "Failed", "Training job failed", reason[:1024])
        except Exception as error:  # the server's own bug: make it visible as a failure
            self.finish(job, "Failed", f"test server error: {error}",
                        f"InternalServerError: {error}")

    def finish(self, job, status, message, reason=None):
        """The final secondary status first, then status, warm pool and end time together, so a
        poller that sees the final status also sees everything else."""
        job.set_secondary(status, message)
        keep = job.request["ResourceConfig"].get("KeepAlivePeriodInSeconds", 0)
        with job.lock:
            if reason:
                job.failure_reason = reason
            if keep:
                job.warm_pool = {"Status": "Available", "ResourceRetainedBillableTimeInSeconds": 0}
            job.end_time = now()
            job.status = status

    # ----- operations -------------------------------------------------------------------------
    def op_CreateTrainingJob(self, body):
        shape = self.sagemaker_model.operation_model("CreateTrainingJob").input_shape
        try:
            botocore.validate.validate_parameters(body, shape)
        except ParamValidationError as error:
            raise ApiError("ValidationException", str(error).replace("\n", " "))
        for key in ("S3OutputPath",):
            try:
                parse_s3_uri(body["OutputDataConfig"][key])
            except ValueError as error:
                raise ApiError("ValidationException", f"OutputDataConfig.{key}: {error}")
        if "CheckpointConfig" in body:
            try:
                parse_s3_uri(body["CheckpointConfig"]["S3Uri"])
            except ValueError as error:
                raise ApiError("ValidationException", f"CheckpointConfig.S3Uri: {error}")
        if not re.fullmatch(r"[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}", body["TrainingJobName"]):
            raise ApiError("ValidationException",
                           f"1 validation error detected: Value '{body['TrainingJobName']}' at "
                           "'trainingJobName' failed to satisfy constraint: Member must satisfy "
                           "regular expression pattern: ^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}")
        with self.lock:
            if body["TrainingJobName"] in self.jobs:
                raise ApiError("ResourceInUse",
                               f"Training job names must be unique within an AWS account and "
                               f"region, and a training job with this name already exists "
                               f"({self.jobs[body['TrainingJobName']].arn})")
            job = Job(self, body)
            self.jobs[job.name] = job
            self.log_streams[job.stream] = []
        threading.Thread(target=self.run_job, args=(job,), daemon=True).start()
        return {"TrainingJobArn": job.arn}

    def find_job(self, body):
        name = body.get("TrainingJobName")
        if not isinstance(name, str):
            raise ApiError("ValidationException", "TrainingJobName: expected a string")
        with self.lock:
            job = self.jobs.get(name)
        if not job:
            raise ApiError("ValidationException", "Requested resource not found.")
        return job

    def op_DescribeTrainingJob(self, body):
        return self.find_job(body).describe()

    def op_StopTrainingJob(self, body):
        job = self.find_job(body)
        with job.lock:
            if job.status != "InProgress":
                raise ApiError("ValidationException",
                               f"The job status is {job.status}; only an InProgress job can be "
                               "stopped.")
            job.status = "Stopping"
            job.stop_requested = True
            process = job.process
        job.set_secondary("Stopping", "Stopping the training job")
        if process:
            process.send_signal(signal.SIGTERM)

            def kill_late():
                try:
                    process.wait(timeout=STOP_GRACE_S)
                except subprocess.TimeoutExpired:
                    process.kill()
            threading.Thread(target=kill_late, daemon=True).start()
        return {}

    def op_UpdateTrainingJob(self, body):
        job = self.find_job(body)
        resource = body.get("ResourceConfig")
        if not isinstance(resource, dict) or "KeepAlivePeriodInSeconds" not in resource:
            raise ApiError("ValidationException",
                           "this test server supports only ResourceConfig.KeepAlivePeriodInSeconds")
        keep = resource["KeepAlivePeriodInSeconds"]
        with job.lock:
            if not job.warm_pool or job.warm_pool["Status"] not in ("Available", "InUse"):
                raise ApiError("ValidationException",
                               f"The training job {job.name} has no warm pool to update.")
            job.request["ResourceConfig"]["KeepAlivePeriodInSeconds"] = keep
            if keep == 0 and job.warm_pool["Status"] == "Available":
                job.warm_pool = {"Status": "Terminated",
                                 "ResourceRetainedBillableTimeInSeconds": 1}
        return {"TrainingJobArn": job.arn}

    # ----- hyper-parameter tuning jobs -------------------------------------------------------
    def op_CreateHyperParameterTuningJob(self, body):
        shape = self.sagemaker_model.operation_model("CreateHyperParameterTuningJob").input_shape
        try:
            botocore.validate.validate_parameters(body, shape)
        except ParamValidationError as error:
            raise ApiError("ValidationException", str(error).replace("\n", " "))
        name = body["HyperParameterTuningJobName"]
        if not re.fullmatch(r"[a-zA-Z0-9](-*[a-zA-Z0-9]){0,31}", name):
            raise ApiError("ValidationException",
                           f"Value '{name}' at 'hyperParameterTuningJobName' failed to satisfy "
                           "constraint: Member must satisfy regular expression pattern: "
                           "^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,31}")
        config = body["HyperParameterTuningJobConfig"]
        ranges = config.get("ParameterRanges", {})
        if config["Strategy"] == "Grid" and (ranges.get("IntegerParameterRanges") or
                                             ranges.get("ContinuousParameterRanges")):
            raise ApiError("ValidationException",
                           "Grid search supports only categorical parameter ranges")
        if (config["Strategy"] != "Grid" and
                "MaxNumberOfTrainingJobs" not in config["ResourceLimits"]):
            raise ApiError("ValidationException", "MaxNumberOfTrainingJobs is required")
        metric = config.get("HyperParameterTuningJobObjective", {}).get("MetricName")
        names = [d["Name"] for d in body["TrainingJobDefinition"]["AlgorithmSpecification"]
                 .get("MetricDefinitions", [])]
        if metric not in names:
            raise ApiError("ValidationException",
                           f"The objective metric {metric} is not a metric definition")
        with self.lock:
            if name in self.tuning_jobs:
                raise ApiError("ResourceInUse", f"A tuning job named {name} already exists")
            tuning = TuningJob(self, body)
            self.tuning_jobs[name] = tuning
        threading.Thread(target=tuning.run, daemon=True).start()
        return {"HyperParameterTuningJobArn": tuning.arn}

    def find_tuning_job(self, body):
        name = body.get("HyperParameterTuningJobName")
        with self.lock:
            tuning = self.tuning_jobs.get(name)
        if not tuning:
            raise ApiError("ResourceNotFound", f"Amazon SageMaker can't find a tuning job "
                                               f"with name {name}")
        return tuning

    def op_DescribeHyperParameterTuningJob(self, body):
        return self.find_tuning_job(body).describe()

    def op_StopHyperParameterTuningJob(self, body):
        tuning = self.find_tuning_job(body)
        with tuning.lock:
            if tuning.status != "InProgress":
                raise ApiError("ValidationException",
                               f"The tuning job status is {tuning.status}; only an InProgress "
                               "job can be stopped.")
            tuning.status = "Stopping"
            tuning.stop_requested = True
            jobs = [job for job, _ in tuning.jobs]
        for job in jobs:
            try:
                self.op_StopTrainingJob({"TrainingJobName": job.name})
            except ApiError:
                pass  # already ended
        return {}

    def op_ListTrainingJobsForHyperParameterTuningJob(self, body):
        return {"TrainingJobSummaries": self.find_tuning_job(body).summaries()}

    def op_DescribeLogStreams(self, body):
        if body.get("logGroupName") != LOG_GROUP:
            raise ApiError("ResourceNotFoundException", "The specified log group does not exist.")
        prefix = body.get("logStreamNamePrefix", "")
        with self.lock:
            names = sorted(n for n in self.log_streams if n.startswith(prefix))
            streams = []
            for n in names:
                events = self.log_streams[n]
                entry = {"logStreamName": n, "creationTime": int(now() * 1000),
                         "arn": f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:{LOG_GROUP}:"
                                f"log-stream:{n}", "storedBytes": 0}
                if events:
                    entry["firstEventTimestamp"] = events[0]["timestamp"]
                    entry["lastEventTimestamp"] = events[-1]["timestamp"]
                    entry["lastIngestionTime"] = events[-1]["ingestionTime"]
                streams.append(entry)
        return {"logStreams": streams}

    def op_GetLogEvents(self, body):
        if body.get("logGroupName") != LOG_GROUP:
            raise ApiError("ResourceNotFoundException", "The specified log group does not exist.")
        with self.lock:
            events = self.log_streams.get(body.get("logStreamName"))
            if events is None:
                raise ApiError("ResourceNotFoundException",
                               "The specified log stream does not exist.")
            token = body.get("nextToken")
            start = 0
            if token:
                match = re.fullmatch(r"f/(\d+)", token)
                if not match:
                    raise ApiError("InvalidParameterException",
                                   "The specified nextToken is invalid.")
                start = int(match.group(1))
            limit = int(body.get("limit", 10000))
            chunk = events[start:start + limit]
            end = start + len(chunk)
        return {"events": chunk, "nextForwardToken": f"f/{end}", "nextBackwardToken": f"b/{start}"}

    def sns_publish(self, form):
        topic = form.get("TopicArn", [""])[0]
        message = form.get("Message", [None])[0]
        if not topic.startswith("arn:aws:sns:") or message is None:
            raise ApiError("InvalidParameter", "Invalid parameter: TopicArn or Message")
        message_id = f"msg-{len(self.sns_messages) + 1}"
        with self.lock:
            self.sns_messages.append({"TopicArn": topic, "Subject": form.get("Subject", [""])[0],
                                      "Message": message, "MessageId": message_id})
        return ("<PublishResponse xmlns=\"http://sns.amazonaws.com/doc/2010-03-31/\">"
                f"<PublishResult><MessageId>{message_id}</MessageId></PublishResult>"
                "<ResponseMetadata><RequestId>req-1</RequestId></ResponseMetadata>"
                "</PublishResponse>")


SERVICES = {"SageMaker": "sagemaker", "Logs_20140328": "logs"}


def make_handler(server):
    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args):  # quiet
            pass

        def send(self, status, body, content_type):
            data = body.encode()
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(data)))
            self.send_header("x-amzn-RequestId", "00000000-0000-0000-0000-000000000000")
            self.end_headers()
            self.wfile.write(data)

        def send_json(self, status, doc):
            self.send(status, json.dumps(doc), "application/x-amz-json-1.1")

        def send_error_json(self, error):
            self.send(error.status, json.dumps({"__type": error.code, "message": error.message}),
                      "application/x-amz-json-1.1")

        def check_signature(self, service):
            auth = self.headers.get("Authorization", "")
            match = re.match(r"^AWS4-HMAC-SHA256 Credential=[^/]+/\d{8}/([^/]+)/([^/]+)/"
                             r"aws4_request, SignedHeaders=[a-z0-9;-]+, Signature=[0-9a-f]{64}$",
                             auth)
            if not match or not self.headers.get("X-Amz-Date"):
                raise ApiError("MissingAuthenticationTokenException",
                               "Missing Authentication Token (expected an AWS4-HMAC-SHA256 "
                               "Authorization header and X-Amz-Date)", 403)
            if match.group(2) != service:
                raise ApiError("InvalidSignatureException",
                               f"Credential should be scoped to correct service: '{service}'.",
                               403)

        def do_GET(self):
            path = urllib.parse.urlparse(self.path).path
            if path == "/_test/jobs":
                with server.lock:
                    jobs = list(server.jobs.values())
                docs = []
                for job in jobs:
                    doc = job.describe()
                    doc["_test"] = {"attempts": job.attempts, "interruptions": job.interruptions,
                                    "exit_codes": job.exit_codes,
                                    "reused_pool": job.reused_pool}
                    docs.append(doc)
                return self.send(200, json.dumps(docs, default=str), "application/json")
            if path == "/_test/tuning_jobs":
                with server.lock:
                    tunings = list(server.tuning_jobs.values())
                return self.send(200, json.dumps([t.describe() for t in tunings], default=str),
                                 "application/json")
            if path == "/_test/sns":
                return self.send(200, json.dumps(server.sns_messages), "application/json")
            if path == "/_test/requests":
                return self.send(200, json.dumps(server.requests), "application/json")
            self.send(404, "{}", "application/json")

        def do_POST(self):
            length = int(self.headers.get("Content-Length", "0"))
            raw = self.rfile.read(length)
            path = urllib.parse.urlparse(self.path).path
            if path == "/_test/scenario":
                server.scenario.update(json.loads(raw or b"{}"))
                return self.send(200, json.dumps(server.scenario), "application/json")
            target = self.headers.get("X-Amz-Target")
            try:
                if not target:
                    form = urllib.parse.parse_qs(raw.decode())
                    if form.get("Action", [""])[0] != "Publish":
                        raise ApiError("InvalidAction", "only Action=Publish is served")
                    self.check_signature("sns")
                    server.requests.append("SNS.Publish")
                    return self.send(200, server.sns_publish(form), "text/xml")
                prefix, _, operation = target.partition(".")
                if prefix not in SERVICES:
                    raise ApiError("UnknownOperationException", f"unknown target {target}")
                self.check_signature(SERVICES[prefix])
                if self.headers.get("Content-Type") != "application/x-amz-json-1.1":
                    raise ApiError("SerializationException",
                                   "expected Content-Type application/x-amz-json-1.1")
                try:
                    body = json.loads(raw or b"{}")
                except ValueError:
                    raise ApiError("SerializationException", "the body is not JSON")
                handler = getattr(server, "op_" + operation, None)
                if handler is None:
                    raise ApiError("UnknownOperationException", f"unknown operation {operation}")
                server.requests.append(target)
                return self.send_json(200, handler(body))
            except ApiError as error:
                if not target:
                    return self.send(error.status,
                                     f"<ErrorResponse><Error><Type>Sender</Type><Code>"
                                     f"{error.code}</Code><Message>{error.message}</Message>"
                                     "</Error></ErrorResponse>", "text/xml")
                return self.send_error_json(error)

    return Handler


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rlpipe", required=True)
    parser.add_argument("--s3-endpoint", required=True)
    parser.add_argument("--work-dir", required=True)
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--port-file")
    parser.add_argument("--scenario")
    args = parser.parse_args()
    os.makedirs(args.work_dir, exist_ok=True)
    server = SageMakerServer(args)
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", args.port), make_handler(server))
    httpd.daemon_threads = True
    port = httpd.server_address[1]
    if args.port_file:
        with open(args.port_file + ".tmp", "w") as f:
            f.write(str(port))
        os.rename(args.port_file + ".tmp", args.port_file)
    print(f"listening on {port}", flush=True)

    def stop(*_):
        for job in list(server.jobs.values()):
            if job.process:
                job.process.kill()
        os._exit(0)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    httpd.serve_forever()


if __name__ == "__main__":
    main()
