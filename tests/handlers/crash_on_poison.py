"""Test handler: the runtime process exits on a poison message (a segfault, an OOM kill)."""
import base64
import json
import os


def handler(event, context):
    for records in event["records"].values():
        for record in records:
            if json.loads(base64.b64decode(record["value"])).get("poison"):
                os._exit(1)
    return None
