"""Loads aws/cloudformation/sagemaker.yaml for the deploy tests, short-form intrinsic tags included.

CloudFormation's short forms (!Ref X, !GetAtt A.B, !Sub "...", !If [...], ...) become the long
forms ({"Ref": "X"}, {"Fn::GetAtt": ["A", "B"]}, ...), so the tests read one shape only.
"""
import os
import re

import yaml

SOURCE_DIR = os.environ.get("RLPIPE_SOURCE_DIR",
                            os.path.dirname(os.path.dirname(os.path.dirname(
                                os.path.abspath(__file__)))))
TEMPLATE = os.path.join(SOURCE_DIR, "aws", "cloudformation", "sagemaker.yaml")


class CfnLoader(yaml.SafeLoader):
    """A SafeLoader that knows CloudFormation's intrinsic-function tags."""


def _construct_intrinsic(loader, tag_suffix, node):
    name = "Ref" if tag_suffix == "Ref" else "Fn::" + tag_suffix
    if isinstance(node, yaml.ScalarNode):
        value = loader.construct_scalar(node)
        if tag_suffix == "GetAtt":
            value = value.split(".", 1)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)
    return {name: value}


CfnLoader.add_multi_constructor("!", _construct_intrinsic)


def load(path=TEMPLATE):
    with open(path, encoding="utf-8") as f:
        return yaml.load(f, Loader=CfnLoader)


def as_list(value):
    return value if isinstance(value, list) else [value]


def references(value):
    """Every logical name or parameter a value refers to (Ref, GetAtt, ${X} / ${X.Attr} in Sub)."""
    found = set()
    if isinstance(value, dict):
        for key, inner in value.items():
            if key == "Ref":
                found.add(inner)
            elif key == "Fn::GetAtt":
                found.add(inner[0])
            elif key == "Fn::Sub":
                text = inner if isinstance(inner, str) else inner[0]
                found.update(m.split(".")[0] for m in re.findall(r"\$\{([^}!]+)\}", text))
                if not isinstance(inner, str):
                    found.update(references(inner[1]))
            else:
                found.update(references(inner))
    elif isinstance(value, list):
        for inner in value:
            found.update(references(inner))
    return found
