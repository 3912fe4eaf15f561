"""Calls Herald through the official tencentcloud-sdk-python, exactly as a developer would call
Tencent Cloud SMS, and prints what came back as one JSON line for the Rust test to check:
{"response": {...}} on success, {"error": "<code>", "message": "..."} when the SDK raises.

Usage: python_sdk.py <Action> '<request JSON>'
Environment: HERALD_ENDPOINT (host:port), SECRET_ID, SECRET_KEY.
"""
import json
import os
import sys

from tencentcloud.common import credential
from tencentcloud.common.exception.tencent_cloud_sdk_exception import TencentCloudSDKException
from tencentcloud.common.profile.client_profile import ClientProfile
from tencentcloud.common.profile.http_profile import HttpProfile
from tencentcloud.sms.v20210111 import models, sms_client

action, body = sys.argv[1], sys.argv[2]
http = HttpProfile(protocol="http", endpoint=os.environ["HERALD_ENDPOINT"])
cred = credential.Credential(os.environ["SECRET_ID"], os.environ["SECRET_KEY"])
client = sms_client.SmsClient(cred, "ap-guangzhou", ClientProfile(httpProfile=http))

request = getattr(models, action + "Request")()
request.from_json_string(body)
try:
    response = getattr(client, action)(request)
    out = {"response": json.loads(response.to_json_string())}
except TencentCloudSDKException as err:
    out = {"error": err.get_code(), "message": err.get_message()}
print(json.dumps(out, ensure_ascii=False))
