"""aws/deploy_sagemaker.sh and aws/push-image.sh driven against fake `aws` and `docker` executables
(tests/deploy/fakes/, put first on PATH) that record every call.

The snippet deploy_sagemaker.sh writes is spliced into a pipeline next to a copy of an example
training config and loaded by the real binary (`rlpipe config`), which proves it uses exactly the
keys rlpipe accepts. Needs RLPIPE_BINARY (the built rlpipe) and Debian's python3-yaml.
"""
import json
import os
import shutil
import subprocess
import tempfile
import unittest

import yaml

SOURCE_DIR = os.environ.get("RLPIPE_SOURCE_DIR",
                            os.path.dirname(os.path.dirname(os.path.dirname(
                                os.path.abspath(__file__)))))
RLPIPE_BINARY = os.environ.get("RLPIPE_BINARY", os.path.join(SOURCE_DIR, "build/apps/rlpipe"))
FAKES = os.path.join(SOURCE_DIR, "tests", "deploy", "fakes")
DEPLOY = os.path.join(SOURCE_DIR, "aws", "deploy_sagemaker.sh")
PUSH = os.path.join(SOURCE_DIR, "aws", "push-image.sh")
TEMPLATE = os.path.join(SOURCE_DIR, "aws", "cloudformation", "sagemaker.yaml")
BASH = shutil.which("bash") or "/bin/bash"

REGION = "eu-west-1"
ACCOUNT = "123456789012"
STACK_OUTPUTS = {
    "Region": REGION,
    "BucketName": "rlpipe-test-artifactbucket-1a2b3c4d5e6f",
    "CheckpointS3Uri": "s3://rlpipe-test-artifactbucket-1a2b3c4d5e6f/sagemaker-checkpoints/",
    "ExecutionRoleArn": f"arn:aws:iam::{ACCOUNT}:role/rlpipe-test-SageMakerExecutionRole-AbC123",
    "ImageRepositoryUri": f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com/rlpipe",
    "SecurityGroupId": "sg-0123456789abcdef0",
    "SubnetIds": "subnet-0aaaaaaaaaaaaaaa1,subnet-0bbbbbbbbbbbbbbb2",
    "VpcId": "vpc-0123456789abcdef0",
    "NotificationTopicArn": f"arn:aws:sns:{REGION}:{ACCOUNT}:rlpipe-test-NotificationTopic-XyZ",
}
GOOD_ARGS = ["--vpc-id", "vpc-0123456789abcdef0",
             "--subnet-ids", "subnet-0aaaaaaaaaaaaaaa1,subnet-0bbbbbbbbbbbbbbb2",
             "--region", REGION, "--stack-name", "rlpipe-test"]


def describe_stacks_response(outputs):
    """A describe-stacks answer shaped like the real one."""
    return {"Stacks": [{
        "StackId": f"arn:aws:cloudformation:{REGION}:{ACCOUNT}:stack/rlpipe-test/0a1b2c3d",
        "StackName": "rlpipe-test",
        "StackStatus": "CREATE_COMPLETE",
        "Outputs": [{"OutputKey": k, "OutputValue": v, "Description": k}
                    for k, v in outputs.items()],
    }]}


class FakeCliCase(unittest.TestCase):
    """A temp folder with the fakes first on PATH and a log of their calls."""

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="rlpipe-deploy-test-")
        self.addCleanup(shutil.rmtree, self.tmp)
        self.log = os.path.join(self.tmp, "calls.jsonl")
        self.stacks = os.path.join(self.tmp, "describe-stacks.json")
        self.write_stack_outputs(STACK_OUTPUTS)
        self.env = dict(os.environ)
        self.env.update(PATH=FAKES + os.pathsep + os.environ.get("PATH", "/usr/bin:/bin"),
                        FAKE_CLI_LOG=self.log, FAKE_AWS_STACKS=self.stacks)
        for name in ("AWS_REGION", "AWS_DEFAULT_REGION", "FAKE_AWS_FAIL"):
            self.env.pop(name, None)

    def write_stack_outputs(self, outputs):
        with open(self.stacks, "w", encoding="utf-8") as f:
            json.dump(describe_stacks_response(outputs), f)

    def run_script(self, script, args, env=None):
        return subprocess.run([BASH, script, *args], cwd=self.tmp, env=env or self.env,
                              capture_output=True, text=True, timeout=60, check=False)

    def calls(self):
        if not os.path.exists(self.log):
            return []
        with open(self.log, encoding="utf-8") as f:
            return [json.loads(line) for line in f]

    def assert_one_line_error(self, result, code, *fragments):
        self.assertEqual(result.returncode, code, result.stderr)
        lines = result.stderr.strip().splitlines()
        self.assertEqual(len(lines), 1, f"expected one line, got: {result.stderr!r}")
        for fragment in fragments:
            self.assertIn(fragment, lines[0])

    def path_without(self, tool):
        """A PATH folder holding only what the scripts use besides `tool` (aws is in /usr/bin)."""
        bin_dir = os.path.join(self.tmp, "bin")
        os.makedirs(bin_dir, exist_ok=True)
        for name in ("bash", "dirname", "cat"):
            os.symlink(shutil.which(name), os.path.join(bin_dir, name))
        for name in ("aws", "docker"):
            if name != tool:
                os.symlink(os.path.join(FAKES, name), os.path.join(bin_dir, name))
        env = dict(self.env)
        env["PATH"] = bin_dir
        return env


