"""One evidence model and one wording module: the package defines each type and format once,
and the report path never reaches into the web layer."""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "recorder"


def definitions(kind: type[ast.AST], name: re.Pattern[str]) -> list[str]:
    """`module:name` of every class or function definition in the package matching `name`."""
    found = []
    for path in sorted(PACKAGE.glob("**/*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, kind) and name.fullmatch(getattr(node, "name", "")):
                found.append(f"{path.relative_to(ROOT)}:{getattr(node, 'name', '')}")
    return found


def test_one_figure_type_and_one_onset_type() -> None:
    """Evidence produces the report's own Figure and Onset: no second model, no converter."""
    assert definitions(ast.ClassDef, re.compile(r"\w*Figures?")) == [
        "recorder/evidence/model.py:Figure"
    ]
    assert definitions(ast.ClassDef, re.compile(r"\w*Onset")) == [
        "recorder/evidence/model.py:Onset"
    ]
    assert not (PACKAGE / "report" / "evidence_figures.py").exists()


def test_one_rfc3339_formatter() -> None:
    """Instants are formatted to RFC 3339 in exactly one function (parsing aside)."""
    formatters = [
        d
        for d in definitions(ast.FunctionDef, re.compile(r"\w*rfc3339\w*"))
        if not d.split(":")[1].startswith("parse")
    ]
    assert sorted(set(formatters)) == ["recorder/evidence/wording.py:rfc3339"]
    sources = "".join(p.read_text(encoding="utf-8") for p in PACKAGE.glob("**/*.py"))
    assert sources.count('+ "Z"') == 1
    assert '"+00:00", "Z"' not in sources


def test_one_duration_and_one_percent_formatter() -> None:
    """Durations and percents are worded in one place each."""
    assert definitions(ast.FunctionDef, re.compile(r"(format_)?percent")) == [
        "recorder/evidence/wording.py:percent"
    ]
    assert definitions(ast.FunctionDef, re.compile(r"\w*duration_words|format_duration")) == [
        "recorder/core/durations.py:format_duration"
    ]


def imported(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def test_report_path_imports_nothing_from_web() -> None:
    """recorder/report_io.py and recorder/report/* never import recorder.web (not even
    lazily inside a function)."""
    paths = [PACKAGE / "report_io.py", *sorted((PACKAGE / "report").glob("**/*.py"))]
    offenders = {
        str(p.relative_to(ROOT)): sorted(n for n in imported(p) if n.startswith("recorder.web"))
        for p in paths
    }
    assert {k: v for k, v in offenders.items() if v} == {}


def test_no_process_wide_collector_switch() -> None:
    """Nothing in the package turns the garbage collector off or on (it would reach every
    coroutine on the loop across an await). The one freeze is `serve`'s, once, before it
    announces it is listening: start-up's objects set apart, collection still on."""
    frozen = []
    for path in PACKAGE.glob("**/*.py"):
        text = path.read_text(encoding="utf-8")
        assert "gc.disable" not in text, path
        assert "gc.enable" not in text, path
        assert "gc.unfreeze" not in text, path
        if "gc.freeze" in text:
            frozen.append(path.relative_to(ROOT).as_posix())
    assert frozen == ["recorder/serving.py"]
    serving = (PACKAGE / "serving.py").read_text(encoding="utf-8")
    assert serving.count("gc.freeze") == 1
    assert serving.index("gc.freeze()") < serving.index("listening on")
