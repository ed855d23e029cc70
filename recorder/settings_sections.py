"""The nested tables of the settings: [sampling], [[signals]] and [thresholds]."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, field_validator, model_validator

from recorder.core.durations import parse_duration
from recorder.prometheus.presets import PRESETS
from recorder.prometheus.selection import SignalEntry, unknown_preset


def _duration(value: object) -> object:
    if isinstance(value, str):
        return parse_duration(value)
    if isinstance(value, int | float) and not isinstance(value, bool):
        return timedelta(seconds=value)
    return value


Duration = Annotated[timedelta, BeforeValidator(_duration)]


class Strict(BaseModel):
    """Unknown keys are refused; values are frozen."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class SamplingSettings(Strict):
    """How often open incidents are sampled, and the baseline window before the first alert."""

    interval: Duration = timedelta(seconds=15)
    baseline_window: Duration = timedelta(hours=1)
    recovery_tail: Duration = timedelta(minutes=10)
    """How long sampling goes on after resolution, so the chart shows whether recovery held."""
    concurrency: int = Field(default=16, ge=1, le=256)
    presets: tuple[str, ...] = ()
    """Whole signal sets for well-known exporters (recorder.prometheus.presets)."""

    @field_validator("presets")
    @classmethod
    def _known_presets(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for name in value:
            if name not in PRESETS:
                raise ValueError(unknown_preset(name))
        return value

    @field_validator("interval", "baseline_window")
    @classmethod
    def _positive(cls, value: timedelta) -> timedelta:
        if value <= timedelta(0):
            raise ValueError("must be longer than 0s")
        return value

    @field_validator("recovery_tail")
    @classmethod
    def _not_negative(cls, value: timedelta) -> timedelta:
        if value < timedelta(0):
            raise ValueError("must be 0s or longer")
        return value


class SignalSettings(Strict):
    """One `[[signals]]` entry: a PromQL query sampled per incident (`{{label}}` is filled
    from its labels), or a preset with optional overrides (recorder.prometheus.selection)."""

    name: str | None = Field(default=None, pattern=r"^[a-zA-Z_][a-zA-Z0-9_]*$")
    query: str | None = Field(default=None, min_length=1)
    preset: str | None = None
    role: str | None = None

    @model_validator(mode="after")
    def _query_or_preset(self) -> SignalSettings:
        if self.preset is None and (self.name is None or self.query is None):
            raise ValueError("give `name` and `query`, or `preset` (see recorder signals)")
        if self.preset is not None and self.preset not in PRESETS:
            raise ValueError(unknown_preset(self.preset))
        return self

    def entry(self) -> SignalEntry:
        return SignalEntry(name=self.name, query=self.query, preset=self.preset, role=self.role)


class ThresholdSettings(Strict):
    """Warning and outage levels the report's Detection and Metrics figures use."""

    pool_warning: float = Field(default=0.8, gt=0, le=1)
    error_rate_factor: float = Field(default=10.0, gt=0)
    error_rate_min: float = Field(default=0.01, ge=0, le=1)
    outage_error_rate: float = Field(default=0.05, gt=0, le=1)
