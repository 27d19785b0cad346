"""Test handler: answers with every record it was sent, as [partition, offset, value text,
headers as text], so a test can read from the trace exactly what the handler saw."""
import base64


def handler(event, context):
    seen = []
    for records in event["records"].values():
        for record in records:
            headers = [{name: bytes(value).decode() for name, value in h.items()} for h in record["headers"]]
            seen.append([record["partition"], record["offset"], base64.b64decode(record["value"]).decode(), headers])
    return {"seen": seen}
