"""Shared by the engine tests."""
import datetime as dt
from pathlib import Path

from landfall_jobs.local import SPARK_SUBMIT_CONF as LOCAL_CONF, spark_submit, submit_env  # noqa: F401

DAY = dt.date(2026, 11, 23)
FIXTURE_PIPELINE = Path(__file__).resolve().parent / "fixtures" / "pipeline"


def at(hms: str, day: dt.date = DAY) -> dt.datetime:
    """'10:00:00[.ffffff]' on day as a naive datetime (UTC: the tests run with TZ=UTC)."""
    return dt.datetime.fromisoformat(f"{day.isoformat()} {hms}")
