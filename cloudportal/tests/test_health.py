"""`/healthz` keeps its answer for HEALTHZ_CACHE_SECONDS per process: a load balancer's
probes in that window ask neither the database nor the broker, and an outage or a
recovery is reported once the window has passed."""

import pytest
from django.db import OperationalError, connection

from cloudportal import health

OK = {"status": "ok", "database": "ok", "broker": "ok"}


@pytest.fixture
def clock(monkeypatch):
    """The kept answer's clock, moved by hand: `clock.now += 1.5`."""

    class Clock:
        now = 1000.0

    monkeypatch.setattr(health, "_clock", lambda: Clock.now)
    health.health_forget()
    yield Clock
    health.health_forget()


@pytest.fixture
def broker(settings, celery_conf):
    """Tasks go through the test's Redis broker, as in production."""
    settings.CELERY_TASK_ALWAYS_EAGER = False
    settings.HEALTHZ_CACHE_SECONDS = 1
    celery_conf(broker_url=settings.CELERY_BROKER_URL)
    return celery_conf


def _refuse(execute, sql, params, many, context):
    raise OperationalError("connection refused")


@pytest.mark.django_db
def test_a_probe_within_the_window_asks_nothing_and_one_after_it_asks_again(
    client, broker, clock, django_assert_num_queries
):
    with django_assert_num_queries(1):
        first = client.get("/healthz")
    clock.now += 0.9
    with django_assert_num_queries(0):
        second = client.get("/healthz")
    clock.now += 0.2
    with django_assert_num_queries(1):
        third = client.get("/healthz")

    for response in (first, second, third):
        assert response.status_code == 200
        assert response.json() == OK
        assert response["Content-Type"] == "application/json"
        assert response["Cache-Control"] == "max-age=0, no-cache, no-store, must-revalidate, private"
        assert response.has_header("Expires")


@pytest.mark.django_db
def test_a_broker_outage_and_its_end_are_reported_after_the_window(client, broker, clock, settings):
    assert client.get("/healthz").status_code == 200

    broker(broker_url="redis://127.0.0.1:1/0")
    assert client.get("/healthz").status_code == 200  # the kept answer, within the window
    clock.now += 1.1
    down = client.get("/healthz")
    assert down.status_code == 503
    assert down.json() == {"status": "down", "database": "ok", "broker": "down"}
    clock.now += 0.5
    assert client.get("/healthz").status_code == 503  # a failure is kept too

    broker(broker_url=settings.CELERY_BROKER_URL)
    assert client.get("/healthz").status_code == 503  # back, but within the window
    clock.now += 0.6
    assert client.get("/healthz").json() == OK


@pytest.mark.django_db
def test_a_database_outage_and_its_end_are_reported_after_the_window(client, broker, clock, settings):
    assert client.get("/healthz").status_code == 200

    with connection.execute_wrapper(_refuse):
        assert client.get("/healthz").status_code == 200
        clock.now += 1.1
        down = client.get("/healthz")
    assert down.status_code == 503
    assert down.json() == {"status": "down", "database": "down", "broker": "ok"}

    assert client.get("/healthz").status_code == 503  # the database is back, but within the window
    clock.now += 1.1
    assert client.get("/healthz").json() == OK


@pytest.mark.django_db
def test_with_no_window_every_probe_asks(client, broker, clock, settings, django_assert_num_queries):
    settings.HEALTHZ_CACHE_SECONDS = 0
    for _ in range(3):
        with django_assert_num_queries(1):
            assert client.get("/healthz").status_code == 200
