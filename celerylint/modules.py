"""Dotted module names that the extractor and the prefilter's scan must agree on."""
from __future__ import annotations


def absolute_module(module: str, is_package: bool, level: int, name: str) -> str:
    """The module ``from <level dots><name> import ...`` reads when written in ``module``
    (a package's ``__init__`` when ``is_package``); ``name`` as is when level is 0."""
    if level == 0:
        return name
    parts = module.split(".") if module else []
    if not is_package:
        parts = parts[:-1]
    if level > 1:
        parts = parts[: len(parts) - (level - 1)] if level - 1 <= len(parts) else []
    if name:
        parts.append(name)
    return ".".join(parts)
