"""Apps and their settings, resolved as the target Celery version resolves them
(the lookup itself is celerylint.settings; this module gathers what it looks in).

An app is a ``Celery(...)`` call (or one of a class whose bases reach Celery), known by
every name bound to it: ``app = create_app()`` in another module, the parameter of a
function it is passed to, ``self`` in its class's methods that run on it
(:class:`AppNames`).  Its settings are what all of those names write, over what its
config sources hold; a source that cannot be read leaves every setting it does not
write unknown, never Celery's default.
"""
from __future__ import annotations

from typing import Dict, FrozenSet, List, Optional, Set, Tuple

from celerylint.facts import (NO_LOC, AppBinding, AppFact, ConfigSource, FileFacts, Known,
                              SettingAssign, Unknown)
from celerylint.project.index import (SOURCE_RANK, ModuleSettings, ProjectIndex, Written,
                                      merge_write)
from celerylint.project.views import AppView, IgnoredKey, ResolvedSetting
from celerylint.settings import Resolution, celery_like, read_alone, resolve

DJANGO_SETTINGS = ("django.conf:settings", "django.conf.settings")
CELERY_CLASSES = frozenset({"celery.Celery", "celery.app.Celery", "celery.app.base.Celery"})
CONFIGURATION_CLASSES = frozenset({"configurations.Configuration",
                                   "configurations.base.Configuration"})
# Methods of a Celery subclass whose writes on ``self.conf`` apply to its apps without a
# call the linter sees: what Celery itself runs (``__init__``, ``on_configure``), and
# set-up methods by the names extensions give them (``init_app``, ``configure_*``, ...).
HOOK_METHODS = frozenset({"__init__", "on_configure", "on_init", "init_app"})
SETUP_PREFIXES = ("configure", "setup", "set_up", "init_")
# The module Celery's default app reads when no app of the project is made.
DEFAULT_CONFIG_MODULE = "celeryconfig"
DEFAULT_APP = "celery.default_app"
MAX_BINDING_HOPS = 24

Keys = Dict[str, Written]  # raw key -> where it is written


class AppNames:
    """Which apps a name may refer to, following what names are bound to: a factory's
    result (``app = create_app()``, through other factories and re-exports), an alias,
    a parameter an app is passed to, ``self`` in a method run on an app."""

    def __init__(self, index: ProjectIndex):
        self.index = index
        self.apps: Dict[str, AppFact] = {}
        self._memo: Dict[str, FrozenSet[str]] = {}
        self._active: Set[str] = set()
        self.arguments: Dict[str, List[AppBinding]] = {}
        for name, bindings in index.arguments.items():
            self.arguments.setdefault(index.resolve_symbol(name), []).extend(bindings)
        self._calls: Optional[Dict[str, Set[str]]] = None

    def is_celery_class(self, cls: str) -> bool:
        return any(base in CELERY_CLASSES for base in self.index.base_chain(cls))

    def add(self, app: AppFact) -> None:
        self.apps[app.qualname] = app
        self._memo.clear()

    def apps_of(self, name: str) -> FrozenSet[str]:
        """The qualified names of the apps ``name`` may refer to."""
        found = self._memo.get(name)
        if found is None:
            found = self._memo[name] = self._follow(name, 0)
        return found

    def _follow(self, name: str, hops: int) -> FrozenSet[str]:
        if name in self.apps:
            return frozenset({name})
        if hops > MAX_BINDING_HOPS or name in self._active or not name:
            return frozenset()
        self._active.add(name)
        try:
            found: Set[str] = set()
            resolved = self.index.resolve_symbol(name)
            if resolved != name:
                found |= self._follow(resolved, hops + 1)
            for binding in self.index.bindings.get(name, ()):
                if binding.kind == "alias":
                    found |= self._follow(binding.target, hops + 1)
                elif binding.kind == "call":
                    found |= self._follow(self.index.resolve_symbol(binding.target) + "()",
                                          hops + 1)
                elif binding.kind == "param":
                    found |= self._parameter(binding, hops)
            return frozenset(found)
        finally:
            self._active.discard(name)

    def _parameter(self, param: AppBinding, hops: int) -> Set[str]:
        """The apps passed to a function's parameter, or run a method of their class."""
        found: Set[str] = set()
        for arg in self.arguments.get(param.target, ()):
            if (param.position and arg.position == param.position) \
                    or (arg.keyword and arg.keyword == param.keyword):
                found |= self._follow(arg.target, hops + 1)
        cls, _, method = param.target.rpartition(".")
        if param.position == 1 and self._is_class(cls):
            for app in self.apps.values():
                if cls in self.index.base_chain(app.cls) and (
                        method in HOOK_METHODS or method.startswith(SETUP_PREFIXES)
                        or self._called_on(app.qualname, method, hops)):
                    found.add(app.qualname)
        return found

    def _is_class(self, qualname: str) -> bool:
        module, _, name = qualname.rpartition(".")
        facts = self.index.modules.get(module)
        return facts is not None and name in facts.class_bases

    def _called_on(self, app: str, method: str, hops: int) -> bool:
        """Whether the project calls ``<a name of app>.method(...)``."""
        if self._calls is None:
            self._calls = {}
            for call in self.index.calls():
                receiver, _, called = call.qualname.rstrip("()").rpartition(".")
                if receiver and call.qualname.endswith("()"):
                    self._calls.setdefault(called, set()).add(receiver)
        return any(app in self._follow(receiver, hops + 1)
                   for receiver in sorted(self._calls.get(method, ())))


