"""Throwaway real services for end-to-end runs, load tests and fault injection.

Each run gets its own folder, PostgreSQL cluster and Redis on ports of its own, so the
machine's own services are never touched. Everything started here is stopped by
`Stack.close()` (also on Ctrl-C when used as a context manager).
"""

from __future__ import annotations

import contextlib
import glob
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from email import message_from_bytes
from email import policy as email_policy
from email.message import EmailMessage
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
PYTHON = sys.executable


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_until(predicate: Callable[[], bool], *, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what} not ready after {timeout:.0f} s")
        time.sleep(0.1)


def port_open(port: int) -> bool:
    with socket.socket() as probe:
        probe.settimeout(0.2)
        return probe.connect_ex(("127.0.0.1", port)) == 0


class TempPostgres:
    """A PostgreSQL cluster created with initdb in a temporary folder."""

    def __init__(self, root: Path, port: int) -> None:
        self.dir = root / "pgdata"
        self.port = port
        self.bin = Path(sorted(glob.glob("/usr/lib/postgresql/*/bin"))[-1])
        self.as_root = os.geteuid() == 0

    def _run(self, *args: str) -> None:
        command = [str(self.bin / args[0]), *args[1:]]
        if self.as_root:  # PostgreSQL refuses to run as root
            command = ["runuser", "-u", "postgres", "--", *command]
        subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)

    def init(self) -> None:
        self.dir.mkdir(parents=True)
        if self.as_root:
            shutil.chown(self.dir.parent, "postgres")
            shutil.chown(self.dir, "postgres")
        self._run("initdb", "-D", str(self.dir), "-U", "postgres", "--auth=trust", "-E", "UTF8")
        self.start()

    def start(self) -> None:
        options = f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200"
        self._run("pg_ctl", "-D", str(self.dir), "-l", str(self.dir / "server.log"), "-o", options, "-w", "start")

    def stop(self, mode: str = "fast") -> None:
        self._run("pg_ctl", "-D", str(self.dir), "-m", mode, "-w", "stop")

    def restart(self) -> None:
        self._run("pg_ctl", "-D", str(self.dir), "-m", "fast", "-w", "restart")

    def create_database(self, name: str) -> str:
        self._run("createdb", "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", name)
        return self.url(name)

    def url(self, name: str) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{name}"


