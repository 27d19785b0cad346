"""Test handler without a runtime client: asks for an event, then posts to a path the Runtime API
does not have."""
import os
import urllib.request

api = "http://" + os.environ["AWS_LAMBDA_RUNTIME_API"] + "/2018-06-01/runtime"
with urllib.request.urlopen(api + "/invocation/next") as r:
    r.read()
try:
    urllib.request.urlopen(urllib.request.Request(api + "/invocation/nonsense", data=b"{}", method="POST"))
except Exception:
    pass
