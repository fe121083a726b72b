"""DuckDB in a worker process of floe's own, spoken to over a pipe.

floe's quality scans and the DuckDB compute probe run their SQL in one child process per floe
process (``python -m floe_core.duckdb_worker.serve``) rather than in floe itself:

- **Start-up off the critical path.** Importing DuckDB and creating a database is a tenth of a
  second or more of work that holds the interpreter's lock. ``floe sla check`` starts the worker
  (``prestart``) as soon as the contract has loaded, so that work runs on another core while
  floe imports its own libraries and reads the table's metadata; by the time a scan is
  planned, the engine is ready.
- **Isolation.** DuckDB's buffers live in the worker, so the monitor's own memory stays small,
  and a crash in the engine ends the worker, not the monitor: the next request starts a new one.

Requests are multiplexed: each carries an id, the worker runs each on a thread of its own
(DuckDB releases the interpreter's lock while it executes), and replies come back tagged, so a
probe never waits behind a long scan. ``FLOE_DUCKDB_WORKER=0`` runs DuckDB in floe's own
process instead; the quality tests hold both ways to the same numbers.
"""
