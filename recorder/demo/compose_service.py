"""`python -m recorder.demo.compose_service`: the simulated service for the Compose demo stack.

It serves /metrics on 0.0.0.0:8000 without a `service` label (Prometheus adds it from the
scrape config) and cycles normal → fault → recovery forever, so the stack keeps producing
incidents to look at.
"""

from __future__ import annotations

import argparse
import time

from recorder.demo.service import FAULT, NORMAL, SimulatedService


def main(argv: list[str] | None = None) -> None:
    """Serve the simulated metrics and cycle through the phases."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--addr", default="0.0.0.0")  # noqa: S104 - inside a container
    parser.add_argument("--normal", type=float, default=240.0, help="seconds of normal traffic")
    parser.add_argument("--fault", type=float, default=90.0, help="seconds of fault")
    args = parser.parse_args(argv)
    service = SimulatedService(service=None)
    service.start(args.port, args.addr)
    print(f"demo service on {args.addr}:{args.port}/metrics", flush=True)
    while True:
        service.set_phase(NORMAL)
        time.sleep(args.normal)
        service.set_phase(FAULT)
        time.sleep(args.fault)


if __name__ == "__main__":
    main()
