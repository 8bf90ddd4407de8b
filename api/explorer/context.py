"""What the explorer pages and KPIs share in one running API: the contract book (every contract
of the deployment record, mobility included), the seal checker, and the labels of addresses
(contract names, the staff's address book, RevenueSplit's payees, else a short address)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from api.address_book.facts import house_payees
from api.address_book.store import load_book
from api.deps import get_state
from api.explorer.contracts import ContractBook, deployment_addresses
from api.explorer.formatting import short
from api.explorer.seals import SealChecker
from api.i18n.catalog import translations as translation
from api.i18n.locale import current as current_locale
from api.state import AppState

_LOCK = threading.Lock()


@dataclass
class Explorer:
    state: AppState
    book: ContractBook
    seals: SealChecker

    @property
    def w3(self):  # type: ignore[no-untyped-def]
        return self.state.ledger.w3

    @property
    def start_block(self) -> int:
        return self.state.ledger.deployment.start_block

    def house(self, session: Session) -> dict[str, str]:
        """RevenueSplit's fixed payees (address → role), as the indexer read them."""
        return house_payees(session)

    def labeller(self, session: Session, locale: str | None = None) -> Callable[[str], str]:
        """address → 'LeaseMarket' (a contract of the deployment) / '상살미사람들' (its name in
        the address book, in `locale` when it has one; default: the page's language) / 'village
        enterprise' (RevenueSplit's payee, in that language) / '0x12ab…cdef' (anyone else:
        residents stay pseudonymous)."""
        language = locale or current_locale()
        house = self.house(session)
        names = load_book(session)

        def label(address: str) -> str:
            role = house.get(address)
            return (
                self.book.name_of(address)
                or names.name_for(address, language)
                or (translation(language).gettext(role) if role else None)
                or short(address)
            )

        return label


def get_explorer(request: Request, state: Annotated[AppState, Depends(get_state)]) -> Explorer:
    with _LOCK:
        explorer = getattr(request.app.state, "explorer", None)
        if explorer is None:
            ledger = state.ledger
            addresses = deployment_addresses(state.settings.deployment, ledger.deployment.addresses)
            explorer = Explorer(
                state, ContractBook(ledger.w3, addresses), SealChecker(ledger.w3, ledger.chain_id)
            )
            request.app.state.explorer = explorer
    return explorer


ExplorerDep = Annotated[Explorer, Depends(get_explorer)]
