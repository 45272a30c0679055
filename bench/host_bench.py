#!/usr/bin/env python3
"""End-to-end benchmarks of queuectl + queuectl-host, each against a baseline run in the
same process of this script, printing the ratio. Standard library only.

  python3 bench/host_bench.py [--build build] [--only throughput,latency,cli,idle]

throughput  N `true` jobs through `queuectl-host --workers 2` (enqueue + run, end to end)
            vs `xargs -P 2 -n 1 sh -c true` on the same commands      (target >= 1.0x)
latency     enqueue -> attempt start on an idle host, CLI process included (target p50 <= 5 ms)
cli         one `queuectl enqueue` process vs `/bin/true`, and vs the raw-C SQLite insert
            floor (bench/raw_insert), median over interleaved runs (target <= 2x true)
idle        CPU used by a host idle for 10 s                          (target < 1 %)
"""
import argparse, json, os, shutil, signal, statistics, subprocess, sys, tempfile, time

def run(cmd, **kw):
    return subprocess.run(cmd, check=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE, **kw)

class Env:
    def __init__(self, build):
        self.q = os.path.join(build, "apps/queuectl/queuectl")
        self.h = os.path.join(build, "apps/queuectl-host/queuectl-host")
        self.raw = os.path.join(build, "bench/raw_insert")
        self.tmp = tempfile.mkdtemp(prefix="qbench-")
        self.env = dict(os.environ, QUEUECTL_HOME=self.tmp, QUEUECTL_DB=os.path.join(self.tmp, "queue.db"))
    def fresh_db(self, name):
        db = os.path.join(self.tmp, name + ".db")
        for suffix in ("", "-wal", "-shm"):
            if os.path.exists(db + suffix): os.remove(db + suffix)
        self.env["QUEUECTL_DB"] = db
        return db
    def cli(self, *args, stdin=None):
        return subprocess.run([self.q, *args], env=self.env, input=stdin, check=True,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE).stdout
    def host(self, *args):
        # --quiet: stderr is a pipe read only at the end; per-attempt lines would fill it.
        return subprocess.Popen([self.h, "--plugin", "shell", "--quiet", *args], env=self.env,
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)

def rfc3339(ts):
    """Seconds since the epoch of a queuectl time (2026-01-02T03:04:05.678Z)."""
    return time.mktime(time.strptime(ts[:19], "%Y-%m-%dT%H:%M:%S")) - time.timezone + int(ts[20:23]) / 1000.0

def wait_until(pred, timeout):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if pred(): return True
        time.sleep(0.005)
    return False

def bench_throughput(e, n=2000, rounds=3):
    jobs = "".join('{"command":"true"}\n' for _ in range(n)).encode()
    base, ours = [], []
    for _ in range(rounds):
        t0 = time.perf_counter()
        subprocess.run(["xargs", "-P", "2", "-n", "1", "sh", "-c", "true"], input=b"\n".join([b"x"] * n), check=True)
        base.append(time.perf_counter() - t0)
        e.fresh_db("throughput")
        e.cli("config", "set", "poll-interval-ms", "1000")
        t0 = time.perf_counter()
        e.cli("enqueue", "--file", "-", stdin=jobs)
        h = e.host("--workers", "2", "--drain")
        if h.wait(timeout=600) != 0: raise SystemExit("host failed: " + h.stderr.read().decode())
        ours.append(time.perf_counter() - t0)
        done = json.loads(e.cli("status", "--json"))
        assert json.dumps(done).find(str(n)) >= 0, done
    b, o = min(base), min(ours)
    print(f"throughput: {n} `true` jobs, 2 workers (best of {rounds})")
    print(f"  xargs -P 2 sh -c true : {b:.3f} s  ({n / b:,.0f} jobs/s)")
    print(f"  queuectl end to end   : {o:.3f} s  ({n / o:,.0f} jobs/s, enqueue included)")
    print(f"  ratio (throughput): {b / o:.2f}x  (target >= 1.0)")

