"""Apps and their settings, resolved as the target Celery version resolves them
(the lookup itself is celerylint.settings; this module gathers what it looks in)."""
from __future__ import annotations

from typing import Dict, List, Optional, Set, Tuple

from celerylint.facts import AppFact, ConfigSource, FileFacts
from celerylint.project.index import ProjectIndex, Written
from celerylint.project.views import AppView, IgnoredKey, ResolvedSetting
from celerylint.settings import Resolution, celery_like, read_alone, resolve

DJANGO_SETTINGS = ("django.conf:settings", "django.conf.settings")

Keys = Dict[str, Written]  # raw key -> where it is written


def build_apps(index: ProjectIndex, version: Tuple[int, int]) -> List[AppView]:
    """Every app of the project, the ones it builds itself first, in file order."""
    found = [(app, facts) for facts in index.sorted_files for app in facts.apps]
    return [app_view(index, app, facts, version) for app, facts in found + _implicit_apps(index)]


def _implicit_apps(index: ProjectIndex) -> List[Tuple[AppFact, FileFacts]]:
    """Apps built in a way the extractor cannot follow (``app = make_app()``,
    ``app = celery_class(...)``) but configured with ``config_from_object``,
    which only Celery apps have: known by the module-level name they are bound to."""
    known = {app.qualname for facts in index.sorted_files for app in facts.apps}
    found: Dict[str, Tuple[AppFact, FileFacts]] = {}
    for facts in index.sorted_files:
        for source in facts.config_sources:
            module, _, var = source.app.rpartition(".")
            if source.app in known or source.app in found or not module:
                continue
            if index.modules.get(module) is not facts:
                continue  # only where the app's own module configures it
            found[source.app] = (AppFact(var=var, qualname=source.app, main=None, loc=source.loc,
                                         cls=""), facts)
    return [found[name] for name in sorted(found)]


def app_view(index: ProjectIndex, app: AppFact, facts: FileFacts,
             version: Tuple[int, int]) -> AppView:
    """Resolve an app's settings as its target Celery version does."""
    view = AppView(app, facts.path, namespace=app.namespace, version=version)
    sources = index.config_sources.get(app.qualname, [])
    conf = _config_object(index, view, sources, facts)
    writes = index.app_writes.get(app.qualname, [])
    changes: Keys = {assign.key: (path, assign) for path, assign in writes}
    auto = {assign.key for _, assign in writes if assign.kind == "celery-kwarg"}
    resolution = resolve(list(changes), list(conf), auto, view.namespace, view.table)
    maps = {"changes": changes, "conf": conf}
    for key, (map_name, raw) in resolution.values.items():
        path, assign = maps[map_name][raw]
        view.settings[key] = ResolvedSetting(key, assign.value, assign, path)
    # Celery reads only the last config object; with several, which one is last
    # (and so what is ignored or mixed) depends on run-time order: say nothing.
    one_source = len({source.target for source in sources}) <= 1
    view.mix_error = [conf[k] for k in resolution.mix_error] if one_source else []
    view.old_style = resolution.old_style
    if not resolution.mix_error:
        view.ignored = _ignored_keys(view, maps, resolution, auto, one_source)
    return view


def _config_object(index: ProjectIndex, view: AppView, sources: List[ConfigSource],
                   app_file: FileFacts) -> Keys:
    """The keys of the app's config objects, later sources over earlier ones; notes on
    the view the namespace they give and the sources that cannot be read."""
    conf: Keys = {}
    for source in sources:
        if source.namespace:  # Celery: ``self.namespace = namespace or self.namespace``
            view.namespace = source.namespace
        assigns = _source_settings(index, source, app_file)
        if assigns is None:
            view.unresolved_sources.append(source.target)
            continue
        django = source.target in DJANGO_SETTINGS
        for path, assign in assigns:
            if django and not assign.key.isupper():
                continue  # Django keeps only uppercase names in its settings
            conf[assign.key] = (path, assign)
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
                     ) -> Optional[List[Written]]:
    """What a ``config_from_object`` target holds; None when it cannot be read."""
    if source.target_kind == "unknown":
        return None
    if source.target in DJANGO_SETTINGS:
        module = app_file.django_settings_module or index.django_settings_module
        return index.module_settings(module) if module else None
    module, _, obj = source.target.partition(":")
    if obj:
        return _object_settings(index, f"{module}.{obj}")
    if module in index.modules:
        return index.module_settings(module)
    return _object_settings(index, source.target)


def _object_settings(index: ProjectIndex, qualname: str) -> Optional[List[Written]]:
    """A module's settings, or a class's attributes with its bases' under them."""
    qualname = index.resolve_symbol(qualname)
    if qualname in index.modules:
        return index.module_settings(qualname)
    module, _, name = qualname.rpartition(".")
    facts = index.modules.get(module)
    if facts is None or name not in facts.class_bases:
        return None
    result: List[Written] = []
    for base in reversed(index.base_chain(qualname)):
        base_facts = index.modules.get(base.rpartition(".")[0])
        if base_facts is not None:
            result.extend((base_facts.path, s) for s in index.class_settings(base).values())
    return result
