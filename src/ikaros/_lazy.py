"""Package attributes imported from their modules on first use (PEP 562 ``__getattr__``).

``import ikaros`` and ``import ikaros.report.figures`` stay cheap: a name's module (pandas,
matplotlib and the rest behind it) is imported when the name is first looked up.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Collection, Mapping
from typing import Any

__all__ = ["lazy_getattr"]


def lazy_getattr(
    package: str, where: Mapping[str, str], modules: Collection[str] = ()
) -> Callable[[str], Any]:
    """A module ``__getattr__``: ``name`` is looked up in the module ``where[name]``.

    Parameters
    ----------
    package
        The package's ``__name__`` (for the error message and ``modules``).
    where
        Attribute name -> absolute name of the module that defines it.
    modules
        Attribute names that are submodules of the package themselves (``ikaros.plot``).
    """

    def __getattr__(name: str) -> Any:
        if name in modules:
            return importlib.import_module(f"{package}.{name}")
        if name in where:
            return getattr(importlib.import_module(where[name]), name)
        raise AttributeError(f"module {package!r} has no attribute {name!r}")

    return __getattr__
