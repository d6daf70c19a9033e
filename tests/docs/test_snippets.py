"""Every ```python block of the README and the user guide runs (in order, one namespace per page).

A block that cannot run here says why in an HTML comment on the line before it,
``<!-- no-exec: reason -->`` (a cluster, CUDA, torchrun); the test lists them, and a comment
without a reason fails. Shell blocks are not run. The real-data examples read the ``arch``
package's shipped data (the ``docs`` extra installs it).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PAGES = [ROOT / "README.md"] + sorted((ROOT / "docs").glob("*.md"))
_BLOCK = re.compile(r"(?:^<!--\s*no-exec:(?P<why>[^>]*)-->\s*\n)?^```python\n(?P<code>.*?)^```", re.S | re.M)


def blocks(page: Path) -> list[tuple[str, str | None]]:
    """(code, reason it is not run or None) for each python block of the page."""
    found = _BLOCK.finditer(page.read_text())
    return [(m["code"], None if m["why"] is None else m["why"].strip()) for m in found]


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_page_snippets_run(page, tmp_path, monkeypatch):
    found = blocks(page)
    if not found:
        pytest.skip("no python blocks")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MPLBACKEND", "Agg")
    namespace: dict = {"__name__": "__snippet__"}
    try:
        import torch

        torch.set_num_threads(1)
    except ImportError:  # pragma: no cover - torch is in the test install
        pass
    for k, (code, why) in enumerate(found):
        if why is not None:
            assert why, f"{page.name}: block {k} is marked no-exec without a reason"
            continue
        try:
            exec(compile(code, f"{page.name}[block {k}]", "exec"), namespace)
        except Exception as exc:  # noqa: BLE001 - report which block failed
            what = f"{type(exc).__name__}: {exc}"
            raise AssertionError(f"{page.name}, python block {k} failed: {what}") from exc
    import matplotlib.pyplot as plt

    plt.close("all")


def test_no_exec_blocks_are_few_and_explained():
    skipped = [(p.name, why) for p in PAGES for _, why in blocks(p) if why is not None]
    assert all(why for _, why in skipped)
    assert len(skipped) <= 3, skipped  # today: a Ray cluster, CUDA, torchrun (docs/scaling.md)
