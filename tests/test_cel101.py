"""CEL101 large-task-argument."""
from __future__ import annotations

from conftest import FIXTURES, assert_fixture_tree, expected_markers, lint, positions


def test_fixture_tree():
    assert_fixture_tree("CEL101", "CEL101")


def test_lower_max_argument_bytes_reports_medium_literals():
    findings = lint(FIXTURES / "CEL101", select="CEL101", max_argument_bytes=100)
    extra = set(positions(findings, "CEL101")) - expected_markers(FIXTURES / "CEL101", "CEL101")
    assert extra == {("shop/mailing.py", 70, 21, "CEL101")}  # FOOTER, 116 bytes


def test_higher_max_argument_bytes_silences_the_big_literal():
    findings = lint(FIXTURES / "CEL101", select="CEL101", max_argument_bytes=100_000)
    assert ("shop/mailing.py", 69, 21, "CEL101") not in positions(findings, "CEL101")


TASKS = """
from celery import shared_task


@shared_task
def handle(value):
    return value
"""


def _fired(project, body):
    findings = project({"tasks.py": TASKS, "views.py": "from tasks import handle\n" + body},
                       select="CEL101")
    return [(f.line, f.column) for f in findings if f.code == "CEL101"]


def test_literal_size_limit_is_exclusive(project):
    at_limit = '"' + "a" * 4094 + '"'
    over_limit = '"' + "a" * 4095 + '"'
    assert _fired(project, f"handle.delay({at_limit})\nhandle.delay({over_limit})\n") == [(3, 14)]


def test_local_literal_reports_the_variable(project):
    findings = project({"tasks.py": TASKS, "views.py": (
        "from tasks import handle\n\n"
        "def send():\n"
        "    rows = [" + ", ".join([f'"row-{i:04d}"' for i in range(500)]) + "]\n"
        "    handle.delay(rows)\n")}, select="CEL101")
    assert [(f.line, f.column) for f in findings] == [(5, 18)]
    assert "through `rows`, assigned on line 4" in findings[0].message
    assert "max-argument-bytes is 4096" in findings[0].message


def test_chain_on_a_local_is_described_by_the_assigned_value(project):
    findings = project({"tasks.py": TASKS, "views.py": """
        import requests
        from tasks import handle


        def fetch(url):
            response = requests.get(url)
            handle.delay(response.content)
            handle.delay(response.headers["etag"])
        """}, select="CEL101")
    assert [(f.line, f.column) for f in findings] == [(7, 18)]
    assert findings[0].message.startswith(
        "task argument is an HTTP response (through `response`, assigned on line 6 from "
        "`requests.get(url)`): pass the URL")


def test_look_alike_shapes_stay_silent(project):
    body = """
import aiohttp
from articles.models import Article


def view(request, resp, pk, path):
    handle.delay(request.session.get("cart"))
    handle.delay(request.query.get("page"))
    handle.delay(Article.objects.get(pk=pk).content)
    handle.delay(Article.objects.values_list("title", flat=True).first())
    handle.delay(Article.objects.filter(pk=pk).exists())
    handle.delay(resp.content)
    handle.delay(open(path).name)
    data = open(path).read()
    data = data.strip()
    handle.delay(data)
    handle.delay(later)
    later = open(path).read()
"""
    assert _fired(project, body) == []


def test_rows_and_sessions(project):
    body = """
import requests
from articles.models import Article


def view(pk, url):
    handle.delay(list(Article.objects.values("id", "body")))
    handle.delay(list(Article.objects.values_list("id", flat=True)))
    handle.delay(requests.Session().get(url).text)
"""
    assert _fired(project, body) == [(8, 18), (10, 18)]
