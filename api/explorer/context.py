"""What the explorer pages and KPIs share in one running API: the contract book (every contract
of the deployment record, mobility included), the seal checker, the witness status, and the labels of addresses
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
from api.explorer.witnesses import WitnessWatch
from api.i18n.catalog import N_
from api.i18n.catalog import translations as translation
from api.i18n.locale import current as current_locale
from api.record_access import is_organisation
from api.state import AppState

_LOCK = threading.Lock()
# How a page for the public names a person (a resident or a worker): no address at all.
A_PERSON = N_("a person")


@dataclass
class Explorer:
    state: AppState
    book: ContractBook
    seals: SealChecker
    witnesses: WitnessWatch

    @property
    def w3(self):  # type: ignore[no-untyped-def]
        return self.state.ledger.w3

    @property
    def start_block(self) -> int:
        return self.state.ledger.deployment.start_block

    def house(self, session: Session) -> dict[str, str]:
        """RevenueSplit's fixed payees (address → role), as the indexer read them."""
        return house_payees(session)

    def labeller(
        self, session: Session, locale: str | None = None, persons: bool = True
    ) -> Labeller:
        """address → 'LeaseMarket' (a contract of the deployment) / '상살미사람들' (its name in
        the address book, in `locale` when it has one; default: the page's language) / 'village
        enterprise' (RevenueSplit's payee, in that language) / '0x12ab…cdef' (anyone else:
        residents stay pseudonymous). With `persons` False (a page for the public), an address
        that is neither named nor an organisation reads 'a person' (api/record_access.py)."""
        language = locale or current_locale()
        return Labeller(
            self.book.name_of, load_book(session).name_for, self.house(session), language,
            None if persons else session,
        )  # fmt: skip


class Labeller:
    """An address's label (see Explorer.labeller); callable, as templates use it."""

    def __init__(
        self, contract_name: Callable[[str], str | None],
        book_name: Callable[[str, str], str | None], house: dict[str, str], language: str,
        hide_persons_in: Session | None,
    ) -> None:  # fmt: skip
        self._contract_name = contract_name
        self._book_name = book_name
        self._house = house
        self._language = language
        self._session = hide_persons_in
        self._hidden: dict[str, bool] = {}

    def _named(self, address: str) -> str | None:
        role = self._house.get(address)
        return (
            self._contract_name(address)
            or self._book_name(address, self._language)
            or (translation(self._language).gettext(role) if role else None)
        )

    def hidden(self, address: str) -> bool:
        """Whether this page hides `address` (a person's, on a page for the public)."""
        if self._session is None or self._named(address) is not None:
            return False
        if address not in self._hidden:
            self._hidden[address] = not is_organisation(self._session, address)
        return self._hidden[address]

    def __call__(self, address: str) -> str:
        if self.hidden(address):
            return translation(self._language).gettext(A_PERSON)
        return self._named(address) or short(address)

    def raw(self, address: str) -> str:
        """The address itself where a raw form shows it, unless this page hides it."""
        return self(address) if self.hidden(address) else address


def get_explorer(request: Request, state: Annotated[AppState, Depends(get_state)]) -> Explorer:
    with _LOCK:
        explorer = getattr(request.app.state, "explorer", None)
        if explorer is None:
            ledger = state.ledger
            addresses = deployment_addresses(state.settings.deployment, ledger.deployment.addresses)
            explorer = Explorer(
                state, ContractBook(ledger.w3, addresses),
                SealChecker(ledger.w3, ledger.chain_id), WitnessWatch(ledger.w3),
            )  # fmt: skip
            request.app.state.explorer = explorer
    return explorer


ExplorerDep = Annotated[Explorer, Depends(get_explorer)]
