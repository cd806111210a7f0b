"""A standalone SMTP sink for benchmarks and fault runs: `python bench/smtp_sink.py --port P --out FILE`.

Every accepted message is appended to FILE as one JSON line (recipients, Message-ID,
subject, headers of interest). With --raw-dir, the whole message is also written there as
`<n>.eml` (n counts from 1 in the order received) and the JSON line names it (`eml`), so a
test can read the body and follow a link from it. While the file named by --fail-file exists, every message
is answered with the SMTP reply written in it (e.g. "451 4.3.0 Try again later"), so a
script can make the server fail and recover without restarting it.
"""

from __future__ import annotations

import argparse
import json
import signal
import threading
from email import message_from_bytes
from email import policy as email_policy
from pathlib import Path

from aiosmtpd.controller import Controller


class Sink:
    def __init__(self, out: Path, fail_file: Path | None, raw_dir: Path | None = None) -> None:
        self.out = out
        self.fail_file = fail_file
        self.raw_dir = raw_dir
        self.count = 0
        self.lock = threading.Lock()
        if raw_dir:
            raw_dir.mkdir(parents=True, exist_ok=True)

    async def handle_DATA(self, server, session, envelope) -> str:
        if self.fail_file and self.fail_file.exists():
            return self.fail_file.read_text().strip() or "451 4.3.0 Try again later"
        message = message_from_bytes(envelope.content, policy=email_policy.default)
        record = {
            "to": envelope.rcpt_tos,
            "message_id": message.get("Message-ID", ""),
            "subject": message.get("Subject", ""),
            "key": message.get("X-Medicen-Key", ""),
        }
        with self.lock:
            if self.raw_dir:
                self.count += 1
                raw_path = self.raw_dir / f"{self.count}.eml"
                raw_path.write_bytes(envelope.content)
                record["eml"] = str(raw_path)
            with self.out.open("a", encoding="utf-8") as handle:
                handle.write(json.dumps(record, ensure_ascii=False) + "\n")
        return "250 OK"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--fail-file", type=Path)
    parser.add_argument("--raw-dir", type=Path, help="also keep each whole message there as <n>.eml")
    args = parser.parse_args()
    controller = Controller(Sink(args.out, args.fail_file, args.raw_dir), hostname="127.0.0.1", port=args.port)
    controller.start()
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    stop.wait()
    controller.stop()


if __name__ == "__main__":
    main()
