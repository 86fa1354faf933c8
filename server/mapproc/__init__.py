"""A map process (``planet-server map``): one authoritative simulation of one planet,
started and supervised by the orchestrator (seed 004; docs/orchestrator.md).

::

    remote_store.py  RemoteStore: the world's persistence as snapshot pushes and critical
                     events to the orchestrator (reads come from its rehydrate answer)
    gateway.py       OrchestratorGateway: JOIN_WITH_TICKET redemption, transfers, the
                     map's /control/* handler
    runtime.py       run_map(): rehydrate, world, game server, control app, heartbeats

A map process never opens the database and never imports SQLAlchemy
(``tests/orchestrator/test_layering.py``).
"""
