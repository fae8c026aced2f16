"""The wire protocol between the host and a container's init (``container_init.py``).

The init is attached over the container's stdin/stdout. Requests go down stdin as one JSON object
per line: ``{"op": ..., "id": n, ...}`` (ops: ping | put | run | get | reset; binary payloads
base64-encoded); responses come back as JSON lines carrying the request's ``id``, plus a ``ready``
line without one each time an init starts. Docker multiplexes the container's stdout and stderr
on the attach socket in frames with an 8-byte header (stream number, 3 zero bytes, big-endian
length); stdout frames hold the JSON lines, stderr frames the init's own diagnostics, of which the
last few KiB are kept for error messages.
"""

from __future__ import annotations

import json
import socket
import struct
import time
from typing import Any

from .base import SandboxError

STDERR_KEEP = 8192


class AttachStream:
    """JSON lines to and from one container's init over its attach socket (not thread-safe:
    one user at a time, as a session is)."""

    def __init__(self, sock, name: str):
        self._sock_ref = sock  # docker's wrapper; keeps the raw socket below it alive
        self.sock: socket.socket = getattr(sock, "_sock", sock)
        self.name = name
        self._seq = 0
        self._rbuf = bytearray()
        self._out = bytearray()
        self.stderr = bytearray()

    def _recv(self, deadline: float) -> None:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError("sandbox init did not answer in time")
        self.sock.settimeout(remaining)
        try:
            chunk = self.sock.recv(1 << 18)
        except socket.timeout:
            raise TimeoutError("sandbox init did not answer in time") from None
        if not chunk:
            tail = bytes(self.stderr[-2000:]).decode(errors="replace")
            raise SandboxError(f"sandbox container {self.name} went away" + (f": {tail}" if tail else ""))
        self._rbuf.extend(chunk)

    def read_msg(self, deadline: float) -> dict:
        """The next JSON line from the init (TimeoutError past ``deadline``)."""
        while True:
            nl = self._out.find(b"\n")
            if nl >= 0:
                line = bytes(self._out[:nl])
                del self._out[: nl + 1]
                return json.loads(line)
            while len(self._rbuf) < 8:
                self._recv(deadline)
            stream, size = self._rbuf[0], struct.unpack(">I", self._rbuf[4:8])[0]
            while len(self._rbuf) < 8 + size:
                self._recv(deadline)
            payload = bytes(self._rbuf[8: 8 + size])
            del self._rbuf[: 8 + size]
            if stream == 1:
                self._out.extend(payload)
            else:
                self.stderr.extend(payload)
                del self.stderr[:-STDERR_KEEP]

    def send(self, op: str, **fields: Any) -> int:
        """Send one request; returns its id."""
        self._seq += 1
        self.sock.sendall(json.dumps({"op": op, "id": self._seq, **fields}).encode() + b"\n")
        return self._seq

    def close(self) -> None:
        self.sock.close()