class DeploySageMakerTest(FakeCliCase):
    def test_help(self):
        result = self.run_script(DEPLOY, ["--help"])
        self.assertEqual(result.returncode, 0)
        for flag in ("--vpc-id", "--subnet-ids", "--region", "--stack-name", "--output"):
            self.assertIn(flag, result.stdout)
        self.assertEqual(self.calls(), [])

    def test_bad_arguments_fail_before_any_aws_call(self):
        def with_value(flag, value):
            args = list(GOOD_ARGS)
            args[args.index(flag) + 1] = value
            return args

        def without(flag):
            args = list(GOOD_ARGS)
            del args[args.index(flag):args.index(flag) + 2]
            return args

        cases = {
            "missing vpc": (without("--vpc-id"), "--vpc-id"),
            "missing subnets": (without("--subnet-ids"), "--subnet-ids"),
            "missing region": (without("--region"), "--region"),
            "missing stack": (without("--stack-name"), "--stack-name"),
            "vpc not hex": (with_value("--vpc-id", "vpc-xyz12345"), "vpc-xyz12345"),
            "vpc too short": (with_value("--vpc-id", "vpc-1234"), "vpc-1234"),
            "vpc no prefix": (with_value("--vpc-id", "0123456789abcdef0"), "--vpc-id"),
            "subnet prefix": (with_value("--subnet-ids", "sub-0123abcd"), "sub-0123abcd"),
            "subnet empty item": (with_value("--subnet-ids", "subnet-0123abcd,,subnet-0123abce"),
                                  "--subnet-ids"),
            "subnet trailing comma": (with_value("--subnet-ids", "subnet-0123abcd,"),
                                      "--subnet-ids"),
            "region upper case": (with_value("--region", "EU-WEST-1"), "EU-WEST-1"),
            "region no dashes": (with_value("--region", "euwest1"), "euwest1"),
            "stack starts with digit": (with_value("--stack-name", "1stack"), "1stack"),
            "stack underscore": (with_value("--stack-name", "my_stack"), "my_stack"),
            "stack too long": (with_value("--stack-name", "s" * 129), "--stack-name"),
            "bucket upper case": (GOOD_ARGS + ["--bucket-name", "My_Bucket"], "My_Bucket"),
            "repository upper case": (GOOD_ARGS + ["--repository-name", "RLPipe"], "RLPipe"),
            "email": (GOOD_ARGS + ["--notification-email", "not-an-address"], "not-an-address"),
            "image tag": (GOOD_ARGS + ["--image-tag", "-bad"], "--image-tag"),
            "output folder missing": (GOOD_ARGS + ["--output", "no/such/dir/aws.yaml"],
                                      "no/such/dir"),
            "unknown option": (GOOD_ARGS + ["--vpc", "vpc-0123abcd"], "--vpc"),
            "missing value": (GOOD_ARGS[:-1], "--stack-name"),
            "value is a flag": (["--vpc-id", "--region", REGION], "--vpc-id"),
            "positional": (GOOD_ARGS + ["extra"], "extra"),
        }
        for name, (args, fragment) in cases.items():
            with self.subTest(name):
                result = self.run_script(DEPLOY, args)
                self.assert_one_line_error(result, 2, "deploy_sagemaker: ", fragment)
                self.assertEqual(self.calls(), [], "aws was called")
                self.assertFalse(os.path.exists(os.path.join(self.tmp, "aws-config.yaml")))

    def test_missing_aws_cli(self):
        result = self.run_script(DEPLOY, GOOD_ARGS, env=self.path_without("aws"))
        self.assert_one_line_error(result, 1, "AWS CLI", "not installed")

    def test_deploys_and_writes_the_aws_block(self):
        result = self.run_script(DEPLOY, GOOD_ARGS + ["--bucket-name", "my-rlpipe-runs",
                                                      "--output=stack/aws.yaml"])
        self.assertEqual(result.returncode, 2, "stack/ does not exist yet: refused")
        os.makedirs(os.path.join(self.tmp, "stack"))
        result = self.run_script(DEPLOY, GOOD_ARGS + ["--bucket-name", "my-rlpipe-runs",
                                                      "--output=stack/aws.yaml"])
        self.assertEqual(result.returncode, 0, result.stderr)

        # validate-template, deploy, describe-stacks: in that order, nothing else.
        calls = [c["argv"] for c in self.calls()]
        self.assertEqual([c[:2] for c in calls],
                         [["cloudformation", "validate-template"], ["cloudformation", "deploy"],
                          ["cloudformation", "describe-stacks"]])
        for argv in calls:
            self.assertEqual(argv[argv.index("--region") + 1], REGION)
        validate, deploy, describe = calls
        self.assertEqual(validate[validate.index("--template-body") + 1], "file://" + TEMPLATE)
        self.assertEqual(deploy[deploy.index("--stack-name") + 1], "rlpipe-test")
        self.assertEqual(deploy[deploy.index("--template-file") + 1], TEMPLATE)
        self.assertEqual(deploy[deploy.index("--capabilities") + 1], "CAPABILITY_NAMED_IAM")
        overrides = deploy[deploy.index("--parameter-overrides") + 1:]
        self.assertIn("VpcId=vpc-0123456789abcdef0", overrides)
        self.assertIn("SubnetIds=subnet-0aaaaaaaaaaaaaaa1,subnet-0bbbbbbbbbbbbbbb2", overrides)
        self.assertIn("BucketName=my-rlpipe-runs", overrides)
        # Options not given are left out, so an update keeps the stack's current values.
        self.assertFalse([o for o in overrides if o.startswith(("RepositoryName=",
                                                                "NotificationEmail="))])
        self.assertEqual(describe[describe.index("--stack-name") + 1], "rlpipe-test")

        # The same snippet on stdout and in the file, holding the stack's outputs.
        with open(os.path.join(self.tmp, "stack", "aws.yaml"), encoding="utf-8") as f:
            written = f.read()
        self.assertEqual(written, result.stdout)
        aws = yaml.safe_load(written)["aws"]
        self.assertEqual(aws["use_s3"], True)
        self.assertEqual(aws["s3_bucket"], STACK_OUTPUTS["BucketName"])
        self.assertEqual(aws["region"], REGION)
        self.assertEqual(aws["sns_topic_arn"], STACK_OUTPUTS["NotificationTopicArn"])
        sagemaker = aws["sagemaker"]
        self.assertEqual(sagemaker["role_arn"], STACK_OUTPUTS["ExecutionRoleArn"])
        self.assertEqual(sagemaker["container_image_uri"],
                         STACK_OUTPUTS["ImageRepositoryUri"] + ":latest")
        self.assertEqual(sagemaker["vpc_config"],
                         {"security_group_ids": [STACK_OUTPUTS["SecurityGroupId"]],
                          "subnets": STACK_OUTPUTS["SubnetIds"].split(",")})

        # rlpipe accepts it: spliced into a pipeline beside an example training config.
        pipeline = self.write_pipeline(written)
        check = subprocess.run([RLPIPE_BINARY, "config", "--config", pipeline], cwd=self.tmp,
                               capture_output=True, text=True, timeout=60, check=False)
        self.assertEqual(check.returncode, 0, check.stderr)

        # The same check refuses a snippet with SageMaker's own key names (it can fail).
        wrong = written.replace("security_group_ids:", "SecurityGroupIds:")
        check = subprocess.run([RLPIPE_BINARY, "config", "--config", self.write_pipeline(wrong)],
                               cwd=self.tmp, capture_output=True, text=True, timeout=60,
                               check=False)
        self.assertNotEqual(check.returncode, 0)
        self.assertIn("SecurityGroupIds", check.stderr)

    def write_pipeline(self, aws_block):
        shutil.copy(os.path.join(SOURCE_DIR, "configs", "examples", "pendulum_ppo.yaml"),
                    os.path.join(self.tmp, "training.yaml"))
        path = os.path.join(self.tmp, "pipeline.yaml")
        with open(path, "w", encoding="utf-8") as f:
            f.write("name: deploy_snippet\nseed: 1\n\n" + aws_block + "\nsessions:\n"
                    "  - name: first\n    config: training.yaml\n    timesteps: 2048\n")
        return path

    def test_default_output_file_and_options(self):
        result = self.run_script(DEPLOY, GOOD_ARGS + ["--image-tag", "v1.2",
                                                      "--repository-name", "team/rl",
                                                      "--notification-email", "ops@example.com"])
        self.assertEqual(result.returncode, 0, result.stderr)
        deploy = self.calls()[1]["argv"]
        overrides = deploy[deploy.index("--parameter-overrides") + 1:]
        self.assertEqual(sorted(overrides),
                         ["NotificationEmail=ops@example.com", "RepositoryName=team/rl",
                          "SubnetIds=subnet-0aaaaaaaaaaaaaaa1,subnet-0bbbbbbbbbbbbbbb2",
                          "VpcId=vpc-0123456789abcdef0"])
        with open(os.path.join(self.tmp, "aws-config.yaml"), encoding="utf-8") as f:
            aws = yaml.safe_load(f)["aws"]
        self.assertEqual(aws["sagemaker"]["container_image_uri"],
                         STACK_OUTPUTS["ImageRepositoryUri"] + ":v1.2")

    def test_failed_deploy_is_one_line_and_writes_nothing(self):
        self.env["FAKE_AWS_FAIL"] = "deploy"
        result = self.run_script(DEPLOY, GOOD_ARGS)
        self.assertEqual(result.returncode, 1)
        self.assertIn("deploy_sagemaker: deploying stack rlpipe-test failed",
                      result.stderr.strip().splitlines()[-1])
        self.assertEqual([c["argv"][1] for c in self.calls()], ["validate-template", "deploy"])
        self.assertFalse(os.path.exists(os.path.join(self.tmp, "aws-config.yaml")))

    def test_missing_stack_output_is_an_error(self):
        outputs = dict(STACK_OUTPUTS)
        del outputs["ExecutionRoleArn"]
        self.write_stack_outputs(outputs)
        result = self.run_script(DEPLOY, GOOD_ARGS)
        self.assertEqual(result.returncode, 1)
        self.assertIn("stack rlpipe-test has no output ExecutionRoleArn", result.stderr)
        self.assertFalse(os.path.exists(os.path.join(self.tmp, "aws-config.yaml")))


