"""Every file's facts indexed once per project: modules, functions, classes, imports,
and the pieces each app's configuration is made of.

The rest of the project view asks this index instead of scanning the files again,
so building the view costs one pass over the facts whatever the number of apps.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from typing import Dict, Iterable, Iterator, List, Optional, Set, Tuple, Union

from celerylint.facts import (AppBinding, Call, ConfigSource, FileFacts, FunctionFact,
                              ImportFact, Known, SettingAssign, SettingKind, SettingsInclude,
                              Unknown)

# Where a setting came from, lowest precedence first (Celery's own order).
SOURCE_RANK: Dict[SettingKind, int] = {"module": 0, "class": 0, "celery-kwarg": 1,
                                       "conf-update": 2, "conf-attr": 2, "conf-item": 2}
MAX_REEXPORT_HOPS = 8
# Star imports of these packages bring no settings of the project's own with them.
LIBRARY_ROOTS = frozenset({"celery", "kombu", "django", "configurations", "split_settings",
                           "environ", "decouple", "os", "sys", "datetime", "pathlib", "typing",
                           "logging", "json", "re", "enum", "math", "collections", "socket"})
MAX_BASE_CHAIN = 32

Written = Tuple[str, SettingAssign]  # (path, assignment)


@dataclass
class ModuleSettings:
    """What a settings module leaves in its names: the writes (each key's last one
    standing for what it holds), and ``gaps``, the places where it takes names the
    linter cannot read (keys it does not write may then be set there)."""

    writes: List[Written] = field(default_factory=list)
    gaps: List[str] = field(default_factory=list)


def merge_write(before: Optional[Written], after: Written) -> Written:
    """What a key holds after ``after`` is written over ``before``: ``after`` when it
    surely runs; else either of them (a known value only when both are that value,
    written surely only when either surely is)."""
    if before is None or after[1].certain:
        return after
    old, new = before[1], after[1]
    if isinstance(old.value, Known) and isinstance(new.value, Known) \
            and old.value.value == new.value.value:
        value: Union[Known, Unknown] = new.value
    else:
        value = Unknown(f"{_shown(old)} or {_shown(new)}"[:80])
    return after[0], dataclasses.replace(new, value=value, certain=old.certain,
                                         filled=old.filled and new.filled)


def _shown(assign: SettingAssign) -> str:
    return assign.value.source or repr(getattr(assign.value, "value", None))


class ProjectIndex:
    def __init__(self, files: Iterable[FileFacts]):
        self.files: Dict[str, FileFacts] = {f.path: f for f in files}
        self.sorted_files: List[FileFacts] = [self.files[p] for p in sorted(self.files)]
        # module name -> its facts: the first file by path that parsed
        self.modules: Dict[str, FileFacts] = {}
        for facts in self.sorted_files:
            if facts.module and facts.error is None:
                self.modules.setdefault(facts.module, facts)
        self._functions: Dict[Tuple[str, str], FunctionFact] = {}
        for facts in self.sorted_files:
            for function in facts.functions:
                self._functions.setdefault((facts.path, function.name), function)
        self._class_settings = _class_settings(self.modules)
        self.config_sources: Dict[str, List[ConfigSource]] = _config_sources(self.sorted_files)
        self.app_writes: Dict[str, List[Written]] = _app_writes(self.sorted_files)
        self.django_settings_module: Optional[str] = _django_settings_module(self.sorted_files)
        self.django_configuration: Optional[str] = next(
            (f.django_configuration for f in self.sorted_files if f.django_configuration), None)
        self.bindings: Dict[str, List[AppBinding]] = {}  # name -> what it is bound to
        self.arguments: Dict[str, List[AppBinding]] = {}  # function -> apps passed to it
        for facts in self.sorted_files:
            for binding in facts.bindings:
                found = self.arguments if binding.kind == "arg" else self.bindings
                found.setdefault(binding.name, []).append(binding)
        self._resolved: Dict[str, str] = {}
        self._chains: Dict[str, List[str]] = {}

    # -- files -----------------------------------------------------------------
    def function(self, path: str, name: str) -> Optional[FunctionFact]:
        """The first function of that (dotted, ``Class.method``) name in a file."""
        return self._functions.get((path, name)) if name else None

    def imports(self, path: str) -> List[ImportFact]:
        facts = self.files.get(path)
        return facts.imports if facts is not None else []

    def calls(self) -> Iterator[Call]:
        """Every call in every function of the project, in file order."""
        for facts in self.sorted_files:
            for function in facts.functions:
                yield from function.calls

    def setting_reads(self) -> Set[str]:
        """Names the project's code reads from a settings object (``settings.KEY``)."""
        return {name for facts in self.sorted_files for name in facts.setting_reads}

    def conf_reads(self) -> Set[str]:
        """Names the project's code reads from an app's settings (``app.conf.x``,
        ``app.conf["x"]``, ``app.conf.get("x")``)."""
        return {name for facts in self.sorted_files for name in facts.conf_reads}

    # -- symbols ---------------------------------------------------------------
    def resolve_symbol(self, qualname: str) -> str:
        """Follow re-exports: ``pkg.add`` -> ``pkg.tasks.add`` when pkg imports it."""
        found = self._resolved.get(qualname)
        if found is None:
            found = self._resolved[qualname] = self._follow(qualname, 0)
        return found

    def _follow(self, qualname: str, hops: int) -> str:
        if hops > MAX_REEXPORT_HOPS or not qualname:
            return qualname
        module, _, name = qualname.rpartition(".")
        facts = self.modules.get(module)
        if facts is None:
            return qualname
        for imp in facts.imports:
            if not imp.star and imp.local == name and imp.target != qualname:
                return self._follow(imp.target, hops + 1)
        return qualname

    def class_settings(self, qualname: str) -> Dict[str, SettingAssign]:
        module, _, name = qualname.rpartition(".")
        return self._class_settings.get((module, name), {})

    def class_bases(self, qualname: str) -> List[str]:
        module, _, name = qualname.rpartition(".")
        facts = self.modules.get(module)
        if facts is None:
            return []
        return [self.resolve_symbol(b) for b in facts.class_bases.get(name, [])]

    def base_chain(self, qualname: str) -> List[str]:
        """qualname and its project base classes, nearest first."""
        chain = self._chains.get(qualname)
        if chain is None:
            chain = self._chains[qualname] = self._walk_bases(qualname)
        return list(chain)

    def _walk_bases(self, qualname: str) -> List[str]:
        chain: List[str] = []
        todo = [self.resolve_symbol(qualname)]
        while todo and len(chain) < MAX_BASE_CHAIN:
            current = todo.pop(0)
            if current in chain:
                continue
            chain.append(current)
            todo.extend(self.class_bases(current))
        return chain

    def module_settings(self, module: str) -> Optional[ModuleSettings]:
        """A settings module's writes: its own and those of the modules it star-imports
        and the files it includes (django-split-settings), each where the module takes
        them; None when the module is not the project's."""
        if module not in self.modules:
            return None
        found = ModuleSettings()
        self._module_settings(module, found, set())
        return found

    def _module_settings(self, module: str, found: ModuleSettings, seen: Set[str]) -> bool:
        """Add a module's writes to ``found``; False when it is not the project's."""
        facts = self.modules.get(module)
        if facts is None:
            return False
        if module in seen:
            return True
        seen.add(module)
        optional = {(i.line, i.pattern) for i in facts.includes if i.kind == "optional-star"}
        steps: List[Tuple[int, int, Union[ImportFact, SettingsInclude, SettingAssign]]] = []
        steps.extend((imp.line, 0, imp) for imp in facts.imports if imp.star)
        steps.extend((inc.line, 0, inc) for inc in facts.includes if inc.kind != "optional-star")
        steps.extend((s.loc.line, 1, s) for s in facts.settings if s.kind == "module")
        for line, _, step in sorted(steps, key=lambda s: (s[0], s[1])):
            if isinstance(step, SettingAssign):
                found.writes.append((facts.path, step))
            elif isinstance(step, ImportFact):
                if not self._module_settings(step.target, found, seen) \
                        and (line, step.target) not in optional \
                        and step.target.split(".")[0] not in LIBRARY_ROOTS:
                    found.gaps.append(f"from {step.target} import * ({facts.path}:{line})")
            elif step.kind == "split":
                self._included(facts, step, found, seen)
            elif not step.optional:
                found.gaps.append(f"{step.source} ({facts.path}:{line})")
        return True

    def _included(self, facts: FileFacts, include: SettingsInclude, found: ModuleSettings,
                  seen: Set[str]) -> None:
        """django-split-settings: the files a pattern matches run in the including
        module's namespace, in the order glob finds them (so a key that two of them set
        differently may hold either)."""
        matched = [m for m in sorted(self.modules) if _matches(m, include.pattern)
                   and m not in seen]
        if not matched:
            if not include.optional:
                found.gaps.append(f"{include.source} ({facts.path}:{include.line})")
            return
        group = ModuleSettings()
        for module in matched:
            self._module_settings(module, group, seen)
        found.gaps.extend(group.gaps)
        if len(matched) > 1:
            group.writes = _unordered(group.writes)
        found.writes.extend(group.writes)


