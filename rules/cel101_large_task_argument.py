from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Iterator, Optional, Tuple

from celerylint.config import OptionSpec
from celerylint.facts import Arg, Expr
from celerylint.project import DispatchView, Project
from celerylint.rule import Finding, Rule

# Fragments of the shape patterns below.  A shape is the normalised dotted form
# of an argument: calls end in `()`, subscripts in `[]` (`request.FILES[].read()`).
NAME = r"[A-Za-z_]\w*"
DOTTED = rf"{NAME}(?:\.{NAME})*"
MANAGER = rf"{DOTTED}\.objects"  # Order.objects, models.Order.objects, self.model.objects
QS_METHODS = ("all|filter|exclude|order_by|select_related|prefetch_related|only|defer|annotate"
              "|alias|distinct|reverse|none|using|select_for_update|union|intersection|difference"
              "|extra|iterator")
QUERYSET = rf"{MANAGER}(?:\.(?:{QS_METHODS})\(\))*"  # still yields model instances
ROWS = rf"{MANAGER}(?:\.(?:{QS_METHODS}|values)\(\))*"  # yields instances or dict rows
ANY_QUERYSET = rf"{MANAGER}(?:\.(?:{QS_METHODS}|values|values_list)\(\))+"
WRAPPED = r"(?:list|tuple|set|sorted|frozenset)"
REQUEST = r"(?:self\.)?request"
TEXT = r"(?:\.(?:decode|encode)\(\))?"  # bytes <-> str keeps the size
HTTP_VERBS = r"(?:get|post|put|patch|delete|head|options|request)"
HTTP_BODY = r"(?:\.(?:content|text|json\(\)|raw))"
FRAME_TAIL = (r"(?:\[\]|\.values|\.T|\.(?:to_dict|to_dicts|to_json|to_csv|to_records|to_numpy"
              r"|to_pandas|tolist|to_list|tobytes|copy|astype|reshape)\(\))*")
MODEL = r"[A-Z]\w*"  # a class name, as in session.get(User, 1) / select(User)


@dataclass(frozen=True)
class Kind:
    what: str  # what the value is, for the message
    instead: str  # what to pass instead
    shape: str  # regex matched against the whole shape or the import-resolved qualname
    source: str = ""  # optional regex the argument's source text must also contain


PK = "pass its primary key (`.pk`) and load the object inside the task"
SA_PK = "pass its primary key (`.id`) and load the object inside the task"
PKS = "pass the primary keys or the filter arguments and query inside the task"
KEY = "store it (file storage, object store, cache) and pass the key or path"
PATH = "pass the file's path or storage key and read it inside the task"

