import pytest
from django.conf import settings

from medicen_portal.celery import ping

pytestmark = pytest.mark.worker


def test_a_real_worker_executes_a_task_sent_through_the_broker(celery_worker_process):
    result = ping.delay()

    assert result.get(timeout=60) == "pong"
    assert celery_worker_process.poll() is None


def test_broker_is_redis_when_redis_url_is_set():
    if settings.REDIS_URL:
        assert settings.CELERY_BROKER_URL.startswith("redis")
    else:
        assert settings.CELERY_BROKER_URL == "filesystem://"
