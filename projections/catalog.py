"""Which projections there are, and in which order a batch goes through them.

Every Projection subclass defined in a module of this package is one (the package is imported
once, in full, on first use); a projection defined elsewhere (the tests' example family) joins with
`register`. No list to keep: a new family's projection is found because its module is here.

Order: a projection that reads another's rows while it processes a batch names it in `after`
(the fiscal years read the journal's entries); the runner applies a batch to `after` first. Between
projections that read nothing of each other, the order is by name, so every process agrees.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil

from projections.base import Projection

_OUTSIDE: dict[str, type[Projection]] = {}


def register(cls: type[Projection]) -> type[Projection]:
    """Adds a projection defined outside this package; usable as a class decorator."""
    known = _OUTSIDE.get(cls.name)
    assert known is None or known is cls, f"two projections are named {cls.name}"
    _OUTSIDE[cls.name] = cls
    return cls


def _shipped() -> dict[str, type[Projection]]:
    import projections

    found: dict[str, type[Projection]] = {}
    for info in pkgutil.iter_modules(projections.__path__):
        module = importlib.import_module(f"projections.{info.name}")
        for cls in vars(module).values():
            if inspect.isclass(cls) and issubclass(cls, Projection) and cls.__module__ == module.__name__ and "name" in vars(cls):
                assert found.get(cls.name, cls) is cls, f"two projections are named {cls.name}"
                found[cls.name] = cls
    return found


def all_projections() -> tuple[type[Projection], ...]:
    """Every projection, each after those named in its `after`, otherwise by name."""
    by_name = {**_shipped(), **_OUTSIDE}
    ordered: list[type[Projection]] = []
    placed: set[str] = set()
    # Bounded: each pass places at least one projection, or the `after`s form a circle.
    for _ in range(len(by_name)):
        ready = [c for n, c in sorted(by_name.items()) if n not in placed and set(c.after) <= placed]
        if not ready:
            break
        ordered.append(ready[0])
        placed.add(ready[0].name)
    unknown = {a for c in by_name.values() for a in c.after} - set(by_name)
    assert not unknown, f"projections name unknown projections in `after`: {sorted(unknown)}"
    assert len(ordered) == len(by_name), f"the `after`s of {sorted(set(by_name) - placed)} form a circle"
    return tuple(ordered)
