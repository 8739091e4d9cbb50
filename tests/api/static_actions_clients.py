#!/usr/bin/env python3
"""Drives kiln's static EC2 actions through real clients (src/api/api_clients_test.cc runs it).

  static_actions_clients.py boto3             with the interpreter running it (boto3 1.26 under
                                              /usr/bin/python3, 1.43 under the pyenv's python3)
  static_actions_clients.py cli AWS_EXECUTABLE  through an AWS CLI (v2 /usr/bin/aws, v1 pyenv's)

The endpoint and keys come from the environment: KILN_ENDPOINT, AWS_ACCESS_KEY_ID,
AWS_SECRET_ACCESS_KEY, AWS_DEFAULT_REGION. Exits non-zero (with the reason) on any mismatch.
"""
import json
import os
import subprocess
import sys
import urllib.request

ENDPOINT = os.environ["KILN_ENDPOINT"]
ZONES = ["us-east-1a", "us-east-1b", "us-east-1c"]
TYPES = ["m1.small", "m5.large", "m5d.large", "t3.micro", "t3.small"]


def check(cond, what):
    if not cond:
        raise AssertionError(what)


def boto3_checks():
    import boto3
    import botocore
    from botocore.config import Config
    from botocore.exceptions import ClientError

    print("boto3", boto3.__version__, "botocore", botocore.__version__, "python", sys.version.split()[0])
    config = Config(retries={"max_attempts": 1})

    def client(**kw):
        return boto3.client("ec2", endpoint_url=ENDPOINT, region_name="us-east-1", config=config, **kw)

    ec2 = client()

    regions = ec2.describe_regions()["Regions"]
    check(regions == [{"RegionName": "us-east-1", "Endpoint": "ec2.us-east-1.amazonaws.com",
                       "OptInStatus": "opt-in-not-required"}], regions)
    check(len(ec2.describe_regions(RegionNames=["us-east-1"], AllRegions=True)["Regions"]) == 1, "RegionNames")

    zones = ec2.describe_availability_zones()["AvailabilityZones"]
    check([z["ZoneName"] for z in zones] == ZONES, zones)
    check([z["ZoneId"] for z in zones] == ["use1-az1", "use1-az2", "use1-az3"], zones)
    check(all(z["State"] == "available" and z["RegionName"] == "us-east-1" and
              z["ZoneType"] == "availability-zone" and z["GroupName"] == "us-east-1" and
              z["NetworkBorderGroup"] == "us-east-1" for z in zones), zones)
    some = ec2.describe_availability_zones(Filters=[{"Name": "zone-name", "Values": ["*b"]}])
    check([z["ZoneName"] for z in some["AvailabilityZones"]] == ["us-east-1b"], some)

    attrs = {a["AttributeName"]: [v["AttributeValue"] for v in a["AttributeValues"]]
             for a in ec2.describe_account_attributes()["AccountAttributes"]}
    check(attrs.get("supported-platforms") == ["VPC"] and attrs.get("default-vpc") == ["none"] and
          attrs.get("max-instances") == ["20"], attrs)
    one = ec2.describe_account_attributes(AttributeNames=["default-vpc"])["AccountAttributes"]
    check(len(one) == 1, one)

    types = {t["InstanceType"]: t for t in ec2.describe_instance_types()["InstanceTypes"]}
    check(sorted(types) == TYPES, sorted(types))
    m5d = types["m5d.large"]
    check(m5d["VCpuInfo"]["DefaultVCpus"] == 2 and m5d["MemoryInfo"]["SizeInMiB"] == 8192, m5d)
    check(m5d["InstanceStorageSupported"] is True, m5d)
    check(m5d["InstanceStorageInfo"]["TotalSizeInGB"] == 75, m5d)
    check(m5d["InstanceStorageInfo"]["Disks"] == [{"SizeInGB": 75, "Count": 1, "Type": "ssd"}], m5d)
    m1 = types["m1.small"]
    check(m1["CurrentGeneration"] is False and m1["EbsInfo"]["EncryptionSupport"] == "unsupported", m1)
    check(m1["InstanceStorageInfo"]["Disks"][0]["Type"] == "hdd", m1)
    check(types["t3.micro"]["InstanceStorageSupported"] is False and
          "InstanceStorageInfo" not in types["t3.micro"], types["t3.micro"])
    check(types["t3.small"]["MemoryInfo"]["SizeInMiB"] == 2048, types["t3.small"])
    pages = list(ec2.get_paginator("describe_instance_types").paginate(PaginationConfig={"PageSize": 5}))
    check(sum(len(p["InstanceTypes"]) for p in pages) == 5, pages)
    prev = ec2.describe_instance_types(Filters=[{"Name": "current-generation", "Values": ["false"]}])
    check([t["InstanceType"] for t in prev["InstanceTypes"]] == ["m1.small"], prev)

    def expect_error(code, status, call, *args, **kw):
        try:
            call(*args, **kw)
        except ClientError as e:
            got = (e.response["Error"]["Code"], e.response["ResponseMetadata"]["HTTPStatusCode"])
            check(got == (code, status), "%s: got %s" % (code, got))
            check(e.response["ResponseMetadata"].get("RequestId"), "no request id: %s" % e.response)
            return
        raise AssertionError("expected " + code)

    expect_error("DryRunOperation", 412, ec2.describe_regions, DryRun=True)
    expect_error("InvalidInstanceType", 400, ec2.describe_instance_types, InstanceTypes=["x1.huge"])
    expect_error("InvalidParameterValue", 400, ec2.describe_availability_zones, ZoneNames=["us-east-1z"])
    wrong_secret = client(aws_access_key_id=os.environ["AWS_ACCESS_KEY_ID"],
                          aws_secret_access_key="not-the-secret")
    expect_error("SignatureDoesNotMatch", 403, wrong_secret.describe_regions)
    unknown_key = client(aws_access_key_id="AKIAUNKNOWNKEY000000", aws_secret_access_key="x")
    expect_error("AuthFailure", 401, unknown_key.describe_regions)

    # A presigned URL (everything in the query string) fetched by a plain HTTP client. botocore
    # signs it for the operation's method, POST for EC2, so it is POSTed with an empty body.
    url = ec2.generate_presigned_url("describe_availability_zones", Params={"ZoneNames": ["us-east-1c"]},
                                     ExpiresIn=60)
    with urllib.request.urlopen(urllib.request.Request(url, data=b"", method="POST")) as response:
        body = response.read().decode()
    check(response.status == 200 and "<zoneName>us-east-1c</zoneName>" in body, body)


