"""Client of a running ``decnet-master serve`` over its local control channel (docs/control-channel.md).

``FleetClient`` blocks; ``AsyncFleetClient`` is the asyncio form. Both raise :class:`FleetError` subclasses.
"""

from .aio import AsyncFleetClient
from .client import FleetClient
from .errors import (
    ERRORS,
    BadRequestError,
    BusyError,
    ConflictError,
    DeadlineExceededError,
    DockerRuntimeError,
    DockerUnavailableError,
    FleetError,
    HashMismatchError,
    IdReusedError,
    InternalError,
    InvalidTopologyError,
    KeyRotationFailedError,
    NotEnrolledError,
    NotServingError,
    OutcomePendingError,
    PortConflictError,
    ProtocolError,
    RevokedError,
    ShutdownError,
    StateUnavailableError,
    StoreFailedError,
    TooLargeError,
    UnknownRequestError,
    UnknownTypeError,
    UnsupportedProtoError,
)
from .desired import DesiredTopology, DesiredView
from .exchange import new_request_id
from .fleet import AgentView, FleetEvent, FleetSnapshot, Heartbeat, PendingRequest
from .records import RequestRecord

__all__ = [
    "ERRORS",
    "AgentView",
    "AsyncFleetClient",
    "BadRequestError",
    "BusyError",
    "ConflictError",
    "DeadlineExceededError",
    "DesiredTopology",
    "DesiredView",
    "DockerRuntimeError",
    "DockerUnavailableError",
    "FleetClient",
    "FleetError",
    "FleetEvent",
    "FleetSnapshot",
    "HashMismatchError",
    "Heartbeat",
    "IdReusedError",
    "InternalError",
    "InvalidTopologyError",
    "KeyRotationFailedError",
    "NotEnrolledError",
    "NotServingError",
    "OutcomePendingError",
    "PendingRequest",
    "PortConflictError",
    "ProtocolError",
    "RequestRecord",
    "RevokedError",
    "ShutdownError",
    "StateUnavailableError",
    "StoreFailedError",
    "TooLargeError",
    "UnknownRequestError",
    "UnknownTypeError",
    "UnsupportedProtoError",
    "new_request_id",
]
