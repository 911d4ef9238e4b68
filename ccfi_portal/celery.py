"""The Celery app. Settings come from Django's, under the CELERY_ namespace."""
import os

from celery import Celery

from ccfi_portal.observability import celery_signals_connect

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ccfi_portal.settings")

app = Celery("ccfi_portal")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
# The request id from the request to its tasks, task durations and failures, the portal's log format in workers.
celery_signals_connect()
