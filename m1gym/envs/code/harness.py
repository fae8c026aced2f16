"""Call-based test harness, copied into the sandbox (root-owned, read-only) and run once per test.

It reads one JSON request from stdin ({"fn", "args", "marker"}), keeps a private duplicate of the
stdout pipe, points fd 1 at stderr so the program's own prints can not reach the result channel,
imports ``solution.py``, calls the function, and writes ``marker + JSON(result) + marker`` to the
private pipe, then ``os._exit(0)`` (the program's atexit hooks never run after it).

The harness never sees the expected value and never decides pass/fail: the host parses the framed
result and compares it with the expected value outside the sandbox. A program that exits early,
raises (SkipTest included), returns an object that is not plain JSON data (e.g. with a forged
``__eq__``), or writes its own frames produces no single well-formed result and fails.
"""

import json
import os
import sys


def _plain(value, depth=0):
    """Copy ``value`` into plain JSON data, refusing subclasses and foreign types."""
    if depth > 100:
        raise TypeError("result nested too deeply")
    t = type(value)
    if value is None or t in (bool, int, str):
        return value
    if t is float:
        return value
    if t in (list, tuple):
        return [_plain(v, depth + 1) for v in value]
    if t is dict:
        out = {}
        for k, v in value.items():
            if type(k) is not str:
                raise TypeError("dict keys must be str")
            out[k] = _plain(v, depth + 1)
        return out
    raise TypeError("result of type %s is not plain JSON data" % t.__name__)


def main():
    request = json.loads(sys.stdin.buffer.read())
    marker = request.pop("marker").encode()
    dumps = json.dumps
    channel = os.dup(1)
    os.dup2(2, 1)
    write, exit_now = os.write, os._exit
    sys.path.insert(0, os.getcwd())
    import importlib.util

    spec = importlib.util.spec_from_file_location("solution", os.path.join(os.getcwd(), "solution.py"))
    module = importlib.util.module_from_spec(spec)
    sys.modules["solution"] = module
    spec.loader.exec_module(module)
    fn = getattr(module, request["fn"], None)
    if fn is None and isinstance(getattr(module, "Solution", None), type):
        fn = getattr(module.Solution(), request["fn"], None)
    if not callable(fn):
        raise SystemExit("function %r not found (define it at module level or in class Solution)" % request["fn"])
    result = fn(*request["args"])
    payload = dumps(_plain(result), allow_nan=True).encode()
    write(channel, marker + payload + marker)
    exit_now(0)


if __name__ == "__main__":
    main()
