"""The clock: one stopped instant for a test session, the day override for demos, and neither by accident."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys

import pytest

from daivi_data import clock
from daivi_data.errors import SettingsError
from daivi_data.settings import PROJECT_ROOT


@pytest.fixture
def env(monkeypatch):
    for key in (clock.ENV, clock.TEST_NOW_ENV, "DAIVI_AUTH_MODE"):
        monkeypatch.delenv(key, raising=False)
    return monkeypatch


def test_the_session_runs_on_one_stopped_instant_that_servers_it_starts_inherit():
    stopped = os.environ[clock.TEST_NOW_ENV]
    first = clock.now()
    assert clock.now() == first and clock.today() == first.date()
    assert clock.stopped_clock_value(first.replace(tzinfo=dt.UTC)) == stopped
    child = subprocess.run([sys.executable, "-c", "from daivi_data import clock; print(clock.now().isoformat())"],
                           cwd=PROJECT_ROOT, capture_output=True, text=True, check=True)
    assert child.stdout.strip() == first.isoformat()


def test_a_stopped_instant_is_read_as_naive_utc(env):
    env.setenv(clock.TEST_NOW_ENV, "2027-03-01T00:30:05Z")
    assert clock.now() == dt.datetime(2027, 3, 1, 0, 30, 5)
    assert clock.today() == dt.date(2027, 3, 1)
    env.setenv(clock.TEST_NOW_ENV, clock.stopped_clock_value(dt.datetime(2027, 3, 1, 2, 30, 5, tzinfo=dt.timezone(dt.timedelta(hours=2)))))
    assert clock.now() == dt.datetime(2027, 3, 1, 0, 30, 5)


def test_the_day_override_keeps_the_stopped_time_of_day(env):
    env.setenv(clock.TEST_NOW_ENV, "2027-03-14T23:59:58Z")
    env.setenv(clock.ENV, "2027-03-01")
    assert clock.today() == dt.date(2027, 3, 1)
    assert clock.now() == dt.datetime(2027, 3, 1, 23, 59, 58)


def test_unset_the_clock_runs(env):
    before = dt.datetime.now(dt.UTC).replace(tzinfo=None, microsecond=0)
    now = clock.now()
    assert before <= now <= dt.datetime.now(dt.UTC).replace(tzinfo=None)


@pytest.mark.parametrize("value", ["tomorrow", "2027-03-01", "2027-03-01T00:30:00", "2027-03-01T00:30:00+01:00"])
def test_anything_but_a_utc_instant_is_refused_not_read_as_now(env, value):
    env.setenv(clock.TEST_NOW_ENV, value)
    with pytest.raises(SettingsError, match=clock.TEST_NOW_ENV):
        clock.today()


def test_a_deployment_refuses_a_stopped_clock(env):
    env.setenv(clock.TEST_NOW_ENV, "2027-03-01T00:30:00Z")
    env.setenv("DAIVI_AUTH_MODE", "proxy")
    with pytest.raises(SettingsError, match="refused with DAIVI_AUTH_MODE=proxy"):
        clock.now()


def test_no_deployment_file_stops_the_clock():
    from deploy.stack import app_environment

    assert clock.TEST_NOW_ENV not in app_environment()
    assert app_environment()["DAIVI_AUTH_MODE"] == "proxy"  # what the refusal above keys on
    for path in ("Dockerfile", "deploy/docker-entrypoint.sh", "deploy/cloudformation/daivi.yaml"):
        assert clock.TEST_NOW_ENV not in (PROJECT_ROOT / path).read_text(), path
