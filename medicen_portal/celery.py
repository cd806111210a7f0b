"""The Celery application: configuration comes from the CELERY_* Django settings."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "medicen_portal.settings")

app = Celery("medicen_portal")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@app.task(name="medicen_portal.ping", ignore_result=False)
def ping() -> str:
    """Answer "pong": lets operators and tests prove a worker consumes from the broker."""
    return "pong"