def bench_latency(e, n=200):
    e.fresh_db("latency")
    h = e.host("--workers", "2")
    try:
        time.sleep(0.5)  # let the host go idle: latency is measured from idle
        lat, host_part = [], []
        for i in range(n):
            jid = f"lat{i}"
            t0 = time.time()
            e.cli("enqueue", json.dumps({"id": jid, "command": "true"}))
            def started():
                j = json.loads(e.cli("show", jid, "--json"))
                return j["state"] == "completed"
            wait_until(started, 10)
            j = json.loads(e.cli("show", jid, "--json"))
            st = rfc3339(j["history"][0]["started_at"])
            lat.append((st - t0) * 1000.0)
            host_part.append((st - rfc3339(j["created_at"])) * 1000.0)
            time.sleep(0.02)
    finally:
        h.send_signal(signal.SIGTERM); h.wait(timeout=30)
    lat.sort()
    print(f"latency: enqueue -> start on an idle host, CLI process included, {n} jobs")
    host_part.sort()
    print(f"  p50 {statistics.median(lat):.1f} ms   p95 {lat[int(0.95 * (n - 1))]:.1f} ms   max {lat[-1]:.1f} ms  (target p50 <= 5 ms; start times have 1 ms resolution)")
    print(f"  of which after the CLI's commit (created_at -> started, wake-up + claim + spawn): "
          f"p50 {statistics.median(host_part):.1f} ms   p95 {host_part[int(0.95 * (n - 1))]:.1f} ms")

def median_wall(cmd, env, n):
    out = []
    for _ in range(n):
        t0 = time.perf_counter()
        subprocess.run(cmd, env=env, stdout=subprocess.DEVNULL, check=True)
        out.append(time.perf_counter() - t0)
    return out

def bench_cli(e, n=500):
    e.fresh_db("cli")
    e.cli("list")  # create the database first: the runs measure the steady state
    raw_db = os.path.join(e.tmp, "raw.db")
    has_raw = os.path.exists(e.raw)
    if has_raw: subprocess.run([e.raw, raw_db, "init"], check=True)
    t_true, t_q, t_raw = [], [], []
    for i in range(n):  # interleaved, so machine noise hits all three alike
        t_true += median_wall(["/bin/true"], e.env, 1)
        t_q += median_wall([e.q, "enqueue", '{"command":"true"}'], e.env, 1)
        if has_raw: t_raw += median_wall([e.raw, raw_db], e.env, 1)
    mt, mq = statistics.median(t_true), statistics.median(t_q)
    print(f"cli: one `queuectl enqueue` process, median of {n} interleaved runs")
    print(f"  /bin/true        : {mt * 1000:.2f} ms")
    print(f"  queuectl enqueue : {mq * 1000:.2f} ms   ratio {mq / mt:.2f}x /bin/true (target <= 2.0)")
    if has_raw:
        mr = statistics.median(t_raw)
        print(f"  raw C insert     : {mr * 1000:.2f} ms   ratio {mr / mt:.2f}x /bin/true; queuectl = {mq / mr:.2f}x the raw floor (target <= 1.2)")

def bench_idle(e, secs=10):
    e.fresh_db("idle")
    h = e.host("--workers", "2")
    try:
        time.sleep(1.0)
        tick = os.sysconf("SC_CLK_TCK")
        def cpu():
            f = open(f"/proc/{h.pid}/stat").read().rsplit(")", 1)[1].split()
            return (int(f[11]) + int(f[12])) / tick
        c0, t0 = cpu(), time.monotonic()
        time.sleep(secs)
        c1, t1 = cpu(), time.monotonic()
    finally:
        h.send_signal(signal.SIGTERM); h.wait(timeout=30)
    print(f"idle: host with 2 workers, idle {secs} s: {100 * (c1 - c0) / (t1 - t0):.2f} % CPU (target < 1 %)")

def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--build", default=os.path.join(os.path.dirname(__file__), "..", "build"))
    ap.add_argument("--only", default="throughput,latency,cli,idle")
    ap.add_argument("--jobs", type=int, default=2000)
    ap.add_argument("--runs", type=int, default=500)
    a = ap.parse_args()
    e = Env(os.path.abspath(a.build))
    try:
        for what in a.only.split(","):
            {"throughput": lambda: bench_throughput(e, a.jobs), "latency": lambda: bench_latency(e),
             "cli": lambda: bench_cli(e, a.runs), "idle": lambda: bench_idle(e)}[what]()
            sys.stdout.flush()
    finally:
        shutil.rmtree(e.tmp, ignore_errors=True)

if __name__ == "__main__":
    main()
