"""What the service says of itself (GET /health): liveness, how far the views are, each standby."""

from __future__ import annotations

from pydantic import Field

from api.wire import WireModel


class StandbyStatus(WireModel):
    standby: str = Field(description="The standby's host:port.")
    up: bool = Field(description="Whether it answers reads now.")
    reason: str | None = Field(None, description="Why not (down..., behind, lagging); None when up.")
    replay_lag_ms: float | None = Field(None, description="How long ago its last replayed transaction was, in milliseconds.")
    replay_lag_bytes: int | None = Field(None, description="WAL it has received but not replayed yet, in bytes.")
    projected: int | None = Field(None, description="The log position its views include; None: unknown.")
    lag_positions: int | None = Field(None, description="Log positions it is behind the primary's views; None: unknown.")


class Health(WireModel):
    status: str = Field(description="ok, or degraded when the projections stopped on an error.")
    position: int = Field(description="The log's last position.")
    projected: int = Field(description="The last position the views include.")
    projection_error: str | None = Field(None, description="The projections' last error, if they stopped on one.")
    standbys: list[StandbyStatus] | None = Field(None, description="Each standby the reads may go to; None: no standby.")