class Process:
    """A child process with its log file, that can be stopped, killed and started again."""

    def __init__(self, name: str, command: list[str], *, env: dict[str, str], log_dir: Path, port: int | None = None):
        self.name, self.command, self.env, self.port = name, command, env, port
        self.log_path = log_dir / f"{name}.log"
        self.popen: subprocess.Popen | None = None

    def start(self, *, timeout: float = 60) -> Process:
        log = self.log_path.open("a")
        self.popen = subprocess.Popen(
            self.command, cwd=BASE_DIR, env=self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        log.close()
        if self.port:
            wait_until(lambda: port_open(self.port), timeout=timeout, what=self.name)
        return self

    @property
    def running(self) -> bool:
        return self.popen is not None and self.popen.poll() is None

    def signal(self, signum: int) -> None:
        if self.running:
            os.killpg(self.popen.pid, signum)

    def stop(self, *, timeout: float = 30) -> None:
        if not self.running:
            return
        self.signal(signal.SIGTERM)
        try:
            self.popen.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill()

    def kill(self) -> None:
        """SIGKILL the whole process group (e.g. a worker and its pool children)."""
        if self.running:
            self.signal(signal.SIGKILL)
            self.popen.wait(timeout=30)


class Stack:
    """PostgreSQL, Redis, an SMTP sink, and the portal's web, worker and beat processes."""

    def __init__(self, name: str, *, redis_port: int | None = None, pg_port: int | None = None) -> None:
        self.root = BASE_DIR / "var" / name
        shutil.rmtree(self.root, ignore_errors=True)
        self.root.mkdir(parents=True)
        self.logs = self.root / "logs"
        self.logs.mkdir()
        self.pg = TempPostgres(self.root, pg_port or free_port())
        self.redis_port = redis_port or free_port()
        self.smtp_port = free_port()
        self.web_port = free_port()
        self.mail_file = self.root / "mail.jsonl"
        self.mail_dir = self.root / "mail"  # each whole message, as <n>.eml
        self.smtp_fail_file = self.root / "smtp-fail"
        self.processes: dict[str, Process] = {}
        self.env: dict[str, str] = {}

    # --- services -----------------------------------------------------------------
    def start_services(self, *, database: str = "medicen") -> None:
        self.pg.init()
        database_url = self.pg.create_database(database)
        self.redis = Process(
            "redis",
            ["redis-server", "--port", str(self.redis_port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
            env=dict(os.environ),
            log_dir=self.logs,
            port=self.redis_port,
        ).start()
        self.smtp = Process(
            "smtp",
            [PYTHON, "bench/smtp_sink.py", "--port", str(self.smtp_port), "--out", str(self.mail_file),
             "--fail-file", str(self.smtp_fail_file), "--raw-dir", str(self.mail_dir)],
            env=dict(os.environ),
            log_dir=self.logs,
            port=self.smtp_port,
        ).start()  # fmt: skip
        self.env = {
            **{k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_", "REDIS_", "EMAIL_"))},
            "DEBUG": "false",
            "SECRET_KEY": "stack-" + "k" * 60,
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
            "VAR_DIR": str(self.root / "var"),
            "DATABASE_URL": database_url,
            "REDIS_URL": f"redis://127.0.0.1:{self.redis_port}/0",
            "EMAIL_URL": f"smtp://127.0.0.1:{self.smtp_port}",
            "SITE_URL": f"http://127.0.0.1:{self.web_port}",
            "DEMO_PASSWORD": "demo-password-2026",
            "CELERY_TASK_ALWAYS_EAGER": "false",
        }

    def manage(self, *args: str, timeout: float = 600) -> str:
        result = subprocess.run(
            [PYTHON, "manage.py", *args], cwd=BASE_DIR, env=self.env, capture_output=True, text=True, timeout=timeout
        )
        if result.returncode:
            raise RuntimeError(f"manage.py {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
        return result.stdout

    def prepare_portal(self, *, members: int = 440, projects: int = 335) -> None:
        self.manage("migrate", "--no-input")
        self.manage("collectstatic", "--no-input")
        self.manage("seed_medicen")
        self.manage("seed_demo", "--members", str(members), "--projects", str(projects))

    # --- portal processes -------------------------------------------------------------
    def start_web(self, *, workers: int = 3, threads: int = 1) -> Process:
        command = [PYTHON, "-m", "gunicorn", "medicen_portal.wsgi", "--bind", f"127.0.0.1:{self.web_port}",
                   "--workers", str(workers), "--threads", str(threads), "--timeout", "60"]  # fmt: skip
        return self._start("web", command, port=self.web_port)

    def start_worker(self, *, name: str = "worker", concurrency: int = 2) -> Process:
        command = [PYTHON, "-m", "celery", "-A", "medicen_portal", "worker", "--loglevel=INFO",
                   f"--concurrency={concurrency}", f"--hostname={name}@%h"]  # fmt: skip
        return self._start(name, command)

    def start_beat(self) -> Process:
        schedule = str(self.root / "celerybeat-schedule")
        return self._start("beat", [PYTHON, "-m", "celery", "-A", "medicen_portal", "beat", "-s", schedule])

    def _start(self, name: str, command: list[str], port: int | None = None) -> Process:
        process = Process(name, command, env=self.env, log_dir=self.logs, port=port).start()
        self.processes[name] = process
        return process

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.web_port}"

    # --- the SMTP sink ------------------------------------------------------------------
    def mails(self) -> list[dict]:
        if not self.mail_file.exists():
            return []
        return [json.loads(line) for line in self.mail_file.read_text(encoding="utf-8").splitlines() if line]

    def mail_message(self, record: dict) -> EmailMessage:
        """The whole message the sink stored for one record of `mails()` (headers, body, attachments)."""
        return message_from_bytes(Path(record["eml"]).read_bytes(), policy=email_policy.default)

    def smtp_fail(self, reply: str | None) -> None:
        """Make the sink answer every message with `reply` (e.g. "421 …"), or recover with None."""
        if reply:
            self.smtp_fail_file.write_text(reply)
        else:
            self.smtp_fail_file.unlink(missing_ok=True)

    # --- teardown -------------------------------------------------------------------------
    def close(self) -> None:
        for process in reversed(list(self.processes.values())):
            process.stop()
        for service in ("smtp", "redis"):
            if hasattr(self, service):
                getattr(self, service).stop()
        with contextlib.suppress(subprocess.CalledProcessError, FileNotFoundError):
            self.pg.stop("immediate")

    def __enter__(self) -> Stack:
        # A SIGTERM (timeout, CI stop) unwinds through __exit__ so nothing is left running.
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
        return self

    def __exit__(self, *exc) -> None:
        self.close()
