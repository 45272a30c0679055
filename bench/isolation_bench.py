#!/usr/bin/env python3
"""Cost of plugin isolation (docs/plugins.md, "Isolation"): N shell `true` jobs drained by
`queuectl-host --workers 2 --drain` with the shell plugin in-process (`--isolate none`)
vs in helper processes (`--isolate all`), rounds interleaved, median wall time each;
prints the ratio isolated / in-process (target <= 1.05). Standard library only.

  python3 bench/isolation_bench.py [--build build] [--jobs 2000] [--rounds 5]
"""
import argparse, json, os, shutil, statistics, subprocess, sys, tempfile, time


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--build", default="build")
    ap.add_argument("--jobs", type=int, default=2000)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--workers", type=int, default=2)
    a = ap.parse_args()
    q = os.path.join(a.build, "apps/queuectl/queuectl")
    h = os.path.join(a.build, "apps/queuectl-host/queuectl-host")
    tmp = tempfile.mkdtemp(prefix="qisobench-")
    jobs = "".join('{"command":"true"}\n' for _ in range(a.jobs)).encode()
    times = {"none": [], "all": []}
    try:
        for r in range(a.rounds):
            for mode in ("none", "all") if r % 2 == 0 else ("all", "none"):
                db = os.path.join(tmp, f"{mode}-{r}.db")
                env = dict(os.environ, QUEUECTL_HOME=tmp, QUEUECTL_DB=db)
                subprocess.run([q, "enqueue", "--file", "-"], input=jobs, env=env, check=True,
                               stdout=subprocess.DEVNULL)
                t0 = time.perf_counter()
                subprocess.run([h, "--plugin", "shell", "--workers", str(a.workers), "--drain", "--isolate", mode],
                               env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                times[mode].append(time.perf_counter() - t0)
                done = subprocess.run([q, "status", "--json"], env=env, check=True, stdout=subprocess.PIPE).stdout
                if json.loads(done)["counts"]["completed"] != a.jobs:
                    sys.exit(f"round {r} ({mode}): not every job completed: {done.decode()}")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    none, iso = statistics.median(times["none"]), statistics.median(times["all"])
    print(f"{a.jobs} shell jobs, {a.workers} workers, {a.rounds} rounds (median wall)")
    print(f"  in-process (--isolate none): {none:.3f} s  ({a.jobs / none:.0f} jobs/s)")
    print(f"  isolated   (--isolate all):  {iso:.3f} s  ({a.jobs / iso:.0f} jobs/s)")
    print(f"  ratio isolated / in-process: {iso / none:.3f}  (target <= 1.05)")


if __name__ == "__main__":
    main()
