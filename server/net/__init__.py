"""The asyncio/websockets layer: moves bytes, owns sessions, runs the tick loop.

Protocol rules live in :mod:`server.protocol`; game rules in :mod:`server.world`.
Modules: :mod:`.server` (``GameServer``: accept loop, message handlers, tick loop,
shutdown), :mod:`.session` (one client's queue and view state), :mod:`.broadcast` (per-tick
deltas, chunk streaming, player relay), :mod:`.aoi` (area of interest geometry, also used by
the client SDK), :mod:`.ratelimit` (token buckets), :mod:`.stats` (``tick_stats``). Nothing
is imported here so that ``server.net.aoi`` stays cheap to import.
"""
