"""/explorer: server-rendered pages for auditors over the read model and the ledger node.

Persons' records (a resident's address page, a slot's lessees, persons' addresses on block and
transaction pages) are shown to a record reader's session only (api/explorer/viewer.py); the
public sees what an address is and organisations' records (docs/privacy.md).

Every list is bounded (limit, newest first, `before` to page back); every lookup goes through an
indexed column (block number, tx hash, sender/to, slot id, lease id)."""

from __future__ import annotations

import csv
import io
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import or_, select

from api.address_book.facts import facts_of
from api.address_book.store import load_book
from api.deps import SessionDep
from api.explorer import inputs
from api.explorer.context import ExplorerDep
from api.explorer.describe import describe, generic, windows_text
from api.explorer.formatting import day_text, kst
from api.explorer.pages import NotFoundPage, html_errors, render
from api.explorer.revenue import statement
from api.explorer.search import slot_not_registered, target
from api.explorer.viewer import ViewerDep
from api.i18n.catalog import N_, gettext
from api.read_model import indexed_block, rows
from api.record_access import is_organisation
from citypass.core.timeunits import month_of
from indexer import models as m

router = APIRouter(prefix="/explorer", tags=["explorer"], include_in_schema=False)

PAGE = 20
Limit = Annotated[int, Query(ge=1, le=200)]


@router.get("/blocks", response_class=HTMLResponse)
@html_errors
def blocks(
    request: Request, session: SessionDep, explorer: ExplorerDep, limit: Limit = PAGE,
    before: Annotated[int | None, Query(ge=0)] = None,
) -> HTMLResponse:  # fmt: skip
    query = select(m.Block).order_by(m.Block.number.desc()).limit(limit)
    if before is not None:
        query = query.where(m.Block.number < before)
    blocks = session.scalars(query).all()
    listed = [
        {"block": b, "seal": explorer.seals.status(b.number, b.hash, b.parent_hash)} for b in blocks
    ]
    older = blocks[-1].number if blocks and blocks[-1].number > 0 else None
    return render(
        request, "blocks.html", rows=listed, indexed=indexed_block(session), older=older, limit=limit,
        chain_id=explorer.state.ledger.chain_id, witnesses=explorer.witnesses.status(),
    )  # fmt: skip


@router.get("/search", response_class=HTMLResponse)
@html_errors
def search(request: Request, session: SessionDep, q: str = "") -> Response:
    return RedirectResponse(target(session, q), status_code=303)


@router.get("/block/{number}", response_class=HTMLResponse)
@html_errors
def block(
    request: Request, session: SessionDep, explorer: ExplorerDep, viewer: ViewerDep, number: str
) -> Any:
    n = inputs.number(number, N_("block number"))
    row = session.get(m.Block, n)
    if row is None:
        message = gettext(
            "block {block} is not indexed (the read model is at block {indexed}); try again "
            "once the indexer has caught up"
        )
        raise NotFoundPage(message.format(block=n, indexed=indexed_block(session)))
    seal = explorer.seals.status(row.number, row.hash, row.parent_hash)
    txs = session.scalars(
        select(m.Transaction)
        .where(m.Transaction.block_number == n)
        .order_by(m.Transaction.tx_index)
    ).all()
    return render(
        request, "block.html", block=row, seal=seal, txs=txs, witnesses=explorer.witnesses.status(),
        label=explorer.labeller(session, persons=viewer.reads_records),
    )  # fmt: skip


@router.get("/tx/{tx_hash}", response_class=HTMLResponse)
@html_errors
def transaction(
    request: Request, session: SessionDep, explorer: ExplorerDep, viewer: ViewerDep, tx_hash: str
) -> Any:
    wanted = inputs.tx_hash(tx_hash)
    w3 = explorer.w3
    try:
        receipt = w3.eth.get_transaction_receipt(wanted)
        tx = w3.eth.get_transaction(wanted)
    except Exception as exc:  # TransactionNotFound, or the node does not know it
        message = gettext("transaction {tx} is not on this ledger").format(tx=wanted)
        raise NotFoundPage(message) from exc
    label = explorer.labeller(session, persons=viewer.reads_records)
    logs = []
    for log in receipt["logs"]:
        decoded = explorer.book.decode(dict(log))
        logs.append(
            {
                "index": log["logIndex"],
                "contract": explorer.book.name_of(log["address"]) or log["address"],
                "event": decoded.event if decoded else None,
                "sentence": describe(decoded, label, label.raw) if decoded else None,
                "raw": None if decoded else "0x" + bytes(log["data"]).hex(),
                "generic": generic(decoded, label.raw) if decoded else None,
            }
        )
    header = w3.eth.get_block(receipt["blockNumber"])
    return render(
        request, "tx.html", tx=tx, receipt=receipt, logs=logs, time=kst(header["timestamp"]),
        to_name=explorer.book.name_of(receipt["to"]), label=label,
        tx_hash="0x" + bytes(receipt["transactionHash"]).hex(),
    )  # fmt: skip


