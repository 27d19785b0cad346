"""A handler that returns batchItemFailures naming exactly the poison records, in the
identifier format AWS documents for Kafka: {"partition": "<topic>-<partition>", "offset": N}."""
import base64
import json


def handler(event, context):
    failures = []
    for key, records in event["records"].items():
        for record in records:
            message = json.loads(base64.b64decode(record["value"]))
            if message.get("poison"):
                failures.append({"itemIdentifier": {"partition": key, "offset": record["offset"]}})
    return {"batchItemFailures": failures}
