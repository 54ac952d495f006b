#!/usr/bin/python3
"""sockfuzz.py - a socket-level fuzzer for the live strata daemons.

The libFuzzer targets (tests/fuzz) feed the decoders bytes in-process; this
one talks to running daemons over their real sockets, so it also reaches what
sits around the decoders: frame handling, routing identities, the order of
messages, peers that vanish or stop reading, authentication, memory and log
growth, and the stop signal. Three targets:

  coord       `strata coordinator` without keys (both ports), with one real
              `strata worker --threads 1` connected;
  coord-keys  the same with CurveZMQ keys: peers with an unknown key or none
              must get nothing, peers with an allowed key send garbage;
  worker      `strata worker` connected to a ROUTER of ours that acts as a
              hostile coordinator.

Each round (about 1.5 s) runs a few seeded-random actions at once (junk
frames, malformed msgpack, valid messages in the wrong order or of the other
protocol, vanishing or non-reading peers, connection churn, odd routing
identities, clients with an environment that answer the coordinator's
library lookups wrongly or never...), closes their sockets, then checks the daemon: alive, its
stderr free of sanitizer reports, and still right: a real `strata submit`
of a fixture project prints byte for byte what `strata check --no-workers
--no-cache` printed at start (coordinator), or a real scan job comes back
with the reference result (worker). Peak RSS (VmHWM) and the daemon's log
size are bounded (the RSS bounds are not enforced under AddressSanitizer,
whose shadow memory and quarantine dominate); SIGTERM, once in the middle of
an active batch and once at a random moment at the end, must end the process
within 2 s (4 s under ASan) with status 0. With keys, one client holding its
cap of batches waiting for uploads must not keep another from being served.
A verification refused for a per-client cap (the round's clients, gone, may
count a moment longer) is tried again for 10 s.

One line per fault (what was sent, what went wrong), then a summary; exit 1
on any fault, 2 on a usage or set-up error. A run is reproducible from its
seed (--seed; the actions are, their timing is not), and --replay
NAME:SEED,... runs chosen actions alone against a fresh daemon; --minimize
does that for each action of a round that faulted, to name the one that is
enough, then halves that action's messages while the fault stays (for the
actions whose messages do not depend on answers). Run it with Debian's
python (/usr/bin/python3: python3-zmq, python3-msgpack). Only 127.0.0.1 and
ipc:// addresses are used; every loop is bounded in time.

    /usr/bin/python3 tests/e2e/sockfuzz.py --strata build/strata --seconds 20
"""

import argparse
import hashlib
import os
import random
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time

try:
    import msgpack
    import zmq
except ImportError as e:  # pragma: no cover - said once, clearly
    sys.stderr.write("sockfuzz: %s: run it with /usr/bin/python3 "
                     "(Debian's python3-zmq and python3-msgpack)\n" % e)
    sys.exit(2)

# ---- the wire (common/proto.h) ----------------------------------------------

HELLO, JOBS, RESULTS, HEARTBEAT, BYE, REFUSED = 1, 2, 3, 4, 5, 6
SUBMIT, NEED, UPLOAD, PROGRESS, DONE, LOOKUP, LIBFILES = 16, 17, 18, 19, 20, 21, 22
TYPE_NAMES = {HELLO: "HELLO", JOBS: "JOBS", RESULTS: "RESULTS", HEARTBEAT: "HEARTBEAT",
              BYE: "BYE", REFUSED: "REFUSED", SUBMIT: "SUBMIT", NEED: "NEED",
              UPLOAD: "UPLOAD", PROGRESS: "PROGRESS", DONE: "DONE", LOOKUP: "LOOKUP",
              LIBFILES: "LIBFILES"}
WORKER_TYPES = [HELLO, JOBS, RESULTS, HEARTBEAT, BYE, REFUSED]
CLIENT_TYPES = [SUBMIT, NEED, UPLOAD, PROGRESS, DONE, LOOKUP, LIBFILES]
# SUBMIT's "env": target 3.12 linux, no interpreter, the environment's key
FUZZ_ENV = [3, 12, "linux", None, "sockfuzz"]
PROTO_MAX_JOBS = 4096
PROTO_MAX_FILES = 1000000
PROTO_MAX_INPUT = 64 << 20
JOBS_SCAN, JOBS_CHECK, JOBS_ECHO = 0, 1, 2
KIND_EXTENSION = 3
U64 = (1 << 64) - 1


def pack(obj):
    return msgpack.packb(obj, use_bin_type=True)


def message(t, **fields):
    """A message: a map whose first entries are "v" and "t"."""
    d = {"v": 1, "t": t}
    d.update(fields)
    return pack(d)


def unpack(b):
    try:
        return msgpack.unpackb(b, raw=False, strict_map_key=False,
                               unicode_errors="surrogateescape")
    except Exception:  # any malformed answer is just "not a message"
        return None


def msg_type(b):
    m = unpack(b)
    return m.get("t") if isinstance(m, dict) else None


def h_str(n, width=0):
    """A msgpack str header for n bytes (width 8/16/32 forces a form)."""
    if width == 0 and n < 32:
        return bytes([0xa0 | n])
    if width in (0, 8) and n < 256:
        return b"\xd9" + struct.pack(">B", n)
    if width in (0, 8, 16) and n < 65536:
        return b"\xda" + struct.pack(">H", n)
    return b"\xdb" + struct.pack(">I", n)


def h_bin(n, width=0):
    if width in (0, 8) and n < 256:
        return b"\xc4" + struct.pack(">B", n)
    if width in (0, 8, 16) and n < 65536:
        return b"\xc5" + struct.pack(">H", n)
    return b"\xc6" + struct.pack(">I", n)


def h_array(n, width=0):
    if width == 0 and n < 16:
        return bytes([0x90 | n])
    if width in (0, 16) and n < 65536:
        return b"\xdc" + struct.pack(">H", n)
    return b"\xdd" + struct.pack(">I", n)


def h_map(n, width=0):
    if width == 0 and n < 16:
        return bytes([0x80 | n])
    if width in (0, 16) and n < 65536:
        return b"\xde" + struct.pack(">H", n)
    return b"\xdf" + struct.pack(">I", n)


def raw_key(k):
    return h_str(len(k)) + k


def zstd_frame(data, claimed=None, single=True):
    """A zstd frame of raw (stored) blocks: valid zstd without a zstd
    library. claimed: the content size written in the header (default the
    real one); single=False leaves the size out of the header."""
    if single:
        size = len(data) if claimed is None else claimed
        out = bytearray(struct.pack("<IB", 0xFD2FB528, 0xE0)) + struct.pack("<Q", size & U64)
    else:  # no content size; a window descriptor of 8 MiB
        out = bytearray(struct.pack("<IBB", 0xFD2FB528, 0x00, 0x58))
    pos = 0
    while True:
        chunk = data[pos:pos + 131072]
        pos += len(chunk)
        last = pos >= len(data)
        out += struct.pack("<I", int(last) | (len(chunk) << 3))[:3] + chunk
        if last:
            return bytes(out)


def zstd_rle(byte, size):
    """A frame of RLE blocks: a few KB that decompress to size bytes."""
    out = bytearray(struct.pack("<IB", 0xFD2FB528, 0xE0)) + struct.pack("<Q", size)
    left = size
    while True:
        n = min(left, 131072)
        left -= n
        out += struct.pack("<I", int(left == 0) | (1 << 1) | (n << 3))[:3] + bytes([byte])
        if left == 0:
            return bytes(out)


def sha256(b):
    return hashlib.sha256(b).digest()


def scan_input(src, kind=0, max_bytes=0, target=(3, 12, "linux")):
    """A scan job's input (worker/jobs.c jobs_scan_input): kind, size limit,
    the target stubs are read for [major, minor, platform], the source."""
    return pack([kind, max_bytes, list(target), src])


def show(b, limit=48):
    """A frame for the log: its bytes when short, else size and head."""
    if len(b) <= limit:
        return repr(bytes(b))
    return "<%d B: %s...>" % (len(b), bytes(b[:24]).hex())


def show_frames(frames):
    return "%d frame%s [%s]" % (len(frames), "" if len(frames) == 1 else "s",
                                ", ".join(show(f) for f in frames))


# ---- random material -----------------------------------------------------------


def rand_len(rng, big=True):
    """Mostly small, sometimes hundreds of KB, rarely up to 8 MB."""
    r = rng.random()
    if r < 0.6:
        return rng.randint(0, 64)
    if r < 0.9:
        return rng.randint(65, 4096)
    if r < 0.985 or not big:
        return rng.randint(4097, 300000)
    return rng.randint(1 << 20, 8 << 20)


def rand_value(rng, depth=0):
    """A random msgpack-able value of any type."""
    k = rng.randrange(12 if depth < 3 else 9)
    if k == 0:
        return None
    if k == 1:
        return rng.choice([True, False])
    if k == 2:
        return rng.choice([0, 1, 127, 128, 255, 65536, 2 ** 32, U64, rng.getrandbits(64)])
    if k == 3:
        return rng.choice([-1, -32, -33, -129, -(2 ** 31), -(2 ** 63)])
    if k == 4:
        return rng.choice([0.0, -1.5, 1e300, float("nan"), float("inf")])
    if k == 5:
        return "".join(chr(rng.randint(32, 0x2ff)) for _ in range(rng.randint(0, 20)))
    if k == 6:
        return rng.randbytes(rng.randint(0, 40))
    if k in (7, 8):
        return rng.choice(["", "x", "\0", "%s%n%s", "\u20ac", "a" * 300])
    if k in (9, 10):
        return [rand_value(rng, depth + 1) for _ in range(rng.randint(0, 4))]
    return {str(rand_value(rng, depth + 1)): rand_value(rng, depth + 1)
            for _ in range(rng.randint(0, 3))}


def rand_source(rng, tag):
    """The content of a .py file sent for a scan: mostly Python, sometimes
    bytes no parser expects."""
    k = rng.randrange(10)
    head = ("# sockfuzz %s\n" % tag).encode()
    if k < 5:
        lines = ["import os", "import sys as s%d" % rng.randrange(99), "def f(a, b=1):",
                 "    return a + undefined_%d" % rng.randrange(99), "class C:", "    x = 1",
                 "from json import *", "x = [i for i in range(3)]", "y = lambda: z",
                 "async def g():", "    await h()"]
        body = "\n".join(rng.choice(lines) for _ in range(rng.randint(1, 30)))
        return head + body.encode() + b"\n"
    if k < 7:
        return head + rng.randbytes(rng.randint(0, 2000))
    if k < 8:
        return head + b"\0" * rng.randint(1, 100) + b"\xff\xfe invalid utf-8 \xc3\x28\n"
    if k < 9:
        return head + b"(" * rng.randint(100, 5000) + b"\n"
    return head + b"x = '" + b"a" * rng.randint(1000, 200000) + b"'\n"


# Odd paths for SUBMIT: the coordinator builds a project out of them.
ODD_PATHS = ["", "/", "a.py", "/abs/x.py", "../up.py", "a/../b.py", "./c.py", "a//d.py",
             "a/", "pkg/__init__.py", "pkg", "pkg/__init__.pyi", "pkg/mod.py",
             "pkg/mod/__init__.py", "pkg.py", "pkg/mod.pyi", "x" * 4096, "\u00e9t\u00e9.py",
             "a\nb.py", "%s%n.py", "__init__.py", "-.py", "1abc.py", "a-b/c.py", "a b.py",
             "pkg/__init__.cpython-311-x86_64-linux-gnu.so", "/".join("d%d" % i for i in range(200))
             + "/z.py", ".py", "..", ".", "a/./b.py", "src/pkg/__init__.py", "src/pkg/m.py",
             "pkg/sub/__init__.py", "pkg/sub/m.py", "pkg\\win.py", "C:/x.py", "\t.py"]


# ---- processes ------------------------------------------------------------------


class Proc:
    """A daemon we started: its process, log and memory."""

    def __init__(self, name, argv, log, cwd, env=None):
        self.name, self.argv, self.log, self.cwd, self.env = name, argv, log, cwd, env
        self.p = None
        self.peak_kb = 0
        self.starts = 0

    def start(self):
        with open(self.log, "ab") as f:
            f.write(("=== sockfuzz: %s %s\n" % ("starting" if self.starts == 0 else "restarting",
                                               " ".join(self.argv))).encode())
        with open(self.log, "ab") as err:
            self.p = subprocess.Popen(self.argv, cwd=self.cwd, env=self.env,
                                      stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                      stderr=err)
        self.starts += 1

    def alive(self):
        return self.p is not None and self.p.poll() is None

    def hwm_kb(self):
        """VmHWM of the process (0 when gone); remembered as the peak."""
        kb = 0
        try:
            with open("/proc/%d/status" % self.p.pid) as f:
                for line in f:
                    if line.startswith("VmHWM:"):
                        kb = int(line.split()[1])
        except (OSError, ValueError, AttributeError):
            pass
        self.peak_kb = max(self.peak_kb, kb)
        return kb

    def stop(self, within):
        """SIGTERM; returns (exit status, seconds) or (None, within) when it
        did not end in time (then it is killed)."""
        if not self.alive():
            return (self.p.returncode if self.p else None), 0.0
        self.hwm_kb()
        t0 = time.monotonic()
        self.p.send_signal(signal.SIGTERM)
        try:
            rc = self.p.wait(within)
            return rc, time.monotonic() - t0
        except subprocess.TimeoutExpired:
            self.kill()
            return None, within

    def kill(self):
        if self.alive():
            self.p.kill()
            try:
                self.p.wait(5)
            except subprocess.TimeoutExpired:
                pass

    def log_size(self):
        try:
            return os.path.getsize(self.log)
        except OSError:
            return 0

    def tail(self, n=30):
        try:
            with open(self.log, "rb") as f:
                f.seek(max(0, os.path.getsize(self.log) - 65536))
                lines = f.read().decode("utf-8", "replace").splitlines()
        except OSError:
            return []
        return lines[-n:]


