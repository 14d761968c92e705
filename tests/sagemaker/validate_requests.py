#!/usr/bin/python3
"""Validates rlpipe's golden CreateTrainingJob requests with botocore's own SageMaker model.

Usage: /usr/bin/python3 validate_requests.py GOLDEN_DIR

Every *.json in GOLDEN_DIR is a JSON array of CreateTrainingJob requests. Each must pass
botocore.validate.ParamValidator against the model's input shape with zero errors, and the checks
botocore's validator leaves out: maximum lengths and values, list and map sizes, patterns (full
match, as AWS applies them), enum membership (e.g. InstanceType in TrainingInstanceType), and
that every MetricDefinition regex captures, in Python's re too, the values the container prints.
A built-in self-test breaks a request in known ways and requires each to be caught.
Fails (exit 1) when botocore is missing: install Debian's python3-botocore
(scripts/install-deps.sh --test).
"""
import json
import pathlib
import re
import sys

try:
    import botocore.session
    from botocore.validate import ParamValidator
except ImportError as error:  # never skip silently
    sys.exit(f"validate_requests.py: botocore is required ({error}); "
             "install python3-botocore (scripts/install-deps.sh --test)")

# Java's Unicode classes, which Python's re lacks, as the ASCII subsets rlpipe produces.
JAVA_CLASSES = {r"\p{L}": "a-zA-Z", r"\p{Z}": " ", r"\p{N}": "0-9"}


def python_pattern(pattern):
    for java, python in JAVA_CLASSES.items():
        pattern = pattern.replace(java, python)
    return re.compile(pattern)


def check_extra(shape, value, path, errors):
    """The constraints ParamValidator does not check (it checks types, required keys, minimums)."""
    meta = shape.metadata
    if shape.type_name == "structure":
        for name, member in shape.members.items():
            if name in value:
                check_extra(member, value[name], f"{path}.{name}", errors)
    elif shape.type_name == "list":
        if "max" in meta and len(value) > meta["max"]:
            errors.append(f"{path}: {len(value)} entries, at most {meta['max']}")
        for i, item in enumerate(value):
            check_extra(shape.member, item, f"{path}[{i}]", errors)
    elif shape.type_name == "map":
        if "max" in meta and len(value) > meta["max"]:
            errors.append(f"{path}: {len(value)} entries, at most {meta['max']}")
        for key, item in value.items():
            check_extra(shape.key, key, f"{path} key {key!r}", errors)
            check_extra(shape.value, item, f"{path}[{key!r}]", errors)
    elif shape.type_name == "string":
        if "max" in meta and len(value) > meta["max"]:
            errors.append(f"{path}: {len(value)} characters, at most {meta['max']}")
        if "pattern" in meta and not python_pattern(meta["pattern"]).fullmatch(value):
            errors.append(f"{path}: {value[:80]!r} does not match {meta['pattern']!r}")
        if shape.enum and value not in shape.enum:
            errors.append(f"{path}: {value!r} is not one of the model's {shape.name} values")
    elif shape.type_name in ("integer", "long"):
        if "max" in meta and value > meta["max"]:
            errors.append(f"{path}: {value} is more than {meta['max']}")
        if "min" in meta and value < meta["min"]:
            errors.append(f"{path}: {value} is less than {meta['min']}")


def problems(validator, shape, request):
    """Every problem of one request: botocore's report, then the extra checks."""
    errors = []
    report = validator.validate(request, shape)
    if report.has_errors():
        errors.append(report.generate_report())
    check_extra(shape, request, "CreateTrainingJob", errors)
    if "AlgorithmSpecification" in request:
        check_metric_regexes(request, errors)
    return errors


def check_metric_regexes(request, errors):
    """Each MetricDefinition regex, in Python's re, captures the values the container prints
    (FormatMetricLine: "[rlpipe-metric] <name>=<%.10g value>"), and nothing for NaN."""
    for definition in request["AlgorithmSpecification"].get("MetricDefinitions", []):
        regex = re.compile(definition["Regex"])
        for text in ("0", "12345", "-3.5", "1.5e-07", "-2.25e+12", "1e+100"):
            line = f"2026-01-01 12:00:00 [rlpipe-metric] {definition['Name']}={text}"
            match = regex.search(line)
            if not match or regex.groups < 1 or match.group(1) != text:
                errors.append(f"metric {definition['Name']}: regex does not capture {text!r}")
        if regex.search(f"[rlpipe-metric] {definition['Name']}=nan"):
            errors.append(f"metric {definition['Name']}: regex matches nan")


def self_test(validator, shape, request):
    """The checks must catch broken requests, or a passing run would mean nothing."""
    broken = {
        "instance type not in the enum":
            lambda r: r["ResourceConfig"].update(InstanceType="ml.c5.huge"),
        "newline in a hyperparameter": lambda r: r["HyperParameters"].update(x="a\nb"),
        "hyperparameter over 2500": lambda r: r["HyperParameters"].update(x="a" * 2501),
        "job name pattern": lambda r: r.update(TrainingJobName="a_b"),
        "job name length": lambda r: r.update(TrainingJobName="a" * 64),
        "environment value over 512": lambda r: r["Environment"].update(X="v" * 513),
        "KeepAlive over 3600": lambda r: r["ResourceConfig"].update(KeepAlivePeriodInSeconds=3601),
        "41 metric definitions": lambda r: r["AlgorithmSpecification"].update(
            MetricDefinitions=[{"Name": "m", "Regex": "x"}] * 41),
        "missing RoleArn": lambda r: r.pop("RoleArn"),
        "tag value character": lambda r: r["Tags"].append({"Key": "k", "Value": "a#b"}),
        "a metric regex that captures nothing": lambda r: r["AlgorithmSpecification"].update(
            MetricDefinitions=[{"Name": "timesteps", "Regex": "timesteps=[0-9]+"}]),
    }
    for what, breaking in broken.items():
        copy = json.loads(json.dumps(request))
        breaking(copy)
        if not problems(validator, shape, copy):
            sys.exit(f"validate_requests.py: self-test: a request with {what} passed")


def main():
    golden_dir = pathlib.Path(sys.argv[1])
    model = botocore.session.get_session().get_service_model("sagemaker")
    shape = model.operation_model("CreateTrainingJob").input_shape
    validator = ParamValidator()
    files = sorted(golden_dir.glob("*.json"))
    if not files:
        sys.exit(f"validate_requests.py: no golden files in {golden_dir}")
    failures = 0
    checked = 0
    for file in files:
        requests = json.loads(file.read_text())
        if not isinstance(requests, list) or not requests:
            sys.exit(f"{file}: expected a non-empty JSON array of requests")
        for index, request in enumerate(requests):
            where = f"{file.name}[{index}]"
            errors = problems(validator, shape, request)
            # The job name and the instance type, spelled out (also covered above).
            name_pattern = shape.members["TrainingJobName"].metadata["pattern"]
            if not re.fullmatch(name_pattern, request.get("TrainingJobName", "")):
                errors.append(f"TrainingJobName does not match {name_pattern}")
            instance_types = shape.members["ResourceConfig"].members["InstanceType"].enum
            if request.get("ResourceConfig", {}).get("InstanceType") not in instance_types:
                errors.append("ResourceConfig.InstanceType is not a TrainingInstanceType")
            for error in errors:
                print(f"{where}: {error}")
            failures += bool(errors)
            checked += 1
    self_test(validator, shape, json.loads(files[0].read_text())[0])
    print(f"validate_requests.py: {checked} requests in {len(files)} files, "
          f"{failures} invalid (botocore {botocore.__version__})")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
