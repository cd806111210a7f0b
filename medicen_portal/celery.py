"""The Celery application: configuration comes from the CELERY_* Django settings."""

from __future__ import annotations

import functools
import logging
import os

from celery import Celery
from celery.contrib.django.task import DjangoTask
from django.db import transaction
from kombu.exceptions import OperationalError

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "medicen_portal.settings")

logger = logging.getLogger(__name__)


class PortalTask(DjangoTask):
    """Tasks enqueued after commit never break the web request that committed.

    The database row is the truth: what a task would do is recorded before it is enqueued,
    and every app's periodic scan picks up rows whose task never reached the broker. So when
    the broker is down the request still succeeds, and the work goes out once it is back.
    """

    def delay_on_commit(self, *args, **kwargs) -> None:
        transaction.on_commit(functools.partial(self._enqueue_quietly, args, kwargs, {}))

    def _enqueue_quietly(self, args, kwargs, options) -> None:
        try:
            self.apply_async(args, kwargs, **options)
        except (OperationalError, ConnectionError, OSError) as error:
            logger.warning("Broker unreachable, %s%s left for the periodic scan: %s", self.name, tuple(args), error)


app = Celery("medicen_portal", task_cls=PortalTask)
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@app.task(name="medicen_portal.ping", ignore_result=False)
def ping() -> str:
    """Answer "pong": lets operators and tests prove a worker consumes from the broker."""
    return "pong"