def status_text(rc):
    if rc is None:
        return "still running"
    if rc < 0:
        try:
            return "killed by %s" % signal.Signals(-rc).name
        except ValueError:
            return "killed by signal %d" % -rc
    return "exit %d" % rc


def free_port_pair():
    """Two consecutive free TCP ports on 127.0.0.1: the first."""
    for _ in range(200):
        a = socket.socket()
        b = socket.socket()
        try:
            a.bind(("127.0.0.1", 0))
            p = a.getsockname()[1]
            b.bind(("127.0.0.1", p + 1))
            return p
        except OSError:
            pass
        finally:
            a.close()
            b.close()
    raise RuntimeError("no two consecutive free ports on 127.0.0.1")


def wait_log(proc, text, secs):
    end = time.monotonic() + secs
    while time.monotonic() < end:
        try:
            with open(proc.log, "rb") as f:
                if text.encode() in f.read():
                    return True
        except OSError:
            pass
        if not proc.alive():
            return False
        time.sleep(0.05)
    return False


SANITIZER_MARKS = [b"Sanitizer", b"runtime error:", b"Assertion failed", b"Assertion `",
                   b"double free", b"stack smashing", b"Segmentation fault"]


def is_asan(path):
    try:
        with open(path, "rb") as f:
            return b"__asan_init" in f.read()
    except OSError:
        return False


# ---- the fuzzer's state ----------------------------------------------------------


class Fault:
    def __init__(self, target, rnd, kind, detail, actions):
        self.target, self.round, self.kind, self.detail, self.actions = \
            target, rnd, kind, detail, actions


def say(*a):
    print(*a, flush=True)


