"""Test handler: keeps a count in memory, so the test can see which invocations share a process."""
COUNT = 0


def handler(event, context):
    global COUNT
    COUNT += 1
    return {"invocation_in_this_process": COUNT}
