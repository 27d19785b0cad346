"""Test handler: hangs on a poison message (an endless loop, a call that never returns)."""
import base64
import json
import time


def handler(event, context):
    for records in event["records"].values():
        for record in records:
            if json.loads(base64.b64decode(record["value"])).get("poison"):
                time.sleep(3600)
    return None
