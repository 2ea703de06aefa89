"""Connecting to Temporal as the settings say: the embedded dev server (plain gRPC), a cluster with TLS or mTLS,
or Temporal Cloud (mTLS client certificate, or an API key). With `worker_metrics_port`, the SDK's own metrics
(workflow and activity task latencies, schedule-to-start, sticky cache, polls...) are served for Prometheus on
that port by the process's Temporal runtime."""

from __future__ import annotations

from temporalio.client import Client
from temporalio.runtime import PrometheusConfig, Runtime, TelemetryConfig
from temporalio.service import TLSConfig

from core.settings import Settings

_runtimes: dict[int, Runtime] = {}  # one runtime per metrics port and process


def tls_config(settings: Settings) -> TLSConfig | bool:
    if not settings.temporal_uses_tls:
        return False

    def read(path: object) -> bytes | None:
        return path.read_bytes() if path is not None else None  # type: ignore[attr-defined]

    return TLSConfig(
        client_cert=read(settings.temporal_tls_cert_path),
        client_private_key=read(settings.temporal_tls_key_path),
        server_root_ca_cert=read(settings.temporal_tls_ca_path),
        domain=settings.temporal_tls_server_name,
    )


def runtime(settings: Settings) -> Runtime | None:
    port = settings.worker_metrics_port
    if not port:
        return None
    if port not in _runtimes:
        _runtimes[port] = Runtime(telemetry=TelemetryConfig(metrics=PrometheusConfig(bind_address=f"0.0.0.0:{port}")))
    return _runtimes[port]


async def connect(settings: Settings, *, metrics: bool = False) -> Client:
    """A client for the settings' address and namespace; `metrics`: this process serves the SDK's metrics."""
    return await Client.connect(
        settings.temporal_address,
        namespace=settings.temporal_namespace,
        tls=tls_config(settings),
        api_key=settings.temporal_api_key,
        runtime=runtime(settings) if metrics else None,
    )
