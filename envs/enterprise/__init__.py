"""Enterprise workflow environments (ITSM, CRM, HR): stateful tool use over seeded SQLite
worlds with a written policy and a simulated user. Shared machinery: ``common.py``.

Registration only: each domain subpackage's ``__init__`` calls ``register(...)`` with a string
entry point and is imported here automatically (no heavy imports, no db is built until ``make``).
"""

import importlib
import pkgutil

for _mod in pkgutil.iter_modules(__path__):
    if _mod.ispkg:
        importlib.import_module(f"{__name__}.{_mod.name}")