KINDS = (
    # Django ORM
    Kind(
        "a model instance",
        PK,
        rf"{QUERYSET}\.(?:get|first|last|latest|earliest|create|get_or_create|update_or_create)\(\)",
    ),
    Kind("a model instance", PK, rf"{QUERYSET}\[\]"),  # qs[0], `for obj in qs:`
    Kind("a model instance", PK, r"(?:.*\.)?(?:get_object_or_404|get_or_404|first_or_404)\(\)"),
    Kind(
        "the request's user object",
        "pass `request.user.pk` and load the user inside the task",
        rf"{REQUEST}\.user",
    ),
    Kind(
        "the logged-in user object",
        "pass `current_user.id` and load the user inside the task",
        r"flask_login\.(?:utils\.)?current_user",
    ),
    Kind("a list of model rows", PKS, rf"{WRAPPED}\({ROWS}\)"),
    Kind("a queryset", PKS, ANY_QUERYSET),
    # SQLAlchemy, Flask-SQLAlchemy
    Kind(
        "a model instance",
        SA_PK,
        rf"(?:{DOTTED}\.)?session\.get\(\)",
        source=rf"session\.get\(\s*{MODEL}\s*,",
    ),
    Kind(
        "a model instance",
        SA_PK,
        rf"(?:{DOTTED}\.)?session\.query\(\)(?:\.{NAME}\(\))*\.(?:one|one_or_none|first|get)\(\)",
        source=rf"query\(\s*{MODEL}\s*[,)]",
    ),
    Kind(
        "a list of model rows",
        PKS,
        rf"(?:{DOTTED}\.)?session\.query\(\)(?:\.{NAME}\(\))*\.all\(\)",
        source=rf"query\(\s*{MODEL}\s*[,)]",
    ),
    Kind(
        "a model instance",
        SA_PK,
        rf"(?:{DOTTED}\.)?session\.(?:execute|scalars)\(\)(?:\.{NAME}\(\))*"
        rf"\.(?:scalar_one|scalar_one_or_none|scalar|first|one)\(\)",
        source=rf"select\(\s*{MODEL}\s*\)",
    ),
    Kind(
        "a model instance",
        SA_PK,
        rf"(?:{DOTTED}\.)?{MODEL}\.query(?:\.{NAME}\(\))*\.(?:get|first|one|one_or_none)\(\)",
    ),
    Kind("a list of model rows", PKS, rf"(?:{DOTTED}\.)?{MODEL}\.query(?:\.{NAME}\(\))*\.all\(\)"),
    # request bodies and uploads
    Kind(
        "the request body",
        "save it to storage and pass the key",
        rf"{REQUEST}\.(?:body|data|stream|get_data\(\)){TEXT}",
    ),
    Kind(
        "an uploaded file",
        "save it to storage (`default_storage.save`) and pass the key",
        rf"{REQUEST}\.(?:FILES|files)(?:\[\]|\.get\(\)|\.getlist\(\))?",
    ),
    Kind(
        "the contents of an uploaded file",
        "save it to storage (`default_storage.save`) and pass the key",
        rf"{REQUEST}\.(?:FILES|files)(?:\[\]|\.get\(\))\.(?:read|chunks)\(\){TEXT}",
    ),
    # HTTP responses
    Kind(
        "an HTTP response",
        "pass the URL and download it inside the task",
        rf"(?:requests|httpx)\.(?:(?:Session|Client|AsyncClient)\(\)\.)?{HTTP_VERBS}\(\)"
        rf"{HTTP_BODY}?{TEXT}",
    ),
    Kind(
        "an HTTP response body",
        "pass the URL and download it inside the task",
        rf"(?:{DOTTED}\.)?(?:session|client|http)\.{HTTP_VERBS}\(\){HTTP_BODY}{TEXT}",
    ),
    Kind(
        "an HTTP response",
        "pass the URL and download it inside the task",
        rf"urllib\.request\.urlopen\(\)(?:\.read\(\))?{TEXT}",
    ),
    # file and stream contents
    Kind("file contents", PATH, rf".*\.(?:read|readlines|read_bytes|read_text|getvalue)\(\){TEXT}"),
    # DataFrames and arrays
    Kind(
        "a DataFrame",
        KEY,
        rf"(?:pandas|polars)\.(?:read_\w+|scan_\w+|DataFrame|Series|concat|merge|json_normalize"
        rf"|pivot_table|crosstab|get_dummies)\(\){FRAME_TAIL}",
    ),
    Kind(
        "an array",
        KEY,
        rf"numpy\.(?:array|asarray|zeros|ones|empty|full|load|loadtxt|genfromtxt|fromfile"
        rf"|frombuffer|arange|linspace|concatenate|stack|vstack|hstack|random\.\w+)\(\){FRAME_TAIL}",
    ),
    # encoded blobs
    Kind(
        "an encoded blob",
        KEY,
        rf"(?:base64\.(?:b64encode|urlsafe_b64encode|standard_b64encode|encodebytes|b32encode"
        rf"|b85encode|a85encode)|(?:pickle|cloudpickle|dill|marshal)\.dumps"
        rf"|(?:zlib|gzip|bz2|lzma)\.compress)\(\){TEXT}",
    ),
)

_COMPILED = [(kind, re.compile(kind.shape), re.compile(kind.source) if kind.source else None)
             for kind in KINDS]
CURRENT_APP = {"celery.current_app", "celery.app.current_app"}


def classify(expr: Expr) -> Optional[Kind]:
    """The first kind whose pattern matches the argument's shape or qualname."""
    for kind, shape, source in _COMPILED:
        if shape.fullmatch(expr.shape) or shape.fullmatch(expr.qualname):
            if source is None or source.search(expr.source):
                return kind
    return None


def sends_celery_message(project: Project, view: DispatchView) -> bool:
    """True when the dispatch surely sends a Celery message (not rq, dramatiq, multiprocessing)."""
    if view.task is not None:
        return True
    dispatch = view.fact
    if dispatch.method == "signature()":  # celery.signature(...): resolved through imports
        return True
    if dispatch.method == "send_task":
        return (dispatch.receiver_qualname in CURRENT_APP
                or project.app_for_qualname(dispatch.receiver_qualname) is not None)
    return False