def _matches(module: str, pattern: str) -> bool:
    names, pieces = module.split("."), pattern.split(".")
    return len(names) == len(pieces) and all(fnmatchcase(n, p) for n, p in zip(names, pieces))


def _unordered(writes: List[Written]) -> List[Written]:
    """Writes of files run in no known order: a key their last writes set differently
    may hold either value."""
    last: Dict[str, List[Written]] = {}
    for path, assign in writes:
        per_file = last.setdefault(assign.key, [])
        if per_file and per_file[-1][0] == path:
            per_file[-1] = (path, assign)
        else:
            per_file.append((path, assign))
    result = list(writes)
    for per_file in last.values():
        values = {repr(getattr(a.value, "value", None)) if a.value.known else None
                  for _, a in per_file}
        if len(per_file) > 1 and (len(values) > 1 or None in values):
            path, assign = per_file[-1]
            result.append((path, dataclasses.replace(assign, value=Unknown(
                " or ".join(_shown(a) for _, a in per_file)[:80]))))
    return result


def body_calls(function: FunctionFact) -> List[Call]:
    """The calls in a function's body: its decorators' calls are recorded with it too,
    above its ``def`` line."""
    return [c for c in function.calls if c.loc.line >= function.loc.line]


def _class_settings(modules: Dict[str, FileFacts]
                    ) -> Dict[Tuple[str, str], Dict[str, SettingAssign]]:
    """(module, class name) -> {key: class attribute}, the last assignment of a key winning."""
    found: Dict[Tuple[str, str], Dict[str, SettingAssign]] = {}
    for module, facts in modules.items():
        for assign in facts.settings:
            if assign.kind == "class":
                found.setdefault((module, assign.container), {})[assign.key] = assign
    return found


