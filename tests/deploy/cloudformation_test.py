"""Security and wiring properties of aws/cloudformation/sagemaker.yaml, checked statically (no AWS).

Run with Debian's /usr/bin/python3 (python3-yaml): tests/deploy/CMakeLists.txt registers it.
"""
import copy
import os
import re
import unittest

import cfn_template
from cfn_template import as_list, references

# Actions AWS accepts only with Resource "*" (no resource-level permissions), each commented in
# the template. Anything else on "*" is a finding.
STAR_ALLOWED_ACTIONS = {
    "ecr:GetAuthorizationToken",
    "cloudwatch:PutMetricData",
    "ec2:CreateNetworkInterface",
    "ec2:CreateNetworkInterfacePermission",
    "ec2:DeleteNetworkInterface",
    "ec2:DeleteNetworkInterfacePermission",
    "ec2:DescribeNetworkInterfaces",
    "ec2:DescribeVpcs",
    "ec2:DescribeDhcpOptions",
    "ec2:DescribeSubnets",
    "ec2:DescribeSecurityGroups",
}
PUBLIC_CIDRS = {"0.0.0.0/0", "::/0"}


class TemplateTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.template = cfn_template.load()
        cls.resources = cls.template["Resources"]

    def of_type(self, type_name):
        found = {k: v for k, v in self.resources.items() if v["Type"] == type_name}
        self.assertTrue(found, f"no {type_name} in the template")
        return found

    def one_of_type(self, type_name):
        found = self.of_type(type_name)
        self.assertEqual(len(found), 1, f"expected one {type_name}, found {sorted(found)}")
        return next(iter(found.items()))

    def role_statements(self):
        _, role = self.one_of_type("AWS::IAM::Role")
        statements = []
        for policy in role["Properties"].get("Policies", []):
            statements += as_list(policy["PolicyDocument"]["Statement"])
        self.assertTrue(statements, "the execution role has no inline policy")
        return statements

    # ---- S3 bucket ----

    def test_bucket_is_versioned(self):
        _, bucket = self.one_of_type("AWS::S3::Bucket")
        self.assertEqual(bucket["Properties"]["VersioningConfiguration"]["Status"], "Enabled")

    def test_bucket_encrypts_by_default(self):
        _, bucket = self.one_of_type("AWS::S3::Bucket")
        rules = bucket["Properties"]["BucketEncryption"]["ServerSideEncryptionConfiguration"]
        algorithms = [r["ServerSideEncryptionByDefault"]["SSEAlgorithm"] for r in rules]
        self.assertTrue(algorithms)
        for algorithm in algorithms:
            self.assertIn(algorithm, {"AES256", "aws:kms", "aws:kms:dsse"})

    def test_bucket_blocks_all_public_access(self):
        _, bucket = self.one_of_type("AWS::S3::Bucket")
        block = bucket["Properties"]["PublicAccessBlockConfiguration"]
        for flag in ("BlockPublicAcls", "BlockPublicPolicy", "IgnorePublicAcls",
                     "RestrictPublicBuckets"):
            self.assertIs(block.get(flag), True, flag)

    def test_bucket_expires_old_checkpoint_versions(self):
        _, bucket = self.one_of_type("AWS::S3::Bucket")
        rules = bucket["Properties"]["LifecycleConfiguration"]["Rules"]
        enabled = [r for r in rules if r.get("Status") == "Enabled"]
        # Old versions of overwritten objects expire...
        self.assertTrue(any("NoncurrentVersionExpiration" in r for r in enabled), rules)
        # ...and so do old objects under the checkpoint prefix.
        prefixed = [r for r in enabled
                    if "ExpirationInDays" in r and (r.get("Prefix") or r.get("Filter"))]
        self.assertTrue(prefixed, "no rule expiring objects under a prefix")
        self.assertIn("CheckpointPrefix", references(prefixed[0]))

    def test_bucket_is_kept_when_the_stack_is_deleted(self):
        _, bucket = self.one_of_type("AWS::S3::Bucket")
        self.assertEqual(bucket.get("DeletionPolicy"), "Retain")

    def test_bucket_policy_denies_plain_http(self):
        _, policy = self.one_of_type("AWS::S3::BucketPolicy")
        statements = as_list(policy["Properties"]["PolicyDocument"]["Statement"])
        deny = [s for s in statements if s["Effect"] == "Deny"]
        self.assertTrue(any(s["Condition"]["Bool"]["aws:SecureTransport"] == "false" for s in deny))
        self.assertFalse([s for s in statements if s["Effect"] == "Allow"])

    # ---- execution role ----

    def test_role_is_assumable_by_sagemaker_only(self):
        _, role = self.one_of_type("AWS::IAM::Role")
        trust = as_list(role["Properties"]["AssumeRolePolicyDocument"]["Statement"])
        self.assertEqual(len(trust), 1)
        self.assertEqual(trust[0]["Effect"], "Allow")
        self.assertEqual(trust[0]["Principal"], {"Service": "sagemaker.amazonaws.com"})
        self.assertEqual(as_list(trust[0]["Action"]), ["sts:AssumeRole"])

    def test_role_has_no_managed_policies(self):
        _, role = self.one_of_type("AWS::IAM::Role")
        self.assertNotIn("ManagedPolicyArns", role["Properties"])

    def test_role_actions_are_never_wildcards(self):
        for statement in self.role_statements():
            self.assertEqual(statement["Effect"], "Allow")
            self.assertNotIn("NotAction", statement)
            self.assertNotIn("NotResource", statement)
            for action in as_list(statement["Action"]):
                self.assertNotIn("*", action, f"wildcard action {action} in {statement.get('Sid')}")

    def test_only_actions_without_resource_arns_use_star(self):
        for statement in self.role_statements():
            if "*" in as_list(statement["Resource"]):
                extra = set(as_list(statement["Action"])) - STAR_ALLOWED_ACTIONS
                self.assertFalse(extra, f"{statement.get('Sid')}: {sorted(extra)} on '*'")

    def test_s3_actions_are_scoped_to_the_bucket(self):
        bucket_name, _ = self.one_of_type("AWS::S3::Bucket")
        s3_statements = [s for s in self.role_statements()
                         if any(a.startswith("s3:") for a in as_list(s["Action"]))]
        self.assertTrue(s3_statements)
        for statement in s3_statements:
            self.assertFalse([a for a in as_list(statement["Action"]) if not a.startswith("s3:")])
            for resource in as_list(statement["Resource"]):
                self.assertNotEqual(resource, "*")
                self.assertEqual(references(resource), {bucket_name}, resource)

    def test_ecr_actions_are_scoped_to_the_repository(self):
        repository_name, _ = self.one_of_type("AWS::ECR::Repository")
        pulls = set()
        for statement in self.role_statements():
            actions = [a for a in as_list(statement["Action"]) if a.startswith("ecr:")]
            if not actions or actions == ["ecr:GetAuthorizationToken"]:
                continue
            self.assertNotIn("ecr:GetAuthorizationToken", actions, "mixed with scoped actions")
            for resource in as_list(statement["Resource"]):
                self.assertEqual(references(resource), {repository_name}, resource)
            pulls.update(actions)
        self.assertTrue({"ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"} <= pulls, pulls)

    def test_logs_are_scoped_to_sagemaker_training_log_group(self):
        for statement in self.role_statements():
            if any(a.startswith("logs:") for a in as_list(statement["Action"])):
                for resource in as_list(statement["Resource"]):
                    self.assertIn("log-group:/aws/sagemaker/TrainingJobs", resource["Fn::Sub"])

    # ---- network ----

    def test_security_group_has_no_public_ingress(self):
        sg_name, sg = self.one_of_type("AWS::EC2::SecurityGroup")
        ingress = list(sg["Properties"].get("SecurityGroupIngress", []))
        ingress += [r["Properties"] for r in self.resources.values()
                    if r["Type"] == "AWS::EC2::SecurityGroupIngress"]
        self.assertTrue(ingress, "no ingress rule at all: distributed training needs self-ingress")
        for rule in ingress:
            self.assertNotIn(rule.get("CidrIp"), PUBLIC_CIDRS, rule)
            self.assertNotIn(rule.get("CidrIpv6"), PUBLIC_CIDRS, rule)
            self.assertNotIn("SourcePrefixListId", rule)
            # Self-referencing only: the source is the group itself.
            self.assertEqual(references(rule["SourceSecurityGroupId"]), {sg_name}, rule)
            self.assertEqual(references(rule["GroupId"]), {sg_name}, rule)

    def test_security_group_lives_in_the_given_vpc(self):
        _, sg = self.one_of_type("AWS::EC2::SecurityGroup")
        self.assertEqual(sg["Properties"]["VpcId"], {"Ref": "VpcId"})

    # ---- image repository ----

    def test_repository_scans_on_push(self):
        _, repo = self.one_of_type("AWS::ECR::Repository")
        self.assertIs(repo["Properties"]["ImageScanningConfiguration"]["ScanOnPush"], True)
        self.assertEqual(repo["Properties"]["RepositoryName"], {"Ref": "RepositoryName"})

    # ---- notifications ----

    def test_topic_policy_is_conditioned_on_the_rule(self):
        topic_name, _ = self.one_of_type("AWS::SNS::Topic")
        rule_name, _ = self.one_of_type("AWS::Events::Rule")
        _, policy = self.one_of_type("AWS::SNS::TopicPolicy")
        self.assertEqual(references(policy["Properties"]["Topics"]), {topic_name})
        statements = as_list(policy["Properties"]["PolicyDocument"]["Statement"])
        for statement in statements:
            self.assertEqual(statement["Principal"], {"Service": "events.amazonaws.com"})
            self.assertEqual(as_list(statement["Action"]), ["sns:Publish"])
            condition = statement["Condition"]
            keys = {k for op in condition.values() for k in op}
            self.assertTrue(keys & {"aws:SourceArn", "aws:SourceAccount"}, condition)
            if "ArnEquals" in condition:
                self.assertEqual(references(condition["ArnEquals"]["aws:SourceArn"]), {rule_name})

    def test_rule_matches_training_job_ends_and_targets_the_topic(self):
        topic_name, _ = self.one_of_type("AWS::SNS::Topic")
        _, rule = self.one_of_type("AWS::Events::Rule")
        pattern = rule["Properties"]["EventPattern"]
        self.assertEqual(pattern["source"], ["aws.sagemaker"])
        self.assertEqual(pattern["detail-type"], ["SageMaker Training Job State Change"])
        self.assertEqual(set(pattern["detail"]["TrainingJobStatus"]),
                         {"Failed", "Stopped", "Completed"})
        self.assertEqual(rule["Properties"]["State"], "ENABLED")
        targets = rule["Properties"]["Targets"]
        self.assertEqual([references(t["Arn"]) for t in targets], [{topic_name}])

    # ---- parameters, outputs, wiring ----

    def test_parameters(self):
        params = self.template["Parameters"]
        self.assertEqual(params["VpcId"]["Type"], "AWS::EC2::VPC::Id")
        self.assertEqual(params["SubnetIds"]["Type"], "List<AWS::EC2::Subnet::Id>")
        self.assertEqual(params["BucketName"]["Default"], "")  # optional: generated
        self.assertIn("RepositoryName", params)
        pattern = params["BucketName"]["AllowedPattern"]
        self.assertTrue(re.fullmatch(pattern, "my-rlpipe-bucket"))
        self.assertTrue(re.fullmatch(pattern, ""))
        self.assertFalse(re.fullmatch(pattern, "My_Bucket"))

    def test_outputs_cover_the_pipeline_config(self):
        outputs = self.template["Outputs"]
        for name in ("BucketName", "ExecutionRoleArn", "ImageRepositoryUri", "SecurityGroupId",
                     "SubnetIds", "NotificationTopicArn", "Region"):
            self.assertIn(name, outputs)
            self.assertIn("Value", outputs[name])
        self.assertEqual(outputs["Region"]["Value"], {"Ref": "AWS::Region"})

    def test_every_reference_resolves(self):
        known = set(self.template["Parameters"]) | set(self.resources)
        known |= {"AWS::Region", "AWS::AccountId", "AWS::Partition", "AWS::StackName",
                  "AWS::NoValue", "AWS::URLSuffix"}
        for section in ("Resources", "Outputs"):
            unknown = references(self.template[section]) - known
            self.assertFalse(unknown, f"{section} refers to undefined {sorted(unknown)}")

    def test_deploy_script_matches_the_template(self):
        path = os.path.join(cfn_template.SOURCE_DIR, "aws", "deploy_sagemaker.sh")
        with open(path, encoding="utf-8") as f:
            script = f.read()
        # Every parameter the script overrides exists; every output it reads is declared.
        overridden = set(re.findall(r'"([A-Za-z]+)=\$', script))
        self.assertTrue({"VpcId", "SubnetIds", "BucketName", "RepositoryName"} <= overridden)
        self.assertFalse(overridden - set(self.template["Parameters"]))
        read = set(re.findall(r"output_value ([A-Za-z]+)\)", script))
        self.assertTrue(read)
        self.assertFalse(read - set(self.template["Outputs"]))