class LargeTaskArgument(Rule):
    """
    ## What it does
    Reports an argument of a task dispatch (`delay`, `apply_async(args=/kwargs=)`,
    `s`, `si`, `signature`, `send_task`) whose value is likely large or not
    serialisable, either directly or through a local variable assigned in the
    same function:

    - an ORM object: a Django model instance (`Order.objects.get(...)`,
      `get_object_or_404(...)`, `request.user`, a loop variable over a
      queryset), a queryset or a list made from one, a SQLAlchemy instance
      (`session.get(User, id)`, `session.query(User)...one()`, `User.query.get(...)`);
    - file or stream contents (`.read()`, `read_bytes()`, `read_text()`,
      `getvalue()`), a request body or upload (`request.body`, `request.data`,
      `request.FILES[...]`), an HTTP response or its content;
    - a pandas/polars DataFrame or a numpy array (also converted with
      `to_dict()`, `tolist()`, ...);
    - an encoded blob (`base64.b64encode`, `pickle.dumps`, `zlib.compress`, ...);
    - a literal larger than `max-argument-bytes` bytes of source.

    Only dispatches that certainly send a Celery message are checked: the
    receiver resolves to a task defined in the project, or the call is
    `send_task` on a Celery app or `celery.signature(...)`.

    ## Why is this bad?
    Every argument is serialised into the task message and travels through
    the broker; on Redis the body is base64-encoded once more.  Teams have
    saturated a 1 Gbit link with 4 KB payloads at 20k messages per second, and
    brokers reject big messages outright (SQS's 256 KiB limit, RabbitMQ's
    `max_message_size`).  Model instances are also stale by the time the
    worker runs, and querysets, files and responses do not serialise with the
    default JSON serializer at all.  Pass an identifier (primary key, storage
    key, path, URL) and load the data inside the task.

    ## Example
    ```python
    from celery import shared_task
    from django.shortcuts import get_object_or_404

    from shop.models import Order


    @shared_task
    def send_receipt(order):
        order.send_receipt()


    def checkout(request, pk):
        order = get_object_or_404(Order, pk=pk)
        send_receipt.delay(order)
    ```

    ## Use instead
    ```python
    from celery import shared_task
    from django.shortcuts import get_object_or_404

    from shop.models import Order


    @shared_task
    def send_receipt(order_id):
        Order.objects.get(pk=order_id).send_receipt()


    def checkout(request, pk):
        order = get_object_or_404(Order, pk=pk)
        send_receipt.delay(order.pk)
    ```

    ## What it does not flag
    - Identifiers derived from those values: `obj.pk`, `obj.id`,
      `request.user.pk`, `str(user.id)`, `len(data)`, a `values_list(...)`
      list of ids, a field of the payload (`request.data["email"]`).
    - Paths, URLs, storage keys, settings (`settings.DATA`) and `json.dumps(...)`
      of a value it cannot size.
    - Values it cannot resolve: parameters, variables assigned more than once,
      objects built by project helpers.
    - `.delay`/`apply_async` on receivers that are not Celery tasks (rq jobs,
      `multiprocessing.Pool.apply_async`, dramatiq), and `send_task` on
      receivers not known to be a Celery app.
    - Data read inside the task body: that is the recommended pattern.

    ## References
    - [Celery: task arguments should be IDs, not objects (State)](https://docs.celeryq.dev/en/stable/userguide/tasks.html#state)
    - [Celery: serializers and message size](https://docs.celeryq.dev/en/stable/userguide/calling.html#serializers)
    - [Amazon SQS message quotas](https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/quotas-messages.html)
    - [RabbitMQ: maximum message size](https://www.rabbitmq.com/docs/configure#config-items)
    """

    code = "CEL101"
    name = "large-task-argument"
    severity = "warning"
    options = (OptionSpec("max-argument-bytes", int, 4096,
                          "a literal argument longer than this many bytes of source is reported",
                          at_least=1),)

    def check(self, project: Project) -> Iterator[Finding]:
        limit = self.option("max-argument-bytes")
        for view in project.dispatches:
            if not sends_celery_message(project, view):
                continue
            for arg in view.fact.args:
                problem = self._problem(arg.expr, limit)
                if problem is not None:
                    yield self.finding(view.path, arg.loc, _message(arg, *problem))

    @staticmethod
    def _problem(expr: Expr, limit: int) -> Optional[Tuple[str, str]]:
        kind = classify(expr)
        if kind is not None:
            return kind.what, kind.instead
        if expr.literal_bytes is not None and expr.literal_bytes > limit:
            return (f"a {expr.literal_bytes}-byte literal",
                    "keep the data where the task can load it and pass a key"
                    f" (max-argument-bytes is {limit})")
        return None


def _message(arg: Arg, what: str, instead: str) -> str:
    expr = arg.expr
    if expr.via:
        origin = f"through `{expr.via}`, assigned on line {expr.via_line} from `{expr.source}`"
    else:
        origin = f"`{expr.source}`"
    return f"task argument is {what} ({origin}): {instead}"
