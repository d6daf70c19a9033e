"""``.. public-api:: MODULE``: one reference page of a public module, driven by its ``__all__``.

The directive emits the module's docstring, a summary table of every name in ``__all__``
and the full entry (autodoc) of each name whose home is this module. A name exported by
several public modules (a subpackage's re-export) is documented once, on the page of the
deepest public module that exports the same object, and the other pages link to it: a new
name in an ``__all__`` appears in the reference without editing the docs.
"""

from __future__ import annotations

import importlib
import inspect
import types
from typing import Any

from docutils import nodes
from docutils.statemachine import StringList
from sphinx.util.docutils import SphinxDirective
from sphinx.util.nodes import nested_parse_with_titles


def _public(modname: str) -> bool:
    return not any(part.startswith("_") for part in modname.split("."))


def _exports(modname: str) -> list[tuple[str, Any]]:
    mod = importlib.import_module(modname)
    return [(name, getattr(mod, name)) for name in mod.__all__]


def homes(modules: list[str]) -> dict[tuple[str, int], str]:
    """``{(name, id(object)): module}``: where each exported object is documented in full.

    The home is the public module with the longest dotted name that exports the object under
    that name; a module with a private part (``stabletail._levy_stable``) only when no public
    one does."""
    out: dict[tuple[str, int], str] = {}
    for modname in modules:
        for name, obj in _exports(modname):
            key = (name, id(obj))
            old = out.get(key)
            if old is None or (_public(modname), modname.count(".")) > (_public(old), old.count(".")):
                out[key] = modname
    return out


def _entry(full: str, obj: Any) -> list[str]:
    if inspect.isclass(obj):
        kind = "autoexception" if issubclass(obj, BaseException) else "autoclass"
        return [f".. {kind}:: {full}", "   :members:", ""]
    if inspect.isfunction(obj) or inspect.isbuiltin(obj) or callable(obj) and hasattr(obj, "__wrapped__"):
        return [f".. autofunction:: {full}", ""]
    lines = [f".. autodata:: {full}"]
    if len(repr(obj)) > 70:
        lines.append("   :no-value:")
    return lines + [""]


class PublicAPI(SphinxDirective):
    required_arguments = 1
    has_content = False

    def run(self) -> list[Any]:
        modname = self.arguments[0]
        config = self.env.config
        home = homes(list(config.public_api_modules))
        exports = _exports(modname)
        lines = [f".. automodule:: {modname}", "", ".. rubric:: Public names", "",
                 ".. autosummary::", ""]
        full_names = {}
        for name, obj in exports:
            if isinstance(obj, types.ModuleType):
                full = obj.__name__
            else:
                full = f"{home.get((name, id(obj)), modname)}.{name}"
            full_names[name] = full
            # autosummary resolves names below the current module relative to it
            rel = full[len(modname) + 1:] if full.startswith(modname + ".") else full
            lines.append(f"   ~{rel}")
        lines.append("")
        for name, obj in exports:
            if isinstance(obj, types.ModuleType) or not full_names[name].startswith(modname + "."):
                continue
            if full_names[name] != f"{modname}.{name}":  # homed in a deeper module
                continue
            lines += _entry(full_names[name], obj)
        self.env.note_dependency(importlib.import_module(modname).__file__)
        content = StringList(lines, source=f"<public-api {modname}>")
        container = nodes.section()
        container.document = self.state.document
        nested_parse_with_titles(self.state, content, container)
        return container.children


def setup(app: Any) -> dict[str, Any]:
    app.add_config_value("public_api_modules", [], "env")
    app.add_directive("public-api", PublicAPI)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
