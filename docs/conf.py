"""Sphinx configuration of the stabletail site (offline; warnings are errors in the README's build)."""

from __future__ import annotations

import os
import sys

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("MPLBACKEND", "Agg")
sys.path.insert(0, os.path.abspath(".."))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "_ext"))

import stabletail  # noqa: E402

project = "stabletail"
author = "the stabletail developers"
copyright = "2026, the stabletail developers"
release = version = stabletail.__version__

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    "sphinx.ext.viewcode",
    "numpydoc",
    "myst_parser",
    "sphinx_gallery.gen_gallery",
    "publicapi",  # docs/_ext/publicapi.py: the API pages from each public module's __all__
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
autosummary_generate = False

# The public modules, one API page each (docs/api/*.rst: ``.. public-api:: MODULE``). Every name of a
# module's __all__ is listed on its page and documented once, on the page of the deepest module here
# that exports it (docs/_ext/publicapi.py); tests/docs/test_docs_build.py reads this list.
public_api_modules = [
    "stabletail",
    "stabletail.stable",
    "stabletail._levy_stable",
    "stabletail.estimators",
    "stabletail.fit",
    "stabletail.fit.gof",
    "stabletail.fit.plot",
    "stabletail.sgd",
    "stabletail.sgd.harvest",
    "stabletail.sgd.protocols",
    "stabletail.sgd.gaussianity",
    "stabletail.sgd.direction",
    "stabletail.sgd.monitor",
    "stabletail.sgd.datasets",
    "stabletail.sgd.models",
    "stabletail.sgd.distributed",
    "stabletail.sgd.studies",
    "stabletail.cli",
]

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

