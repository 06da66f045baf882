"""The emulator's parts, built once by `build()` and shared by the HTTP endpoints."""

from __future__ import annotations

from dataclasses import dataclass

from sf_emulator.config import EmulatorConfig
from sf_emulator.faults import FaultInjector
from sf_emulator.rest.api import DataApi
from sf_emulator.soql.engine import Cursors, QueryEngine
from sf_emulator.soql.parser import lark_parser
from sf_emulator.store import Store
from sf_emulator.store.orgs import Org


@dataclass
class Emulator:
    config: EmulatorConfig
    store: Store
    engine: QueryEngine
    api: DataApi
    faults: FaultInjector


def build(config: EmulatorConfig) -> Emulator:
    lark_parser()  # build the SOQL parser now rather than in the first query's response time
    store = Store(config.data)
    return Emulator(config, store, QueryEngine(store, Cursors()), DataApi(), FaultInjector())


def session_of(emu: Emulator, token: str | None) -> tuple[Org, str] | None:
    """(org, user_id) of a live access token; each org has its own session timeout."""
    store = emu.store

    def timeout_of(org_id: str) -> int:
        org = store.orgs.get(org_id)
        return org.settings.session_timeout if org else 0

    session = store.tokens.session(token, timeout_of) if token else None
    org = store.orgs.get(session.org_id) if session else None
    if session is None or org is None:
        return None
    return org, session.user_id
