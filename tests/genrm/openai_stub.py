"""A real HTTP server on loopback that speaks the OpenAI chat-completions wire format and misbehaves
on demand: a test double standing in for a hosted judge API (named so)."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class StubOpenAIServer:
    def __init__(self, reply=lambda messages: "Verdict: [[A]]", served_model=None):
        self.reply = reply
        self.served_model = served_model  # like vLLM: a request naming another model gets 404
        self.bodies = []
        self.fail_next = 0        # answer 503 this many times
        self.delay_s = 0.0
        self.requests = 0
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *a):
                pass

            def do_POST(self):
                server.requests += 1
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                server.bodies.append(body)
                if server.served_model and body.get("model", server.served_model) != server.served_model:
                    self.send_response(404)
                    self.end_headers()
                    return
                if server.fail_next > 0:
                    server.fail_next -= 1
                    self.send_response(503)
                    self.end_headers()
                    return
                time.sleep(server.delay_s)
                text = server.reply(body["messages"])
                out = json.dumps({"choices": [{"index": 0, "message": {"role": "assistant", "content": text},
                                               "finish_reason": "stop"}]}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(out)))
                self.end_headers()
                self.wfile.write(out)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()
