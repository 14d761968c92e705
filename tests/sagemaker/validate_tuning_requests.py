#!/usr/bin/python3
"""Validates rlpipe's golden CreateHyperParameterTuningJob requests with botocore's own model.

Usage: /usr/bin/python3 validate_tuning_requests.py GOLDEN_DIR

Every *.json in GOLDEN_DIR is one CreateHyperParameterTuningJob request. Each must pass
botocore.validate.ParamValidator against the operation's input shape with zero errors and the
extra checks of validate_requests.py (lengths, sizes, patterns, enums), plus AWS's rules that the
model does not hold: the objective metric is one of the MetricDefinitions (and their regexes
capture what the container prints), Grid has categorical ranges only, Random and Bayesian have
MaxNumberOfTrainingJobs, at most 30 ranges, no range name is also a static hyperparameter, every
range is an rlpipe override (rlpipe_set_<key path>) or rlpipe_seed. A built-in self-test breaks a
request in known ways and requires each to be caught. Fails (exit 1) when botocore is missing.
"""
import json
import pathlib
import sys

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
import validate_requests as common  # noqa: E402  (botocore import and its failure message)

OPERATION = "CreateHyperParameterTuningJob"


def tuning_problems(validator, shape, request):
    errors = []
    report = validator.validate(request, shape)
    if report.has_errors():
        errors.append(report.generate_report())
    common.check_extra(shape, request, OPERATION, errors)
    config = request.get("HyperParameterTuningJobConfig", {})
    definition = request.get("TrainingJobDefinition", {})
    algorithm = definition.get("AlgorithmSpecification", {})
    common.check_metric_regexes({"AlgorithmSpecification": algorithm}, errors)
    names = [d["Name"] for d in algorithm.get("MetricDefinitions", [])]
    objective = config.get("HyperParameterTuningJobObjective", {}).get("MetricName")
    if objective not in names:
        errors.append(f"objective metric {objective!r} is not one of the MetricDefinitions")
    ranges = config.get("ParameterRanges", {})
    strategy = config.get("Strategy")
    if strategy == "Grid" and (ranges.get("IntegerParameterRanges") or
                               ranges.get("ContinuousParameterRanges")):
        errors.append("Grid takes categorical ranges only")
    if strategy in ("Random", "Bayesian") and \
            "MaxNumberOfTrainingJobs" not in config.get("ResourceLimits", {}):
        errors.append(f"{strategy} needs ResourceLimits.MaxNumberOfTrainingJobs")
    all_ranges = [r for kind in ranges.values() for r in kind]
    if len(all_ranges) > 30:
        errors.append(f"{len(all_ranges)} ranges, at most 30")
    statics = definition.get("StaticHyperParameters", {})
    for r in all_ranges:
        if r["Name"] in statics:
            errors.append(f"range {r['Name']} is also a static hyperparameter")
        if not (r["Name"].startswith("rlpipe_set_") or r["Name"] == "rlpipe_seed"):
            errors.append(f"range {r['Name']} is not a hyperparameter the container reads")
        if "MinValue" in r and float(r["MinValue"]) > float(r["MaxValue"]):
            errors.append(f"range {r['Name']}: MinValue > MaxValue")
        if r.get("ScalingType") == "Logarithmic" and float(r["MinValue"]) <= 0:
            errors.append(f"range {r['Name']}: Logarithmic needs MinValue > 0")
    if "KeepAlivePeriodInSeconds" in definition.get("ResourceConfig", {}):
        errors.append("KeepAlivePeriodInSeconds: tuning jobs do not use warm pools")
    instance_types = shape.members["TrainingJobDefinition"].members["ResourceConfig"] \
        .members["InstanceType"].enum
    if definition.get("ResourceConfig", {}).get("InstanceType") not in instance_types:
        errors.append("ResourceConfig.InstanceType is not a TrainingInstanceType")
    return errors


def self_test(validator, shape, request):
    broken = {
        "a 33-character name": lambda r: r.update(HyperParameterTuningJobName="a" * 33),
        "an unknown strategy": lambda r: r["HyperParameterTuningJobConfig"].update(
            Strategy="Genetic"),
        "31 categorical values": lambda r: r["HyperParameterTuningJobConfig"]["ParameterRanges"]
        .update(CategoricalParameterRanges=[{"Name": "rlpipe_set_a", "Values": ["1"] * 31}]),
        "an objective without a definition": lambda r: r["HyperParameterTuningJobConfig"][
            "HyperParameterTuningJobObjective"].update(MetricName="nope"),
        "a continuous range in a grid": lambda r: r["HyperParameterTuningJobConfig"].update(
            Strategy="Grid", ParameterRanges={"ContinuousParameterRanges": [
                {"Name": "rlpipe_set_a", "MinValue": "0", "MaxValue": "1"}]}),
        "a range that is also static": lambda r: r["HyperParameterTuningJobConfig"][
            "ParameterRanges"].update(CategoricalParameterRanges=[
                {"Name": "rlpipe_format", "Values": ["1"]}]),
        "missing RoleArn": lambda r: r["TrainingJobDefinition"].pop("RoleArn"),
        "a KeepAlive in a definition": lambda r: r["TrainingJobDefinition"][
            "ResourceConfig"].update(KeepAlivePeriodInSeconds=60),
    }
    for what, breaking in broken.items():
        copy = json.loads(json.dumps(request))
        breaking(copy)
        if not tuning_problems(validator, shape, copy):
            sys.exit(f"validate_tuning_requests.py: self-test: a request with {what} passed")


def main():
    golden_dir = pathlib.Path(sys.argv[1])
    model = common.botocore.session.get_session().get_service_model("sagemaker")
    shape = model.operation_model(OPERATION).input_shape
    validator = common.ParamValidator()
    files = sorted(golden_dir.glob("*.json"))
    if not files:
        sys.exit(f"validate_tuning_requests.py: no golden files in {golden_dir}")
    failures = 0
    for file in files:
        request = json.loads(file.read_text())
        errors = tuning_problems(validator, shape, request)
        for error in errors:
            print(f"{file.name}: {error}")
        failures += bool(errors)
    self_test(validator, shape, json.loads(files[0].read_text()))
    print(f"validate_tuning_requests.py: {len(files)} requests, {failures} invalid "
          f"(botocore {common.botocore.__version__})")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
