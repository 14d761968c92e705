#!/usr/bin/python3
"""Drives the SageMaker test server with boto3 — AWS's own client — to show it speaks the real
protocol (JSON 1.1 targets, SigV4, AWS-shaped errors, CloudWatch Logs, SNS query protocol), and
that a job runs the real `rlpipe train` entrypoint: hyperparameters that are not an rlpipe
session make the container fail, and its failure file comes back as FailureReason.

Usage: boto3_protocol_test.py --rlpipe BIN   (exit 77 = skipped: s3rver is not installed)
"""
import argparse
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.request

import boto3
import botocore.config
from botocore.exceptions import ClientError

HERE = os.path.dirname(os.path.abspath(__file__))
START_S3RVER = os.path.join(HERE, "..", "s3", "start_s3rver.sh")
RLPIPE = None


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_port(port, timeout=20):
    deadline = time.time() + timeout
    while time.time() < deadline:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise RuntimeError(f"nothing listens on {port}")


class ServerFixture:
    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="sm-boto3-")
        self.s3_port = free_port()
        self.s3rver = subprocess.Popen([START_S3RVER, os.path.join(self.dir, "s3"),
                                        str(self.s3_port), "bucket"],
                                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_for_port(self.s3_port)
        self.s3_endpoint = f"http://127.0.0.1:{self.s3_port}"
        port_file = os.path.join(self.dir, "port")
        self.server = subprocess.Popen(
            ["/usr/bin/python3", os.path.join(HERE, "sagemaker_server.py"), "--rlpipe", RLPIPE,
             "--s3-endpoint", self.s3_endpoint, "--work-dir", os.path.join(self.dir, "jobs"),
             "--port-file", port_file, "--scenario", '{"phase_delay_s": 0.05}'],
            stdout=subprocess.DEVNULL)
        deadline = time.time() + 20
        while not os.path.exists(port_file):
            if time.time() > deadline or self.server.poll() is not None:
                raise RuntimeError("the SageMaker test server did not start")
            time.sleep(0.05)
        with open(port_file) as f:
            self.port = int(f.read())
        self.endpoint = f"http://127.0.0.1:{self.port}"

    def client(self, service, validate=True):
        return boto3.client(
            service, endpoint_url=self.endpoint, region_name="us-east-1",
            aws_access_key_id="AKIDEXAMPLE", aws_secret_access_key="secret",
            config=botocore.config.Config(parameter_validation=validate,
                                          retries={"max_attempts": 1}))

    def close(self):
        for process in (self.server, self.s3rver):
            process.terminate()
            try:
                process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                process.kill()
        shutil.rmtree(self.dir, ignore_errors=True)


def job_request(name, hyperparameters):
    return {
        "TrainingJobName": name,
        "HyperParameters": hyperparameters,
        "AlgorithmSpecification": {
            "TrainingImage": "123456789012.dkr.ecr.us-east-1.amazonaws.com/rlpipe:latest",
            "TrainingInputMode": "File",
            "MetricDefinitions": [{"Name": "timesteps",
                                   "Regex": r"\[rlpipe-metric\] timesteps=([0-9.eE+-]+)"}],
        },
        "RoleArn": "arn:aws:iam::123456789012:role/SageMakerRole",
        "OutputDataConfig": {"S3OutputPath": "s3://bucket/output"},
        "ResourceConfig": {"InstanceType": "ml.c5.xlarge", "InstanceCount": 1,
                           "VolumeSizeInGB": 30},
        "StoppingCondition": {"MaxRuntimeInSeconds": 3600},
        "CheckpointConfig": {"S3Uri": "s3://bucket/checkpoints/" + name,
                             "LocalPath": "/opt/ml/checkpoints"},
    }


class Boto3ProtocolTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.fixture = ServerFixture()
        cls.sagemaker = cls.fixture.client("sagemaker")
        cls.logs = cls.fixture.client("logs")

    @classmethod
    def tearDownClass(cls):
        cls.fixture.close()

    def wait_done(self, name, timeout=60):
        deadline = time.time() + timeout
        while time.time() < deadline:
            job = self.sagemaker.describe_training_job(TrainingJobName=name)
            if job["TrainingJobStatus"] in ("Completed", "Failed", "Stopped"):
                return job
            time.sleep(0.1)
        self.fail(f"{name} did not finish")

    def test_failing_container_reports_its_failure_file(self):
        self.sagemaker.create_training_job(**job_request("bad-hyperparameters",
                                                         {"learning_rate": "0.1"}))
        job = self.wait_done("bad-hyperparameters")
        self.assertEqual(job["TrainingJobStatus"], "Failed")
        self.assertEqual(job["SecondaryStatus"], "Failed")
        # The entrypoint's own words, from /opt/ml/output/failure.
        self.assertTrue(job["FailureReason"].startswith("AlgorithmError: "), job["FailureReason"])
        self.assertIn("hyperparameters.json", job["FailureReason"])
        self.assertIn("rlpipe_", job["FailureReason"])
        self.assertLessEqual(len(job["FailureReason"]), 1024)
        statuses = [t["Status"] for t in job["SecondaryStatusTransitions"]]
        self.assertEqual(statuses, ["Starting", "Downloading", "Training", "Failed"])
        # The job's output is in CloudWatch Logs, found the way the console finds it.
        streams = self.logs.describe_log_streams(logGroupName="/aws/sagemaker/TrainingJobs",
                                                 logStreamNamePrefix="bad-hyperparameters/")
        self.assertEqual(len(streams["logStreams"]), 1)
        name = streams["logStreams"][0]["logStreamName"]
        events = self.logs.get_log_events(logGroupName="/aws/sagemaker/TrainingJobs",
                                          logStreamName=name, startFromHead=True)
        text = "\n".join(e["message"] for e in events["events"])
        self.assertIn("rlpipe train: error:", text)
        again = self.logs.get_log_events(logGroupName="/aws/sagemaker/TrainingJobs",
                                         logStreamName=name,
                                         nextToken=events["nextForwardToken"])
        self.assertEqual(again["events"], [])

    def test_errors_are_aws_shaped(self):
        with self.assertRaises(ClientError) as caught:
            self.sagemaker.describe_training_job(TrainingJobName="no-such-job")
        self.assertEqual(caught.exception.response["Error"]["Code"], "ValidationException")
        self.assertIn("not found", caught.exception.response["Error"]["Message"])
        with self.assertRaises(ClientError) as caught:
            self.logs.get_log_events(logGroupName="/aws/sagemaker/TrainingJobs",
                                     logStreamName="missing/algo-1")
        self.assertEqual(caught.exception.response["Error"]["Code"],
                         "ResourceNotFoundException")
        # Server-side validation against the real service model (client-side validation off).
        unchecked = self.fixture.client("sagemaker", validate=False)
        request = job_request("missing-role", {})
        del request["RoleArn"]
        with self.assertRaises(ClientError) as caught:
            unchecked.create_training_job(**request)
        self.assertEqual(caught.exception.response["Error"]["Code"], "ValidationException")
        self.assertIn("RoleArn", caught.exception.response["Error"]["Message"])
        # Duplicate names.
        self.sagemaker.create_training_job(**job_request("twice", {}))
        with self.assertRaises(ClientError) as caught:
            self.sagemaker.create_training_job(**job_request("twice", {}))
        self.assertEqual(caught.exception.response["Error"]["Code"], "ResourceInUse")
        self.wait_done("twice")
        with self.assertRaises(ClientError) as caught:
            self.sagemaker.stop_training_job(TrainingJobName="twice")
        self.assertEqual(caught.exception.response["Error"]["Code"], "ValidationException")

    def test_unsigned_requests_are_refused(self):
        request = urllib.request.Request(
            self.fixture.endpoint, data=b'{"TrainingJobName": "x"}', method="POST",
            headers={"X-Amz-Target": "SageMaker.DescribeTrainingJob",
                     "Content-Type": "application/x-amz-json-1.1"})
        with self.assertRaises(urllib.error.HTTPError) as caught:
            urllib.request.urlopen(request)
        self.assertEqual(caught.exception.code, 403)
        self.assertEqual(json.loads(caught.exception.read())["__type"],
                         "MissingAuthenticationTokenException")

    def test_sns_publish_query_protocol(self):
        sns = self.fixture.client("sns")
        answer = sns.publish(TopicArn="arn:aws:sns:us-east-1:123456789012:rlpipe",
                             Subject="session done", Message="hello")
        self.assertTrue(answer["MessageId"])
        published = json.load(urllib.request.urlopen(self.fixture.endpoint + "/_test/sns"))
        self.assertIn({"TopicArn": "arn:aws:sns:us-east-1:123456789012:rlpipe",
                       "Subject": "session done", "Message": "hello",
                       "MessageId": answer["MessageId"]}, published)


def main():
    global RLPIPE
    parser = argparse.ArgumentParser()
    parser.add_argument("--rlpipe", required=True)
    args, rest = parser.parse_known_args()
    RLPIPE = os.path.abspath(args.rlpipe)
    if not shutil.which("s3rver"):
        print("SKIP: s3rver not installed (scripts/install-deps.sh --test)")
        sys.exit(77)
    # boto3 keeps its pooled connections open until exit; that is not the server's concern.
    unittest.main(argv=[sys.argv[0]] + rest, verbosity=2, warnings="ignore")


if __name__ == "__main__":
    main()
