"""Built-in environment families. Importing this registers every family's envs (lazily:
entry points are strings, so no family's heavy dependencies load until ``make``)."""

import importlib
import pkgutil

# Each family subpackage registers its envs in its __init__ (cheap: no heavy imports there).
for _mod in pkgutil.iter_modules(__path__):
    if _mod.ispkg:
        importlib.import_module(f"{__name__}.{_mod.name}")
