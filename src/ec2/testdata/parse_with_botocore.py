#!/usr/bin/env python3
"""Parses an EC2 response body with botocore, the way boto3 and the AWS CLI read kiln.

usage: parse_with_botocore.py OPERATION XML_FILE [PATH=JSON ...]

1. Walks the XML against the model's output shape for OPERATION and fails on any element the
   model does not name (botocore itself ignores unknown elements silently, so a misspelt
   member would otherwise just vanish), and on scalar text that does not fit the member's type.
2. Parses the body with botocore.parsers.EC2QueryParser and checks each PATH=JSON expectation:
   PATH is dotted keys and list indexes into the parsed dict ("Images.0.Ebs.VolumeSize"), JSON
   the expected value (timestamps compare as ISO 8601 text, e.g. "2024-01-02T03:04:05+00:00");
   PATH=<absent> expects no such key.

Exit 0 when everything holds, 1 with one line per problem, 77 when botocore is missing or
older than the reference model.
"""
import datetime
import json
import sys
import xml.etree.ElementTree as ET

try:
    import botocore
    import botocore.parsers
    import botocore.session
except ImportError:
    print("botocore is not installed")
    sys.exit(77)

ABSENT = "<absent>"
# The reference model (DESIGN.md: the pyenv's botocore 1.43). Older models lack members kiln
# writes (sourceInstanceId, currentInstanceBootMode, DescribeImages' nextToken), which their
# clients ignore; checking against them would report those as misspelt.
REFERENCE = (1, 43)


def local(tag):
    return tag.rsplit("}", 1)[-1]


def wire_name(name, member):
    return member.serialization.get("name", name)


def check_scalar(shape, node, where, problems):
    text = node.text or ""
    kind = shape.type_name
    try:
        if kind in ("integer", "long"):
            int(text)
        elif kind == "boolean" and text not in ("true", "false"):
            raise ValueError("not true/false")
        elif kind == "timestamp":
            datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))
        elif kind in ("double", "float"):
            float(text)
    except ValueError as e:
        problems.append(f"{where}: {kind} text {text!r}: {e}")


def walk(shape, node, where, problems):
    if shape.type_name == "structure":
        by_wire = {wire_name(n, m): m for n, m in shape.members.items()}
        for child in node:
            tag = local(child.tag)
            member = by_wire.get(tag)
            if member is None:
                problems.append(f"{where}/{tag}: not a member of {shape.name}")
            else:
                walk(member, child, f"{where}/{tag}", problems)
    elif shape.type_name == "list":
        item = shape.member.serialization.get("name", "member")
        for child in node:
            tag = local(child.tag)
            if tag != item:
                problems.append(f"{where}/{tag}: list {shape.name} holds <{item}>")
            else:
                walk(shape.member, child, f"{where}/{tag}", problems)
    else:
        if len(node):
            problems.append(f"{where}: scalar {shape.name} has child elements")
        check_scalar(shape, node, where, problems)


def normalize(value):
    if isinstance(value, datetime.datetime):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: normalize(v) for k, v in value.items()}
    if isinstance(value, list):
        return [normalize(v) for v in value]
    return value


def lookup(parsed, path):
    value = parsed
    for key in path.split("."):
        if isinstance(value, list):
            index = int(key)
            if index >= len(value):
                return False, None
            value = value[index]
        elif isinstance(value, dict) and key in value:
            value = value[key]
        else:
            return False, None
    return True, value


def main(argv):
    if len(argv) < 3:
        print(__doc__)
        return 2
    operation, xml_file, expectations = argv[1], argv[2], argv[3:]
    version = tuple(int(x) for x in botocore.__version__.split(".")[:2])
    if version < REFERENCE:
        print(f"botocore {botocore.__version__} is older than the reference model "
              f"{REFERENCE[0]}.{REFERENCE[1]}")
        return 77
    model = botocore.session.get_session().get_service_model("ec2")
    output = model.operation_model(operation).output_shape
    with open(xml_file, "rb") as f:
        body = f.read()

    problems = []
    root = ET.fromstring(body)
    expected_root = operation + "Response"
    if local(root.tag) != expected_root:
        problems.append(f"root <{local(root.tag)}>, expected <{expected_root}>")
    # requestId is not in the output shape: botocore moves it to ResponseMetadata.
    shallow = ET.Element(root.tag)
    shallow.extend(c for c in root if local(c.tag) != "requestId")
    walk(output, shallow, "", problems)

    parser = botocore.parsers.create_parser("ec2")
    try:
        response = {"body": body, "headers": {}, "status_code": 200}
        parsed = normalize(parser.parse(response, output))
    except Exception as e:  # botocore's own failure is the finding: report it with the rest
        problems.append(f"botocore cannot parse the body: {e!r}")
        print("\n".join(problems))
        return 1
    if parsed.get("ResponseMetadata", {}).get("RequestId") is None:
        problems.append("no requestId in ResponseMetadata")
    for expectation in expectations:
        path, _, want_text = expectation.partition("=")
        found, got = lookup(parsed, path)
        if want_text == ABSENT:
            if found:
                problems.append(f"{path}: expected absent, got {json.dumps(got)}")
            continue
        want = json.loads(want_text)
        if not found:
            problems.append(f"{path}: missing (expected {json.dumps(want)})")
        elif got != want:
            problems.append(f"{path}: got {json.dumps(got)}, expected {json.dumps(want)}")

    for p in problems:
        print(p)
    if problems:
        parsed.pop("ResponseMetadata", None)
        print("parsed:", json.dumps(parsed, indent=1, sort_keys=True))
        return 1
    print("ok")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
