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
import time
from pathlib import Path
from typing import Any

import pytest

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
        parts = [a if isinstance(a, bytes) else str(a).encode() for a in argv]
        out = b"*%d\r\n" % len(parts) + b"".join(b"$%d\r\n%s\r\n" % (len(p), p) for p in parts)
        self.sock.sendall(out)

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
            "--enable-debug-command", "local", "--logfile", str(self.dir / "redis.log"),
            *self.extra,
        ]  # fmt: skip
        self.proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        # Poll for readiness: the server has started when it accepts and answers PING.
        # Bounded by a deadline so a server that cannot start fails, never hangs.
        deadline = time.monotonic() + 20
        while True:
            try:
                client = RespClient(self.port)
                if client.call("PING") == "PONG":
                    client.close()
                    return
                client.close()
            except OSError:
                pass
            if self.proc.poll() is not None or time.monotonic() > deadline:
                log = (self.dir / "redis.log").read_text(errors="replace")[-2000:]
                self.stop()
                raise RuntimeError(f"redis-server did not start on port {self.port}: {log}")
            time.sleep(0.02)

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
