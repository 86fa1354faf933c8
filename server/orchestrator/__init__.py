"""The orchestrator (seed 004): one per host; supervises map processes, issues join
tickets and transfer tokens, keeps the authority leases, and is the single writer of the
database. See docs/orchestrator.md.

::

    settings.py    OrchestratorSettings (PLANET_ORCH_*, the seed's tunables)
    tokens.py      JoinTicket / TransferToken, TokenService, auth_key_hash, DenialReason
    transfers.py   TransferState table, AuthorityRegistry (leases, epochs), TransferManager
    supervisor.py  MapSupervisor (heartbeats, backoff, quarantine), SubprocessSpawner
    mapconfig.py   MapConfig from (world seed, planet index)
    ledger.py      Ledger / AsyncLedger: critical events, snapshots, checkpoints, rehydrate
    core.py        Orchestrator: the operations behind the RPC
    rpc.py         FastAPI apps: public bootstrap, /orch/* control, map /control/*
"""
