"""Which presets a Prometheus can serve, and the TOML that turns them on (pure).

`recorder signals` asks Prometheus for the metric names the presets need; this module
decides, per preset, found (every metric it needs has series) or missing, and writes the
lines it prints.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Sequence
from dataclasses import dataclass

from recorder.prometheus.presets import PRESETS, Preset
from recorder.prometheus.selection import secondary_name


@dataclass(frozen=True, slots=True)
class PresetMatch:
    """One preset and which of its metrics Prometheus has; for a preset matched on a
    target label, `service_labels_seen` are the service labels its series carry (None:
    not looked at)."""

    preset: Preset
    present: tuple[str, ...]
    absent: tuple[str, ...]
    service_labels_seen: tuple[str, ...] | None = None

    @property
    def found(self) -> bool:
        return not self.absent


def wanted_metrics() -> tuple[str, ...]:
    """Every metric name a preset needs, each once."""
    return tuple(dict.fromkeys(m for p in PRESETS.values() for m in p.metrics))


def names_selector() -> str:
    """A series selector matching exactly the wanted metric names (for `match[]`)."""
    alternatives = "|".join(re.escape(name) for name in wanted_metrics())
    return f'{{__name__=~"{alternatives}"}}'


def match_presets(names: Collection[str]) -> tuple[PresetMatch, ...]:
    """Each preset, in order, with its metrics split into present and absent."""
    available = set(names)
    return tuple(
        PresetMatch(
            preset,
            tuple(m for m in preset.metrics if m in available),
            tuple(m for m in preset.metrics if m not in available),
        )
        for preset in PRESETS.values()
    )


def service_label_query(metric: str, label: str) -> str:
    """PromQL: how many distinct non-empty values `label` has on `metric`'s series."""
    return f'count(count by ({label}) ({metric}{{{label}!=""}}))'


def format_matches(matches: Sequence[PresetMatch], service_labels: Sequence[str] = ()) -> list[str]:
    """One line per preset: found or missing, with the metrics it looked for. A found
    preset matched on a target label gets a second line: which service labels its series
    carry, or a warning when they carry none of `service_labels`."""
    width = max(len(m.preset.name) for m in matches)
    indent = " " * (9 + width + 2)
    lines = []
    for match in matches:
        if match.found:
            lines.append(f"found    {match.preset.name:<{width}}  {', '.join(match.present)}")
            seen = match.service_labels_seen
            if seen:
                lines.append(f"{indent}its series carry service labels: {', '.join(seen)}")
            elif seen is not None:
                lines.append(
                    f"{indent}warning: its series carry none of {', '.join(service_labels)}; "
                    "add the label they name the service with to service_labels"
                )
            continue
        looked = ", ".join(match.absent)
        have = f" (has {', '.join(match.present)})" if match.present else ""
        lines.append(f"missing  {match.preset.name:<{width}}  no series of {looked}{have}")
    return lines


def format_toml(matches: Sequence[PresetMatch]) -> list[str]:
    """The lines to paste into the recorder's TOML file."""
    found = [m.preset for m in matches if m.found]
    if not found:
        return [
            "# No preset's metrics are in this Prometheus: write your own [[signals]]",
            "# queries (see deploy/recorder.example.toml).",
        ]
    names = ", ".join(f'"{p.name}"' for p in found)
    lines = ["# Paste into the recorder's TOML file:", "[sampling]", f"presets = [{names}]"]
    seen: dict[str, str] = {}
    for preset in found:
        for role in preset.roles:
            if role in seen:
                lines.append(
                    f"# {preset.name}'s {role} is sampled as "
                    f"{secondary_name(preset.name, role)}: {seen[role]} fills {role} "
                    "(list the one you want first)"
                )
            else:
                seen[role] = preset.name
    return lines
