"""ARCHITECTURE.md stays true to the tree: every path it names exists."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# A backticked path, optionally followed by `::name` (a function or class in that module).
_PATH = re.compile(r"`((?:recorder|alert_adapters|tests|deploy|bench)/[\w./<>-]*?)(?:::([\w.]+))?`")


def _named_paths() -> list[tuple[str, str | None]]:
    text = (ROOT / "ARCHITECTURE.md").read_text(encoding="utf-8")
    return [(m.group(1), m.group(2)) for m in _PATH.finditer(text) if "<" not in m.group(1)]


def test_the_architecture_page_names_modules() -> None:
    """The page names the modules it describes (the check below would pass vacuously)."""
    assert len(_named_paths()) >= 30


def test_every_path_the_architecture_page_names_exists() -> None:
    """Each module or folder named on the page is in the tree, and each `module::name`
    is defined in that module."""
    missing = [path for path, _ in _named_paths() if not (ROOT / path).exists()]
    assert missing == []
    undefined = [
        f"{path}::{name}"
        for path, name in _named_paths()
        if name is not None
        and not re.search(
            rf"^\s*(?:async def|def|class) {name.split('.')[0]}\b",
            (ROOT / path).read_text(encoding="utf-8"),
            re.MULTILINE,
        )
    ]
    assert undefined == []


def test_a_missing_path_would_be_reported() -> None:
    """The pattern picks up a path like the page writes them, so a rename is caught."""
    text = "see `recorder/no_such_module.py::Builder.build` and `alert_adapters/`"
    found = _PATH.findall(text)
    assert found == [("recorder/no_such_module.py", "Builder.build"), ("alert_adapters/", "")]
    assert not (ROOT / found[0][0]).exists()
