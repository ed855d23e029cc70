"""CPU to parse, validate and map one alert webhook body (parse_alert_webhook), per body.

Run by hand (not part of the unit suite):

    .venv/bin/python bench/parse.py
    .venv/bin/python bench/parse.py --compare /tmp/recorder-main

Bodies: the storm benchmark's kube-prometheus alerts (bench/storm.py) in groups of 1, 50
and 10,000 (8.9 MB); bench/ingest.py's shape (the demo fixture's alert, with Go's
`\\u0026` escapes) in groups of 1 and 50; a Grafana 10 group of 50 alerts with values
and links. Each figure is the median over rounds of the process CPU time per call
(`time.process_time`), which moves less with the machine's load than wall time.

`--compare DIR` measures the source tree DIR too (for example
`git archive main | tar -x -C DIR`), in a child process per round, alternating with this
tree: an A/B of two builds in one run.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "tests" / "fixtures"
# (name, repetitions per round): enough calls that a round takes about a tenth of a second.
SHAPES = [
    ("storm, 1 alert", 3000),
    ("storm, 50 alerts", 200),
    ("storm, 10,000 alerts", 1),
    ("ingest, 1 alert", 3000),
    ("ingest, 50 alerts", 200),
    ("Grafana, 50 alerts", 200),
]


def copies(fixture: str, alerts: int, change: Callable[[dict[str, Any], int], None]) -> bytes:
    """The fixture's first alert `alerts` times, each changed by `change(alert, n)`."""
    document = json.loads((FIXTURES / fixture).read_text())
    template = document["alerts"][0]
    document["alerts"] = []
    for n in range(alerts):
        alert = json.loads(json.dumps(template))
        change(alert, n)
        document["alerts"].append(alert)
    return json.dumps(document).encode()


def ingest_alert(alert: dict[str, Any], n: int) -> None:
    alert["labels"]["instance"] = f"10.0.{n // 250}.{n % 250}:9100"
    alert["fingerprint"] = f"abcdef{n:04x}"


def grafana_alert(alert: dict[str, Any], n: int) -> None:
    alert["labels"]["instance"] = f"host-{n}"
    alert["fingerprint"] = f"{n:016x}"


def bodies() -> dict[str, bytes]:
    sys.path.insert(0, str(ROOT / "bench"))
    from storm import storm_body

    return {
        "storm, 1 alert": storm_body(1, status="firing"),
        "storm, 50 alerts": storm_body(50, status="firing"),
        "storm, 10,000 alerts": storm_body(10_000, status="firing"),
        "ingest, 1 alert": copies("alertmanager_firing.json", 1, ingest_alert),
        "ingest, 50 alerts": copies("alertmanager_firing.json", 50, ingest_alert),
        "Grafana, 50 alerts": copies("grafana/grafana10_firing_values.json", 50, grafana_alert),
    }


def measure_here(tree: Path) -> dict[str, float]:
    """CPU seconds per call for each shape, parsing with the source tree `tree`."""
    sys.path.insert(0, str(tree))
    from alert_adapters.versions import parse_alert_webhook

    found: dict[str, float] = {}
    for name, body in bodies().items():
        repetitions = dict(SHAPES)[name]
        parse_alert_webhook(body)  # warm caches and lazy imports
        started = time.process_time()
        for _ in range(repetitions):
            parse_alert_webhook(body)
        found[name] = (time.process_time() - started) / repetitions
    return found


def measure(tree: Path) -> dict[str, float]:
    """measure_here in a fresh interpreter, so each tree's modules are its own."""
    out = subprocess.run(
        [sys.executable, __file__, "--child", str(tree)],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    figures: dict[str, float] = json.loads(out)
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--compare", type=Path, help="a second source tree to measure")
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child is not None:
        print(json.dumps(measure_here(args.child)))
        return
    trees = {"this": ROOT} | ({"compare": args.compare.resolve()} if args.compare else {})
    rounds: dict[str, list[dict[str, float]]] = {name: [] for name in trees}
    for _ in range(args.rounds):
        for name, tree in trees.items():
            rounds[name].append(measure(tree))
    print(f"CPU per body, median of {args.rounds} rounds (ms):")
    print(f"{'body':<24}" + "".join(f"{name:>12}" for name in trees))
    for shape, _ in SHAPES:
        medians = [statistics.median(r[shape] for r in rounds[name]) for name in trees]
        print(f"{shape:<24}" + "".join(f"{m * 1000:12.3f}" for m in medians))


if __name__ == "__main__":
    main()