def cli_checks(aws):
    def run(*args, env=None):
        return subprocess.run([aws, "--endpoint-url", ENDPOINT, "--output", "json", "ec2", *args],
                              capture_output=True, text=True, env=env, timeout=120)

    def ok(*args):
        p = run(*args)
        check(p.returncode == 0, "%s %s: %s" % (aws, " ".join(args), p.stderr))
        return json.loads(p.stdout)

    print(subprocess.run([aws, "--version"], capture_output=True, text=True).stdout.strip() or aws)
    regions = ok("describe-regions")["Regions"]
    check([r["RegionName"] for r in regions] == ["us-east-1"], regions)
    zones = ok("describe-availability-zones")["AvailabilityZones"]
    check([z["ZoneName"] for z in zones] == ZONES, zones)
    attrs = ok("describe-account-attributes", "--attribute-names", "max-instances")["AccountAttributes"]
    check(attrs == [{"AttributeName": "max-instances", "AttributeValues": [{"AttributeValue": "20"}]}], attrs)
    types = ok("describe-instance-types")["InstanceTypes"]
    check(sorted(t["InstanceType"] for t in types) == TYPES, types)
    m5d = ok("describe-instance-types", "--instance-types", "m5d.large")["InstanceTypes"]
    check(m5d[0]["InstanceStorageInfo"]["TotalSizeInGB"] == 75, m5d)

    env = dict(os.environ, AWS_SECRET_ACCESS_KEY="not-the-secret")
    p = run("describe-regions", env=env)
    check(p.returncode != 0 and "SignatureDoesNotMatch" in p.stderr, "bad signature: %s" % p.stderr)
    env = dict(os.environ, AWS_ACCESS_KEY_ID="AKIAUNKNOWNKEY000000")
    p = run("describe-regions", env=env)
    check(p.returncode != 0 and "AuthFailure" in p.stderr, "unknown key: %s" % p.stderr)


def main():
    if sys.argv[1:2] == ["boto3"]:
        boto3_checks()
    elif sys.argv[1:2] == ["cli"] and len(sys.argv) == 3:
        cli_checks(sys.argv[2])
    else:
        sys.exit(__doc__)
    print("ok")


if __name__ == "__main__":
    main()
