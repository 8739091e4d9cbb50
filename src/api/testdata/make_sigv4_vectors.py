#!/usr/bin/env python3
"""Makes the SigV4 test vectors in src/api/sigv4_test.cc with the machine's real botocore.

Run: python3 src/api/testdata/make_sigv4_vectors.py  (botocore 1.43 from the pyenv). Prints C++
initializers: method, path, query, headers, body. Each request is signed at the current time,
which its X-Amz-Date carries; the test verifies it "now" = that time.
"""
import hashlib

import botocore.auth
import botocore.awsrequest
import botocore.credentials

CREDS = botocore.credentials.Credentials("AKIAIOSFODNN7EXAMPLE",
                                         "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY")


def sign(auth_cls, method, url, body=b"", headers=None, region="us-east-1", expires=None):
    req = botocore.awsrequest.AWSRequest(method=method, url=url, data=body,
                                         headers=headers or {})
    kwargs = {"expires": expires} if expires else {}
    auth_cls(CREDS, "ec2", region, **kwargs).add_auth(req)
    prepared = req.prepare()
    split = prepared.url.split("?", 1)
    path = split[0][split[0].index("/", 8):]
    query = split[1] if len(split) > 1 else ""
    hdrs = [(k, v) for k, v in prepared.headers.items()]
    if not any(k.lower() == "host" for k, _ in hdrs):
        hdrs.insert(0, ("Host", url.split("/")[2]))
    return method, path, query, hdrs, prepared.body or b""


def c(s):
    if isinstance(s, bytes):
        s = s.decode()
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def emit(name, v):
    method, path, query, hdrs, body = v
    print(f"// {name}")
    print("{" + c(method) + ", " + c(path) + ", " + c(query) + ",")
    print(" {" + ", ".join("{" + c(k) + ", " + c(v) + "}" for k, v in hdrs) + "},")
    print(" " + c(body) + "},")


form = "Action=DescribeImages&Version=2016-11-15&Owner.1=self&Filter.1.Name=name&Filter.1.Value.1=web%2A"
ct = {"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"}
emit("POST form body, header auth", sign(botocore.auth.SigV4Auth, "POST",
     "http://127.0.0.1:8787/", form.encode(), ct))
emit("GET query, header auth", sign(botocore.auth.SigV4Auth, "GET",
     "http://127.0.0.1:8787/?Action=DescribeRegions&Version=2016-11-15&RegionName.1=us-east-1"))
emit("POST with x-amz-content-sha256 and another region", sign(
    botocore.auth.SigV4Auth, "POST", "http://localhost:8787/",
    b"Action=DescribeRegions&Version=2016-11-15",
    dict(ct, **{"X-Amz-Content-SHA256": hashlib.sha256(
        b"Action=DescribeRegions&Version=2016-11-15").hexdigest()}), region="eu-west-1"))
emit("a path with characters to encode", sign(botocore.auth.SigV4Auth, "POST",
     "http://127.0.0.1:8787/a%20b/c~d", b"Action=DescribeRegions&Version=2016-11-15", ct))
emit("presigned GET", sign(botocore.auth.SigV4QueryAuth, "GET",
     "http://127.0.0.1:8787/?Action=DescribeImages&Version=2016-11-15&Owner.1=self", expires=300))
