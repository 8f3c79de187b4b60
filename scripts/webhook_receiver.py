"""A webhook receiver for trying webhooks out: prints each push and answers 200.

    python3 scripts/webhook_receiver.py [PORT] [SECRET]

With the webhook's SECRET it also checks Moneybird-Signature, as a real receiver must (README
"Webhooks"). Standard library only."""

import hashlib
import hmac
import json
import sys
import time
from http.server import BaseHTTPRequestHandler, HTTPServer


def verified(secret: str, header: str, raw_body: bytes, tolerance: int = 300) -> bool:
    parts = dict(item.split("=", 1) for item in header.split(","))
    expected = hmac.new(secret.encode(), parts["t"].encode() + b"." + raw_body, hashlib.sha256)
    fresh = abs(time.time() - int(parts["t"])) <= tolerance  # refuse replays of old pushes
    return fresh and hmac.compare_digest(expected.hexdigest(), parts["v1"])


class Receiver(BaseHTTPRequestHandler):
    secret = ""

    def do_POST(self):
        raw = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        body = json.loads(raw)
        signature = self.headers.get("Moneybird-Signature", "")
        check = ""
        if self.secret:
            check = " signature ok" if verified(self.secret, signature, raw) else " BAD SIGNATURE"
        print(
            f"{body['action']} {body['entity_type']} {body['entity_id']}"
            f" key={self.headers.get('Idempotency-Key')}{check}",
            flush=True,
        )
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


if __name__ == "__main__":
    port = int(sys.argv[1]) if len(sys.argv) > 1 else 9000
    Receiver.secret = sys.argv[2] if len(sys.argv) > 2 else ""
    print(f"Listening on http://127.0.0.1:{port}/hook", flush=True)
    HTTPServer(("127.0.0.1", port), Receiver).serve_forever()
