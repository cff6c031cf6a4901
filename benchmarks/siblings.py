"""``load("foundation")``: another benchmark script of this folder as a module.

The scripts share machinery (the foundation benchmark's seeding, the sales
benchmark's deals) but are run as files, not as a package. Each is loaded once
as ``<name>_benchmark``, the name the smoke tests load it under too, so a
script and the test that runs it share one module.
"""

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

HERE = Path(__file__).resolve().parent


def load(name: str) -> ModuleType:
    key = f"{name}_benchmark"
    module = sys.modules.get(key)
    if module is None:
        spec = importlib.util.spec_from_file_location(key, HERE / f"{name}.py")
        assert spec and spec.loader
        module = importlib.util.module_from_spec(spec)
        sys.modules[key] = module
        spec.loader.exec_module(module)
    return module
