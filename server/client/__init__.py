"""Asyncio client SDK (:class:`GameClient`) and headless bots (``planet-bot``)."""

from .client import ClientError, GameClient, LocalChunk, generated_voxels

__all__ = ["ClientError", "GameClient", "LocalChunk", "generated_voxels"]