class PushImageTest(FakeCliCase):
    def test_builds_logs_in_with_stdin_tags_and_pushes(self):
        result = self.run_script(PUSH, ["--region", REGION, "--repository", "team/rlpipe",
                                        "--tag", "v7"])
        self.assertEqual(result.returncode, 0, result.stderr)
        registry = f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com"
        remote = f"{registry}/team/rlpipe:v7"
        self.assertEqual(result.stdout.strip(), remote)

        calls = self.calls()
        sequence = [(c["tool"], c["argv"][0] if c["tool"] == "docker" else c["argv"][1])
                    for c in calls]
        self.assertEqual(sequence, [("aws", "describe-repositories"), ("docker", "build"),
                                    ("aws", "get-login-password"), ("docker", "login"),
                                    ("docker", "tag"), ("docker", "push")])
        describe, build, password, login, tag, push = (c["argv"] for c in calls)
        self.assertEqual(describe[describe.index("--repository-names") + 1], "team/rlpipe")
        self.assertEqual(build[build.index("--file") + 1],
                         os.path.join(SOURCE_DIR, "docker", "Dockerfile"))
        self.assertEqual(build[build.index("--platform") + 1], "linux/amd64")
        self.assertEqual(build[build.index("--tag") + 1], "rlpipe:v7")
        self.assertEqual(build[-1], SOURCE_DIR)
        self.assertEqual(password[password.index("--region") + 1], REGION)
        # The password arrives on stdin, never in an argument.
        self.assertIn("--password-stdin", login)
        self.assertEqual(login[login.index("--username") + 1], "AWS")
        self.assertEqual(login[-1], registry)
        self.assertEqual(calls[3]["stdin"].strip(), "fake-ecr-password-7f3a")
        for call in calls:
            self.assertNotIn("fake-ecr-password-7f3a", " ".join(call["argv"]))
        self.assertEqual(tag[1:], ["rlpipe:v7", remote])
        self.assertEqual(push[1:], [remote])

    def test_bad_arguments_fail_before_any_call(self):
        cases = {
            "missing region": ([], "--region"),
            "bad region": (["--region", "eu_west_1"], "eu_west_1"),
            "bad repository": (["--region", REGION, "--repository", "Team/RL"], "Team/RL"),
            "bad tag": (["--region", REGION, "--tag", "v1:2"], "v1:2"),
            "unknown option": (["--region", REGION, "--push"], "--push"),
        }
        for name, (args, fragment) in cases.items():
            with self.subTest(name):
                result = self.run_script(PUSH, args)
                self.assert_one_line_error(result, 2, "push-image: ", fragment)
                self.assertEqual(self.calls(), [])

    def test_missing_docker(self):
        result = self.run_script(PUSH, ["--region", REGION], env=self.path_without("docker"))
        self.assert_one_line_error(result, 1, "docker is not installed")
        self.assertEqual(self.calls(), [])


if __name__ == "__main__":
    unittest.main(verbosity=2)
