"""Sphinx configuration of the stabletail site (offline; warnings are errors in the README's build)."""

from __future__ import annotations

import os
import sys

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("MPLBACKEND", "Agg")
sys.path.insert(0, os.path.abspath(".."))

import stabletail  # noqa: E402

project = "stabletail"
author = "the stabletail developers"
copyright = "2026, the stabletail developers"
release = version = stabletail.__version__

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.mathjax",
    "sphinx.ext.viewcode",
    "numpydoc",
    "myst_parser",
    "sphinx_gallery.gen_gallery",
]

source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
root_doc = "index"
exclude_patterns = ["_build", "examples", "auto_examples/*.ipynb", "auto_examples/*.py",
                    "auto_examples/*.zip", "auto_examples/*.json", "auto_examples/*.md5"]

# numpydoc renders the sections; class members are listed by autodoc, not by numpydoc's tables
numpydoc_show_class_members = False
numpydoc_xref_param_type = False
autodoc_member_order = "bysource"
autodoc_typehints = "none"  # the numpydoc sections carry the types
autodoc_default_options = {"members": True, "undoc-members": True, "imported-members": True,
                           "show-inheritance": False}

myst_enable_extensions = ["dollarmath"]
myst_heading_anchors = 3

sphinx_gallery_conf = {
    "examples_dirs": "examples",
    "gallery_dirs": "auto_examples",
    "filename_pattern": r"/plot_",
    "download_all_examples": False,
    "remove_config_comments": True,
    "abort_on_example_error": True,
    "reset_modules": ("matplotlib",),
    "first_notebook_cell": None,
    "show_memory": False,
    "plot_gallery": "True",
}

html_theme = "pydata_sphinx_theme"
html_title = f"stabletail {release}"
html_theme_options = {"navigation_with_keys": False, "show_toc_level": 2, "icon_links": []}
html_static_path: list[str] = []
html_show_sourcelink = False


def _data_members(modname: str) -> list[str]:
    """Constants in a module's ``__all__`` (autodoc's automodule skips imported data)."""
    import importlib
    import inspect

    from sphinx.pycode import ModuleAnalyzer

    mod = importlib.import_module(modname)
    documented = {name for _, name in ModuleAnalyzer.for_module(modname).find_attr_docs()}
    return [n for n in getattr(mod, "__all__", ()) if n not in documented
            and not (inspect.isroutine(getattr(mod, n)) or inspect.isclass(getattr(mod, n))
                     or inspect.ismodule(getattr(mod, n)))]


def _append_constants(app, docname, source):
    if not docname.startswith("api/") or docname == "api/stabletail":
        return
    modname = "stabletail." + docname[4:]
    names = _data_members(modname)
    if names:
        lines = ["", "Constants", "---------", ""]
        for n in names:
            lines += [f".. autodata:: {modname}.{n}", ""]
        source[0] += "\n".join(lines) + "\n"


def setup(app):
    app.connect("source-read", _append_constants)
