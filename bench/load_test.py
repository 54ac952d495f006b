#!/usr/bin/python3
"""load_test.py - many clients submitting at once to one coordinator.

Makes --projects copies of the standard library corpus (the files
bench/stdlib_files.sh lists), each file of copy i ending with a comment
line of its own, `# load-test variant i`, so that no two copies share a
file's contents and the coordinator's cache folds nothing; starts a
keyed coordinator with a fresh cache and --workers worker processes of
one thread; then --clients clients, each with a key of its own, submit
--per-client copies at once (every copy once: projects = clients x
per-client). Each submit's stdout and exit status must be those of
`strata check` on the same copy (run one after another, after the load,
with the same flags). Prints per submit any difference, then the wall
time of the load, the coordinator's peak resident memory (VmHWM) and the
workers', and exits 1 when a result differs or a submit failed.

Usage: load_test.py [--strata BUILD/strata] [--clients 10] [--per-client 5]
                    [--workers 2] [--work DIR] [--keep]
                    [--no-environment] [--no-compare]

--no-compare skips the strata check of each copy (time and memory only).
"""

import argparse
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

from scale_bench import hwm_kb

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
STDLIB = "/usr/lib/python3.11"


def log(msg):
    print(msg, file=sys.stderr, flush=True)


def corpus_files():
    p = subprocess.run(["bash", os.path.join(TOP, "bench", "stdlib_files.sh")],
                       stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, check=True)
    return [f for f in p.stdout.decode().splitlines() if f.startswith(STDLIB + "/")]


def make_copies(files, n, work):
    """n copies of the corpus under work/p<i>, each file with its own last
    line."""
    contents = []
    for f in files:
        with open(f, "rb") as fh:
            data = fh.read()
        if data and not data.endswith(b"\n"):
            data += b"\n"
        contents.append((os.path.relpath(f, STDLIB), data))
    roots = []
    for i in range(n):
        root = os.path.join(work, "p%d" % i)
        for rel, data in contents:
            path = os.path.join(root, rel)
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, "wb") as fh:
                fh.write(data + b"# load-test variant %d\n" % i)
        roots.append(root)
    return roots


def free_port():
    """A port p with p+1 also free (the workers' port)."""
    for _ in range(100):
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        p = s.getsockname()[1]
        s.close()
        t = socket.socket()
        try:
            t.bind(("127.0.0.1", p + 1))
            return p
        except OSError:
            continue
        finally:
            t.close()
    raise RuntimeError("no two free ports in a row")


def keygen(strata, d, name):
    os.makedirs(d, exist_ok=True)
    subprocess.run([strata, "keygen", "--dir", d, "--name", name], check=True,
                   stdout=subprocess.DEVNULL)


def wait_for(path, text, secs=30):
    end = time.monotonic() + secs
    while time.monotonic() < end:
        try:
            with open(path, errors="replace") as f:
                if text in f.read():
                    return True
        except OSError:
            pass
        time.sleep(0.05)
    return False


