import os
import subprocess
import sys
import time
from pathlib import Path

from tests.support import free_port_for_tests

BASE_DIR = Path(__file__).resolve().parents[2]

SCRIPT = """
import django, time
django.setup()
from django.db import transaction
from medicen_portal.celery import app

@app.task(name="probe")  # like every portal task: no result stored
def probe():
    pass

started = time.monotonic()
with transaction.atomic():
    probe.delay_on_commit()
print(f"committed in {time.monotonic() - started:.1f} s")
"""


def test_an_enqueue_after_commit_does_not_fail_when_the_broker_is_down():
    env = {
        **os.environ,
        "REDIS_URL": f"redis://127.0.0.1:{free_port_for_tests()}/0",
        "DJANGO_SETTINGS_MODULE": "medicen_portal.settings",
    }
    started = time.monotonic()

    result = subprocess.run(
        [sys.executable, "-c", SCRIPT], cwd=BASE_DIR, env=env, capture_output=True, text=True, timeout=60
    )

    assert result.returncode == 0, result.stderr
    assert "committed in" in result.stdout
    assert "Broker unreachable, probe() left for the periodic scan" in result.stderr
    assert time.monotonic() - started < 20