class Target:
    """What every target shares: the zmq context, the rounds, the sockets
    of the round, counters and faults. Subclasses set up the daemons, list
    their actions and check the daemon between rounds."""

    name = "?"
    actions = {}  # name -> (weight, generator function (target, rng))

    def __init__(self, cfg, work, seed):
        self.cfg, self.work, self.seed = cfg, work, seed
        self.rng = random.Random("%s:%s" % (seed, self.name))
        self.ctx = zmq.Context()
        self.ctx.setsockopt(zmq.MAX_SOCKETS, 8192)
        self.asan = cfg.asan
        self.slow = 3.0 if self.asan else 1.0
        self.rounds = 0
        self.final_stopped = False  # the last round's SIGTERM was sent
        self.msgs = 0
        self.bytes = 0
        self.faults = []
        self.kinds_seen = {}
        self.notes = {}
        self.round_socks = []
        self.unauth = set()  # sockets that must never hear anything
        self.log_entries = []  # the round's actions: [name, seed, [what was sent], count]
        self.current = None
        self.round_no = 0
        self.big_left = 0
        self.procs = []
        self.rss_bound_kb = 0
        self.rss_what = ""
        self.rss_faulted = False
        self.log_faulted = False
        self.log_mark = {}
        self.deadline = 0.0
        self.tails_shown = set()
        self.rises = []  # [(VmHWM rise in KB, round, [(action, seed)])], the largest
        self.sock_info = {}  # socket -> (port role, key name), for recording
        self.recording = None  # a list: every message sent, as (role, key name, frames)

    # -- bookkeeping --------------------------------------------------------------

    def note(self, what):
        """Records what the current action did, for the fault lines."""
        e = self.current
        if e is not None and len(e[2]) < 12:
            e[2].append(what)
        elif e is not None and len(e[2]) == 12:
            e[2].append("...")

    def count(self):
        if self.current is not None:
            self.current[3] += 1

    def fault(self, kind, detail, show_round=True, tails=(), actions=None, actions_round=None):
        """Records and prints a fault; actions: the round's (what ran in
        the round that just ended) unless given (then from actions_round)."""
        if actions is None:
            actions = [list(e) for e in self.log_entries] if show_round else []
            actions_round = self.round_no
        f = Fault(self.name, self.round_no, kind, detail, actions)
        self.faults.append(f)
        again = kind in self.kinds_seen
        self.kinds_seen[kind] = self.kinds_seen.get(kind, 0) + 1
        say("FAULT %s round %d: %s: %s" % (self.name, self.round_no, kind, detail))
        if actions:
            say("  round %d ran (replay one with --target %s --replay NAME:SEED):"
                % (actions_round, self.name))
            for name, seed, sent, count in actions[: (3 if again else 12)]:
                say("    %s:%d%s%s" % (name, seed, " sent %d message(s)" % count if count else "",
                                      ":" if sent and not again else ""))
                if not again:
                    for s in sent:
                        say("      " + s)
        if not again:
            for p in tails:
                self.tails_shown.add(p.name)
                say("  last lines of %s (%s):" % (p.name, p.log))
                for line in p.tail(30):
                    say("    | " + line)

    def notice(self, kind, detail):
        """Something worth saying that is not a fault (once per kind)."""
        if kind not in self.notes:
            say("NOTE %s round %d: %s: %s" % (self.name, self.round_no, kind, detail))
        self.notes[kind] = self.notes.get(kind, 0) + 1

    def big(self, n):
        """Caps the multi-MB frames of a round."""
        if n < (1 << 20):
            return n
        if self.big_left <= 0:
            return n % 300000
        self.big_left -= 1
        return n

    # -- sockets ------------------------------------------------------------------

    def sock(self, kind, role, key=None, ident=None, rcvhwm=None, sndhwm=None, unauth=False):
        """A socket of the round (closed when it ends), connected to the
        daemon's port role ("clients", "workers") with the key named key
        (see curve), or none."""
        curve = self.curve(key) if key else None
        addr = self.addr(role)
        s = self.ctx.socket(kind)
        s.linger = 0
        if ident is not None:
            s.setsockopt(zmq.ROUTING_ID, ident)
        if rcvhwm is not None:
            s.rcvhwm = rcvhwm
        if sndhwm is not None:
            s.sndhwm = sndhwm
        if curve is not None:
            s.curve_serverkey = curve[0].encode()
            s.curve_publickey = curve[1].encode()
            s.curve_secretkey = curve[2].encode()
        s.connect(addr)
        self.round_socks.append(s)
        self.sock_info[s] = (role, key)
        if unauth:
            self.unauth.add(s)
        return s

    def send(self, s, frames, what=None):
        """Sends without blocking (a full queue drops it); counts it."""
        if isinstance(frames, (bytes, bytearray)):
            frames = [frames]
        try:
            s.send_multipart(frames, flags=zmq.NOBLOCK, copy=sum(len(f) for f in frames) < 65536)
        except zmq.Again:
            return False
        except zmq.ZMQError:
            return False
        self.msgs += 1
        self.count()
        self.bytes += sum(len(f) for f in frames)
        if self.recording is not None:
            role, key = self.sock_info.get(s, (None, None))
            self.recording.append((role, key, [bytes(f) for f in frames]))
        if what is not None:
            self.note(what)
        return True

    def got(self, s, frames):
        if s in self.unauth:
            self.fault("unauthenticated peer answered",
                       "a peer whose key is not allowed (or that has none) received %s"
                       % show_frames(frames))

    def recv(self, s, secs):
        """Generator: the next message on s within secs, or None."""
        end = time.monotonic() + secs
        while True:
            try:
                frames = s.recv_multipart(zmq.NOBLOCK)
                self.got(s, frames)
                return frames
            except zmq.Again:
                pass
            except zmq.ZMQError:
                return None
            if time.monotonic() >= end:
                return None
            yield

    def drain(self, s):
        """Reads whatever is there (not waiting)."""
        n = 0
        while n < 10000:
            try:
                frames = s.recv_multipart(zmq.NOBLOCK)
            except zmq.ZMQError:
                break
            self.got(s, frames)
            n += 1
        return n

    def close_round(self):
        for s in self.round_socks:
            try:
                s.close(linger=0)
            except zmq.ZMQError:
                pass
        self.round_socks = []
        self.unauth = set()
        self.sock_info = {}

    # -- rounds -------------------------------------------------------------------

    def pick(self, rng, only):
        names = [n for n in self.actions if (not only or n in only)
                 and n not in self.cfg.skip]
        if not names:
            raise SystemExit("sockfuzz: no action left for %s (see --list-actions)" % self.name)
        weights = [self.actions[n][0] for n in names]
        return rng.choices(names, weights)[0]

    def run_actions(self, plan, duration, extra=None):
        """Runs the actions of plan [(name, seed)] interleaved for at most
        duration s (plus the generator extra, not logged), then closes
        their sockets."""
        self.log_entries = []
        self.big_left = 3
        gens = []
        for name, seed in plan:
            entry = [name, seed, [], 0]
            self.log_entries.append(entry)
            gens.append((entry, self.actions[name][1](self, random.Random(seed))))
        if extra is not None:
            gens.append((None, extra))
        hwm0 = self.procs[0].hwm_kb() if self.procs and self.procs[0].alive() else 0
        end = time.monotonic() + duration
        while gens and time.monotonic() < end:
            for item in list(gens):
                entry, g = item
                self.current = entry
                try:
                    next(g)
                except StopIteration:
                    gens.remove(item)
                except zmq.ZMQError as e:
                    self.notice("zmq error in the fuzzer", "%s: %s"
                                % (entry[0] if entry else "extra", e))
                    gens.remove(item)
                except Exception as e:  # a bug of the fuzzer: said, not a fault
                    self.notice("fuzzer error in %s" % (entry[0] if entry else "extra"),
                                "%s: %s" % (type(e).__name__, e))
                    gens.remove(item)
            self.current = None
            self.tick()
            time.sleep(0.001)
        for entry, g in gens:
            g.close()
        self.current = None
        self.close_round()
        if hwm0 and self.procs[0].alive():  # which rounds raised the peak, for the RSS fault
            rise = self.procs[0].hwm_kb() - hwm0
            if rise > 10 * 1024:
                self.rises.append((rise, self.round_no, [(e[0], e[1]) for e in self.log_entries]))
                self.rises = sorted(self.rises, reverse=True)[:3]

    def plan_round(self, rng, only):
        return [(self.pick(rng, only), rng.getrandbits(40)) for _ in range(rng.randint(3, 7))]

    def tick(self):
        """Called between the actions' steps (the worker target serves its
        ROUTER here)."""

    def curve(self, key):
        return None

    def addr(self, role):
        raise NotImplementedError

    # -- checks -------------------------------------------------------------------

    def scan_logs(self):
        """Sanitizer reports and assertion failures in the daemons' logs
        since the last look."""
        for p in self.procs:
            start = self.log_mark.get(p.log, 0)
            try:
                with open(p.log, "rb") as f:
                    f.seek(start)
                    data = f.read()
            except OSError:
                continue
            self.log_mark[p.log] = start + len(data)
            for mark in SANITIZER_MARKS:
                i = data.find(mark)
                if i >= 0:
                    line = data[max(0, data.rfind(b"\n", 0, i) + 1):].split(b"\n")[0]
                    self.fault("%s: sanitizer or assertion report" % p.name,
                               line.decode("utf-8", "replace")[:300], tails=[p])
                    break

    def check_rss(self):
        for p in self.procs:
            if p.alive():
                p.hwm_kb()
        p = self.procs[0]
        if self.rss_bound_kb and p.peak_kb > self.rss_bound_kb and not self.rss_faulted:
            if self.asan:
                self.notice("rss over the bound (not enforced under ASan)",
                            "%s peak RSS %.1f MB over %.1f MB (%s)"
                            % (p.name, p.peak_kb / 1024, self.rss_bound_kb / 1024, self.rss_what))
            else:
                self.fault("%s: peak RSS over the bound" % p.name,
                           "VmHWM %.1f MB, bound %.1f MB (%s); the largest rises: %s"
                           % (p.peak_kb / 1024, self.rss_bound_kb / 1024, self.rss_what,
                              "; ".join("+%.1f MB in round %d (%s)" % (
                                  r / 1024, n, ", ".join("%s:%d" % a for a in acts))
                                  for r, n, acts in self.rises) or "none over 10 MB"),
                           actions=[[a, sd, [], 0] for a, sd in self.rises[0][2]]
                           if self.rises else None,
                           actions_round=self.rises[0][1] if self.rises else None)
            self.rss_faulted = True

    def check_log_growth(self, final=False):
        p = self.procs[0]
        size = p.log_size()
        limit = self.cfg.log_limit
        if size > limit and not self.log_faulted:
            self.log_faulted = True
            self.fault("%s: log grows without bound" % p.name,
                       "%s is %d KB after %d rounds (limit %d KB); most frequent lines: %s"
                       % (p.log, size // 1024, self.rounds, limit // 1024, top_lines(p.log)))

    def stop_check(self, p, what, within=None):
        """SIGTERM p; a fault unless it ends with status 0 in time."""
        within = within or (2.0 if not self.asan else 4.0)
        if not p.alive() and self.ended_as_told(p):
            return
        if not p.alive():
            self.fault("%s: died" % p.name, "%s: found %s before the SIGTERM (%s)"
                       % (p.name, status_text(p.p.returncode), what), tails=[p])
            return
        rc, secs = p.stop(within)
        if rc is None:
            self.fault("%s: SIGTERM did not stop it" % p.name,
                       "still running %.1f s after SIGTERM (%s); killed" % (within, what),
                       tails=[p])
        elif rc != 0:
            self.fault("%s: bad exit status after SIGTERM" % p.name,
                       "%s after %.2f s (%s)" % (status_text(rc), secs, what), tails=[p])
        elif self.cfg.verbose:
            say("  %s stopped in %.2f s (%s)" % (p.name, secs, what))

    # -- the run ------------------------------------------------------------------

    def fuzz(self):
        """Rounds until the time is up, with a SIGTERM mid-batch half-way
        and one at a random moment at the end."""
        self.deadline = time.monotonic() + self.cfg.seconds
        half = time.monotonic() + self.cfg.seconds / 2
        mid_done = self.cfg.seconds < 6
        while time.monotonic() < self.deadline:
            if not mid_done and time.monotonic() >= half:
                mid_done = True
                self.round_no += 1
                self.midpoint()
                continue
            self.round_no += 1
            self.rounds += 1
            rseed = self.rng.getrandbits(48)
            plan = self.plan_round(random.Random(rseed), self.cfg.only)
            self.run_actions(plan, self.rng.uniform(1.0, 2.0))
            self.between_rounds()
        self.round_no += 1
        self.final_sigterm()

    def midpoint(self):
        """Half-way: a SIGTERM in the middle of a batch (and what else a
        target checks once)."""
        self.sigterm_mid_batch()

    def daemon(self):
        """The process under test."""
        raise NotImplementedError

    def after_final_stop(self):
        """What else stops once the daemon under test has."""

    def ended_as_told(self, p):
        """Whether p, found ended, ended as a message told it to (not a
        fault when the last round's SIGTERM finds it so)."""
        return False

    def final_sigterm(self):
        """A last round, with SIGTERM to the daemon at a random moment in it
        (or at its end), then the bounds on memory and log."""
        rng = random.Random(self.rng.getrandbits(48))
        plan = self.plan_round(rng, self.cfg.only)
        when = rng.uniform(0.05, 1.2)
        state = {}

        def killer():
            end = time.monotonic() + when
            while time.monotonic() < end:
                yield
            state["t"] = True
            self.final_stopped = True
            self.stop_check(self.daemon(), "at a random moment (%.2f s into a round of %s)"
                            % (when, ", ".join(n for n, _ in plan)))
        self.run_actions(plan, when + 0.5, extra=killer())
        if "t" not in state:
            self.stop_check(self.daemon(), "at the end of the last round")
        self.after_final_stop()
        self.scan_logs()
        self.check_rss()
        self.check_log_growth(final=True)

    def replay(self, plan):
        self.round_no = 1
        self.rounds = 1
        self.run_actions(plan, 3.0)
        self.between_rounds()

    def replay_messages(self, msgs):
        """Sends recorded messages again, each from one socket per address
        (the worker target: to the worker), then checks the daemon."""
        self.round_no = 1
        self.rounds = 1

        def sender():
            socks = {}
            for role, key, frames in msgs:
                if role is None:
                    self.to_worker(frames, "to the worker: " + show_frames(frames))
                else:
                    if (role, key) not in socks:
                        socks[(role, key)] = self.sock(zmq.DEALER, role, key=key)
                    self.send(socks[(role, key)], frames, "%s: %s" % (role, show_frames(frames)))
                yield
            end = time.monotonic() + 0.5
            while time.monotonic() < end:
                yield
        self.log_entries = [["messages", 0, [], 0]]
        gen = sender()
        self.current = self.log_entries[0]
        drive_ticking(self, gen)
        self.current = None
        self.close_round()
        self.between_rounds()

    def close(self):
        for p in self.procs:
            if p.alive():
                p.kill()
        self.close_round()
        self.ctx.destroy(linger=0)


def top_lines(path, n=3):
    counts = {}
    try:
        with open(path, "rb") as f:
            for line in f:
                key = line[:70].decode("utf-8", "replace").rstrip()
                counts[key] = counts.get(key, 0) + 1
    except OSError:
        return "?"
    best = sorted(counts.items(), key=lambda kv: -kv[1])[:n]
    return "; ".join("%d x '%s...'" % (c, k) for k, c in best)


# ---- malformed messages ------------------------------------------------------------


def skeleton(rng, t, version):
    """Plausible fields of a message of type t (a dict in wire order)."""
    if t == HELLO:
        return {"id": "fuzz:%d" % rng.randrange(1 << 20), "host": "fuzz", "ver": version,
                "slots": rng.randint(1, 8), "numa": rng.randint(0, 2), "cpu": "avx2"}
    if t == JOBS:
        return {"jobs": [[rng.getrandbits(64), rng.randint(0, 3), rng.randbytes(rng.randint(0, 40))]
                         for _ in range(rng.randint(0, 4))]}
    if t == RESULTS:
        return {"results": [[rng.getrandbits(64), 0, rng.randbytes(8)] if rng.random() < 0.5
                            else [rng.getrandbits(64), 1, "err"] for _ in range(rng.randint(0, 4))]}
    if t == BYE:
        return {"reason": "fuzz"}
    if t == REFUSED:  # retry false ends a worker: act_x_refused_for_good does that
        return {"reason": "fuzz", "retry": True}
    if t == SUBMIT:
        d = {"files": [["f%d.py" % i, rng.randint(0, 3),
                        None if rng.random() < 0.5 else rng.randbytes(32), rng.randint(0, 100)]
                       for i in range(rng.randint(0, 4))],
             "roots": [], "args": ["."], "max_file_bytes": 0}
        if rng.random() < 0.5:
            d["env"] = list(FUZZ_ENV)
        return d
    if t == NEED:
        return {"digests": [rng.randint(0, 10) for _ in range(rng.randint(0, 4))]}
    if t == UPLOAD:
        return {"blobs": [[rng.randint(0, 10), zstd_frame(b"x = 1\n"), 6]
                          for _ in range(rng.randint(0, 3))]}
    if t == PROGRESS:
        return {"scanned": 1, "checked": 2, "cached": 3, "workers": 1, "queued": 0}
    if t == DONE:
        return {"status": 0, "error": "", "stats": {"files": 1},
                "files": [[0, [[1, 1, "F401", "m"]]]]}
    if t == LOOKUP:
        return {"modules": ["m%d.sub" % i for i in range(rng.randint(0, 4))],
                "tops": ["t%d" % i for i in range(rng.randint(0, 2))]}
    if t == LIBFILES:
        return {"modules": lib_answer(rng, ["m%d" % i for i in range(rng.randint(0, 4))], []),
                "tops": [rng.random() < 0.5 for _ in range(rng.randint(0, 2))]}
    return {}


def bad_message(rng, types, version):
    """(bytes, description) of a malformed message built around one of types."""
    t = rng.choice(types)
    fields = skeleton(rng, t, version)
    name = TYPE_NAMES.get(t, str(t))
    k = rng.randrange(17)
    if k == 0:
        v = rand_value(rng)
        return pack(v), "not a map: %r" % (v,)
    if k == 1:
        d = rng.choice([{"t": t, "v": 1}, {"x": 1}, {"v": 1}, {}, {"t": t}, {"v": 1, "x": t}])
        return pack(d), "no \"v\"/\"t\" first: %r" % (d,)
    if k == 2:
        v = rng.choice([0, 2, -1, 1.0, "1", None, U64, True, b"\x01"])
        return pack({"v": v, "t": t, **fields}), "%s with \"v\" = %r" % (name, v)
    if k == 3:
        tt = rng.choice([0, 7, 15, 23, 255, 2 ** 32, U64, -1, 1.5, "16", None, [t]])
        return pack({"v": 1, "t": tt, **fields}), "\"t\" = %r with the fields of %s" % (tt, name)
    if k == 4:
        bad = {key: (rand_value(rng) if rng.random() < 0.6 else val) for key, val in fields.items()}
        return message(t, **bad), "%s with fields of random types: %r" % (name, bad)
    if k == 5:
        keys = list(fields)
        for key in rng.sample(keys, rng.randint(0, len(keys))):
            del fields[key]
        return message(t, **fields), "%s missing fields: has only %r" % (name, list(fields))
    if k == 6:
        extra = {("x%d" % i): rand_value(rng) for i in range(rng.randint(1, 5))}
        fields.update(extra)
        return message(t, **fields), "%s with extra keys %r" % (name, list(extra))
    if k == 7:  # a key twice
        body = message(t, **fields)
        key = rng.choice(list(fields) or ["x"])
        dup = raw_key(key.encode()) + pack(fields.get(key, 1))
        n = len(fields) + 2
        head = h_map(n)
        return h_map(n + 1) + body[len(head):] + dup, "%s with key %r twice" % (name, key)
    if k == 8:  # a huge claimed length with a short body
        key = rng.choice(list(fields) or ["jobs"])
        claim = rng.choice([0xffffffff, 0x7fffffff, PROTO_MAX_FILES, PROTO_MAX_FILES + 1,
                            PROTO_MAX_JOBS + 1, 1 << 20])
        hdr = rng.choice([h_array(claim, 32), h_map(claim, 32), h_str(claim, 32), h_bin(claim, 32)])
        body = (h_map(3) + raw_key(b"v") + b"\x01" + raw_key(b"t") + pack(t)
                + raw_key(key.encode()) + hdr + rng.randbytes(rng.randint(0, 30)))
        return body, "%s whose %r claims %d entries/bytes (header %s) and has few" \
            % (name, key, claim, hdr[:1].hex())
    if k == 9:  # deep nesting in an unknown key
        depth = rng.choice([10, 100, 1000, 100000, 1000000])
        nest = (b"\x91" if rng.random() < 0.5 else b"\x81\xa1k") * depth + b"\xc0"
        body = (h_map(3) + raw_key(b"v") + b"\x01" + raw_key(b"t") + pack(t) + raw_key(b"junk")
                + nest)
        return body, "%s with an unknown key nested %d deep" % (name, depth)
    if k == 10:
        full = message(t, **fields)
        cut = rng.randint(0, max(0, len(full) - 1))
        return full[:cut], "%s truncated to %d of %d bytes" % (name, cut, len(full))
    if k == 11:
        extra = rng.randbytes(rng.randint(1, 50))
        return message(t, **fields) + extra, "%s with %d bytes after it" % (name, len(extra))
    if k == 12:
        b = bytearray(message(t, **fields))
        flips = rng.randint(1, 8)
        for _ in range(flips):
            if b:
                b[rng.randrange(len(b))] = rng.randrange(256)
        return bytes(b), "%s with %d random bytes changed" % (name, flips)
    if k == 13:  # ext types
        ext = rng.choice([b"\xd4\x01\x00", b"\xc7\x03\x05abc", b"\xd8\x7f" + bytes(16),
                          b"\xc9\xff\xff\xff\xff\x01"])
        body = h_map(3) + raw_key(b"v") + b"\x01" + raw_key(b"t") + pack(t) + raw_key(b"e") + ext
        return body, "%s with an ext value %s" % (name, ext[:6].hex())
    if k == 14:  # non-UTF-8 strings for every str field
        body = bytearray(h_map(2 + len(fields)) + raw_key(b"v") + b"\x01" + raw_key(b"t") + pack(t))
        for key, val in fields.items():
            body += raw_key(key.encode())
            if isinstance(val, str):
                junk = b"\xff\xfe\xc3\x28\x00" + val.encode()[:10]
                body += h_str(len(junk)) + junk
            else:
                body += pack(val)
        return bytes(body), "%s with invalid UTF-8 in its strings" % name
    if k == 15:
        n = rng.choice([0xffffffff, 65536, 3])
        return h_map(n, 32) + raw_key(b"v") + b"\x01" + raw_key(b"t") + pack(t), \
            "map claiming %d entries with only \"v\" and \"t\"" % n
    body = bytearray(h_map(2 + len(fields)) + raw_key(b"v") + b"\x01" + raw_key(b"t") + pack(t))
    for key, val in fields.items():
        body += raw_key(key.encode())
        body += pack(rng.choice([-1, -(2 ** 63), 1.5, -0.0, U64]) if rng.random() < 0.7 else val)
    return bytes(body), "%s with negative ints or floats for its fields" % name


def junk_frames(t, rng):
    """1 to 5 frames of random bytes (a DEALER cannot send 0: an empty frame)."""
    n = rng.randint(1, 5)
    frames = []
    for _ in range(n):
        if rng.random() < 0.15:
            frames.append(b"")
        elif rng.random() < 0.1:
            frames.append(rng.choice([b"a", b"b", b"\x00", b"\x80", b"\x90", b"\xc0"]))
        else:
            frames.append(rng.randbytes(t.big(rand_len(rng))))
    return frames


# ---- coordinator ---------------------------------------------------------------------


class Client:
    """A protocol-following client (a DEALER on the clients' port): SUBMIT,
    answer NEED with UPLOADs, wait for DONE. Its steps are generators."""

    def __init__(self, t, s, files, args=("fz",)):
        self.t, self.s, self.files, self.args = t, s, files, list(args)
        self.need = None
        self.done = None

    def entries(self):
        return [[p, k, sha256(c) if c is not None else None, len(c or b"")]
                for p, k, c in self.files]

    def submit(self, what="SUBMIT", env=None):
        fields = {"files": self.entries(), "roots": [], "args": self.args, "max_file_bytes": 0}
        if env is not None:
            fields["env"] = env
        body = message(SUBMIT, **fields)
        self.t.send(self.s, body, "clients: %s of %d files (%d bytes)%s"
                    % (what, len(self.files), len(body),
                       (": " + show(body, 200)) if len(body) <= 200 else ""))

    def wait_need(self, secs):
        end = time.monotonic() + secs
        while time.monotonic() < end:
            frames = yield from self.t.recv(self.s, end - time.monotonic())
            if frames is None:
                return None
            m = unpack(frames[-1])
            if isinstance(m, dict) and m.get("t") == NEED:
                self.need = m.get("digests") or []
                return self.need
            if isinstance(m, dict) and m.get("t") == DONE:
                self.done = m
                return None
        return None

    def upload(self, indices, tamper=None):
        blobs = []
        for i in indices:
            c = self.files[i][2] or b""
            blobs.append([i, zstd_frame(c), len(c)])
        if tamper:
            blobs = tamper(blobs)
        self.t.send(self.s, message(UPLOAD, blobs=blobs),
                    "clients: UPLOAD of %d blobs [%s]" % (len(blobs), ", ".join(
                        "[%s, %s, %s]" % (b[0], show(b[1], 24), b[2]) for b in blobs[:4])))

    def wait_done(self, secs):
        end = time.monotonic() + secs
        while time.monotonic() < end:
            frames = yield from self.t.recv(self.s, end - time.monotonic())
            if frames is None:
                return None
            m = unpack(frames[-1])
            if isinstance(m, dict) and m.get("t") == DONE:
                self.done = m
                return m
        return None


def fresh_files(rng, n, tag, kind=0):
    return [("fz/%s_%d.py" % (tag, i), kind,
             rand_source(rng, "%s %d %d" % (tag, i, rng.getrandbits(32)))) for i in range(n)]


def act_junk_frames(t, rng):
    s = t.client_sock(rng)
    for _ in range(rng.randint(1, 40)):
        frames = junk_frames(t, rng)
        t.send(s, frames, "clients: " + show_frames(frames))
        yield


def act_junk_msgpack(t, rng):
    s = t.client_sock(rng)
    for _ in range(rng.randint(1, 40)):
        b, what = bad_message(rng, CLIENT_TYPES if rng.random() < 0.8 else WORKER_TYPES, t.version)
        t.send(s, b, "clients: %s: %s" % (what[:300], show(b)))
        yield
    t.drain(s)


def act_other_protocol(t, rng):
    """Valid worker messages on the clients' port."""
    s = t.client_sock(rng)
    for _ in range(rng.randint(1, 10)):
        ty = rng.choice(WORKER_TYPES + [NEED, PROGRESS, DONE, LOOKUP, LIBFILES])
        b = message(ty, **skeleton(rng, ty, t.version))
        t.send(s, b, "clients: a valid %s: %s" % (TYPE_NAMES[ty], show(b, 120)))
        yield
    yield from t.recv(s, 0.2)


def act_upload_without_submit(t, rng):
    s = t.client_sock(rng)
    for _ in range(rng.randint(1, 5)):
        blobs = [[rng.randint(0, PROTO_MAX_FILES - 1), zstd_frame(rand_source(rng, "u")),
                  rng.randint(0, 100)] for _ in range(rng.randint(0, 5))]
        t.send(s, message(UPLOAD, blobs=blobs), "clients: UPLOAD of %d blobs without a SUBMIT"
               % len(blobs))
        yield
    yield from t.recv(s, 0.2)


UPLOAD_TAMPERS = {
    "digest mismatch": lambda rng, c, b: [[x[0], zstd_frame(b"other" + x[1][:3]), x[2]] for x in b],
    "bad zstd": lambda rng, c, b: [[x[0], rng.randbytes(rng.randint(0, 64)), x[2]] for x in b],
    "zstd magic, garbage after": lambda rng, c, b: [[x[0], x[1][:9] + rng.randbytes(20), x[2]]
                                                    for x in b],
    "raw size too small": lambda rng, c, b: [[x[0], x[1], max(0, x[2] - 1)] for x in b],
    "raw size too large": lambda rng, c, b: [[x[0], x[1], x[2] + 1000] for x in b],
    "raw size over the limit": lambda rng, c, b: [[x[0], x[1], PROTO_MAX_INPUT + 1] for x in b],
    "frame claims another size": lambda rng, c, b: [
        [x[0], zstd_frame(c.files[x[0]][2], claimed=x[2] + 7), x[2]] for x in b],
    "frame without a size": lambda rng, c, b: [
        [x[0], zstd_frame(c.files[x[0]][2], single=False), x[2]] for x in b],
    "index out of range": lambda rng, c, b: [
        [rng.choice([len(c.files), PROTO_MAX_FILES - 1, 65536]), x[1], x[2]] for x in b],
    "index not asked for": lambda rng, c, b: [[(x[0] + 1) % max(1, len(c.files)), x[1], x[2]]
                                              for x in b],
    "each blob twice": lambda rng, c, b: b + b,
    "no blob": lambda rng, c, b: [],
    "RLE bomb of 64 MiB": lambda rng, c, b: [
        [x[0], zstd_rle(0x20, PROTO_MAX_INPUT), PROTO_MAX_INPUT] for x in b[:1]],
    "half, then the rest": None,
    "valid": lambda rng, c, b: b,
}


def act_bad_uploads(t, rng):
    s = t.client_sock(rng)
    c = Client(t, s, fresh_files(rng, rng.randint(1, 12), "bu%d" % rng.getrandbits(20)))
    c.submit()
    need = yield from c.wait_need(1.0 * t.slow)
    if not need:
        return
    how = rng.choice(sorted(UPLOAD_TAMPERS))
    if how == "half, then the rest":
        c.upload(need[: len(need) // 2])
        yield
        c.upload(need[len(need) // 2:])
    else:
        c.upload(need, tamper=lambda b: UPLOAD_TAMPERS[how](rng, c, b))
    t.note("(the UPLOAD above: %s)" % how)
    if rng.random() < 0.5:  # then the right one
        c.upload(need)
    yield from c.wait_done(1.0 * t.slow)


def act_duplicate_submit(t, rng):
    s = t.client_sock(rng)
    c = Client(t, s, fresh_files(rng, rng.randint(1, 6), "ds%d" % rng.getrandbits(20)))
    for _ in range(rng.randint(2, 4)):
        c.submit("the same SUBMIT again")
    need = yield from c.wait_need(1.0 * t.slow)
    if need:
        c.upload(need)
        need2 = yield from c.wait_need(0.5 * t.slow)
        if need2:
            c.upload(need2)
    for _ in range(3):
        yield from c.wait_done(0.5)


def act_absurd_submit(t, rng):
    """Valid SUBMITs with absurd contents: many files, duplicate paths,
    NUL bytes, extensions with content, odd sizes and arguments."""
    s = t.client_sock(rng)
    k = rng.randrange(8)
    files = []
    what = ""
    if k == 0:
        n = rng.choice([1000, 20000, 50000, 50001, 250000])  # 50000: --max-client-files
        files = [["m%d.py" % i, 0, None, 0] for i in range(n)]
        what = "%d files without content" % n
    elif k == 1:
        n = rng.choice([100, 5000])
        files = [["u%d.py" % i, 0, rng.randbytes(32), rng.randint(0, 1 << 40)] for i in range(n)]
        what = "%d files with unknown digests (each NEEDed, never uploaded)" % n
    elif k == 2:
        files = [["dup.py", 0, None, 0], ["dup.py", 0, None, 0]] + \
                [["a%d.py" % i, 0, None, 0] for i in range(rng.randint(0, 5))]
        what = "a path twice"
    elif k == 3:
        files = [["nul\0.py", 0, None, 0], ["ok.py", 0, None, 0]]
        what = "a NUL in a path"
    elif k == 4:
        files = [["ext.so", KIND_EXTENSION, rng.randbytes(32), 10]]
        what = "an extension with a digest"
    elif k == 5:
        files = [["k%d.py" % i, rng.randint(0, 3), None, rng.choice([0, U64])] for i in range(5)]
        what = "kinds 0-3 and sizes 0 or 2^64-1"
    elif k == 6:
        files = []
        what = "no file"
    else:
        files = [[rng.choice(ODD_PATHS), 0, None, 0] for _ in range(3)]
        what = "odd paths"
    roots = rng.choice([[], ["/"], ["", ".."], ["r\0"], ["x" * 4096],
                        ["r%d" % i for i in range(2000)]])
    args = rng.choice([["."], [], ["\0"], ["a"] * 100, ["/etc/passwd"], ["../../.."]])
    mfb = rng.choice([0, 1, 40, PROTO_MAX_INPUT + 1, U64])
    body = message(SUBMIT, files=files, roots=roots, args=args, max_file_bytes=mfb)
    t.send(s, body, "clients: SUBMIT with %s; roots %s, args %s, max_file_bytes %d (%d bytes)%s"
           % (what, show(pack(roots), 40), show(pack(args), 40), mfb, len(body),
              (": " + show(body, 160)) if len(body) <= 160 else ""))
    for _ in range(4):
        frames = yield from t.recv(s, 0.4 * t.slow)
        m = unpack(frames[-1]) if frames else None
        if isinstance(m, dict) and m.get("t") == DONE:
            return


def act_odd_paths(t, rng):
    """A SUBMIT of odd paths whose content the coordinator has (the
    fixture's, cached at start) or that have none: no upload, straight to
    the scan and the project stage."""
    s = t.client_sock(rng)
    n = rng.randint(1, 12)
    paths = rng.sample(ODD_PATHS, min(n, len(ODD_PATHS)))
    files = []
    for p in paths:
        kind = KIND_EXTENSION if p.endswith(".so") else rng.choice([0, 0, 0, 1, 2])
        if kind == KIND_EXTENSION or rng.random() < 0.3:
            files.append([p, kind, None, 0])
        else:
            c = rng.choice(t.fixture_contents)
            files.append([p, kind, sha256(c), len(c)])
    body = message(SUBMIT, files=files, roots=rng.choice([[], ["pkg"], ["src"], ["/"]]),
                   args=rng.choice([["."], ["pkg"], paths[:2]]), max_file_bytes=0)
    t.send(s, body, "clients: SUBMIT of known contents at paths %r: %s" % (paths, show(body, 100)))
    for _ in range(6):
        frames = yield from t.recv(s, 0.5 * t.slow)
        m = unpack(frames[-1]) if frames else None
        if isinstance(m, dict) and m.get("t") == NEED and m.get("digests"):
            t.note("(a NEED came for content the coordinator has: %r)" % m.get("digests")[:5])
        if isinstance(m, dict) and m.get("t") == DONE:
            return


def act_vanish(t, rng):
    """A client that leaves mid-batch: SUBMIT, maybe NEED and part of the
    upload, then its socket closes."""
    s = t.client_sock(rng)
    c = Client(t, s, fresh_files(rng, rng.randint(1, 20), "v%d" % rng.getrandbits(20)))
    c.submit()
    when = rng.choice(["before NEED", "after NEED", "after part of the upload"])
    if when != "before NEED":
        need = yield from c.wait_need(1.0 * t.slow)
        if need and when == "after part of the upload":
            c.upload(need[: max(1, len(need) // 2)])
            yield
    t.note("(then the client's socket closes, %s)" % when)
    s.close(linger=0)


def act_stop_reading(t, rng):
    """A client that submits and never reads (a small receive queue)."""
    s = t.client_sock(rng, rcvhwm=rng.randint(1, 10))
    files = [["fx%d.py" % i, 0, sha256(c), len(c)] for i, c in enumerate(t.fixture_contents[:20])]
    for _ in range(rng.randint(1, 8)):
        t.send(s, message(SUBMIT, files=files, roots=[], args=["."], max_file_bytes=0),
               "clients: SUBMIT of %d known contents, never reading the answers (RCVHWM %d)"
               % (len(files), s.rcvhwm))
        yield
    end = time.monotonic() + rng.uniform(0.3, 1.5)
    while time.monotonic() < end:
        yield


def act_churn(t, rng):
    """Many connects and disconnects, some with a message."""
    n = 0
    end = time.monotonic() + rng.uniform(0.2, 0.6)
    port = rng.choice(["clients", "workers"])
    while time.monotonic() < end and n < 600:  # closed sockets free their fds lazily
        s = t.ctx.socket(zmq.DEALER)
        s.linger = 0
        t.apply_key(s, "allowed")
        s.connect(t.addr(port))
        if rng.random() < 0.3:
            try:
                s.send(rng.randbytes(rng.randint(0, 30)), zmq.NOBLOCK)
                t.msgs += 1
            except zmq.ZMQError:
                pass
        s.close(linger=0)
        n += 1
        if n % 20 == 0:
            yield
    t.note("%s: %d DEALER connects and disconnects" % (port, n))


ZMTP_GREETING = (b"\xff" + bytes(8) + b"\x7f" + b"\x03\x00" + b"NULL" + bytes(16) + b"\x00"
                 + bytes(31))


def act_raw_tcp(t, rng):
    """Plain TCP peers: closed at once, junk instead of ZMTP, a greeting then
    junk, or held open silently until the round ends."""
    port = rng.choice(["clients", "workers"])
    host, p = t.addr(port)[6:].rsplit(":", 1)
    held = []
    n = 0
    mode = rng.choice(["connect-close", "junk", "greeting+junk", "hold"])
    end = time.monotonic() + rng.uniform(0.2, 0.6)
    while time.monotonic() < end and n < (300 if mode == "hold" else 1000):
        try:
            c = socket.create_connection((host, int(p)), timeout=0.5)
        except OSError:
            break
        n += 1
        try:
            if mode == "junk":
                c.sendall(rng.randbytes(rng.randint(1, 2000)))
            elif mode == "greeting+junk":
                c.sendall(ZMTP_GREETING + rng.randbytes(rng.randint(0, 500)))
        except OSError:
            pass
        if mode == "hold":
            held.append(c)
        else:
            c.close()
        if n % 20 == 0:
            yield
    t.note("%s: %d raw TCP connections, %s" % (port, n, mode))
    try:
        while time.monotonic() < end + 1.0:
            yield
    finally:
        for c in held:
            c.close()


def act_odd_identity(t, rng):
    """DEALERs with routing ids of 1 to 255 bytes (two with the same one)
    submitting something small."""
    ident = rng.randbytes(rng.choice([1, 2, 5, 17, 128, 254, 255]))
    if rng.random() < 0.7 and ident[0] == 0:
        ident = b"\x01" + ident[1:]
    socks = [t.client_sock(rng, ident=ident) for _ in range(rng.choice([1, 2]))]
    files = [["id%d.py" % i, 0, sha256(c), len(c)] for i, c in enumerate(t.fixture_contents[:3])]
    for s in socks:
        t.send(s, message(SUBMIT, files=files, roots=[], args=["."], max_file_bytes=0),
               "clients: SUBMIT from a DEALER with routing id %s (%d B) [%d such sockets]"
               % (show(ident, 16), len(ident), len(socks)))
    for s in socks:
        yield from t.recv(s, 0.4 * t.slow)


def lib_answer(rng, names, libs):
    """LIBFILES entries for module names: files (their contents appended to
    libs, in the order their NEED indices follow the SUBMIT list), absent,
    namespace and open modules."""
    mods = []
    for n in names:
        r = rng.random()
        if r < 0.4:
            c = rand_source(rng, "lib %s %d" % (n, rng.getrandbits(32)))
            libs.append(c)
            path = "/fzsite/%s.py" % str(n).replace(".", "/")
            mods.append([1, 3, rng.random() < 0.5, False, path, 0, len(c), sha256(c)])
        elif r < 0.6:
            mods.append([0, 3, False, False, None, 0, 0, None])
        elif r < 0.8:
            mods.append([2, 3, True, False, None, 0, 0, None])
        else:
            mods.append([3, 4, False, False, None, 0, 0, None])
    return mods


LOOKUP_ANSWERS = ["valid", "short", "long", "garbage", "bad entry", "twice", "silent",
                  "tampered blobs", "no blobs"]


def act_env_submit(t, rng):
    """A client with an environment: the coordinator asks it where library
    modules are (LOOKUP); it answers right, with another number of names,
    garbage, twice or never, or uploads library contents that are not what
    it named."""
    s = t.client_sock(rng)
    files = fresh_files(rng, rng.randint(1, 6), "env%d" % rng.getrandbits(20))
    c = Client(t, s, files)
    c.submit("SUBMIT with an environment", env=list(FUZZ_ENV))
    how = rng.choice(LOOKUP_ANSWERS)
    t.note("(the lookups of the SUBMIT above: %s)" % how)
    libs = []
    end = time.monotonic() + 3.0 * t.slow
    while time.monotonic() < end:
        frames = yield from t.recv(s, end - time.monotonic())
        if frames is None:
            return
        m = unpack(frames[-1])
        ty = m.get("t") if isinstance(m, dict) else None
        if ty == NEED:
            blobs = []
            for i in m.get("digests") or []:
                k = i - len(files) if isinstance(i, int) else -1
                cnt = files[i][2] if 0 <= i < len(files) else libs[k] if 0 <= k < len(libs) else b""
                if how == "tampered blobs" and k >= 0 and cnt:
                    cnt = cnt[:-1] + bytes([cnt[-1] ^ 1])
                if how != "no blobs" or k < 0:
                    blobs.append([i, zstd_frame(cnt), len(cnt)])
            t.send(s, message(UPLOAD, blobs=blobs), "clients: UPLOAD of %d blobs (%s)"
                   % (len(blobs), how))
        elif ty == LOOKUP:
            names, tops = m.get("modules") or [], m.get("tops") or []
            if how == "silent":
                continue
            mods = lib_answer(rng, names, libs)
            stdl = [rng.random() < 0.5 for _ in tops]
            if how == "short":
                mods = mods[:-1] if mods else lib_answer(rng, ["x"], [])
            elif how == "long":
                mods += lib_answer(rng, ["extra"], [])
            elif how == "bad entry" and mods:
                mods[rng.randrange(len(mods))][rng.randrange(8)] = rand_value(rng)
            if how == "garbage":
                b, what = bad_message(rng, [LIBFILES], t.version)
            else:
                b, what = message(LIBFILES, modules=mods, tops=stdl), "LIBFILES (%s)" % how
            t.send(s, b, "clients: %s for %d names: %s" % (what[:200], len(names), show(b, 120)))
            if how == "twice":
                t.send(s, b, "clients: the same LIBFILES again")
        elif ty == DONE:
            return


def act_valid_submit(t, rng):
    """A client that does everything right, amid the rest."""
    s = t.client_sock(rng)
    c = Client(t, s, fresh_files(rng, rng.randint(1, 8), "ok%d" % rng.getrandbits(20)))
    c.submit()
    need = yield from c.wait_need(1.5 * t.slow)
    if need:
        c.upload(need)
    yield from c.wait_done(1.5 * t.slow)


# -- the workers' port --


def act_w_junk_frames(t, rng):
    s = t.worker_sock(rng)
    for _ in range(rng.randint(1, 40)):
        frames = junk_frames(t, rng)
        t.send(s, frames, "workers: " + show_frames(frames))
        yield
    t.drain(s)


def act_w_junk_msgpack(t, rng):
    s = t.worker_sock(rng)
    if rng.random() < 0.5:
        t.send(s, message(HELLO, **skeleton(rng, HELLO, t.version)), "workers: a valid HELLO")
    for _ in range(rng.randint(1, 40)):
        b, what = bad_message(rng, WORKER_TYPES if rng.random() < 0.8 else CLIENT_TYPES, t.version)
        t.send(s, b, "workers: %s: %s" % (what[:300], show(b)))
        yield
    t.drain(s)


def act_w_client_msgs(t, rng):
    s = t.worker_sock(rng)
    for _ in range(rng.randint(1, 8)):
        ty = rng.choice(CLIENT_TYPES + [JOBS, REFUSED])
        b = message(ty, **skeleton(rng, ty, t.version))
        t.send(s, b, "workers: a valid %s: %s" % (TYPE_NAMES[ty], show(b, 120)))
        yield
    t.drain(s)


def act_w_hello_variants(t, rng):
    """HELLOs out of bounds, twice, BYE/RESULTS/HEARTBEAT before HELLO."""
    s = t.worker_sock(rng)
    k = rng.randrange(7)
    h = skeleton(rng, HELLO, t.version)
    if k == 0:
        h["ver"] = rng.choice(["0.0.0", "", t.version + "x", "x" * 256, "\0"])
        what = "HELLO with version %r" % h["ver"][:40]
    elif k == 1:
        h["slots"] = rng.choice([0, 4097, 2 ** 32, U64, -1])
        what = "HELLO with slots %r" % h["slots"]
    elif k == 2:
        h["numa"] = rng.choice([1025, U64, -5])
        what = "HELLO with numa %r" % h["numa"]
    elif k == 3:
        h["id"] = rng.choice(["x" * 256, "x" * 257, "", "%s%s%n", "a\0b"])
        what = "HELLO with id of %d chars" % len(h["id"])
    else:
        what = "a valid HELLO"
    first = rng.choice([None, BYE, RESULTS, HEARTBEAT])
    if first:
        t.send(s, message(first, **skeleton(rng, first, t.version)), "workers: %s before HELLO"
               % TYPE_NAMES[first])
    for i in range(rng.choice([1, 2, 3])):
        t.send(s, message(HELLO, **h), "workers: %s%s: %s" % (what, " (again)" if i else "",
                                                              show(message(HELLO, **h), 100)))
    frames = yield from t.recv(s, 0.3 * t.slow)
    if frames and k in (0,) and msg_type(frames[-1]) != REFUSED:
        t.notice("no REFUSED for a wrong version",
                 "after %s the answer was %s" % (what, show_frames(frames)))
    if rng.random() < 0.5:
        t.send(s, message(BYE, reason="fuzz"), "workers: BYE")
        t.send(s, message(HEARTBEAT), "workers: HEARTBEAT after BYE")


def act_w_fake_worker(t, rng):
    """A registered worker that takes jobs and answers them wrong: garbage
    results, errors, results of ids it was not given, or of another's."""
    s = t.worker_sock(rng)
    slots = rng.choice([1, 4, 64, 4096])
    t.send(s, message(HELLO, **dict(skeleton(rng, HELLO, t.version), slots=slots)),
           "workers: a valid HELLO with %d slots" % slots)
    tickets = []
    end = time.monotonic() + rng.uniform(0.5, 1.5)
    last_hb = 0
    while time.monotonic() < end:
        frames = yield from t.recv(s, 0.05)
        if frames:
            m = unpack(frames[-1])
            if isinstance(m, dict) and m.get("t") == JOBS:
                tickets += [j[0] for j in m.get("jobs", []) if isinstance(j, list) and j]
                t.stolen = (t.stolen + tickets[-50:])[-500:]
                res = []
                for j in m.get("jobs", []):
                    r = rng.random()
                    if r < 0.3:
                        res.append([j[0], 0, rng.randbytes(rng.randint(0, 100))])
                    elif r < 0.5:
                        res.append([j[0], 1, "fuzz says no"])
                    elif r < 0.6:
                        res.append([rng.getrandbits(64), 0, b""])
                    elif r < 0.7 and t.stolen:
                        res.append([rng.choice(t.stolen), 0, b"\x90"])
                    elif r < 0.8:
                        res.append([j[0], 0, b""])
                    # else: never answered
                if res:
                    t.send(s, message(RESULTS, results=res), "workers: RESULTS (garbage, "
                           "errors, ids not given) for %d jobs" % len(res))
        if time.monotonic() - last_hb > 0.3:
            last_hb = time.monotonic()
            t.send(s, message(HEARTBEAT))
    if tickets and rng.random() < 0.5:
        t.send(s, message(RESULTS, results=[[x, 0, b""] for x in tickets[:100]]),
               "workers: RESULTS again for %d jobs already answered" % min(100, len(tickets)))


def act_w_stray_results(t, rng):
    """RESULTS for jobs given to another worker (or to none), from a
    registered worker and from a peer that never said HELLO."""
    s = t.worker_sock(rng)
    hello = rng.random() < 0.7
    if hello:
        t.send(s, message(HELLO, **skeleton(rng, HELLO, t.version)), "workers: a valid HELLO")
    ids = (rng.sample(t.stolen, min(20, len(t.stolen))) if t.stolen else []) + \
        [rng.getrandbits(64) for _ in range(5)] + [0, U64]
    for _ in range(rng.randint(1, 5)):
        t.send(s, message(RESULTS, results=[[i, 0, b"\x90"] for i in ids]),
               "workers: RESULTS for %d ids given to others or to none (%s HELLO)"
               % (len(ids), "after" if hello else "without"))
        yield
    yield from t.recv(s, 0.2)


def act_w_hello_flood(t, rng):
    """Many peers saying HELLO, then gone."""
    n = rng.randint(10, 300)
    socks = [t.worker_sock(rng) for _ in range(n)]
    for s in socks:
        t.send(s, message(HELLO, **skeleton(rng, HELLO, t.version)))
    t.note("workers: %d peers say a valid HELLO" % n)
    end = time.monotonic() + 0.5
    while time.monotonic() < end:
        yield
    for s in socks:
        t.drain(s)


# -- keys --


def act_k_bad_key(t, rng):
    """A peer with a key not in the allowlist, or with none, sends valid
    messages: it must get nothing, and they must do nothing."""
    port = rng.choice(["clients", "workers"])
    how = rng.choice(["bad", "none", "server-key-only"])
    s = t.sock(zmq.DEALER, port, key=how, unauth=True)
    if port == "clients":
        files = [["bk%d.py" % i, 0, sha256(c), len(c)]
                 for i, c in enumerate(t.fixture_contents[:5])]
        b = message(SUBMIT, files=files, roots=[], args=["."], max_file_bytes=0)
        for _ in range(rng.randint(1, 5)):
            t.send(s, b, "clients: a valid SUBMIT from a peer with key '%s'" % how)
        t.send(s, [b"a", b"b"], "clients: [b'a', b'b'] from a peer with key '%s'" % how)
    else:
        t.send(s, message(HELLO, **skeleton(rng, HELLO, t.version)),
               "workers: a valid HELLO from a peer with key '%s'" % how)
    yield from t.recv(s, rng.uniform(0.3, 1.0))


# ---- the coordinator target -------------------------------------------------------


class CoordTarget(Target):
    actions = {
        "junk_frames": (3, act_junk_frames),
        "junk_msgpack": (4, act_junk_msgpack),
        "other_protocol": (1, act_other_protocol),
        "upload_without_submit": (1, act_upload_without_submit),
        "bad_uploads": (3, act_bad_uploads),
        "duplicate_submit": (1, act_duplicate_submit),
        "absurd_submit": (2, act_absurd_submit),
        "odd_paths": (2, act_odd_paths),
        "vanish": (1, act_vanish),
        "stop_reading": (1, act_stop_reading),
        "churn": (1, act_churn),
        "raw_tcp": (1, act_raw_tcp),
        "odd_identity": (1, act_odd_identity),
        "valid_submit": (1, act_valid_submit),
        "env_submit": (3, act_env_submit),
        "w_junk_frames": (2, act_w_junk_frames),
        "w_junk_msgpack": (2, act_w_junk_msgpack),
        "w_client_msgs": (1, act_w_client_msgs),
        "w_hello_variants": (2, act_w_hello_variants),
        "w_fake_worker": (2, act_w_fake_worker),
        "w_stray_results": (1, act_w_stray_results),
        "w_hello_flood": (1, act_w_hello_flood),
    }

    def __init__(self, cfg, work, seed, keys):
        self.name = "coord-keys" if keys else "coord"
        super().__init__(cfg, work, seed)
        self.keys = keys
        if keys:
            self.actions = dict(CoordTarget.actions, k_bad_key=(3, act_k_bad_key))
        self.stolen = []
        self.verify_s = 0.0
        self.verify_max = 0.0

    # -- addresses and keys --

    def addr(self, port):
        return "tcp://127.0.0.1:%d" % (self.port if port == "clients" else self.port + 1)

    def curve(self, how):
        if not self.keys or how == "plain":
            return None
        if how == "allowed":
            return (self.z["coordinator"][0],) + self.z["client"]
        if how == "bad":
            return (self.z["coordinator"][0],) + self.z["bad"]
        if how == "client2":  # another allowed client
            return (self.z["coordinator"][0],) + self.z["client2"]
        if how == "server-key-only":  # a fresh pair nobody allowed
            pub, sec = zmq.curve_keypair()
            return (self.z["coordinator"][0], pub.decode(), sec.decode())
        return None  # "none": no CURVE at all

    def apply_key(self, s, how):
        c = self.curve(how)
        if c is not None:
            s.curve_serverkey, s.curve_publickey, s.curve_secretkey = (x.encode() for x in c)

    def client_sock(self, rng, ident=None, rcvhwm=None):
        return self.sock(zmq.DEALER, "clients", key="allowed",
                         ident=ident, rcvhwm=rcvhwm)

    def worker_sock(self, rng):
        return self.sock(zmq.DEALER, "workers", key="allowed")

    # -- set-up --

    def setup(self):
        w = self.work
        os.makedirs(w, exist_ok=True)
        self.version = probe_version(self.cfg.strata)
        self.proj = make_fixture(w)
        self.fixture_contents = []
        for root, _, names in os.walk(os.path.join(w, "proj")):
            for n in sorted(names):
                with open(os.path.join(root, n), "rb") as f:
                    self.fixture_contents.append(f.read())
        r = subprocess.run([self.cfg.strata, "check", "--no-workers", "--no-cache", "proj"],
                           cwd=w, capture_output=True, timeout=120)
        self.want = (r.returncode, r.stdout)
        if r.returncode not in (0, 1):
            raise RuntimeError("strata check on the fixture: exit %d: %s"
                               % (r.returncode, r.stderr.decode()[-500:]))
        self.port = free_port_pair()
        coord = [self.cfg.strata, "coordinator", "--bind", self.addr("clients"),
                 "--cache-dir", os.path.join(w, "cache")]
        worker = [self.cfg.strata, "worker", "--connect", self.addr("workers"), "--threads", "1"]
        self.submit_keys = []
        if self.keys:
            self.z = make_keys(self.cfg.strata, w)
            coord += ["--keys", os.path.join(w, "keys"), "--allow", os.path.join(w, "allow")]
            worker += ["--server-key", os.path.join(w, "keys", "coordinator.pub"),
                       "--key", os.path.join(w, "keys", "w1.key")]
            self.submit_keys = ["--keys", os.path.join(w, "ckeys"), "--server-key",
                                os.path.join(w, "keys", "coordinator.pub")]
        self.coord = Proc("coordinator", coord, os.path.join(w, "coordinator.log"), w)
        self.worker = Proc("worker", worker, os.path.join(w, "worker.log"), w)
        self.procs = [self.coord, self.worker]
        self.start_daemons()
        ok, why = self.verify(first=True)
        if not ok:
            self.fault("coordinator: wrong from the start", why, show_round=False,
                       tails=[self.coord])
        self.coord.hwm_kb()
        base = self.coord.peak_kb
        what = "the fixture batch"
        if self.cfg.baseline == "stdlib":
            r = subprocess.run([self.cfg.strata, "submit", "--coordinator", self.addr("clients"),
                                "--quiet"] + self.submit_keys + ["/usr/lib/python3.11"],
                               cwd=w, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                               timeout=600)
            if r.returncode not in (0, 1):
                self.notice("stdlib baseline failed", "exit %d: %s"
                            % (r.returncode, r.stderr.decode()[-300:]))
            base = self.coord.hwm_kb()
            what = "the stdlib batch"
        self.rss_bound_kb = base + 100 * 1024
        self.rss_what = "peak after %s %.1f MB + 100 MB" % (what, base / 1024)

    def start_daemons(self):
        self.coord.start()
        if not wait_log(self.coord, "clients on", 30 * self.slow):
            raise RuntimeError("the coordinator did not start: %s"
                               % " | ".join(self.coord.tail(10)))
        self.worker.start()
        if not wait_log(self.worker, "working for", 30 * self.slow):
            self.notice("real worker not connected", " | ".join(self.worker.tail(5)))

    def restart(self, why):
        for p in self.procs:
            if p.alive():
                p.stop(2.0)
            p.hwm_kb()
        if self.cfg.verbose:
            say("  restarting the daemons (%s)" % why)
        self.start_daemons()

    def verify(self, first=False):
        """A real strata submit of the fixture: the same as strata check?
        While the batches of the round's clients (gone now) still count
        against the per-client caps the coordinator says so; that is tried
        again for a while (the coordinator finds gone clients within its
        PROGRESS period)."""
        t0 = time.monotonic()
        argv = [self.cfg.strata, "submit", "--coordinator", self.addr("clients"),
                "--timeout", str(int(5 * self.slow))] + self.submit_keys + ["proj"]
        capped = 0
        while True:
            try:
                r = subprocess.run(argv, cwd=self.work, capture_output=True,
                                   timeout=20 * self.slow)
            except subprocess.TimeoutExpired:
                return False, "the verification submit did not end in %d s" % (20 * self.slow)
            err = r.stderr.decode("utf-8", "replace").strip()
            if r.returncode != 2 or not any(c in err for c in CAP_REFUSALS):
                break
            capped += 1
            if time.monotonic() - t0 > 10 * self.slow:
                return False, ("the verification submit is still refused %.0f s after the "
                               "round's clients closed their sockets (%d tries): %s"
                               % (time.monotonic() - t0, capped, err[-300:]))
            time.sleep(0.25)
        self.verify_s = time.monotonic() - t0
        self.verify_max = max(self.verify_max, self.verify_s)
        if capped and self.cfg.verbose:
            say("  the verification waited %.1f s for the caps of gone clients" % self.verify_s)
        got = (r.returncode, r.stdout)
        if got == self.want:
            return True, ""
        if r.returncode != self.want[0] and not r.stdout:
            return False, ("the verification submit: exit %d (want %d) after %.1f s: %s"
                           % (r.returncode, self.want[0], self.verify_s, err[-300:]))
        return False, ("the verification submit printed something else: exit %d (want %d), "
                       "%s" % (r.returncode, self.want[0], first_diff(self.want[1], r.stdout)))

    def between_rounds(self):
        if not self.coord.alive():
            self.fault("coordinator: died", status_text(self.coord.p.returncode),
                       tails=[self.coord])
            self.scan_logs()
            self.restart("it died")
            return
        self.scan_logs()
        ok, why = self.verify()
        if not ok:
            if not self.coord.alive():
                self.fault("coordinator: died", "%s (during the verification)"
                           % status_text(self.coord.p.returncode), tails=[self.coord])
            else:
                kind = ("coordinator: wedged" if "no answer" in why or "did not end" in why
                        or "stopped answering" in why else
                        "coordinator: caps held by gone clients" if "still refused" in why
                        else "coordinator: wrong answer")
                self.fault(kind, why, tails=[self.coord])
            self.scan_logs()
            self.restart("a failed verification")
            return
        if not self.worker.alive():
            self.fault("worker: died", "the real worker: %s"
                       % status_text(self.worker.p.returncode), tails=[self.worker])
            self.worker.start()
        self.check_rss()
        self.check_log_growth()

    def midpoint(self):
        self.sigterm_mid_batch()
        if self.keys:
            self.round_no += 1
            self.starvation_check()

    def starvation_check(self):
        """One client (another allowed key) fills its cap of batches and
        keeps them waiting for uploads, one right blob per batch now and
        then (progress, so they are never dropped as idle): another client
        must still be served. (Without keys every local client is the same
        client, so this needs keys.)"""
        rng = random.Random(self.rng.getrandbits(48))
        self.log_entries = [["starvation_check", 0, [], 0]]
        self.current = self.log_entries[0]
        hogs = []
        for k in range(4):
            s = self.sock(zmq.DEALER, "clients", key="client2")
            c = Client(self, s, fresh_files(rng, 50, "hog%d_%d" % (k, rng.getrandbits(20))))
            c.submit("SUBMIT (from a second allowed key)")
            hogs.append(c)
        needs = [drive(c.wait_need(3 * self.slow)) for c in hogs]
        self.note("(each of the 4 batches then gets one right blob every 2 s, nothing else)")
        argv = [self.cfg.strata, "submit", "--coordinator", self.addr("clients"),
                "--timeout", str(int(5 * self.slow))] + self.submit_keys + ["proj"]
        t0 = time.monotonic()
        victim = subprocess.Popen(argv, cwd=self.work, stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE)
        limit = 12.0 if self.asan else 10.0  # served in well under 1 s when nobody hogs
        next_blob = 0.0
        while victim.poll() is None and time.monotonic() - t0 < limit:
            if time.monotonic() >= next_blob:
                next_blob = time.monotonic() + 2.0
                for c, need in zip(hogs, needs):
                    if need:
                        c.upload([need.pop()])
            for c in hogs:
                self.drain(c.s)
            time.sleep(0.05)
        waited = time.monotonic() - t0
        self.current = None
        if victim.poll() is None:
            self.fault("coordinator: one client starves the others",
                       "a strata submit (key ckeys/client) got no result in %.0f s while another "
                       "allowed client (ckeys2/client) held 4 batches waiting for uploads, "
                       "sending one right blob per batch every 2 s" % waited, tails=[self.coord])
        self.close_round()
        try:
            out, err = victim.communicate(timeout=20 * self.slow)
            if (victim.returncode, out) != self.want:
                self.fault("coordinator: wrong answer", "the submit of the starvation check: "
                           "exit %d, %s"
                           % (victim.returncode, err.decode("utf-8", "replace")[-300:]))
        except subprocess.TimeoutExpired:
            victim.kill()
            victim.communicate()
            self.fault("coordinator: wedged", "the submit of the starvation check did not end "
                       "once the other client left", tails=[self.coord])
            self.restart("a wedged starvation check")

    def sigterm_mid_batch(self):
        """SIGTERM while a batch scans: exit 0 in 2 s, and the client told."""
        rng = random.Random(self.rng.getrandbits(48))
        self.log_entries = [["sigterm_mid_batch", 0, [], 0]]
        self.current = self.log_entries[0]
        s = self.client_sock(rng)
        tag = rng.getrandbits(32)
        files = [("term/c%d/m%d.py" % (k, i), 0, b"# sockfuzz %d %d\n" % (tag, k) + c)
                 for k in range(8) for i, c in enumerate(self.fixture_contents)]
        c = Client(self, s, files)
        c.submit()
        need = drive(c.wait_need(5 * self.slow))
        if need:
            c.upload(need)
        delay = rng.uniform(0.0, 0.2)
        time.sleep(delay)
        self.note("(SIGTERM %.0f ms after the UPLOAD of %d blobs)"
                  % (delay * 1000, len(need or [])))
        t0 = time.monotonic()
        self.stop_check(self.coord, "in the middle of a batch of %d files" % len(files))
        done = drive(c.wait_done(max(0.2, 3.0 - (time.monotonic() - t0))))
        if done is None:
            self.fault("coordinator: client not told it stops",
                       "a client whose batch was running got no DONE in 3 s after the SIGTERM")
        elif done.get("status") == 0:
            self.notice("batch over before the SIGTERM", "the mid-batch SIGTERM came too late "
                        "(the batch of %d files was done in %.0f ms)" % (len(files), delay * 1000))
        elif self.cfg.verbose:
            say("  the client got DONE status %s: %r" % (done.get("status"), done.get("error")))
        self.current = None
        self.close_round()
        self.scan_logs()
        self.restart("after the mid-batch SIGTERM")

    def daemon(self):
        return self.coord

    def after_final_stop(self):
        self.stop_check(self.worker, "the real worker, its coordinator gone")


# What a coordinator says when a client is over one of its caps (a refusal
# that the round's clients, gone, may still cause for a moment).
CAP_REFUSALS = ("(--max-client-", "queue is full")


def drive_ticking(t, gen):
    try:
        while True:
            next(gen)
            t.tick()
            time.sleep(0.001)
    except StopIteration as e:
        return e.value


def drive(gen):
    """Runs a step generator to its end (outside a round)."""
    try:
        while True:
            next(gen)
            time.sleep(0.001)
    except StopIteration as e:
        return e.value


def first_diff(a, b):
    al, bl = a.decode("utf-8", "replace").splitlines(), b.decode("utf-8", "replace").splitlines()
    for i in range(max(len(al), len(bl))):
        x = al[i] if i < len(al) else "<end>"
        y = bl[i] if i < len(bl) else "<end>"
        if x != y:
            return "line %d: want %r, got %r" % (i + 1, x[:160], y[:160])
    return "same lines, different bytes"


def make_fixture(w):
    """~35 files of the stdlib (json, email) and one with a pyflakes error."""
    proj = os.path.join(w, "proj")
    shutil.rmtree(proj, ignore_errors=True)
    for pkg in ("json", "email"):
        src = os.path.join("/usr/lib/python3.11", pkg)
        for root, dirs, names in os.walk(src):
            dirs[:] = [d for d in dirs if d != "__pycache__"]
            for n in names:
                if n.endswith(".py"):
                    rel = os.path.relpath(os.path.join(root, n), "/usr/lib/python3.11")
                    dst = os.path.join(proj, rel)
                    os.makedirs(os.path.dirname(dst), exist_ok=True)
                    shutil.copyfile(os.path.join(root, n), dst)
    with open(os.path.join(proj, "bad.py"), "w") as f:
        f.write("import os\nimport json\n\n\ndef f():\n    x = 1\n    return undefined_name\n")
    return proj


def make_keys(strata, w):
    """keys/ (coordinator, w1), ckeys/client, ckeys2/client, bad/client;
    allow/ has the public keys of both clients and w1. Returns name ->
    (public, secret) Z85 ("client2" for ckeys2's, "bad" for bad's)."""
    z = {}
    for d, name in (("keys", "coordinator"), ("keys", "w1"), ("ckeys", "client"),
                    ("ckeys2", "client"), ("bad", "client")):
        path = os.path.join(w, d)
        os.makedirs(path, exist_ok=True)
        subprocess.run([strata, "keygen", "--dir", path, "--name", name, "--force"], check=True,
                       stdout=subprocess.DEVNULL)
        pub = sec = None
        with open(os.path.join(path, name + ".key")) as f:
            for line in f:
                k, _, v = line.partition(":")
                if k.strip() == "public":
                    pub = v.strip()
                elif k.strip() == "secret":
                    sec = v.strip()
        z[{"bad": "bad", "ckeys2": "client2"}.get(d, name)] = (pub, sec)
    allow = os.path.join(w, "allow")
    os.makedirs(allow, exist_ok=True)
    shutil.copyfile(os.path.join(w, "ckeys", "client.pub"), os.path.join(allow, "client.pub"))
    shutil.copyfile(os.path.join(w, "ckeys2", "client.pub"), os.path.join(allow, "client2.pub"))
    shutil.copyfile(os.path.join(w, "keys", "w1.pub"), os.path.join(allow, "w1.pub"))
    return z


def probe_version(strata):
    """The analyzer version, from a real worker's HELLO."""
    ctx = zmq.Context.instance()
    r = ctx.socket(zmq.ROUTER)
    r.linger = 0
    r.bind("tcp://127.0.0.1:*")
    addr = r.getsockopt(zmq.LAST_ENDPOINT).decode()
    p = subprocess.Popen([strata, "worker", "--connect", addr, "--threads", "1", "--no-cache"],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        if r.poll(30000):
            m = unpack(r.recv_multipart()[-1])
            if isinstance(m, dict) and m.get("t") == HELLO:
                return m.get("ver")
        raise RuntimeError("no HELLO from a worker in 30 s")
    finally:
        p.kill()
        p.wait()
        r.close()


# ---- the worker target ---------------------------------------------------------------


def act_x_junk_frames(t, rng):
    for _ in range(rng.randint(1, 40)):
        frames = junk_frames(t, rng)
        t.to_worker(frames, "to the worker: " + show_frames(frames))
        yield


def act_x_junk_msgpack(t, rng):
    for _ in range(rng.randint(1, 40)):
        b, what = bad_message(rng, WORKER_TYPES if rng.random() < 0.8 else CLIENT_TYPES, t.version)
        t.to_worker([b], "to the worker: %s: %s" % (what[:300], show(b)))
        yield


def garbage_job(rng, t):
    k = rng.randrange(9)
    jid = rng.choice([rng.getrandbits(64), 0, U64, 1])
    if k == 0:
        return [jid, JOBS_SCAN, rng.randbytes(rng.randint(0, 200))], "scan job of random bytes"
    if k == 1:
        v = rand_value(rng)
        return [jid, JOBS_SCAN, pack(v)], "scan job input %r" % (v,)
    if k == 2:
        b = pack([rng.choice([0, 1, 2, 3, 4, 255, -1]), rng.choice([0, 1, 2 ** 32, U64]),
                  rng.choice([[3, 12, "linux"], [0, 0, ""], [3, 255, "x" * 40], [], "linux"]),
                  rand_source(rng, "j")])
        return [jid, JOBS_SCAN, b], "scan job with odd kind, size limit or target"
    if k == 3:
        b = h_array(4) + b"\x00\x00" + pack([3, 12, "linux"]) + h_bin(0xffffffff, 32) + b"short"
        return [jid, JOBS_SCAN, b], "scan job whose source claims 4 GB"
    if k == 4:
        return [jid, JOBS_CHECK, rng.randbytes(rng.randint(0, 300))], "check job of random bytes"
    if k == 5:
        v = rand_value(rng)
        return [jid, JOBS_CHECK, pack(v)], "check job input %r" % (v,)
    if k == 6:
        return [jid, rng.randint(3, 255), rng.randbytes(10)], "job of an unknown kind"
    if k == 7:
        return [jid, JOBS_ECHO, rng.randbytes(t.big(rand_len(rng)))], "echo job"
    return [jid, JOBS_SCAN, scan_input(rand_source(rng, "g"), kind=rng.choice([0, 1, 2, 3]))], \
        "scan job of odd Python"


def act_x_jobs_garbage(t, rng):
    for _ in range(rng.randint(1, 10)):
        jobs, whats = [], []
        for _ in range(rng.randint(1, 20)):
            j, what = garbage_job(rng, t)
            jobs.append(j)
            whats.append(what)
        if rng.random() < 0.3:
            jobs += jobs[:3]
            whats.append("3 duplicate ids")
        b = message(JOBS, jobs=jobs)
        t.to_worker([b], "to the worker: JOBS of %d jobs (%s): %s"
                    % (len(jobs), ", ".join(sorted(set(whats))), show(b, 100)))
        yield


def act_x_jobs_huge(t, rng):
    """Many jobs: 4096 in a message, messages in a row, or a count claim."""
    k = rng.randrange(3)
    if k == 0:
        n = PROTO_MAX_JOBS
        src = scan_input(b"import os\n")
        b = message(JOBS, jobs=[[rng.getrandbits(63), rng.choice([JOBS_SCAN, JOBS_ECHO]), src]
                                for _ in range(n)])
        for _ in range(rng.randint(1, 5)):
            t.to_worker([b], "to the worker: JOBS of 4096 tiny jobs (%d B)" % len(b))
            yield
    elif k == 1:
        b = h_map(3) + raw_key(b"v") + b"\x01" + raw_key(b"t") + b"\x02" + raw_key(b"jobs") + \
            h_array(rng.choice([4097, 0xffffffff, 4096]), 32) + pack([1, 0, b"x"])
        t.to_worker([b], "to the worker: JOBS claiming many jobs with one: %s" % show(b, 80))
    else:
        for _ in range(rng.randint(10, 200)):
            t.to_worker([message(JOBS, jobs=[[rng.getrandbits(63), JOBS_SCAN,
                                              scan_input(rand_source(rng, "h"))]])])
            yield
        t.note("to the worker: a burst of single-job JOBS messages")


def act_x_client_msgs(t, rng):
    for _ in range(rng.randint(1, 8)):
        ty = rng.choice(CLIENT_TYPES + [HELLO, RESULTS])
        b = message(ty, **skeleton(rng, ty, t.version))
        t.to_worker([b], "to the worker: a valid %s: %s" % (TYPE_NAMES[ty], show(b, 120)))
        yield


def act_x_multi_frame(t, rng):
    """Valid messages split in or joined into multi-frame messages."""
    jid = rng.getrandbits(63)
    job = message(JOBS, jobs=[[jid, JOBS_SCAN, scan_input(b"import os\n")]])
    frames = rng.choice([[job, job], [job, b""], [b"", job], [job, message(HEARTBEAT), job],
                         [job[:5], job[5:]]])
    t.to_worker(frames, "to the worker: %s" % show_frames(frames))
    t.multi_ids[jid] = frames
    yield


def act_x_bye_refused(t, rng):
    """BYE or REFUSED (retry), then messages after them."""
    ty = rng.choice([BYE, REFUSED])
    b = message(BYE, reason="fuzz") if ty == BYE else message(REFUSED, reason="fuzz", retry=True)
    t.to_worker([b], "to the worker: %s" % show(b))
    for _ in range(rng.randint(0, 5)):
        job = [rng.getrandbits(63), JOBS_SCAN, scan_input(b"x = 1\n")]
        t.to_worker([message(JOBS, jobs=[job])], "to the worker: JOBS after %s" % TYPE_NAMES[ty])
        yield


def act_x_refused_for_good(t, rng):
    """REFUSED without retry (another analyzer version, say): the worker
    must end at once with status 2, and is started again."""
    b = message(REFUSED, reason="fuzz: for good", retry=False)
    t.to_worker([b], "to the worker: %s" % show(b))
    end = time.monotonic() + 2.0 * t.slow
    while t.worker.alive() and time.monotonic() < end and not t.final_stopped:
        yield
    if t.final_stopped:
        return  # the last round's SIGTERM came first: its check judges the exit
    if t.worker.alive():
        t.fault("worker: REFUSED without retry did not end it",
                "still running %.0f s after %s" % (2.0 * t.slow, show(b)), tails=[t.worker])
        t.worker.kill()
    elif not t.refused_for_good():
        t.fault("worker: bad exit on REFUSED without retry", "%s (want exit 2)"
                % status_text(t.worker.p.returncode), tails=[t.worker])
    t.start_worker()


def act_x_heartbeat_flood(t, rng):
    n = 0
    end = time.monotonic() + rng.uniform(0.2, 0.8)
    hb = message(HEARTBEAT)
    while time.monotonic() < end and n < 50000:
        for _ in range(100):
            t.to_worker([hb])
            n += 1
        yield
    t.note("to the worker: %d HEARTBEATs" % n)


def act_x_never_read(t, rng):
    """Jobs whose results we do not read for a while (echo: results as large
    as the inputs)."""
    t.reading = False
    size = rng.choice([1000, 100000, 1 << 20, 4 << 20])
    n = min(rng.randint(5, 100), (400 << 20) // size)
    try:
        for _ in range(n):
            job = [rng.getrandbits(63), JOBS_ECHO, rng.randbytes(size)]
            t.to_worker([message(JOBS, jobs=[job])])
            yield
        t.note("to the worker: %d echo jobs of %d bytes, results not read for a while" % (n, size))
        end = time.monotonic() + rng.uniform(0.5, 1.5)
        while time.monotonic() < end:
            yield
    finally:
        t.reading = True


class WorkerTarget(Target):
    name = "worker"
    actions = {
        "x_junk_frames": (3, act_x_junk_frames),
        "x_junk_msgpack": (4, act_x_junk_msgpack),
        "x_jobs_garbage": (4, act_x_jobs_garbage),
        "x_jobs_huge": (2, act_x_jobs_huge),
        "x_client_msgs": (1, act_x_client_msgs),
        "x_multi_frame": (1, act_x_multi_frame),
        "x_bye_refused": (1, act_x_bye_refused),
        "x_heartbeat_flood": (1, act_x_heartbeat_flood),
        "x_never_read": (1, act_x_never_read),
        "x_refused_for_good": (0.2, act_x_refused_for_good),
    }

    def __init__(self, cfg, work, seed):
        super().__init__(cfg, work, seed)
        self.peer = None
        self.hellos = 0
        self.reading = True
        self.last_hb = 0.0
        self.want_ids = {}
        self.multi_ids = {}
        self.results_seen = 0
        self.router = None
        self.version = ""

    def setup(self):
        w = self.work
        os.makedirs(w, exist_ok=True)
        self.port = free_port_pair()
        self.router = self.ctx.socket(zmq.ROUTER)
        self.router.linger = 0
        self.router.rcvhwm = 4
        self.router.sndhwm = 0
        self.router.setsockopt(zmq.ROUTER_MANDATORY, 1)
        self.router.bind("tcp://127.0.0.1:%d" % self.port)
        self.worker = Proc("worker", [self.cfg.strata, "worker", "--connect",
                                      "tcp://127.0.0.1:%d" % self.port, "--threads", "1"],
                           os.path.join(w, "worker.log"), w)
        self.procs = [self.worker]
        self.rss_bound_kb = 150 * 1024
        self.rss_what = "150 MB"
        self.start_worker()
        self.ref = None
        ok, why = self.verify(first=True)
        if not ok:
            self.fault("worker: wrong from the start", why, show_round=False, tails=[self.worker])

    def start_worker(self):
        self.peer = None
        self.worker.start()
        end = time.monotonic() + 30 * self.slow
        while self.peer is None and time.monotonic() < end and self.worker.alive():
            self.tick(force=True)
            time.sleep(0.01)
        if self.peer is None:
            raise RuntimeError("no HELLO from the worker: %s" % " | ".join(self.worker.tail(10)))

    def to_worker(self, frames, what=None):
        if self.peer is None:
            return False
        try:
            self.router.send_multipart([self.peer] + list(frames), flags=zmq.NOBLOCK,
                                       copy=sum(len(f) for f in frames) < 65536)
        except zmq.ZMQError:
            return False  # gone (reconnecting) or full
        self.msgs += 1
        self.count()
        self.bytes += sum(len(f) for f in frames)
        if self.recording is not None:
            self.recording.append((None, None, [bytes(f) for f in frames]))
        if what is not None:
            self.note(what)
        return True

    def tick(self, force=False):
        if self.reading or force:
            for _ in range(2000):
                try:
                    frames = self.router.recv_multipart(zmq.NOBLOCK)
                except zmq.ZMQError:
                    break
                self.on_worker(frames)
        now = time.monotonic()
        if self.peer is not None and now - self.last_hb > 0.3:
            self.last_hb = now
            try:
                self.router.send_multipart([self.peer, message(HEARTBEAT)], flags=zmq.NOBLOCK)
            except zmq.ZMQError:
                pass

    def on_worker(self, frames):
        ident, body = frames[0], frames[1:]
        if len(body) != 1:
            self.notice("multi-frame message from the worker", show_frames(body))
            return
        m = unpack(body[0])
        if not isinstance(m, dict):
            self.notice("malformed message from the worker", show(body[0]))
            return
        t = m.get("t")
        if t == HELLO:
            self.peer = ident
            self.hellos += 1
            self.version = m.get("ver")
        elif t == RESULTS:
            for r in m.get("results") or []:
                self.results_seen += 1
                if r and r[0] in self.want_ids:
                    self.want_ids[r[0]] = (r[1], r[2])
                if r and r[0] in self.multi_ids:
                    self.notice("frames of a multi-frame message taken as messages",
                                "the worker ran job %d sent in a multi-frame message %s: every "
                                "message is one frame (a multipart message should be dropped "
                                "whole)" % (r[0], show_frames(self.multi_ids[r[0]])))

    def verify(self, first=False):
        """A real scan job (import os) must come back with the reference
        result within a few seconds (waiting for a reconnection first)."""
        jid = self.rng.getrandbits(62) | (1 << 62)
        self.want_ids[jid] = None
        job = message(JOBS, jobs=[[jid, JOBS_SCAN, scan_input(b"import os\n")]])
        end = time.monotonic() + (10 + 5 * self.slow)
        sent_to = None
        sent_at = 0.0
        busy = 0
        while time.monotonic() < end and self.want_ids[jid] is None:
            if not self.worker.alive():
                break
            self.tick()
            if self.peer is not None and (self.peer != sent_to or time.monotonic() - sent_at > 3):
                try:
                    self.router.send_multipart([self.peer, job], flags=zmq.NOBLOCK)
                    sent_to, sent_at = self.peer, time.monotonic()
                except zmq.ZMQError:
                    pass
            time.sleep(0.005)
            got = self.want_ids[jid]
            if got is not None and got[0] == 1 and "more than its credit" in str(got[1]):
                # the round's jobs still fill the worker's queue (past any
                # coordinator's credit, on purpose): ask again shortly
                busy += 1
                self.want_ids[jid] = None
                sent_at = time.monotonic() - 2.8
        if busy and self.cfg.verbose:
            say("  the verification job was refused %d times: the worker's queue was full" % busy)
        got = self.want_ids.pop(jid)
        if got is None:
            where = ("the worker is gone" if not self.worker.alive() else "sent to %s"
                     % (show(sent_to) if sent_to else "nobody: no HELLO"))
            return False, ("no RESULTS for a scan job of b'import os\\n' in %.0f s (%s)"
                           % (10 + 5 * self.slow, where))
        status, data = got
        if first:
            if status != 0:
                return False, "the reference scan job failed: %r" % (data,)
            self.ref = data
            return True, ""
        if status != 0 or data != self.ref:
            return False, "the scan job of b'import os\\n' came back %s" % (
                "with status %r: %r" % (status, data) if status != 0 else
                "with another result (%s, want %s)" % (show(data), show(self.ref)))
        return True, ""

    def ended_as_told(self, p):
        return p is self.worker and self.refused_for_good()

    def refused_for_good(self):
        """Whether the worker ended as it should on a REFUSED without retry
        (status 2, saying so): a random byte change can make one."""
        return self.worker.p.returncode == 2 and any(
            "refused by the coordinator" in line for line in self.worker.tail(3))

    def between_rounds(self):
        if len(self.multi_ids) > 1000:
            self.multi_ids.clear()
        if not self.worker.alive():
            if self.refused_for_good():
                self.notice("worker ended on a REFUSED without retry",
                            "as it should (exit 2); started again")
            else:
                self.fault("worker: died", status_text(self.worker.p.returncode),
                           tails=[self.worker])
            self.scan_logs()
            self.start_worker()
            return
        self.scan_logs()
        ok, why = self.verify()
        if not ok:
            self.fault("worker: died" if not self.worker.alive() else "worker: no right answer",
                       why, tails=[self.worker])
            self.scan_logs()
            if self.worker.alive():
                self.worker.stop(2.0)
            self.start_worker()
            return
        self.check_rss()
        self.check_log_growth()

    def sigterm_mid_batch(self):
        rng = random.Random(self.rng.getrandbits(48))
        self.log_entries = [["sigterm_mid_batch", 0, [], 0]]
        self.current = self.log_entries[0]
        jobs = [[rng.getrandbits(63), JOBS_SCAN, scan_input(rand_source(rng, "t%d" % i))]
                for i in range(300)]
        self.to_worker([message(JOBS, jobs=jobs)], "to the worker: JOBS of 300 scan jobs")
        delay = rng.uniform(0.0, 0.3)
        end = time.monotonic() + delay
        while time.monotonic() < end:
            self.tick()
            time.sleep(0.002)
        self.note("(SIGTERM %.0f ms later)" % (delay * 1000))
        self.stop_check(self.worker, "with 300 scan jobs queued")
        self.current = None
        self.scan_logs()
        self.start_worker()

    def daemon(self):
        return self.worker

    def close(self):
        if self.router is not None:
            self.router.close(linger=0)
        super().close()


# ---- main ------------------------------------------------------------------------------


def make_target(name, cfg, work, seed):
    if name == "coord":
        return CoordTarget(cfg, work, seed, keys=False)
    if name == "coord-keys":
        return CoordTarget(cfg, work, seed, keys=True)
    return WorkerTarget(cfg, work, seed)


# Actions whose messages do not depend on answers: their recorded messages
# can be replayed on their own and bisected.
STATELESS = {"junk_frames", "junk_msgpack", "other_protocol", "upload_without_submit",
             "w_junk_frames", "w_junk_msgpack", "w_client_msgs", "x_junk_frames",
             "x_junk_msgpack", "x_jobs_garbage", "x_client_msgs", "x_multi_frame"}


def try_alone(cfg, name, work, seed, kind, plan=None, msgs=None):
    """Fresh daemons, then the plan's actions or the messages alone: whether
    a fault of this kind comes, and the messages sent."""
    t = make_target(name, cfg, work, seed)
    t.recording = []
    try:
        with quiet():
            t.setup()
            t.recording = []
            if plan is not None:
                t.replay(plan)
            else:
                t.replay_messages(msgs)
        return any(f.kind == kind for f in t.faults), t.recording
    except Exception as e:  # a set-up failure says nothing about the action
        say("  minimize: %s" % e)
        return False, []
    finally:
        t.close()
        shutil.rmtree(work, ignore_errors=True)


def minimize(cfg, name, work, seed, fault):
    """Runs each action of the faulty round alone against fresh daemons;
    for an action that reproduces the fault alone and whose messages do not
    depend on answers, halves its messages while the fault stays. Returns
    [(action, seed, messages)] (messages: the smallest set found, or None)."""
    found = []
    n = 0
    for aname, aseed, _, _ in fault.actions:
        if aname in ("sigterm_mid_batch", "starvation_check", "messages"):
            continue  # checks of their own, not actions
        n += 1
        hit, msgs = try_alone(cfg, name, os.path.join(work, "min%d" % n), seed, fault.kind,
                              plan=[(aname, aseed)])
        if not hit:
            continue
        if aname not in STATELESS or not msgs:
            found.append((aname, aseed, None))
            continue
        while len(msgs) > 1:  # keep a half that still does it, else try the singles
            half = len(msgs) // 2
            for part in (msgs[:half], msgs[half:]):
                n += 1
                if try_alone(cfg, name, os.path.join(work, "min%d" % n), seed, fault.kind,
                             msgs=part)[0]:
                    msgs = part
                    break
            else:
                break
        found.append((aname, aseed, msgs))
    return found


class quiet:
    """Silences say() (stdout) inside a with-block."""

    def __enter__(self):
        self.old = sys.stdout
        sys.stdout = open(os.devnull, "w")

    def __exit__(self, *a):
        sys.stdout.close()
        sys.stdout = self.old


def parse_args(argv):
    ap = argparse.ArgumentParser(description="Socket-level fuzzer for strata's daemons.")
    ap.add_argument("--strata", required=True, help="the strata binary")
    ap.add_argument("--target", default="all",
                    help="coord, coord-keys, worker or all (default), comma-separated")
    ap.add_argument("--seconds", type=float, default=20.0, help="fuzzing time per target")
    ap.add_argument("--seed", type=int, default=None, help="replay a run (printed at start)")
    ap.add_argument("--workdir", default=None, help="keep daemons' logs and state here")
    ap.add_argument("--baseline", choices=["fixture", "stdlib"], default="fixture",
                    help="coordinator RSS bound: its peak after this batch + 100 MB")
    ap.add_argument("--log-limit-kb", type=int, default=0,
                    help="a daemon's log may grow to this (default 512 KB + 8 KB/s, <= 4 MB)")
    ap.add_argument("--only", default="", help="only these actions (comma-separated)")
    ap.add_argument("--skip", default="", help="not these actions (comma-separated)")
    ap.add_argument("--replay", default="", help="NAME:SEED,... run these actions once")
    ap.add_argument("--minimize", action="store_true",
                    help="after a fault, find which action of its round is enough alone")
    ap.add_argument("--list-actions", action="store_true")
    ap.add_argument("--verbose", action="store_true")
    cfg = ap.parse_args(argv)
    cfg.strata = os.path.abspath(cfg.strata)
    cfg.only = set(x for x in cfg.only.split(",") if x)
    cfg.skip = set(x for x in cfg.skip.split(",") if x)
    cfg.targets = (["coord", "coord-keys", "worker"] if cfg.target == "all"
                   else cfg.target.split(","))
    for t in cfg.targets:
        if t not in ("coord", "coord-keys", "worker"):
            ap.error("unknown target %s" % t)
    cfg.log_limit = cfg.log_limit_kb * 1024 or min(4 << 20, (512 << 10) + int(8192 * cfg.seconds))
    return cfg


def main(argv):
    cfg = parse_args(argv)
    if cfg.list_actions:
        for name, acts in (("coord", CoordTarget.actions), ("coord-keys", {"k_bad_key": 0}),
                           ("worker", WorkerTarget.actions)):
            say("%s: %s" % (name, " ".join(sorted(acts))))
        return 0
    if not os.access(cfg.strata, os.X_OK):
        sys.stderr.write("sockfuzz: %s is not an executable\n" % cfg.strata)
        return 2
    cfg.asan = is_asan(cfg.strata)
    seed = cfg.seed if cfg.seed is not None else int.from_bytes(os.urandom(4), "big")
    work = cfg.workdir or tempfile.mkdtemp(prefix="sockfuzz.")
    os.makedirs(work, exist_ok=True)
    say("sockfuzz: seed %d (replay: --seed %d), work dir %s%s" %
        (seed, seed, work, ", AddressSanitizer build: RSS bounds not enforced" if cfg.asan else ""))
    total = {"rounds": 0, "msgs": 0, "faults": 0}
    status = 0
    for name in cfg.targets:
        tw = os.path.join(work, name)
        t = make_target(name, cfg, tw, seed)
        t0 = time.monotonic()
        try:
            try:
                t.setup()
            except (RuntimeError, OSError, subprocess.SubprocessError) as e:
                say("sockfuzz %s: set-up failed: %s" % (name, e))
                for p in t.procs:
                    for line in p.tail(30):
                        say("    | " + line)
                status = max(status, 2)
                continue
            if cfg.replay:
                plan = []
                for item in cfg.replay.split(","):
                    aname, _, aseed = item.partition(":")
                    if aname not in t.actions:
                        say("sockfuzz %s: no action %s" % (name, aname))
                        continue
                    plan.append((aname, int(aseed or 0)))
                t.replay(plan)
                t.round_no += 1
                t.final_sigterm()
            else:
                t.fuzz()
        finally:
            t.close()
        peak = max((p.peak_kb for p in t.procs[:1]), default=0)
        say("sockfuzz %s: %d rounds, %d messages (%.1f MB) in %.0f s, %d fault%s, peak RSS %.1f MB "
            "(bound %s), log %d KB%s%s" %
            (name, t.rounds, t.msgs, t.bytes / 1e6, time.monotonic() - t0, len(t.faults),
             "" if len(t.faults) == 1 else "s", peak / 1024,
             ("%.1f MB" % (t.rss_bound_kb / 1024)) if not cfg.asan else "not enforced under ASan",
             t.procs[0].log_size() // 1024 if t.procs else 0,
             (", real worker peak %.1f MB" % (t.procs[1].peak_kb / 1024))
             if len(t.procs) > 1 else "",
             (", slowest verification %.1f s" % t.verify_max)
             if getattr(t, "verify_max", 0) else ""))
        if t.faults:
            status = max(status, 1)
            kinds = {}
            for f in t.faults:
                kinds[f.kind] = kinds.get(f.kind, 0) + 1
            for k, n in kinds.items():
                say("  %d x %s" % (n, k))
            for p in t.procs:
                if p.name in t.tails_shown:
                    continue
                say("  last lines of %s (%s):" % (p.name, p.log))
                for line in p.tail(30):
                    say("    | " + line)
            if cfg.minimize:
                seen = set()
                for f in t.faults:
                    if f.kind in seen or not f.actions:
                        continue
                    seen.add(f.kind)
                    for aname, aseed, msgs in minimize(cfg, name, tw, seed, f):
                        say("  minimal: '%s' alone is enough: --target %s --replay %s:%d"
                            % (f.kind, name, aname, aseed))
                        if msgs:
                            say("    and of its messages these %d are enough (from one socket, "
                                "in this order):" % len(msgs))
                            for role, key, frames in msgs[:10]:
                                keyed = name == "coord-keys" and key
                                say("      > %s%s: %s" % (role or "to the worker",
                                                      " (key %s)" % key if keyed else "",
                                                      show_frames(frames)))
        total["rounds"] += t.rounds
        total["msgs"] += t.msgs
        total["faults"] += len(t.faults)
    say("sockfuzz: %d target(s), %d rounds, %d messages, %d fault(s); seed %d%s" %
        (len(cfg.targets), total["rounds"], total["msgs"], total["faults"], seed,
         "" if status == 0 else "; logs in %s" % work))
    if status == 0 and cfg.workdir is None:
        shutil.rmtree(work, ignore_errors=True)
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
