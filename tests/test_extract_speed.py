"""The cheap paths of extraction give what libcst's own machinery gives.

``extract`` computes positions with its own codegen pass (``node_spans``) and
walks the tree once for all its visitors without rebuilding it (``walk``).  Here
both are compared, node by node and fact by fact, with the straightforward way:
``PositionProvider`` through a ``MetadataWrapper`` and ``Module.visit``.
"""
from __future__ import annotations

import gc
from typing import Dict, List, Tuple

import libcst as cst
import pytest
from libcst.metadata import MetadataWrapper, PositionProvider

from celerylint import extract as extract_module
from celerylint.extract import LEAF_NODES, VISITORS, FileContext, extract, node_spans, walk
from celerylint.extract import tree as tree_module
from celerylint.facts import to_data
from celerylint.parse import parse_and_extract
from celerylint.features import FeatureVisitor
from celerylint.syntax import physical_lines
from conftest import FIXTURES

FIXTURE_FILES = sorted(str(p.relative_to(FIXTURES)) for p in FIXTURES.rglob("*.py"))

# Syntax the fixture trees hardly use; positions and order must hold there too.
SNIPPETS = {
    "fstrings": 'x = f"{a!r:>{width}} {b=} {c:{d}.{e}}"\ny = f"{a}"\nz = f"{a:{w}}"\n',
    "crlf_tabs_unicode": ('def f(é):\r\n\tif é:\r\n\t\treturn g(é, "ü", k=1)  # ñ\r\n'
                          '\tx = (\r\n\t\th(1) +  # c\r\n\t\t2)\r\n'),
    "continuations": 'x = a \\\n    + b(1)\ns = """a\nb""" ; t = c(\n  d,\n)\n',
    "decorated": ('@app.task(bind=True, name=n)\n@other\nasync def t(self, *a, k=1, **kw):\n'
                  '    async with s() as x, y():\n'
                  '        await z.delay(x, k=[i async for i in q])\n'
                  '    return (yield)\n'),
    "match": ('match cmd:\n    case [x, *rest] if x > 1:\n        go(x)\n'
              '    case {"k": v, **kw}:\n        pass\n    case P(a=1) | Q():\n        pass\n'),
    "new_syntax": ('type A[T: int = str] = list[T]\ndef f[U, *V, **W](u: U) -> U:\n'
                   '    global g\n    g = lambda q=(w := 1): q\n    return f(*u, **u)\n'),
    "classes": ('class C(Base, metaclass=M):\n    """doc"""\n    x: int = 1\n'
                '    def run(self):\n        del self.a[1:2, ::3]\n        raise E from e\n'
                'try:\n    pass\nexcept* ValueError as e:\n    pass\n'
                'else:\n    pass\nfinally:\n    pass\n'),
    "dispatch": ('from celery import shared_task\n@shared_task(name="ü")\ndef t(ü):\n'
                 '    r = t.delay("ééé", ü); t.apply_async(("ü",), countdown=1)\n'
                 '    return r\n'),
    "empty": "",
    "no_newline": "app.conf.beat_schedule = {'a': {'schedule': 1.0, 'task': 't'}}",
}


def sources() -> List[Tuple[str, str]]:
    found = [(name, (FIXTURES / name).read_text(encoding="utf-8", errors="replace"))
             for name in FIXTURE_FILES]
    return found + sorted(SNIPPETS.items())


def parsed(text: str):
    try:
        return cst.parse_module(text)
    except cst.ParserSyntaxError:
        return None


def reference_spans(module: cst.Module) -> Dict[int, Tuple[int, int, int, int]]:
    ranges = MetadataWrapper(module, unsafe_skip_copy=True).resolve(PositionProvider)
    return {id(node): (r.start.line, r.start.column, r.end.line, r.end.column)
            for node, r in ranges.items()}


class Together(cst.CSTVisitor):
    """Several visitors through libcst's own traversal, as ``walk`` nests them: each
    node is visited in their order and left in the reverse order."""

    def __init__(self, visitors):
        self.visitors = visitors

    def on_visit(self, node: cst.CSTNode) -> bool:
        name = "visit_" + type(node).__name__
        # a list, not a generator: every visitor is called even after one says True
        return any([getattr(v, name)(node) is not False for v in self.visitors])  # noqa: C419

    def on_leave(self, original_node: cst.CSTNode) -> None:
        name = "leave_" + type(original_node).__name__
        for visitor in reversed(self.visitors):
            getattr(visitor, name)(original_node)


def reference_extract(module: cst.Module, path: str, name: str, is_package: bool):
    """What extract() did before it had cheap paths: libcst's own positions and traversal."""
    spans = reference_spans(module)
    ctx = FileContext(module, spans, path, name, is_package)
    module.visit(Together([visitor(ctx) for visitor in VISITORS]))
    features = FeatureVisitor(spans, physical_lines(module.code))
    module.visit(features)
    ctx.facts.syntax = features.features
    return ctx.facts


def _recording(event: str):
    def record(self, node: cst.CSTNode) -> None:
        self.events.append((event, id(node)))
    return record


