"""Calls Herald through the official tencentcloud-sdk-python, exactly as a developer would call
Tencent Cloud SMS, and prints what came back as one JSON line for the Rust test to check.

Environment: HERALD_ENDPOINT (host:port), SECRET_ID, SECRET_KEY, TEMPLATE_ID.
"""
import json
import os

from tencentcloud.common import credential
from tencentcloud.common.exception.tencent_cloud_sdk_exception import TencentCloudSDKException
from tencentcloud.common.profile.client_profile import ClientProfile
from tencentcloud.common.profile.http_profile import HttpProfile
from tencentcloud.sms.v20210111 import models, sms_client


def client(secret_key):
    http = HttpProfile(protocol="http", endpoint=os.environ["HERALD_ENDPOINT"])
    cred = credential.Credential(os.environ["SECRET_ID"], secret_key)
    return sms_client.SmsClient(cred, "ap-guangzhou", ClientProfile(httpProfile=http))


def describe(sms):
    req = models.DescribeSmsTemplateListRequest()
    req.from_json_string(json.dumps({"TemplateIdSet": [int(os.environ["TEMPLATE_ID"])], "International": 0}))
    return json.loads(sms.DescribeSmsTemplateList(req).to_json_string())


out = {"describe": describe(client(os.environ["SECRET_KEY"]))}
try:
    describe(client("not the right secret key 000000"))
    out["wrong_key"] = "no error"
except TencentCloudSDKException as err:
    out["wrong_key"] = err.get_code()
print(json.dumps(out, ensure_ascii=False))
