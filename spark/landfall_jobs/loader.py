"""Loading the pipeline's stage modules (package landfall_pipeline)."""
from __future__ import annotations

import importlib
import importlib.machinery
import importlib.util
import os
import re
import sys
from typing import Callable

PACKAGE = "landfall_pipeline"
MODULE_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$")


class StageLoadError(ImportError):
    """The stage module cannot be imported, or has no run(spark, ctx)."""


def register_pipeline_root(directory: str) -> None:
    """Make `landfall_pipeline` the package in `directory`, as pipeline.zip on --py-files does on
    EMR, without building the zip: its __path__ is [directory] (its __init__.py runs if it has one;
    subdirectories need none). Replaces an earlier registration of another directory and its
    loaded submodules; the same directory again changes nothing."""
    root = os.path.abspath(directory)
    if not os.path.isdir(root):
        raise StageLoadError(f"pipeline root {root} is not a directory")
    if list(getattr(sys.modules.get(PACKAGE), "__path__", [])) == [root]:
        return
    for name in [n for n in sys.modules if n == PACKAGE or n.startswith(PACKAGE + ".")]:
        del sys.modules[name]
    init = os.path.join(root, "__init__.py")
    if os.path.isfile(init):
        spec = importlib.util.spec_from_file_location(PACKAGE, init, submodule_search_locations=[root])
    else:
        spec = importlib.machinery.ModuleSpec(PACKAGE, None, is_package=True)
        spec.submodule_search_locations = [root]
    module = importlib.util.module_from_spec(spec)
    sys.modules[PACKAGE] = module
    try:
        if spec.loader is not None:
            spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[PACKAGE]
        raise
    importlib.invalidate_caches()


def load_stage(name: str) -> Callable:
    """The run(spark, ctx) of module `name` (e.g. landfall_pipeline.transform)."""
    if not MODULE_NAME.match(name or ""):
        raise StageLoadError(f"stage module {name!r} is not a Python module name")
    try:
        module = importlib.import_module(name)
    except ModuleNotFoundError as exc:
        # only the module itself (or its package) missing is ours to explain; a missing import
        # inside the module keeps its own error
        if exc.name and (name == exc.name or name.startswith(exc.name + ".")):
            hint = " (put pipeline.zip on --py-files, or pass --pipeline-root DIR)" if name.startswith(PACKAGE + ".") else ""
            raise StageLoadError(f"stage module {name!r} not found{hint}") from exc
        raise
    run = getattr(module, "run", None)
    if not callable(run):
        raise StageLoadError(f"stage module {name!r} ({getattr(module, '__file__', '?')}) defines no run(spark, ctx)")
    return run
