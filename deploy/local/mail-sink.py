#!/usr/bin/env python3
"""Local stand-in for a mail service: accepts the JSON POSTs of Kratos's HTTP courier.

Usage: python3 deploy/local/mail-sink.py [PORT] [FILE]   (defaults: 4437, stdout)

Every POST body is written as one JSON line (to FILE if given, else stdout) and answered with
200 {}; Kratos counts any 2xx as delivered. GET /messages returns every message received so far
as a JSON array, newest last. Listens on 127.0.0.1 only.
"""
import http.server
import json
import sys
import threading

PORT = int(sys.argv[1]) if len(sys.argv) > 1 else 4437
OUT = sys.argv[2] if len(sys.argv) > 2 else None
messages = []
lock = threading.Lock()


class Handler(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length)
        try:
            message = json.loads(raw)
        except ValueError:
            message = {"unparsed": raw.decode("utf-8", "replace")}
        line = json.dumps(message)
        with lock:
            messages.append(message)
            if OUT:
                with open(OUT, "a", encoding="utf-8") as f:
                    f.write(line + "\n")
            else:
                print(line, flush=True)
        self.reply(200, b"{}")

    def do_GET(self):
        if self.path != "/messages":
            self.reply(404, b'{"error":"not found"}')
            return
        with lock:
            body = json.dumps(messages).encode()
        self.reply(200, body)

    def reply(self, status, body):
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


if __name__ == "__main__":
    http.server.ThreadingHTTPServer(("127.0.0.1", PORT), Handler).serve_forever()
