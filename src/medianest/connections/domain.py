"""The stored connections to upstream services and `connection.changed` (see `service.py`)."""

from __future__ import annotations

from dataclasses import dataclass

from medianest.connections.service import Connections
from medianest.connections.store import ConnectionStore
from medianest.core.domain import Domain
from medianest.core.runtime import Platform


@dataclass(kw_only=True)
class ConnectionsDomain(Domain):
    connections: Connections


def build_connections(platform: Platform) -> ConnectionsDomain:
    store = ConnectionStore(platform.db, platform.encryption, platform.settings)
    connections = Connections(store, platform.bus)
    return ConnectionsDomain(
        name="connections", start=connections.start, stop=connections.stop, connections=connections
    )