def peak_kb(pid):
    return hwm_kb(pid) or 0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--strata", default=os.path.join(TOP, "build", "strata"))
    ap.add_argument("--clients", type=int, default=10)
    ap.add_argument("--per-client", type=int, default=5)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--work", default=None)
    ap.add_argument("--keep", action="store_true")
    ap.add_argument("--no-compare", action="store_true",
                    help="skip the strata check of each copy (memory and time only)")
    ap.add_argument("--no-environment", action="store_true",
                    help="submit and check without the Python environment")
    opt = ap.parse_args()
    strata = os.path.abspath(opt.strata)
    n = opt.clients * opt.per_client
    work = tempfile.mkdtemp(prefix="strata-load.", dir=opt.work)
    procs = []
    try:
        t0 = time.monotonic()
        roots = make_copies(corpus_files(), n, work)
        log("load_test: %d copies of the stdlib corpus in %.1f s under %s"
            % (n, time.monotonic() - t0, work))
        keys, allow = os.path.join(work, "keys"), os.path.join(work, "allow")
        os.makedirs(allow)
        keygen(strata, keys, "coordinator")
        keygen(strata, os.path.join(work, "wkeys"), "worker")
        shutil.copy(os.path.join(work, "wkeys", "worker.pub"), os.path.join(allow, "worker.pub"))
        for c in range(opt.clients):
            d = os.path.join(work, "ckeys%d" % c)
            keygen(strata, d, "client")
            shutil.copy(os.path.join(d, "client.pub"), os.path.join(allow, "client%d.pub" % c))
        port = free_port()
        addr = "tcp://127.0.0.1:%d" % port
        clog = os.path.join(work, "coordinator.log")
        coord = subprocess.Popen(
            [strata, "coordinator", "--bind", addr, "--keys", keys, "--allow", allow,
             "--cache-dir", os.path.join(work, "cache"),
             "--max-client-batches", str(opt.per_client)],
            stderr=open(clog, "wb"), stdout=subprocess.DEVNULL)
        procs.append(coord)
        if not wait_for(clog, "clients on"):
            log("load_test: the coordinator did not start: " + open(clog).read())
            return 2
        workers = []
        for w in range(opt.workers):
            wlog = os.path.join(work, "worker%d.log" % w)
            p = subprocess.Popen(
                [strata, "worker", "--connect", "tcp://127.0.0.1:%d" % (port + 1), "--threads",
                 "1", "--key", os.path.join(work, "wkeys", "worker.key"), "--server-key",
                 os.path.join(keys, "coordinator.pub")],
                stderr=open(wlog, "wb"), stdout=subprocess.DEVNULL)
            procs.append(p)
            workers.append(p)
            if not wait_for(wlog, "working for"):
                log("load_test: worker %d did not connect: %s" % (w, open(wlog).read()))
                return 2
        flags = ["--no-environment"] if opt.no_environment else []
        results = [None] * n
        peak = {"coord": 0}
        done = threading.Event()

        def watch():
            while not done.is_set():
                peak["coord"] = max(peak["coord"], peak_kb(coord.pid))
                time.sleep(0.2)

        def submit(i, c):
            cmd = [strata, "submit", "--coordinator", addr, "--keys",
                   os.path.join(work, "ckeys%d" % c), "--server-key",
                   os.path.join(keys, "coordinator.pub"), "--timeout", "600",
                   "--root", roots[i]] + flags + [roots[i]]
            t = time.monotonic()
            p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
            results[i] = (p.returncode, p.stdout, p.stderr, time.monotonic() - t)

        watcher = threading.Thread(target=watch)
        watcher.start()
        t0 = time.monotonic()
        threads = [threading.Thread(target=submit, args=(i, i // opt.per_client))
                   for i in range(n)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        wall = time.monotonic() - t0
        done.set()
        watcher.join()
        coord_peak = max(peak["coord"], peak_kb(coord.pid))
        worker_peaks = [peak_kb(p.pid) for p in workers]
        log("load_test: %d submits from %d clients in %.1f s" % (n, opt.clients, wall))
        bad = 0
        for i in range(0 if opt.no_compare else n):
            ref = subprocess.run([strata, "check", "--no-cache", "--root", roots[i]] + flags
                                 + [roots[i]], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
            rc, out, err, secs = results[i]
            if rc != ref.returncode or out != ref.stdout:
                bad += 1
                log("load_test: submit %d (client %d): exit %d, %d bytes; check: exit %d, %d "
                    "bytes; stderr: %s" % (i, i // opt.per_client, rc, len(out),
                                           ref.returncode, len(ref.stdout),
                                           err.decode(errors="replace").strip()[-300:]))
        slowest = max(r[3] for r in results)
        print("load test: %d clients x %d submits of distinct stdlib-sized copies (%d files "
              "each), %d worker processes" % (opt.clients, opt.per_client,
                                              len(corpus_files()), opt.workers))
        failed = sum(1 for r in results if r[0] not in (0, 1))
        if opt.no_compare:
            print("  wall %.1f s (slowest submit %.1f s); %d submits failed; not compared"
                  % (wall, slowest, failed))
            bad = failed
        else:
            print("  wall %.1f s (slowest submit %.1f s); results identical to strata check: "
                  "%d of %d" % (wall, slowest, n - bad, n))
        print("  peak memory: coordinator %.1f MiB; workers %s MiB"
              % (coord_peak / 1024.0, ", ".join("%.1f" % (k / 1024.0) for k in worker_peaks)))
        return 1 if bad else 0
    finally:
        for p in procs:
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
        for p in procs:
            try:
                p.wait(10)
            except subprocess.TimeoutExpired:
                p.kill()
        if opt.keep:
            log("load_test: kept %s" % work)
        else:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