def _config_sources(files: List[FileFacts]) -> Dict[str, List[ConfigSource]]:
    """Each app's ``config_from_object`` calls (and unreadable sources), in file order."""
    found: Dict[str, List[ConfigSource]] = {}
    for facts in files:
        for source in facts.config_sources:
            found.setdefault(source.app, []).append(source)
    return found


def _app_writes(files: List[FileFacts]) -> Dict[str, List[Written]]:
    """Each app's own settings (Celery keywords, ``app.conf`` writes and updates), in the
    order Celery applies them: by source rank, then file, then position in the file."""
    writes = [(SOURCE_RANK[assign.kind], facts.path, order, assign)
              for facts in files for order, assign in enumerate(facts.settings)
              if assign.app and assign.kind != "module" and assign.kind in SOURCE_RANK]
    found: Dict[str, List[Written]] = {}
    for _, path, _, assign in sorted(writes, key=lambda w: w[:3]):
        found.setdefault(assign.app, []).append((path, assign))
    return found


def _django_settings_module(files: List[FileFacts]) -> Optional[str]:
    """The project's DJANGO_SETTINGS_MODULE, manage.py's first (for apps whose own file
    does not set it)."""
    candidates = sorted(files, key=lambda f: (not f.path.endswith("manage.py"), f.path))
    return next((f.django_settings_module for f in candidates if f.django_settings_module), None)
