#!/usr/bin/env python3
"""Signs one request with botocore's own SigV4 signer, for the C++ signer's cross-check.

Reads JSON on stdin:
  {"method", "url", "headers": [[name, value], ...], "body_hex", "region", "service",
   "s3": bool, "unsigned_payload": bool, "access_key", "secret_key", "token", "amz_date"}
Prints JSON: {"canonical_request", "string_to_sign", "authorization"}.
Exit code 3 when botocore is not importable (the C++ test then skips).
"""
import datetime
import json
import sys

try:
    import botocore.auth
    import botocore.awsrequest
    import botocore.config
    import botocore.credentials
except ImportError as error:  # pragma: no cover
    print(f"botocore not available: {error}", file=sys.stderr)
    sys.exit(3)


def main():
    spec = json.load(sys.stdin)
    credentials = botocore.credentials.Credentials(
        spec["access_key"], spec["secret_key"], spec.get("token") or None)
    signer_class = botocore.auth.S3SigV4Auth if spec["s3"] else botocore.auth.SigV4Auth
    signer = signer_class(credentials, spec["service"], spec["region"])

    request = botocore.awsrequest.AWSRequest(
        method=spec["method"], url=spec["url"], data=bytes.fromhex(spec.get("body_hex", "")))
    for name, value in spec["headers"]:
        request.headers[name] = value
    if spec.get("unsigned_payload"):
        request.context["payload_signing_enabled"] = False
        request.context["client_config"] = botocore.config.Config(
            s3={"payload_signing_enabled": False})

    # A fixed clock: botocore reads the time through get_current_datetime().
    fixed = datetime.datetime.strptime(spec["amz_date"], "%Y%m%dT%H%M%SZ")
    botocore.auth.get_current_datetime = lambda *args, **kwargs: fixed
    signer.add_auth(request)

    # Recompute the intermediate steps over the signed request (without its Authorization).
    authorization = request.headers["Authorization"]
    del request.headers["Authorization"]
    canonical_request = signer.canonical_request(request)
    print(json.dumps({
        "canonical_request": canonical_request,
        "string_to_sign": signer.string_to_sign(request, canonical_request),
        "authorization": authorization,
    }))


if __name__ == "__main__":
    main()