def _statement(template, sid):
    role = template["Resources"]["SageMakerExecutionRole"]["Properties"]
    for statement in role["Policies"][0]["PolicyDocument"]["Statement"]:
        if statement.get("Sid") == sid:
            return statement
    raise KeyError(sid)


# One insecure or broken edit each, and the check that must catch it.
MUTATIONS = {
    "versioning suspended": (
        "test_bucket_is_versioned",
        lambda t: t["Resources"]["ArtifactBucket"]["Properties"]["VersioningConfiguration"]
        .update(Status="Suspended")),
    "no default encryption": (
        "test_bucket_encrypts_by_default",
        lambda t: t["Resources"]["ArtifactBucket"]["Properties"].pop("BucketEncryption")),
    "public bucket policy allowed": (
        "test_bucket_blocks_all_public_access",
        lambda t: t["Resources"]["ArtifactBucket"]["Properties"]
        ["PublicAccessBlockConfiguration"].update(BlockPublicPolicy=False)),
    "no noncurrent-version expiry": (
        "test_bucket_expires_old_checkpoint_versions",
        lambda t: [r.pop("NoncurrentVersionExpiration", None) for r in t["Resources"]
                   ["ArtifactBucket"]["Properties"]["LifecycleConfiguration"]["Rules"]]),
    "role trusts everyone": (
        "test_role_is_assumable_by_sagemaker_only",
        lambda t: t["Resources"]["SageMakerExecutionRole"]["Properties"]
        ["AssumeRolePolicyDocument"]["Statement"][0].update(Principal={"AWS": "*"})),
    "s3:* on *": (
        "test_role_actions_are_never_wildcards",
        lambda t: _statement(t, "ReadWriteArtifactObjects").update(Action="s3:*", Resource="*")),
    "s3 on every bucket": (
        "test_s3_actions_are_scoped_to_the_bucket",
        lambda t: _statement(t, "ReadWriteArtifactObjects").update(Resource="arn:aws:s3:::*")),
    "ecr pull from any repository": (
        "test_ecr_actions_are_scoped_to_the_repository",
        lambda t: _statement(t, "PullTrainingImage").update(Resource="*")),
    "iam action on *": (
        "test_only_actions_without_resource_arns_use_star",
        lambda t: _statement(t, "EcrAuthorizationToken").update(
            Action=["ecr:GetAuthorizationToken", "iam:PassRole"])),
    "ssh open to the internet": (
        "test_security_group_has_no_public_ingress",
        lambda t: t["Resources"]["TrainingSecurityGroup"]["Properties"].update(
            SecurityGroupIngress=[{"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22,
                                   "CidrIp": "0.0.0.0/0",
                                   "SourceSecurityGroupId": {"Fn::GetAtt": [
                                       "TrainingSecurityGroup", "GroupId"]},
                                   "GroupId": {"Ref": "TrainingSecurityGroup"}}])),
    "ipv6 ingress from anywhere": (
        "test_security_group_has_no_public_ingress",
        lambda t: t["Resources"]["TrainingSecurityGroupSelfIngress"]["Properties"].update(
            CidrIpv6="::/0")),
    "scan on push off": (
        "test_repository_scans_on_push",
        lambda t: t["Resources"]["ImageRepository"]["Properties"]
        ["ImageScanningConfiguration"].update(ScanOnPush=False)),
    "topic policy without condition": (
        "test_topic_policy_is_conditioned_on_the_rule",
        lambda t: t["Resources"]["NotificationTopicPolicy"]["Properties"]["PolicyDocument"]
        ["Statement"][0].pop("Condition")),
    "rule on the wrong events": (
        "test_rule_matches_training_job_ends_and_targets_the_topic",
        lambda t: t["Resources"]["TrainingJobStateRule"]["Properties"]["EventPattern"].update(
            {"detail-type": ["SageMaker Endpoint State Change"]})),
    "missing role output": (
        "test_outputs_cover_the_pipeline_config",
        lambda t: t["Outputs"].pop("ExecutionRoleArn")),
    "dangling reference": (
        "test_every_reference_resolves",
        lambda t: t["Outputs"]["VpcId"].update(Value={"Ref": "NoSuchParameter"})),
}


class ChecksCatchFindingsTest(unittest.TestCase):
    """Each check above fails on a template with the finding it is there to catch."""

    def run_check_on(self, template, method):
        class Mutated(TemplateTest):
            @classmethod
            def setUpClass(cls):
                cls.template = template
                cls.resources = template["Resources"]

        result = unittest.TestResult()
        unittest.TestSuite([Mutated(method)]).run(result)
        return result.wasSuccessful()

    def test_unmodified_template_passes_every_check(self):
        template = cfn_template.load()
        for method, _ in MUTATIONS.values():
            self.assertTrue(self.run_check_on(copy.deepcopy(template), method), method)

    def test_each_mutation_is_caught(self):
        template = cfn_template.load()
        for name, (method, mutate) in MUTATIONS.items():
            with self.subTest(name):
                mutated = copy.deepcopy(template)
                mutate(mutated)
                self.assertFalse(self.run_check_on(mutated, method), f"{method} missed: {name}")


if __name__ == "__main__":
    unittest.main(verbosity=2)
