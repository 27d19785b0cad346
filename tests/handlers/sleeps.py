"""Test handler without a runtime client: starts a process of its own (`sleep`), asks for an
event, writes "<its pid> <the sleep's pid>" to the file named by ESMSIM_TEST_PID_FILE, and then
sleeps instead of answering (the test sends esmsim a signal meanwhile)."""
import os
import subprocess
import time
import urllib.request

helper = subprocess.Popen(["sleep", "3600"])
api = "http://" + os.environ["AWS_LAMBDA_RUNTIME_API"] + "/2018-06-01/runtime"
with urllib.request.urlopen(api + "/invocation/next") as r:
    r.read()
# Written whole, then renamed: the test reads the pids once esmsim waits on this process.
path = os.environ["ESMSIM_TEST_PID_FILE"]
with open(path + ".tmp", "w") as f:
    f.write(f"{os.getpid()} {helper.pid}")
os.rename(path + ".tmp", path)
time.sleep(3600)
