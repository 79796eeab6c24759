"""A private, real `redis-server` for tests, and a minimal exact RESP2 client.

What: `RedisServer` starts `redis-server` on 127.0.0.1 on a free port in its
own temp dir with `--save ""`, `appendonly yes`, `appendfsync always` and
`aof-use-rdb-preamble no`, and stops it by PID. `RespClient` speaks RESP2 and
keeps the reply shapes the model uses (status -> str, bulk -> bytes, error ->
`RedisError` returned, nil -> None), which hiredis cannot: it folds status and
bulk replies together, and the differential compares exact shapes.

Why: the live server is the model's second oracle (README "Live Redis
oracle"). `require_redis_server()` skips with a clear reason when no server
is installed, except under CI=true, where a missing server is a failure.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
from collections import deque
from pathlib import Path
from typing import Any

import pytest

from impl.resp import encode_frame

__all__ = ["RedisError", "RedisServer", "RespClient", "require_redis_server"]


class RedisError(str):
    """An error reply's full text (code included), returned rather than raised."""


def require_redis_server() -> str:
    """Path of `redis-server`; skip (or fail under CI=true) when none is installed."""
    path = shutil.which("redis-server")
    if path is None:
        reason = (
            "redis-server is not installed "
            "(apt-get update -qq && apt-get install -y -qq redis-server)"
        )
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI=true: {reason}; .ci/run installs it, so this is a broken CI image")
        pytest.skip(reason)
    return path


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class RespClient:
    """One blocking RESP2 connection; `call(*argv)` returns the decoded reply."""

    def __init__(self, port: int) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port))
        self.file = self.sock.makefile("rb")

    def close(self) -> None:
        self.file.close()
        self.sock.close()

    def send(self, *argv: bytes | str | int) -> None:
        self.sock.sendall(
            encode_frame([a if isinstance(a, bytes) else str(a).encode() for a in argv])
        )

    def read(self) -> Any:
        line = self.file.readline()
        if not line.endswith(b"\r\n"):
            raise ConnectionError("redis-server closed the connection")
        kind, body = line[:1], line[1:-2]
        if kind == b"+":
            return body.decode("latin-1")
        if kind == b"-":
            return RedisError(body.decode("latin-1"))
        if kind == b":":
            return int(body)
        if kind == b"$":
            n = int(body)
            if n < 0:
                return None
            data = self.file.read(n + 2)
            return data[:-2]
        if kind == b"*":
            n = int(body)
            return None if n < 0 else [self.read() for _ in range(n)]
        raise ConnectionError(f"unexpected RESP type byte {kind!r}")

    def call(self, *argv: bytes | str | int) -> Any:
        self.send(*argv)
        return self.read()


class RedisServer:
    """A private redis-server; use as a context manager."""

    def __init__(self, extra: tuple[str, ...] = ()) -> None:
        self.binary = require_redis_server()
        self.dir = Path(tempfile.mkdtemp(prefix="kevy-redis-"))
        self.port = _free_port()
        self.extra = extra
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        args = [
            self.binary,
            "--bind", "127.0.0.1", "--port", str(self.port), "--dir", str(self.dir),
            "--save", "", "--appendonly", "yes", "--appendfsync", "always",
            "--aof-use-rdb-preamble", "no", "--daemonize", "no",
            "--enable-debug-command", "local", "--logfile", "",
            *self.extra,
        ]  # fmt: skip
        self.proc = subprocess.Popen(
            args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL
        )
        # Ready is the server's own log line, not a polling loop: redis-server
        # prints it once the listening socket is open. The reader thread keeps
        # draining the log afterwards (a full pipe would block the server) and
        # keeps its tail for the error message of a server that cannot start.
        self.log: deque[str] = deque(maxlen=40)
        self._ready = False
        event = threading.Event()
        threading.Thread(target=self._read_log, args=(event,), daemon=True).start()
        if not event.wait(timeout=30) or not self._ready:
            self.stop()
            tail = "\n".join(self.log)
            raise RuntimeError(f"redis-server did not start on port {self.port}:\n{tail}")

    def _read_log(self, event: threading.Event) -> None:
        assert self.proc is not None and self.proc.stdout is not None
        for raw in self.proc.stdout:
            line = raw.decode("utf-8", "replace").rstrip()
            self.log.append(line)
            if not self._ready and "Ready to accept connections" in line:
                self._ready = True
                event.set()
        self.proc.stdout.close()
        event.set()  # EOF: the server exited (before or after it was ready)

    def client(self) -> RespClient:
        return RespClient(self.port)

    def version(self) -> str:
        c = self.client()
        info = c.call("INFO", "server")
        c.close()
        for line in info.decode().splitlines():
            if line.startswith("redis_version:"):
                return line.split(":", 1)[1].strip()
        raise RuntimeError("INFO server has no redis_version")

    def kill9(self) -> None:
        """SIGKILL by PID, the crash; the data dir stays for recovery."""
        if self.proc is not None and self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGKILL)
            self.proc.wait()

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.kill(self.proc.pid, signal.SIGKILL)
                self.proc.wait()

    def cleanup(self) -> None:
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self) -> RedisServer:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.cleanup()
