"""The demo's saved report: files side by side, charts linked relatively."""

from __future__ import annotations

from pathlib import Path

from recorder.demo.report_files import relink_charts, sampled_signals, save_report
from recorder.report_io import chart_url

INCIDENT = "01abc"


class FakeRecorder:
    """Answers the demo's GETs the way the recorder's routes would."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.asked: list[str] = []

    def get_text(self, path: str) -> str:
        self.asked.append(path)
        if path.endswith("format=markdown"):
            return "\n".join(
                f"![{s}]({chart_url(INCIDENT, s, self.base)})"
                for s in ("error_rate", "pool_in_use")
            )
        if path.endswith("format=html"):
            return "<!doctype html><svg></svg>"
        return f'<svg data-path="{path}"></svg>'


def test_markdown_links_point_at_the_saved_svgs(tmp_path: Path) -> None:
    """Every chart link becomes charts/SIGNAL.svg and that file holds the chart."""
    source = FakeRecorder("http://127.0.0.1:40123")

    saved = save_report(source, INCIDENT, ["error_rate", "pool_in_use"], tmp_path)

    markdown = saved.markdown.read_text(encoding="utf-8")
    assert markdown.splitlines() == [
        "![error_rate](charts/error_rate.svg)",
        "![pool_in_use](charts/pool_in_use.svg)",
    ]
    assert "127.0.0.1" not in markdown
    for name in ("error_rate", "pool_in_use"):
        svg = (tmp_path / "charts" / f"{name}.svg").read_text(encoding="utf-8")
        assert chart_url(INCIDENT, name) in svg
    assert saved.html == tmp_path / f"incident-{INCIDENT}.html"
    assert saved.html.read_text(encoding="utf-8").startswith("<!doctype html>")


def test_relinking_leaves_other_links_alone() -> None:
    """Only the recorder's chart routes change, whatever base URL served them."""
    text = (
        f"![error_rate](https://recorder.example{chart_url(INCIDENT, 'error_rate')})\n"
        "[runbook](https://wiki.example/runbook)"
    )
    assert relink_charts(text, INCIDENT, ["error_rate"]) == (
        "![error_rate](charts/error_rate.svg)\n[runbook](https://wiki.example/runbook)"
    )


def test_only_signals_with_samples_are_charted() -> None:
    """A configured signal without samples has no chart to save."""
    document = {"signals": {"error_rate": {"samples": [["t", 0.1]]}, "pool_max": {"samples": []}}}
    assert sampled_signals(document) == ["error_rate"]
