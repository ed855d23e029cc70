"""Metric signals: named PromQL templates and how they are filled from an incident's labels.

Pure: no I/O. A query's `{{label}}` placeholders take the incident's common label values,
escaped for a PromQL double-quoted string literal. `{{service}}` is special: it takes the
value of the first of the configured service labels the incident has (`service`, `job`,
`app`, … by default), and `{{service_label}}` the name of that label. A placeholder with
no value leaves the signal unsampled for that incident, and `MissingLabels.reason` says
why.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

# The report's figures define the well-known roles; sampling only names them.
from recorder.evidence.units import ERROR_COUNT, ERROR_RATE, POOL_IN_USE, POOL_MAX

WELL_KNOWN_SIGNALS = (ERROR_RATE, ERROR_COUNT, POOL_IN_USE, POOL_MAX)
SERVICE = "service"
SERVICE_LABEL = "service_label"
DEFAULT_SERVICE_LABELS = ("service", "job", "app", "app_kubernetes_io_name", "service_name")
"""Where `{{service}}` comes from, first match wins (the interface's default order)."""

_PLACEHOLDER = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}")
_NAME = re.compile(r"[a-z_][a-z0-9_]*\Z")
# Go's strconv escapes, which the PromQL lexer accepts in double-quoted strings.
_ESCAPES = {"\\": "\\\\", '"': '\\"', "\n": "\\n", "\r": "\\r", "\t": "\\t"}


@dataclass(frozen=True, slots=True)
class Signal:
    """A named PromQL query template sampled while an incident runs.

    The name is a lower-case identifier (it becomes a JSON key and a chart id). Raises
    ValueError with the reason when the name or query is unusable.
    """

    name: str
    query: str
    origin: str = field(default="", compare=False)
    """Where the signal was configured (e.g. "preset ingress-nginx"), for people."""

    def __post_init__(self) -> None:
        if not _NAME.match(self.name):
            raise ValueError(
                f"signal name {self.name!r} must be lower-case letters, digits and _ "
                "(not starting with a digit), e.g. 'error_rate'"
            )
        if not self.query.strip():
            raise ValueError(f"signal {self.name!r} has an empty query")
        stray = _PLACEHOLDER.sub("", self.query)
        if "{{" in stray or "}}" in stray:
            raise ValueError(
                f"signal {self.name!r}: query has '{{{{' or '}}}}' outside a {{{{label}}}} "
                "placeholder; placeholders are {{name}} with a label name inside"
            )

    @property
    def placeholders(self) -> tuple[str, ...]:
        """Label names the query needs, in first-use order."""
        return tuple(dict.fromkeys(_PLACEHOLDER.findall(self.query)))


@dataclass(frozen=True, slots=True)
class ServiceLabel:
    """The incident's service and the label it was found in."""

    label: str
    value: str

    @property
    def text(self) -> str:
        """e.g. "checkout (from label `app_kubernetes_io_name`)"."""
        return f"{self.value} (from label `{self.label}`)"


@dataclass(frozen=True, slots=True)
class RenderedQuery:
    """A signal's query with every placeholder filled: ready to send to Prometheus."""

    signal: str
    expr: str


@dataclass(frozen=True, slots=True)
class MissingLabels:
    """A signal that cannot be sampled for this incident: these labels have no value.

    `service_labels` is set when `{{service}}` found none of them on the incident.
    """

    signal: str
    labels: tuple[str, ...]
    service_labels: tuple[str, ...] = ()

    @property
    def reason(self) -> str:
        reasons = []
        if self.service_labels:
            reasons.append(no_service_reason(self.service_labels))
        if self.labels:
            names = ", ".join(repr(label) for label in self.labels)
            noun = "label" if len(self.labels) == 1 else "labels"
            reasons.append(f"the incident's common labels have no value for {noun} {names}")
        return "; ".join(reasons)


def no_service_reason(service_labels: Sequence[str]) -> str:
    """Why `{{service}}` has no value: e.g. "no label among service, job" (plain names:
    the reason is shown inside other text in every report format)."""
    return "no label among " + ", ".join(service_labels)


def find_service(
    labels: Mapping[str, str], service_labels: Sequence[str] = DEFAULT_SERVICE_LABELS
) -> ServiceLabel | None:
    """The first of `service_labels` with a non-empty value in `labels`."""
    for label in service_labels:
        value = labels.get(label)
        if value:
            return ServiceLabel(label, value)
    return None


def escape_string(value: str) -> str:
    """`value` as the inside of a PromQL double-quoted string literal.

    Backslash, double quote and control characters are escaped; other characters pass
    as UTF-8. Inside a regex matcher (`=~"{{x}}"`) the value still acts as a regex.
    """
    out = []
    for char in value:
        if char in _ESCAPES:
            out.append(_ESCAPES[char])
        elif ord(char) < 0x20 or ord(char) == 0x7F:
            out.append(f"\\x{ord(char):02x}")
        else:
            out.append(char)
    return "".join(out)


def render_query(
    signal: Signal,
    labels: Mapping[str, str],
    service_labels: Sequence[str] = DEFAULT_SERVICE_LABELS,
) -> RenderedQuery | MissingLabels:
    """Fill `signal`'s placeholders from `labels`; an empty value counts as missing.

    `{{service}}` and `{{service_label}}` come from `find_service`. Prometheus treats an
    empty label value as an absent label, so sampling with it would silently match other
    series.
    """
    values = dict(labels)
    needs_service = {SERVICE, SERVICE_LABEL} & set(signal.placeholders)
    service = find_service(labels, service_labels) if needs_service else None
    if service is not None:
        values[SERVICE] = service.value
        values[SERVICE_LABEL] = service.label
    missing = tuple(
        name
        for name in signal.placeholders
        if name not in (SERVICE, SERVICE_LABEL) and not values.get(name)
    )
    if missing or (needs_service and service is None):
        absent = tuple(service_labels) if needs_service and service is None else ()
        return MissingLabels(signal.name, missing, absent)
    expr = _PLACEHOLDER.sub(lambda m: escape_string(values[m.group(1)]), signal.query)
    return RenderedQuery(signal.name, expr)


DEFAULT_SIGNALS: tuple[Signal, ...] = (
    Signal(
        ERROR_RATE,
        'sum(rate(http_requests_total{service="{{service}}",status=~"5.."}[1m]))'
        ' / sum(rate(http_requests_total{service="{{service}}"}[1m]))',
    ),
    Signal(
        ERROR_COUNT,
        'sum(increase(http_requests_total{service="{{service}}",status=~"5.."}[1m]))',
    ),
    Signal(POOL_IN_USE, 'sum(db_pool_connections_in_use{service="{{service}}"})'),
    Signal(POOL_MAX, 'sum(db_pool_connections_max{service="{{service}}"})'),
)
"""The signals of the interface's example configuration."""
