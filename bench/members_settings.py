"""Settings for the members benchmark: the portal's own, plus a URL for the bare comparison view."""

from medicen_portal.settings import *  # noqa: F403

ROOT_URLCONF = "bench.members_urls"
LOGGING = {"version": 1, "disable_existing_loggers": False, "root": {"level": "WARNING"}}
