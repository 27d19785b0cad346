"""A handler that throws on a poison message: the whole batch fails, as most handlers do."""
import base64
import json


def handler(event, context):
    for records in event["records"].values():
        for record in records:
            message = json.loads(base64.b64decode(record["value"]))
            if message.get("poison"):
                raise ValueError(f"poison message at {record['topic']}-{record['partition']}@{record['offset']}")
    return {"processed": sum(len(r) for r in event["records"].values())}
