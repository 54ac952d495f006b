"""lsp_client.py - a small LSP client over pipes, for test_lsp_server.sh.

Standard library only. Starts `strata lsp`, frames messages with
Content-Length, reads what the server sends on a thread, and lets a test
wait for a response or a notification that satisfies a predicate.
"""
import json
import os
import queue
import subprocess
import threading
import time


class Server:
    def __init__(self, argv, cwd=None, env=None):
        self.p = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, cwd=cwd, env=env)
        self.q = queue.Queue()
        self.seen = []
        self.next_id = 0
        self.t = threading.Thread(target=self._read, daemon=True)
        self.t.start()
        self.e = threading.Thread(target=self._err, daemon=True)
        self.stderr = []
        self.e.start()

    def _err(self):
        for line in self.p.stderr:
            self.stderr.append(line.decode("utf-8", "replace"))

    def _read(self):
        f = self.p.stdout
        while True:
            length = None
            while True:
                line = f.readline()
                if not line:
                    self.q.put(None)
                    return
                line = line.strip()
                if not line:
                    break
                k, _, v = line.partition(b":")
                if k.lower() == b"content-length":
                    length = int(v)
            body = f.read(length)
            msg = json.loads(body)
            # answer the server's requests (progress tokens, registrations)
            if "method" in msg and "id" in msg:
                self.send({"jsonrpc": "2.0", "id": msg["id"], "result": None})
            self.q.put(msg)

    def send_raw(self, data):
        self.p.stdin.write(data)
        self.p.stdin.flush()

    def send(self, msg):
        body = json.dumps(msg).encode()
        self.send_raw(b"Content-Length: %d\r\n\r\n" % len(body) + body)

    def notify(self, method, params):
        self.send({"jsonrpc": "2.0", "method": method, "params": params})

    def request(self, method, params):
        self.next_id += 1
        self.send({"jsonrpc": "2.0", "id": self.next_id, "method": method, "params": params})
        return self.next_id

    def wait(self, pred, timeout=30):
        """The first message (seen before and not taken, or new) for which
        pred is true; None on timeout or EOF."""
        for i, m in enumerate(self.seen):
            if pred(m):
                del self.seen[i]
                return m
        end = time.time() + timeout
        while True:
            left = end - time.time()
            if left <= 0:
                return None
            try:
                m = self.q.get(timeout=left)
            except queue.Empty:
                return None
            if m is None:
                self.q.put(None)
                return None
            if pred(m):
                return m
            self.seen.append(m)

    def response(self, id_, timeout=30):
        return self.wait(lambda m: m.get("id") == id_ and "method" not in m, timeout)

    def diags(self, uri, pred=lambda d: True, timeout=30):
        """The next publishDiagnostics for uri whose list satisfies pred."""
        m = self.wait(lambda m: m.get("method") == "textDocument/publishDiagnostics"
                      and m["params"]["uri"] == uri and pred(m["params"]["diagnostics"]),
                      timeout)
        return None if m is None else m["params"]["diagnostics"]

    def drop_seen(self):
        self.seen = []

    def exit_code(self, timeout=10):
        try:
            return self.p.wait(timeout)
        except subprocess.TimeoutExpired:
            self.p.kill()
            return None


def uri(path):
    return "file://" + os.path.abspath(path)


def codes(diags):
    return sorted(d["code"] for d in diags)
