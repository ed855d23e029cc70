"""Signal presets: the well-known signals of exporters people already run (pure data).

Each preset names the exporter's real metric and label names (the source is cited beside
it) and fills the roles it can: `error_rate` and `error_count` from an HTTP request
counter, `pool_in_use` and `pool_max` from connection-pool gauges. Errors are 5xx
responses (the availability convention); rate windows are `[1m]`.

`{{service}}` is the incident's service, taken from the first of `service_labels` the
incident has. Presets whose series carry the service only as a scrape target label
(`job`, `service`, `app`, … — whatever Kubernetes or the scrape config attached) match
`{{service_label}}`: the same label name the incident's service came from, since an
alert's labels are the labels of the series it was computed from. Presets whose
exporter labels the service itself (ingress-nginx, Istio, pgbouncer) match that label.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from recorder.evidence.units import ERROR_COUNT, ERROR_RATE, POOL_IN_USE, POOL_MAX

WINDOW = "[1m]"
TARGET_LABEL = '{{service_label}}="{{service}}"'
"""Matches the series' target label of the same name as the incident's service label."""


@dataclass(frozen=True, slots=True)
class HttpRequests:
    """A request counter: `metric` with one of `selectors` (alternatives, joined with
    `or`) for the service, and `errors` selecting the 5xx responses."""

    metric: str
    selectors: tuple[str, ...]
    errors: str


@dataclass(frozen=True, slots=True)
class PoolGauges:
    """Connection-pool gauges: in use and the pool's size, each with its selector."""

    in_use: str
    in_use_selector: str
    size: str
    size_selector: str


@dataclass(frozen=True, slots=True)
class Preset:
    """One exporter's signals; `source` cites where the names come from and `matches`
    says which series label `{{service}}` is compared with."""

    name: str
    title: str
    source: str
    matches: str
    measures: HttpRequests | PoolGauges

    @property
    def metrics(self) -> tuple[str, ...]:
        """The metric names the preset needs (what discovery looks for)."""
        if isinstance(self.measures, HttpRequests):
            return (self.measures.metric,)
        return (self.measures.in_use, self.measures.size)

    @property
    def signals(self) -> tuple[tuple[str, str], ...]:
        """(role, PromQL template) for each role the preset fills."""
        m = self.measures
        if isinstance(m, PoolGauges):
            return (
                (POOL_IN_USE, f"sum({m.in_use}{{{m.in_use_selector}}})"),
                (POOL_MAX, f"sum({m.size}{{{m.size_selector}}})"),
            )
        failed = _rate_sum("rate", m, errors=True)
        total = _rate_sum("rate", m, errors=False)
        # With no 5xx series yet (counters appear on first use) the error figures are 0,
        # not absent, as long as the service has request series at all.
        return (
            (ERROR_RATE, f"({failed} or 0 * {total}) / {total}"),
            (
                ERROR_COUNT,
                f"{_rate_sum('increase', m, errors=True)} or 0 * "
                f"{_rate_sum('increase', m, errors=False)}",
            ),
        )

    @property
    def roles(self) -> tuple[str, ...]:
        return tuple(role for role, _ in self.signals)

    @property
    def matches_target_label(self) -> bool:
        """True when `{{service}}` is matched on the scrape's target label (which one
        depends on the deployment), not on a label the exporter sets itself."""
        return any("{{service_label}}" in query for _, query in self.signals)


def _rate_sum(function: str, m: HttpRequests, *, errors: bool) -> str:
    extra = f",{m.errors}" if errors else ""
    parts = [f"{function}({m.metric}{{{selector}{extra}}}{WINDOW})" for selector in m.selectors]
    return f"sum({' or '.join(parts)})"


