"""Asyncio client SDK (:class:`GameClient`) and headless bots (``planet-bot``)."""

from .client import (
    ClientError,
    GameClient,
    JoinOffer,
    LocalChunk,
    bootstrap,
    connect_via_orchestrator,
    generated_voxels,
)

__all__ = ["ClientError", "GameClient", "JoinOffer", "LocalChunk", "bootstrap",
           "connect_via_orchestrator", "generated_voxels"]
