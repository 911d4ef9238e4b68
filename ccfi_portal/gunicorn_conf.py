"""gunicorn's settings for the Procfile (``-c python:ccfi_portal.gunicorn_conf``): its own log lines (starting,
workers booting and exiting, errors) go through the portal's LOGGING, so that production's output is JSON
throughout (README, Production, Observability). Its access log stays off: the portal logs each request itself."""
import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ccfi_portal.settings")

from django.conf import settings  # noqa: E402  (after the settings module is named)

logconfig_dict = {
    **settings.LOGGING,
    "loggers": {**settings.LOGGING["loggers"],
                "gunicorn.error": {"level": "INFO", "handlers": ["console"], "propagate": False}},
}
