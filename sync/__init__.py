"""Reconciliation engine of CAH: wire schemas, mutation handlers, conflicts and pull paging.

Framework-free on purpose: nothing here imports Flask or ``server/``; the caller passes the
session, the officer's scope and the clock (see docs/interfaces.md and docs/sync-protocol.md).
"""