NODE_TYPES = [t for t in vars(cst).values() if isinstance(t, type) and issubclass(t, cst.CSTNode)]
# Records every visit and leave of a node that is not a leaf; `events` is set per instance.
Recorder = type("Recorder", (cst.CSTVisitor,), {
    f"{kind}_{t.__name__}": _recording(f"{kind}_{t.__name__}")
    for t in NODE_TYPES if not issubclass(t, LEAF_NODES) for kind in ("visit", "leave")})


def record(visit) -> List[Tuple[str, int]]:
    recorder = Recorder()
    recorder.events = []
    visit(recorder)
    return recorder.events


def record_two(visit) -> List[Tuple[str, str, int]]:
    """Events of two recorders walked together, each marked with its recorder."""
    events: List[Tuple[str, str, int]] = []
    recorders = []
    for mark in ("first", "second"):
        recorder = Recorder()
        recorder.events = _Marked(events, mark)
        recorders.append(recorder)
    visit(recorders)
    return events


class _Marked:
    def __init__(self, events, mark):
        self.events, self.mark = events, mark

    def append(self, event) -> None:
        self.events.append((self.mark, *event))


CASES = sources()


@pytest.mark.parametrize("name,text", CASES, ids=[c[0] for c in CASES])
def test_spans_equal_position_provider(name, text):
    module = parsed(text)
    if module is None:
        pytest.skip("not parseable")
    assert node_spans(module) == reference_spans(module)


@pytest.mark.parametrize("name,text", CASES, ids=[c[0] for c in CASES])
def test_walk_visits_like_libcst(name, text, monkeypatch):
    module = parsed(text)
    if module is None:
        pytest.skip("not parseable")
    monkeypatch.setattr(tree_module, "_VISIT_ORDER", {})  # learn the field orders afresh
    ours = record(lambda recorder: walk(module, recorder))
    assert ours == record(module.visit)
    assert ours[0] == ("visit_Module", id(module))


@pytest.mark.parametrize("name,text", CASES, ids=[c[0] for c in CASES])
def test_walk_nests_its_visitors(name, text):
    """Visitors walked together visit a node in their order and leave it in the reverse
    order, as if each were inside the previous one."""
    module = parsed(text)
    if module is None:
        pytest.skip("not parseable")
    ours = record_two(lambda recorders: walk(module, *recorders))
    assert ours == record_two(lambda recorders: module.visit(Together(recorders)))
    assert ours[:2] == [
        ("first", "visit_Module", id(module)),
        ("second", "visit_Module", id(module)),
    ]
    assert ours[-2:] == [
        ("second", "leave_Module", id(module)),
        ("first", "leave_Module", id(module)),
    ]


@pytest.mark.parametrize("name,text", CASES, ids=[c[0] for c in CASES])
def test_facts_equal_reference_extraction(name, text):
    module = parsed(text)
    if module is None:
        pytest.skip("not parseable")
    is_package = name.endswith("__init__.py")
    module_name = name[:-3].replace("/", ".").replace(".__init__", "")
    expected = to_data(reference_extract(module, name, module_name, is_package))
    assert to_data(extract(module, name, module_name, is_package)) == expected


def test_fstring_format_spec_is_walked_after_an_instance_without_one(monkeypatch):
    """libcst visits ``format_spec`` only when it is there: the order learned from an
    f-string expression without one must not hide it in the next."""
    monkeypatch.setattr(tree_module, "_VISIT_ORDER", {})
    module = cst.parse_module('x = f"{a}"\ny = f"{b:{width}}"\n')
    events = record(lambda recorder: walk(module, recorder))
    assert events == record(module.visit)
    width = module.body[1].body[0].value.parts[0].format_spec[0].expression
    assert ("visit_Name", id(width)) in events


def test_extraction_visits_no_leaf_node():
    """walk() does not enter LEAF_NODES: the visitors must have nothing to do there."""
    leaf_types = [t for t in NODE_TYPES if issubclass(t, LEAF_NODES)]
    assert len(leaf_types) > 20
    for visitor in (*VISITORS, FeatureVisitor):
        for leaf in leaf_types:
            for method in ("visit_" + leaf.__name__, "leave_" + leaf.__name__):
                assert getattr(visitor, method, None) is getattr(cst.CSTVisitor, method, None)


def test_parsing_pauses_the_garbage_collector_and_restores_it(monkeypatch):
    seen = []

    def spy(module, path, name, is_package, text=None):
        seen.append(gc.isenabled())
        return real_extract(module, path, name, is_package, text)

    real_extract = extract_module.extract
    monkeypatch.setattr(extract_module, "extract", spy)
    assert gc.isenabled()
    parse_and_extract("x = 1\n", "m.py", "m", False)
    parse_and_extract("def f(:\n", "m.py", "m", False)  # a syntax error on the way out
    assert seen == [False] and gc.isenabled()
    gc.disable()
    try:
        parse_and_extract("x = 1\n", "m.py", "m", False)
        assert not gc.isenabled()
    finally:
        gc.enable()