def build_apps(index: ProjectIndex, version: Tuple[int, int]) -> Tuple[List[AppView], AppNames]:
    """Every app of the project, the ones it builds itself first, in file order, and
    the names that refer to them."""
    names = AppNames(index)
    found = [(app, facts) for facts in index.sorted_files for app in facts.apps
             if app.qualname and (not app.candidate or names.is_celery_class(app.cls))]
    found += [(app, facts) for facts in index.sorted_files for app in facts.apps
              if not app.qualname and not app.candidate]
    for app, _ in found:
        names.add(app)
    found += _implicit_apps(index, names)
    if not found and DEFAULT_CONFIG_MODULE in index.modules:
        found.append(_default_app(index))
    for app, _ in found:
        names.add(app)
    by_app = _names_by_app(index, names)
    views = [app_view(index, app, facts, version, by_app.get(app.qualname, [app.qualname]))
             for app, facts in found]
    return views, names


def _implicit_apps(index: ProjectIndex, names: AppNames) -> List[Tuple[AppFact, FileFacts]]:
    """Apps built in a way the extractor cannot follow (``app = make_app()`` of a
    function that is not the project's, ``app = celery_class(...)``) but configured with
    ``config_from_object``, which only Celery apps have: known by the module-level name
    they are bound to."""
    candidates = {app.qualname for facts in index.sorted_files for app in facts.apps}
    found: Dict[str, Tuple[AppFact, FileFacts]] = {}
    for facts in index.sorted_files:
        for source in facts.config_sources:
            module, _, var = source.app.rpartition(".")
            if source.app in candidates or source.app in found or not module:
                continue
            if index.modules.get(module) is not facts or names.apps_of(source.app):
                continue  # only where the app's own module configures it
            found[source.app] = (AppFact(var=var, qualname=source.app, main=None, loc=source.loc,
                                         cls=""), facts)
    return [found[name] for name in sorted(found)]


def _default_app(index: ProjectIndex) -> Tuple[AppFact, FileFacts]:
    """Celery's default app, which reads ``celeryconfig`` (a project without an app of
    its own: ``@shared_task`` tasks run by ``celery worker`` without ``-A``)."""
    facts = index.modules[DEFAULT_CONFIG_MODULE]
    app = AppFact(var="", qualname=DEFAULT_APP, main=None, loc=NO_LOC, cls="celery.Celery")
    index.config_sources.setdefault(DEFAULT_APP, []).append(
        ConfigSource(DEFAULT_APP, DEFAULT_CONFIG_MODULE, "string", None, NO_LOC))
    return app, facts


def _names_by_app(index: ProjectIndex, names: AppNames) -> Dict[str, List[str]]:
    """Each app's names that write settings or name config sources, its own first."""
    by_app: Dict[str, List[str]] = {}
    for name in sorted(set(index.config_sources) | set(index.app_writes)):
        for app in sorted(names.apps_of(name)):
            by_app.setdefault(app, []).append(name)
    for app, found in by_app.items():
        found.sort(key=lambda name: name != app)
    return by_app


def app_view(index: ProjectIndex, app: AppFact, facts: FileFacts,
             version: Tuple[int, int], names: Optional[List[str]] = None) -> AppView:
    """Resolve an app's settings as its target Celery version does."""
    names = names or [app.qualname]
    view = AppView(app, facts.path, namespace=app.namespace, version=version)
    sources = [s for name in names for s in index.config_sources.get(name, [])]
    conf = _config_object(index, view, sources, facts)
    writes = _writes(index, names)
    changes: Keys = {}
    for path, assign in writes:
        changes[assign.key] = merge_write(changes.get(assign.key), (path, assign))
    auto = {assign.key for _, assign in writes if assign.kind == "celery-kwarg"}
    resolution = resolve(list(changes), list(conf), auto, view.namespace, view.table)
    maps = {"changes": changes, "conf": conf}
    for key, (map_name, raw) in resolution.values.items():
        path, assign = maps[map_name][raw]
        value = assign.value if assign.certain else Unknown(
            f"{assign.value.source or key} (may not be set)")
        view.settings[key] = ResolvedSetting(key, value, assign, path, certain=assign.certain)
    # Celery reads only the last config object; with several, which one is last
    # (and so what is ignored or mixed) depends on run-time order: say nothing.
    one_source = len({source.target for source in sources}) <= 1
    view.mix_error = [conf[k] for k in resolution.mix_error] if one_source else []
    view.old_style = resolution.old_style
    if not resolution.mix_error:
        view.ignored = _ignored_keys(view, maps, resolution, auto, one_source)
    return view


