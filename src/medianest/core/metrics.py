"""Prometheus metrics, one registry per app so two apps in one process never mix their counts."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

CONTENT_TYPE = CONTENT_TYPE_LATEST

BREAKER_STATES = {"closed": 0.0, "half-opened": 1.0, "opened": 2.0}


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.http_requests = Counter(
            "medianest_http_requests_total",
            "HTTP requests answered, by route template and status.",
            ["method", "route", "status"],
            registry=r,
        )
        self.http_latency = Histogram(
            "medianest_http_request_duration_seconds",
            "Time to answer an HTTP request, by route template.",
            ["method", "route"],
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
            registry=r,
        )
        self.upstream_calls = Counter(
            "medianest_upstream_calls_total",
            "Calls to upstream services, by outcome (ok, error, timeout, rejected).",
            ["service", "outcome"],
            registry=r,
        )
        self.breaker_state = Gauge(
            "medianest_circuit_breaker_state",
            "Circuit breaker state per upstream: 0 closed, 1 half-open, 2 open.",
            ["service"],
            registry=r,
        )
        self.cache_operations = Counter(
            "medianest_cache_operations_total",
            "Cache lookups by result (hit, miss).",
            ["result"],
            registry=r,
        )
        self.cache_backend_errors = Counter(
            "medianest_cache_backend_errors_total",
            "Cache operations answered without the cache because its backend failed.",
            registry=r,
        )
        self.rate_limited = Counter(
            "medianest_rate_limited_total",
            "Requests refused by a rate limit, by limit name.",
            ["limit"],
            registry=r,
        )
        self.jobs = Counter(
            "medianest_jobs_total",
            "Background jobs finished, by job name and outcome.",
            ["job", "outcome"],
            registry=r,
        )
        self.queue_depth = Gauge(
            "medianest_queue_depth",
            "Jobs recorded as queued or running and not yet finished.",
            registry=r,
        )
        self.queue_up = Gauge(
            "medianest_queue_up",
            "1 while this process reaches the Redis job stream, 0 while it does not.",
            registry=r,
        )
        self.queue_outages = Counter(
            "medianest_queue_outages_total",
            "Times the Redis job stream became unreachable or lost its consumer group.",
            registry=r,
        )
        self.queue_reconnects = Counter(
            "medianest_queue_reconnects_total",
            "Times the job stream was reached again after an outage.",
            registry=r,
        )

    def set_breaker_state(self, service: str, state: str) -> None:
        self.breaker_state.labels(service=service).set(BREAKER_STATES.get(state, 0.0))

    def render(self) -> bytes:
        return generate_latest(self.registry)
