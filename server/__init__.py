"""Planetary Survival headless dedicated server.

Layout: :mod:`server.protocol` (sans-I/O wire protocol), :mod:`server.net` (asyncio
WebSocket sessions, tick loop, area of interest), :mod:`server.world` (authoritative
simulation), :mod:`server.persistence` (SQLite/PostgreSQL store), :mod:`server.client`
(asyncio client SDK and bots). Run with ``planet-server serve`` (docs/operations.md).
"""
