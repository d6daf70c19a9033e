"""The documentation site builds offline with warnings as errors, its gallery examples run, and
every public name has a page entry and a docstring."""

from __future__ import annotations

import ast
import importlib
import importlib.util
import inspect
import os
import pkgutil
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import stabletail

ROOT = Path(__file__).resolve().parents[2]



def _public_modules() -> list[str]:
    """``public_api_modules`` of docs/conf.py: the modules with an API page."""
    tree = ast.parse((ROOT / "docs" / "conf.py").read_text())
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", "") == "public_api_modules":
            return ast.literal_eval(node.value)
    raise AssertionError("docs/conf.py defines no public_api_modules")


def _publicapi():
    """docs/_ext/publicapi.py, the extension that lays out the API pages."""
    spec = importlib.util.spec_from_file_location("publicapi", ROOT / "docs" / "_ext" / "publicapi.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


PUBLIC = _public_modules()


def _public_objects():
    """(module, name, object) for every name of every public module's ``__all__``."""
    for modname in PUBLIC:
        mod = importlib.import_module(modname)
        for name in mod.__all__:
            yield modname, name, getattr(mod, name)


def _page(modname: str) -> str:
    if modname == "stabletail":
        return "stabletail"
    if modname == "stabletail._levy_stable":
        return "levy_stable"
    return modname.removeprefix("stabletail.")


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    pytest.importorskip("sphinx")
    src = tmp_path_factory.mktemp("docs-src") / "docs"
    shutil.copytree(ROOT / "docs", src, ignore=shutil.ignore_patterns("_build", "auto_examples",
                                                                     "sg_execution_times.rst"))
    out = tmp_path_factory.mktemp("html")
    env = {**os.environ, "OMP_NUM_THREADS": "1", "MPLBACKEND": "Agg"}
    proc = subprocess.run([sys.executable, "-m", "sphinx", "-W", "--keep-going", "-b", "html", "-q", str(src),
                           str(out)], env=env, capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-4000:]
    return out


def test_site_builds_with_every_page_and_example(site):
    for page in ("index", "stable", "estimators", "fit", "diagnose", "sgd", "studies", "api/estimators",
                 "api/sgd.studies", "auto_examples/index", "auto_examples/plot_harvest"):
        assert (site / f"{page}.html").exists(), page
    assert list((site / "_images").glob("sphx_glr_plot_*")), "the gallery produced no figure"


def test_every_public_name_is_on_its_api_page(site):
    """Each page lists every name of its module's ``__all__``, and each object has its entry (an
    anchor with its full name) on the page of its home module (the deepest public module that
    exports it), so a new name in an ``__all__`` cannot be left out of the reference."""
    assert sorted(p.stem for p in (ROOT / "docs" / "api").glob("*.rst")) == sorted(map(_page, PUBLIC))
    homes = _publicapi().homes(PUBLIC)
    missing = []
    for modname, name, obj in _public_objects():
        html = (site / "api" / f"{_page(modname)}.html").read_text()
        if inspect.ismodule(obj):
            page = (site / "api" / f"{_page(obj.__name__)}.html").read_text()
            if f'id="module-{obj.__name__}"' not in page:
                missing.append(f"{modname}.{name}: no page")
            continue
        home = homes[(name, id(obj))]
        if f'href="{_page(home)}.html#{home}.{name}"' not in html and f'href="#{home}.{name}"' not in html:
            missing.append(f"{modname}.{name}: not in the page's table")
        if f'id="{home}.{name}"' not in (site / "api" / f"{_page(home)}.html").read_text():
            missing.append(f"{home}.{name}: no entry on its home page")
    assert not missing, "\n".join(missing)


#: numpydoc.validate checks that every public function and public method passes: a docstring
#: (GL08), every parameter documented (PR01), no documented parameter that does not exist (PR02;
#: except the options of a ``**kwargs``, documented one by one), a Returns section where it
#: returns a value (RT01). A class whose constructor takes
#: parameters has a Parameters section or (a dataclass) an Attributes section.
CHECKS = ("GL08", "PR01", "PR02", "RT01")


def _params(obj):
    try:
        sig = inspect.signature(obj)
    except (TypeError, ValueError):
        return []
    return [p for p in sig.parameters if p not in ("self", "cls") and not p.startswith("_")]


def _members(cls):
    """Public methods and properties defined in the class body, less undocumented overrides of a
    base-class method (its docstring applies, and is checked there)."""
    for name, member in vars(cls).items():
        if name.startswith("_"):
            continue
        inherited = any(getattr(base, name, None) is not None for base in cls.__mro__[1:])
        if inherited and not getattr(member, "__doc__", None):
            continue
        if isinstance(member, (staticmethod, classmethod)):
            member = member.__func__
        if inspect.isfunction(member) or isinstance(member, property):
            yield name, member


def _data_documented(modname: str, name: str, obj) -> bool:
    """A constant has a ``#:`` comment where it is assigned (in this module or one it imports it
    from, found among the package's modules by identity)."""
    from sphinx.pycode import ModuleAnalyzer

    for info in pkgutil.walk_packages(stabletail.__path__, "stabletail."):
        if info.name.endswith("__main__"):
            continue
        mod = importlib.import_module(info.name)
        docs = ModuleAnalyzer.for_module(info.name).find_attr_docs()
        if getattr(mod, name, None) is obj and ("", name) in docs:
            return True
    return ("", name) in ModuleAnalyzer.for_module(modname).find_attr_docs()


def test_every_public_name_has_a_docstring():
    """Every name of a public module's ``__all__`` and every public method of its classes has a
    docstring; functions and methods document their parameters in a numpydoc Parameters section
    (the checks in CHECKS); constants have a ``#:`` doc comment. The failure lists them all."""
    from numpydoc.validate import get_doc_object, validate

    bad = []
    seen = set()

    def check(label, obj, is_class=False):
        if isinstance(obj, property):
            if not (obj.__doc__ or "").strip():
                bad.append(f"{label}: no docstring")
            return
        doc = get_doc_object(obj)
        if is_class:  # a class documents its constructor's parameters or its fields (dataclasses)
            if _params(obj) and not (doc["Parameters"] or doc["Attributes"]):
                bad.append(f"{label}: neither a Parameters nor an Attributes section")
            return
        try:
            var_keyword = any(p.kind is p.VAR_KEYWORD for p in inspect.signature(obj).parameters.values())
        except (TypeError, ValueError):
            var_keyword = False
        for code, msg in validate(doc)["errors"]:
            if code not in CHECKS:
                continue
            if var_keyword and (code == "PR02" or msg == "Parameters {'**kwargs'} not documented"):
                continue  # options taken through **kwargs, documented one by one
            bad.append(f"{label}: {code} {msg}")

    for modname, name, obj in _public_objects():
        label = f"{modname}.{name}"
        if id(obj) in seen or inspect.ismodule(obj):
            continue
        seen.add(id(obj))
        if inspect.isclass(obj):
            if not (obj.__dict__.get("__doc__") or "").strip():
                bad.append(f"{label}: no docstring")
                continue
            check(label, obj, is_class=True)
            for mname, member in _members(obj):
                check(f"{label}.{mname}", member)
        elif inspect.isroutine(obj) or hasattr(obj, "__wrapped__"):
            check(label, obj)
        elif not _data_documented(modname, name, obj):
            bad.append(f"{label}: a constant without a #: doc comment")
    assert not bad, f"{len(bad)} public names with incomplete docstrings:\n" + "\n".join(bad)
