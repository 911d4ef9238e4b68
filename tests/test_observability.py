"""Observability: the request id from the request to its log lines and to the tasks it enqueues through the
outbox, the JSON log format, and /metrics (its content and who may read it)."""
import io
import json
import logging
import re

import pytest
from celery.signals import task_prerun
from django.test import override_settings
from django.urls import reverse

from accounts.models import User
from ccfi_portal.observability import ContextFilter, JsonLogFormatter, request_id_get, task_request_id
from indices.demo import demo_load
from indices.models import WorkRequest, WorkState

pytestmark = pytest.mark.django_db


@pytest.fixture
def json_log():
    """The portal's production log format (ContextFilter + JsonLogFormatter) on the root logger, into a buffer;
    returns a function giving the records written so far, each parsed from its line."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(ContextFilter())
    handler.setFormatter(JsonLogFormatter())
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    yield lambda: [json.loads(line) for line in stream.getvalue().splitlines()]  # each line alone is JSON
    root.removeHandler(handler)
    root.setLevel(level)


@pytest.fixture
def prerun():
    """What each task saw when it started: its name, the request id of its message, the id its logs carry."""
    seen = []

    def receiver(task=None, **kwargs):
        seen.append({"task": task.name, "header": task_request_id(task.request), "log_id": request_id_get()})
        logging.getLogger("tests.observability").info("task started")

    task_prerun.connect(receiver, weak=False, dispatch_uid="tests.observability")
    yield seen
    task_prerun.disconnect(dispatch_uid="tests.observability")


def test_the_request_id_goes_from_the_request_to_its_log_line_and_the_task_it_enqueues(
        client, json_log, prerun, django_capture_on_commit_callbacks):
    demo_load()
    client.force_login(User.objects.get(username="methodologist"))
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("indices:run_recompute", args=[2024]) + "?token=never-logged",
                               headers={"X-Request-ID": "abc-123"})
    assert response.status_code == 302 and response["X-Request-ID"] == "abc-123"

    records = json_log()
    line = next(record for record in records if record["logger"] == "ccfi_portal.request")
    assert line["request_id"] == "abc-123" and line["level"] == "INFO" and line["time"]
    assert (line["method"], line["path"], line["status"]) == ("POST", "/index/runs/2024/recompute/", 302)
    assert line["duration_ms"] >= 0 and "never-logged" not in json.dumps(records)

    # The outbox kept the id with the work and sent it as a message header; the task's logs carry it.
    work = WorkRequest.objects.get()
    assert work.request_id == "abc-123" and work.state == WorkState.DONE
    assert prerun == [{"task": "indices.recompute_index", "header": "abc-123", "log_id": "abc-123"}]
    in_task = next(record for record in json_log() if record["logger"] == "tests.observability")
    assert in_task["request_id"] == "abc-123" and in_task["task_name"] == "indices.recompute_index"
    assert in_task["work_id"] == work.pk and in_task["task_id"]
    assert request_id_get() is None  # cleared after the request (and after the eager task)


@pytest.mark.parametrize("given", [None, "", "has space", "x" * 65, "<script>", "a\r\nSet-Cookie: x=1", "-leading"])
def test_a_missing_or_unsafe_request_id_is_replaced_by_a_generated_one(client, given):
    headers = {} if given is None else {"X-Request-ID": given}
    response = client.get(reverse("healthz"), headers=headers)
    assert re.fullmatch(r"[0-9a-f]{32}", response["X-Request-ID"])


def test_every_request_gets_its_own_id(client):
    first, second = (client.get(reverse("healthz"))["X-Request-ID"] for _ in range(2))
    assert first != second


def test_the_json_format_is_one_object_with_time_level_logger_message_and_request_id():
    record = logging.LogRecord("indices", logging.WARNING, __file__, 1, "城市 %s", ("重庆",), None)
    ContextFilter().filter(record)
    parsed = json.loads(JsonLogFormatter().format(record))
    assert parsed["message"] == "城市 重庆" and parsed["level"] == "WARNING" and parsed["logger"] == "indices"
    assert parsed["request_id"] == "-" and parsed["time"].endswith("+00:00") and "task_id" not in parsed


def test_metrics_from_loopback_show_requests_tasks_and_the_outbox_backlog(
        client, prerun, django_capture_on_commit_callbacks):
    demo_load()
    client.force_login(User.objects.get(username="methodologist"))
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("indices:run_recompute", args=[2024]))
    WorkRequest.objects.create(task="indices.recompute_index", args=[1])  # one waiting
    client.logout()

    response = client.get(reverse("metrics"))  # the test client's REMOTE_ADDR is 127.0.0.1
    assert response.status_code == 200 and response["Content-Type"].startswith("text/plain")
    text = response.content.decode()
    assert re.search(r'^django_http_requests_total_by_view_transport_method_total\{.*view="indices:run_recompute"'
                     r'.*\} [1-9]', text, re.M)
    assert re.search(r'^django_db_execute_total\{alias="default",vendor="\w+"\} [1-9]', text, re.M)
    assert re.search(r'^ccfi_task_duration_seconds_count\{state="SUCCESS",task="indices.recompute_index"\} [1-9]',
                     text, re.M)
    assert 'ccfi_outbox_unfinished{state="pending"} 1.0' in text
    assert 'ccfi_outbox_unfinished{state="running"} 0.0' in text
    assert re.search(r"^ccfi_outbox_oldest_unfinished_age_seconds \d", text, re.M)


@pytest.mark.parametrize("meta", [{"REMOTE_ADDR": "203.0.113.7"}, {"REMOTE_ADDR": "10.0.0.5"},
                                  {"REMOTE_ADDR": "127.0.0.1", "HTTP_X_FORWARDED_FOR": "203.0.113.7"}])
def test_metrics_are_hidden_from_other_addresses_and_from_requests_through_a_proxy(client, meta):
    assert client.get(reverse("metrics"), **meta).status_code == 404


@override_settings(METRICS_TOKEN="a-long-scraper-token-0123456789", METRICS_ALLOWED_IPS=["10.0.0.0/8"])
def test_metrics_with_the_bearer_token_or_from_an_allowed_network(client):
    url = reverse("metrics")
    outside = {"REMOTE_ADDR": "203.0.113.7"}
    assert client.get(url, headers={"Authorization": "Bearer a-long-scraper-token-0123456789"},
                      **outside).status_code == 200
    assert client.get(url, headers={"Authorization": "Bearer wrong"}, **outside).status_code == 404
    assert client.get(url, REMOTE_ADDR="10.1.2.3").status_code == 200
    assert client.get(url).status_code == 404  # 127.0.0.1 is no longer in the list


def test_django_s_own_request_logs_carry_the_id_but_not_the_query_string(client, json_log):
    response = client.get("/no-such-page/?token=never-logged", headers={"X-Request-ID": "nf-1"})
    assert response.status_code == 404
    not_found = next(record for record in json_log() if record["logger"] == "django.request")
    assert not_found["request_id"] == "nf-1" and not_found["request"] == "GET /no-such-page/"
    assert "never-logged" not in json.dumps(json_log())
    assert request_id_get() is None  # cleared once the response was closed
