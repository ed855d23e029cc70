"""The pure packages import no I/O, clock, logging or metrics library, nor the shell."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PURE_PACKAGES = ["recorder/core", "recorder/report", "recorder/evidence"]
PURE_MODULES = [
    "recorder/prometheus/signals.py",
    "recorder/prometheus/plan.py",
    "recorder/prometheus/failures.py",
]
FORBIDDEN = {
    "aiohttp",
    "asyncpg",
    "aiosqlite",
    "structlog",
    "prometheus_client",
    "os",
    "time",
    "socket",
    "subprocess",
    "asyncio",
    "logging",
}
FORBIDDEN_PACKAGES = ("recorder.store", "recorder.web")


def imported_modules(path: Path) -> set[str]:
    """Dotted names of the modules one source file imports."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def violations(path: Path) -> list[str]:
    """The imports of `path` that a pure module must not have."""
    return sorted(
        name
        for name in imported_modules(path)
        if name.split(".")[0] in FORBIDDEN or name.startswith(FORBIDDEN_PACKAGES)
    )


def pure_files() -> list[Path]:
    files = [p for pkg in PURE_PACKAGES for p in sorted((ROOT / pkg).glob("**/*.py"))]
    files += [ROOT / name for name in PURE_MODULES]
    assert all(f.exists() for f in files), "a pure module moved: update PURE_*"
    return files


@pytest.mark.parametrize("path", pure_files(), ids=lambda p: str(p.relative_to(ROOT)))
def test_pure_module_imports_no_io_library(path: Path) -> None:
    """A pure module importing aiohttp, asyncpg, aiosqlite, structlog, prometheus_client,
    os, time, socket, asyncio, logging or the store/web shell fails this test."""
    assert violations(path) == []


def test_purity_check_catches_forbidden_imports(tmp_path: Path) -> None:
    """The checker itself sees library imports and imports of the shell."""
    sample = tmp_path / "bad.py"
    sample.write_text(
        "from aiohttp import web\nimport asyncpg.pool\nfrom recorder.store.errors import X\n",
        encoding="utf-8",
    )
    assert violations(sample) == ["aiohttp", "asyncpg.pool", "recorder.store.errors"]
