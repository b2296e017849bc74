"""Every file's facts indexed once per project: modules, functions, classes, imports,
and the pieces each app's configuration is made of.

The rest of the project view asks this index instead of scanning the files again,
so building the view costs one pass over the facts whatever the number of apps.
"""
from __future__ import annotations

from typing import Dict, Iterable, Iterator, List, Optional, Set, Tuple

from celerylint.facts import (Call, ConfigSource, FileFacts, FunctionFact, ImportFact,
                              SettingAssign, SettingKind)

# Where a setting came from, lowest precedence first (Celery's own order).
SOURCE_RANK: Dict[SettingKind, int] = {"module": 0, "class": 0, "celery-kwarg": 1,
                                       "conf-update": 2, "conf-attr": 2, "conf-item": 2}
MAX_REEXPORT_HOPS = 8
MAX_BASE_CHAIN = 32

Written = Tuple[str, SettingAssign]  # (path, assignment)


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

    def module_settings(self, module: str, seen: Optional[Set[str]] = None
                        ) -> Optional[List[Written]]:
        """Module-level assignments, star-imported bases first, in file order."""
        facts = self.modules.get(module)
        if facts is None:
            return None
        seen = seen if seen is not None else set()
        if module in seen:
            return []
        seen.add(module)
        result: List[Written] = []
        for imp in facts.imports:
            if imp.star:
                result.extend(self.module_settings(imp.target, seen) or [])
        result.extend((facts.path, s) for s in facts.settings if s.kind == "module")
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
