"""Which signals are sampled: `[sampling] presets` and `[[signals]]` combined (pure).

Presets listed under `[sampling] presets` come first, in order. When two of them fill the
same role, the first keeps the role's name and the later one's signal is sampled as
`<preset>_<role>` (e.g. `micrometer_http_error_rate`): stored and charted, not used for
the report's figures. `[[signals]]` entries come next; one with the name of a signal
already selected replaces it (an explicit entry wins over a preset).

A `[[signals]]` entry is either `name` + `query`, or `preset` with optional overrides:
`role` picks one of the preset's signals, `name` renames it (or, without `role`, picks
the preset's signal of that name), and `query` replaces its PromQL.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from recorder.prometheus.presets import PRESETS, Preset
from recorder.prometheus.signals import Signal


class SignalConfigError(ValueError):
    """A signal configuration that cannot be used; the message names the entry."""


@dataclass(frozen=True, slots=True)
class SignalEntry:
    """One `[[signals]]` entry as configured."""

    name: str | None = None
    query: str | None = None
    preset: str | None = None
    role: str | None = None


def secondary_name(preset: str, role: str) -> str:
    """The name a preset's signal is sampled under when an earlier preset has its role."""
    return f"{preset.replace('-', '_')}_{role}"


def unknown_preset(name: str) -> str:
    """The message for a preset name that does not exist."""
    return f"unknown preset {name!r}; known presets: {', '.join(PRESETS)}"


def select_signals(presets: Sequence[str], entries: Sequence[SignalEntry]) -> tuple[Signal, ...]:
    """The signals to sample, in order: presets' first, then `[[signals]]` entries'.

    Raises SignalConfigError naming the entry when one is unusable (unknown preset or
    role, an override that is ambiguous, a bad query, two entries with one name).
    """
    selected: dict[str, Signal] = {}
    for preset_name in dict.fromkeys(presets):
        preset = _preset(preset_name, "sampling.presets")
        for role, query in preset.signals:
            name = role if role not in selected else secondary_name(preset.name, role)
            selected[name] = _signal(name, query, f"preset {preset.name}", "sampling.presets")
    explicit: set[str] = set()
    for index, entry in enumerate(entries):
        where = f"signals[{index}]"
        for signal in _expand(entry, where):
            if signal.name in explicit:
                raise SignalConfigError(
                    f"{where}: a signal named {signal.name!r} is already configured; "
                    "signal names must be unique"
                )
            explicit.add(signal.name)
            selected[signal.name] = signal
    return tuple(selected.values())


def _expand(entry: SignalEntry, where: str) -> list[Signal]:
    if entry.preset is None:
        if entry.role is not None:
            raise SignalConfigError(f"{where}: `role` needs `preset`")
        if entry.name is None or entry.query is None:
            raise SignalConfigError(f"{where}: give `name` and `query`, or `preset`")
        return [_signal(entry.name, entry.query, "[[signals]]", where)]
    preset = _preset(entry.preset, where)
    origin = f"preset {preset.name} ([[signals]])"
    queries = dict(preset.signals)
    role = entry.role
    if role is None and entry.name is not None:
        if entry.name not in queries:
            raise SignalConfigError(
                f"{where}: preset {preset.name!r} has no signal {entry.name!r} (it has "
                f"{', '.join(queries)}); to rename one, say which with `role`"
            )
        role = entry.name
    if role is None:
        if entry.query is not None:
            raise SignalConfigError(
                f"{where}: preset {preset.name!r} has several signals "
                f"({', '.join(queries)}); say which one `query` replaces with `role`"
            )
        return [_signal(r, q, origin, where) for r, q in preset.signals]
    if role not in queries:
        raise SignalConfigError(
            f"{where}: preset {preset.name!r} has no role {role!r} (it has {', '.join(queries)})"
        )
    query = entry.query if entry.query is not None else queries[role]
    if entry.query is not None:
        origin += ", query overridden"
    return [_signal(entry.name or role, query, origin, where)]


def _preset(name: str, where: str) -> Preset:
    preset = PRESETS.get(name)
    if preset is None:
        raise SignalConfigError(f"{where}: {unknown_preset(name)}")
    return preset


def _signal(name: str, query: str, origin: str, where: str) -> Signal:
    try:
        return Signal(name, query, origin)
    except ValueError as exc:
        raise SignalConfigError(f"{where}: {exc}") from None
