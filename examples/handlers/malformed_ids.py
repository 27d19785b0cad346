"""A handler that returns batchItemFailures with malformed identifiers: the record's index in
the batch, as some articles describe. Lambda cannot match them and fails the whole batch."""
import base64
import json


def handler(event, context):
    failures = []
    index = 0
    for records in event["records"].values():
        for record in records:
            message = json.loads(base64.b64decode(record["value"]))
            if message.get("poison"):
                failures.append({"itemIdentifier": str(index)})
            index += 1
    return {"batchItemFailures": failures}
