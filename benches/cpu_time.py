"""Runs a command and prints the CPU seconds it took (user + system, all its threads, getrusage).

    python3 benches/cpu_time.py target/release/esmsim run scenarios/bench-steady.json ...

To the microsecond, where /usr/bin/time counts hundredths. The command's output is discarded,
and its errors are printed if it fails.
"""
import resource
import subprocess
import sys

# The difference, since children waited for before this process started (a version manager's
# shim, for one) count in RUSAGE_CHILDREN too.
before = resource.getrusage(resource.RUSAGE_CHILDREN)
run = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
if run.returncode != 0:
    sys.exit(run.stderr.decode())
after = resource.getrusage(resource.RUSAGE_CHILDREN)
print(f"{after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime:.4f}")