def _writes(index: ProjectIndex, names: List[str]) -> List[Written]:
    """The writes of all of an app's names in the order Celery applies them: by
    source rank, the app's own name's before its other names', then by file and place."""
    if len(names) == 1:
        return index.app_writes.get(names[0], [])
    ranked = []
    for rank, name in enumerate(names):
        for order, (path, assign) in enumerate(index.app_writes.get(name, [])):
            ranked.append((_rank(assign), min(rank, 1), path, order, (path, assign)))
    return [written for *_, written in sorted(ranked, key=lambda r: r[:4])]


def _rank(assign: SettingAssign) -> int:
    return SOURCE_RANK.get(assign.kind, 0)


def _config_object(index: ProjectIndex, view: AppView, sources: List[ConfigSource],
                   app_file: FileFacts) -> Keys:
    """The keys of the app's config objects, later sources over earlier ones; notes on
    the view the namespace they give and the sources that cannot be read."""
    conf: Keys = {}
    for source in sources:
        if source.namespace:  # Celery: ``self.namespace = namespace or self.namespace``
            view.namespace = source.namespace
        found = _source_settings(index, source, app_file)
        if found is None:
            view.unresolved_sources.append(source.target)
            continue
        view.unresolved_sources.extend(found.gaps)
        django = source.target in DJANGO_SETTINGS
        for path, assign in found.writes:
            if django and not assign.key.isupper():
                continue  # Django keeps only uppercase names in its settings
            conf[assign.key] = merge_write(conf.get(assign.key), (path, assign))
    return conf


def _ignored_keys(view: AppView, maps: Dict[str, Keys], resolution: Resolution, auto: Set[str],
                  one_source: bool) -> List[IgnoredKey]:
    """The keys of the app's sources that no setting lookup reads."""
    ignored: List[IgnoredKey] = []
    for map_name, keys in maps.items():
        for raw, (path, assign) in keys.items():
            if (map_name, raw) in resolution.read:
                continue
            if map_name == "conf" and not (
                    one_source and celery_like(raw, view.namespace, view.table)):
                continue
            shadowed = read_alone(raw, map_name, auto, view.namespace, view.table)
            ignored.append(IgnoredKey(path, assign, map_name, shadowed=shadowed))
    return ignored


def _source_settings(index: ProjectIndex, source: ConfigSource, app_file: FileFacts
                     ) -> Optional[ModuleSettings]:
    """What a ``config_from_object`` target holds; None when it cannot be read."""
    if source.target_kind == "unknown":
        return None
    if source.target in DJANGO_SETTINGS:
        module = app_file.django_settings_module or index.django_settings_module
        found = index.module_settings(module) if module else None
        return _with_configuration(index, module, found, app_file) if module and found else None
    module, _, obj = source.target.partition(":")
    if obj:
        return _object_settings(index, f"{module}.{obj}")
    if module in index.modules:
        return index.module_settings(module)
    return _object_settings(index, source.target)


def _with_configuration(index: ProjectIndex, module: str, found: ModuleSettings,
                        app_file: FileFacts) -> ModuleSettings:
    """django-configurations: the class ``DJANGO_CONFIGURATION`` names (its bases'
    attributes under its own) over the settings module's names."""
    facts = index.modules[module]
    classes = [name for name in sorted(facts.class_bases)
               if any(base in CONFIGURATION_CLASSES
                      for base in index.base_chain(f"{module}.{name}"))]
    if not classes:
        return found
    chosen = app_file.django_configuration or index.django_configuration
    if chosen not in classes:
        found.gaps.append(f"DJANGO_CONFIGURATION {chosen or '(not set)'} of {module}")
        return found
    chosen_settings = _class_settings(index, f"{module}.{chosen}")
    found.writes.extend(chosen_settings)
    return found


def _object_settings(index: ProjectIndex, qualname: str) -> Optional[ModuleSettings]:
    """A module's settings, a class's attributes with its bases' under them, or a
    module-level dict the project spells out."""
    qualname = index.resolve_symbol(qualname)
    if qualname in index.modules:
        return index.module_settings(qualname)
    module, _, name = qualname.rpartition(".")
    facts = index.modules.get(module)
    if facts is None:
        return None
    if name in facts.class_bases:
        return ModuleSettings(_class_settings(index, qualname))
    assigns = [s for s in facts.settings if s.kind == "module" and s.key == name]
    value = assigns[-1].value if assigns and assigns[-1].certain else None
    if not isinstance(value, Known) or not isinstance(value.value, dict):
        return None
    loc = assigns[-1].loc
    return ModuleSettings([(facts.path, SettingAssign(key=key, value=Known(item), loc=loc,
                                                      kind="module"))
                           for key, item in value.value.items()])


def _class_settings(index: ProjectIndex, qualname: str) -> List[Written]:
    result: List[Written] = []
    for base in reversed(index.base_chain(qualname)):
        base_facts = index.modules.get(base.rpartition(".")[0])
        if base_facts is not None:
            result.extend((base_facts.path, s) for s in index.class_settings(base).values())
    return result