PRESETS: Mapping[str, Preset] = {
    preset.name: preset
    for preset in (
        Preset(
            name="ingress-nginx",
            title="ingress-nginx controller",
            # kubernetes/ingress-nginx internal/ingress/metric/collectors/socket.go:
            # counter "requests" in namespace nginx_ingress_controller, labels status,
            # method, path, namespace, ingress, service, canary (service = backend).
            source="kubernetes/ingress-nginx internal/ingress/metric/collectors/socket.go",
            # Scraped through a ServiceMonitor without honorLabels, the target's own
            # `service` label wins and the exporter's moves to `exported_service`.
            matches="the exporter's `service` label (backend Service), or "
            "`exported_service` when the scrape's target label took `service`",
            measures=HttpRequests(
                metric="nginx_ingress_controller_requests",
                selectors=('service="{{service}}"', 'exported_service="{{service}}"'),
                errors='status=~"5.."',
            ),
        ),
        Preset(
            name="istio",
            title="Istio/Envoy standard metrics",
            # istio.io/latest/docs/reference/config/metrics/ (Istio Standard Metrics):
            # istio_requests_total with reporter, destination_service_name,
            # response_code; manifests/addons/dashboards/istio-service-dashboard.json.
            # reporter="destination" counts each request once (the server-side proxy).
            source="istio.io docs/reference/config/metrics (Istio Standard Metrics); "
            "istio/istio manifests/addons/dashboards/istio-service-dashboard.json",
            matches="`destination_service_name`, as seen by the destination proxy",
            measures=HttpRequests(
                metric="istio_requests_total",
                selectors=('reporter="destination",destination_service_name="{{service}}"',),
                errors='response_code=~"5.."',
            ),
        ),
        Preset(
            name="micrometer-http",
            title="Spring Boot / Micrometer",
            # spring-projects/spring-boot spring-boot-actuator .../metrics/web/servlet/
            # WebMvcTags.java: timer http.server.requests, tags method, uri, status,
            # outcome, exception; Prometheus names it http_server_requests_seconds_count.
            source="spring-projects/spring-boot spring-boot-project/spring-boot-actuator/"
            "src/main/java/org/springframework/boot/actuate/metrics/web/servlet/WebMvcTags.java",
            matches="the scrape target label named like the incident's service label",
            measures=HttpRequests(
                metric="http_server_requests_seconds_count",
                selectors=(TARGET_LABEL,),
                errors='status=~"5.."',
            ),
        ),
        Preset(
            name="flask",
            title="prometheus-flask-exporter",
            # rycus86/prometheus_flask_exporter README.md, "Default metrics":
            # flask_http_request_total (Counter), labels method and status.
            source="rycus86/prometheus_flask_exporter README.md (Default metrics)",
            matches="the scrape target label named like the incident's service label",
            measures=HttpRequests(
                metric="flask_http_request_total",
                selectors=(TARGET_LABEL,),
                errors='status=~"5.."',
            ),
        ),
        Preset(
            name="django",
            title="django-prometheus",
            # korfuri/django-prometheus django_prometheus/middleware.py: Counter
            # django_http_responses_total_by_status, labels status (and view/method in
            # other counters); prometheus_client exposes it with the _total suffix.
            source="korfuri/django-prometheus django_prometheus/middleware.py",
            matches="the scrape target label named like the incident's service label",
            measures=HttpRequests(
                metric="django_http_responses_total_by_status_total",
                selectors=(TARGET_LABEL,),
                errors='status=~"5.."',
            ),
        ),
        Preset(
            name="express",
            title="Node.js prom-client via express-prom-bundle",
            # jochen-schweizer/express-prom-bundle src/index.js: histogram
            # http_request_duration_seconds (default name and type), label status_code
            # (plus method/path when enabled); its _count series counts requests.
            source="jochen-schweizer/express-prom-bundle src/index.js",
            matches="the scrape target label named like the incident's service label",
            measures=HttpRequests(
                metric="http_request_duration_seconds_count",
                selectors=(TARGET_LABEL,),
                errors='status_code=~"5.."',
            ),
        ),
        Preset(
            name="hikaricp",
            title="HikariCP via Micrometer",
            # brettwooldridge/HikariCP src/main/java/com/zaxxer/hikari/metrics/micrometer/
            # MicrometerMetricsTracker.java: gauges hikaricp.connections.active and
            # hikaricp.connections.max, tag pool.
            source="brettwooldridge/HikariCP src/main/java/com/zaxxer/hikari/metrics/"
            "micrometer/MicrometerMetricsTracker.java",
            matches="the scrape target label named like the incident's service label "
            "(all of the service's pools summed)",
            measures=PoolGauges(
                in_use="hikaricp_connections_active",
                in_use_selector=TARGET_LABEL,
                size="hikaricp_connections_max",
                size_selector=TARGET_LABEL,
            ),
        ),
        Preset(
            name="go-sql",
            title="Go database/sql stats collector",
            # prometheus/client_golang prometheus/collectors/dbstats_collector.go
            # (NewDBStatsCollector; dlmiddlecote/sqlstats uses the same names):
            # go_sql_in_use_connections, go_sql_max_open_connections, const label db_name.
            source="prometheus/client_golang prometheus/collectors/dbstats_collector.go",
            matches="the scrape target label named like the incident's service label "
            "(all of the service's databases summed)",
            measures=PoolGauges(
                in_use="go_sql_in_use_connections",
                in_use_selector=TARGET_LABEL,
                size="go_sql_max_open_connections",
                size_selector=TARGET_LABEL,
            ),
        ),
        Preset(
            name="pgbouncer",
            title="prometheus-community pgbouncer_exporter",
            # prometheus-community/pgbouncer_exporter collector.go: SHOW POOLS sv_active ->
            # pgbouncer_pools_server_active_connections{database,user}; SHOW DATABASES
            # pool_size -> pgbouncer_databases_pool_size{name,database,host,port,...},
            # where `name` is the pgbouncer database alias (pools' `database`).
            source="prometheus-community/pgbouncer_exporter collector.go",
            matches="the pgbouncer database alias (`database` on pools, `name` on "
            "databases); pool_size is per user/database pair, so the max assumes one "
            "user per database",
            measures=PoolGauges(
                in_use="pgbouncer_pools_server_active_connections",
                in_use_selector='database="{{service}}"',
                size="pgbouncer_databases_pool_size",
                size_selector='name="{{service}}"',
            ),
        ),
    )
}
"""Every preset by name, in the order the README and `recorder signals` list them."""


def preset_names() -> tuple[str, ...]:
    return tuple(PRESETS)
