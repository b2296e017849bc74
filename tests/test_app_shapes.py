"""Apps and settings in the shapes real projects write them (issue 11), each tree in
tests/fixtures/apps/ with the findings a rule gives through the shape (``# expect:``)
and look-alikes that must stay silent:

- factories/: ``app = make_app()`` through factories, a class method and
  ``functools.lru_cache``; a Celery subclass made in another module and configured in
  its own ``init_app``; an ``init_app``-style function given the app; tasks in a module
  that imports only ``from proj.worker import app``;
- sources/: django-configurations, django-split-settings, star-import chains with
  their order, names set under ``if``/``try``, ``DJANGO_SETTINGS_MODULE`` set in a
  function or computed;
- computed/, default_app/, loader/: config sources computed from ``__name__`` and
  module constants, the ``celeryconfig`` Celery's default app and loader read;
- unknown31/, unknown/: a source that yields nothing readable leaves settings
  unknown, never Celery's defaults; a backend from a helper's tuple is configured.
"""
from __future__ import annotations

import pytest

from conftest import assert_fixture_tree


@pytest.mark.parametrize("tree, code", [
    ("apps/factories", "CEL108"),
    ("apps/factories", "CEL102"),
    ("apps/sources", "CEL108"),
    ("apps/computed", "CEL108"),
    ("apps/default_app", "CEL108"),
    ("apps/loader", "CEL108"),
    ("apps/unknown31", "CEL108"),
    ("apps/unknown", "CEL102"),
])
def test_tree(tree, code):
    assert_fixture_tree(tree, code)


def test_the_factory_trees_tasks_and_dispatches_are_linked():
    """Without the app behind ``from proj.worker import app`` the task was dropped, and
    CEL102 could not see its discarded dispatch."""
    findings = assert_fixture_tree("apps/factories", "CEL102")
    assert [f.message.split(" stores")[0] for f in findings] == [
        "task 'proj.tasks.send_receipt'"]