@router.get("/slot/{slot_id}", response_class=HTMLResponse)
@html_errors
def slot(
    request: Request, session: SessionDep, explorer: ExplorerDep, viewer: ViewerDep, slot_id: str,
    limit: Limit = 100,
) -> Any:  # fmt: skip
    n = inputs.number(slot_id, N_("slot id"))
    row = session.get(m.Slot, n)
    if row is None:
        raise NotFoundPage(slot_not_registered(n))
    leases = rows(session, m.Lease, m.Lease.slot_id == n, m.Lease.start.desc(), limit=limit)
    change = m.SlotOccupancyChange
    occupancy = rows(session, change, change.slot_id == n, change.observed_at.desc(), limit=limit)
    incidents = rows(
        session, m.Incident, m.Incident.slot_id == n, m.Incident.observed_at.desc(), limit=limit
    )
    terms = m.SlotTermsVersion
    versions = rows(session, terms, terms.slot_id == n, terms.version.desc())
    day = m.SlotBlackout.local_day
    blackouts = rows(session, day, m.SlotBlackout.slot_id == n, day.desc(), limit=limit)
    return render(
        request, "slot.html", slot=row, leases=leases, occupancy=occupancy, incidents=incidents,
        terms=versions, windows=windows_text(int(row.windows_packed, 16)),
        blackouts=[day_text(day) for day in blackouts],
        label=explorer.labeller(session, persons=viewer.reads_records),
        lessees_shown=viewer.reads_records, viewer=viewer,
    )  # fmt: skip


@router.get("/address/{address}", response_class=HTMLResponse)
@html_errors
def address(
    request: Request, session: SessionDep, explorer: ExplorerDep, viewer: ViewerDep,
    address: str, limit: Limit = 50, before: Annotated[int | None, Query(ge=0)] = None,
) -> Any:  # fmt: skip
    who = inputs.address(address)
    contract = explorer.book.name_of(who)
    named = load_book(session).entries.get(who)
    facts: dict[str, Any] = {
        "who": who, "contract": contract, "named": named,
        "role": ", ".join(facts_of(session, [who])[who].labels),
        "member": session.get(m.Member, who),
        "roles": sorted(
            session.scalars(select(m.MemberRole.role_name).where(m.MemberRole.address == who))
        ),
    }  # fmt: skip
    if not (contract or named or is_organisation(session, who) or viewer.reads_records):
        # A person's (or an unknown address's) history is for record readers: what the address
        # is, and no more, with how to see the rest.
        return render(request, "address.html", withheld=True, **facts)
    query = (
        select(m.Transaction)
        .where(or_(m.Transaction.sender == who, m.Transaction.to == who))
        .order_by(m.Transaction.block_number.desc(), m.Transaction.tx_index.desc())
        .limit(limit)
    )
    if before is not None:
        query = query.where(m.Transaction.block_number < before)
    txs = session.scalars(query).all()
    balance = session.get(m.CreditBalance, who)
    credit = explorer.book.handle("credit")
    chain_balance = int(credit.functions.balanceOf(who).call())
    claimable = int(explorer.book.handle("split").functions.claimable(who).call())
    slots = rows(session, m.Slot, m.Slot.owner == who, m.Slot.slot_id, limit=limit)
    leases = rows(session, m.Lease, m.Lease.lessee == who, m.Lease.start.desc(), limit=limit)
    return render(
        request, "address.html", withheld=False, txs=txs,
        label=explorer.labeller(session, persons=viewer.reads_records),
        balance=balance.balance if balance else 0, chain_balance=chain_balance,
        claimable=claimable, slots=slots, leases=leases,
        older=txs[-1].block_number if len(txs) == limit else None, limit=limit, **facts,
    )  # fmt: skip


def _month(session: SessionDep, month: str | None) -> str:
    if month is None:
        head = session.scalar(select(m.Block.timestamp).order_by(m.Block.number.desc()).limit(1))
        return month_of(head or 0)
    return inputs.month(month)


@router.get("/statements", response_class=HTMLResponse)
@html_errors
def statements(
    request: Request, session: SessionDep, explorer: ExplorerDep, viewer: ViewerDep,
    month: str | None = None,
) -> Any:  # fmt: skip
    chosen = _month(session, month)
    lines = statement(explorer, session, chosen, persons=viewer.reads_records)
    return render(
        request, "statements.html", month=chosen, lines=lines,
        all_agree=all(line.agrees for line in lines), indexed=indexed_block(session),
    )  # fmt: skip


@router.get("/statements.csv")
@html_errors
def statements_csv(
    request: Request, session: SessionDep, explorer: ExplorerDep, viewer: ViewerDep,
    month: str | None = None,
) -> Response:  # fmt: skip
    chosen = _month(session, month)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["month", "payee", "name", "role", "read_model_earned", "chain_earned",
                     "chain_source", "agrees"])  # fmt: skip
    for line in statement(explorer, session, chosen, persons=viewer.reads_records):
        writer.writerow([chosen, line.payee, line.name, line.role, line.read_model, line.chain,
                         line.chain_source, "yes" if line.agrees else "NO"])  # fmt: skip
    return Response(
        out.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="statements-{chosen}.csv"'},
    )
