"""Every text the resident app shows, as gettext msgids (the English text) under the keys its
JavaScript asks for (`t("booked", {lease: 3})`). The Korean is in the shared catalog
(api/i18n/locales/ko/LC_MESSAGES/messages.po); GET /app/i18n/<lang>.json serves the table in
one language. `{name}` marks a value the app fills in."""

from __future__ import annotations

from api.i18n.catalog import N_, translations

TEXTS: dict[str, str] = {
    "title": N_("CityPass Resident"),
    "subtitle": N_("Sangsalmi village shared parking"),
    "ledgerClock": N_("Ledger time"),
    "ledgerAhead": N_("{time} ahead of the wall clock"),
    "ledgerBehind": N_("in step with the wall clock"),
    "wallet": N_("Wallet"),
    "connect": N_("Connect wallet"),
    "connected": N_("Connected: {address}"),
    "noWallet": N_(
        "No wallet was found in this browser. Install an EIP-1193 wallet such as MetaMask."
    ),
    "networkAdded": N_("The wallet is on the {name} network (chain {chainId})."),
    "signIn": N_("Sign in with your wallet"),
    "signedIn": N_("Signed in (session ends {time})"),
    "signOut": N_("Sign out"),
    "signInFirst": N_("Connect your wallet and sign in first."),
    "membership": N_("Membership"),
    "applyIntro": N_(
        "The least the village enterprise needs to check that you live here. None of it goes "
        "on the blockchain."
    ),
    "name": N_("Name"),
    "phone": N_("Phone number"),
    "homeAddress": N_("Home address"),
    "consent": N_(
        "I agree that the village enterprise keeps these data off the blockchain to check my "
        "residence."
    ),
    "apply": N_("Apply"),
    "applicationStatus": N_("Application #{id}: {status}"),
    "status_PENDING": N_("waiting for review"),
    "status_APPROVING": N_("being approved"),
    "status_APPROVED": N_("approved (member)"),
    "status_REJECTED": N_("rejected"),
    "rejectedBecause": N_("Reason: {reason}"),
    "balance": N_("Balance and history"),
    "balanceValue": N_("{amount} credits"),
    "historyEmpty": N_("No history yet."),
    "kind_IN": N_("in"),
    "kind_OUT": N_("out"),
    "kind_TOP_UP": N_("top-up"),
    "kind_CASH_OUT": N_("cash-out"),
    "refresh": N_("Refresh"),
    "topUp": N_("Top up"),
    "topupAmount": N_("Amount (KRW)"),
    "topupPay": N_("Open the payment page"),
    "topupStatus": N_("Top-up {id}: ₩{amount} — {status}"),
    "topup_pending": N_("waiting for payment (pay on the payment page)"),
    "topup_minting": N_("paid, credits being issued"),
    "topup_minted": N_("credits issued"),
    "topup_mint_failed": N_("not issued"),
    "topupFailed": N_(
        "The top-up was not issued: {reason}. Ask the village enterprise for a refund."
    ),
    "topupWaiting": N_(
        "No payment confirmation for top-up {id} yet. If you paid on the payment page, "
        "refresh in a moment."
    ),
    "search": N_("Find a space near home tonight"),
    "from": N_("From (KST)"),
    "to": N_("To (KST)"),
    "lat": N_("Latitude"),
    "lon": N_("Longitude"),
    "radius": N_("Radius (m)"),
    "find": N_("Search"),
    "found": N_("{found} found (nearest {shown} shown)"),
    "noneFound": N_("No space can be booked for this time. Try another time or a wider radius."),
    "slotLine": N_("Space #{slot} · {category} · {distance} m · {price} credits"),
    "home": N_("Home"),
    "mapTitle": N_("Map of the spaces around home"),
    "quote": N_("Quote"),
    "quoteTitle": N_("Quote for space #{slot}"),
    "price": N_("Price"),
    "priceValue": N_("{price} credits ({units} × 30 min at {perUnit})"),
    "bookable": N_("It can be booked now."),
    "notBookable": N_("It cannot be booked: {reason}"),
    "overage": N_("Overstay"),
    "overageValue": N_(
        "{per10} credits per started 10 minutes after the end, plus {penalty} credits once"
    ),
    "cancellation": N_("Cancellation"),
    "freeUntil": N_("Free cancellation (full refund) until {time}"),
    "graceRule": N_("Free cancellation within {minutes} minutes of booking, whenever you book"),
    "lateRule": N_("After that and before the start: {pct}% refunded ({refund} credits)"),
    "noCancelRule": N_(
        "From {time} it cannot be cancelled; a lease never checked in is a no-show and is "
        "paid in full."
    ),
    "checkInFrom": N_("Check in from {time}"),
    "book": N_("Book (sign in your wallet)"),
    "permitNeeded": N_(
        "The app needs your permission to spend credits: sign the permit in your wallet."
    ),
    "signInWallet": N_("Confirm the signature in your wallet…"),
    "relaying": N_("Recording on the ledger…"),
    "booked": N_("Booked: lease #{lease}, transaction {tx}"),
    "leases": N_("My bookings"),
    "leasesEmpty": N_("No bookings yet."),
    "leaseLine": N_("Lease #{lease} · space #{slot} · {start} – {end} · {price} credits"),
    "lease_BOOKED": N_("booked"),
    "lease_CHECKED_IN": N_("checked in"),
    "lease_SETTLED": N_("settled"),
    "lease_CANCELLED": N_("cancelled"),
    "lease_NO_SHOW": N_("no-show"),
    "cancel": N_("Cancel"),
    "checkIn": N_("Check in"),
    "checkOut": N_("Check out"),
    "receipt": N_("Receipt"),
    "receiptLease": N_("Lease #{lease} · transaction {tx} · block {block}"),
    "receiptCharged": N_("Charged {price} credits"),
    "receiptOverstay": N_("Overstay charge {amount} credits"),
    "receiptOverstayDebt": N_("Overstay owed {amount} credits (pay it later)"),
    "receiptRefund": N_("Refunded {refund} credits (kept {retained})"),
    "receiptCheckedIn": N_("Checked in at {time}"),
    "receiptNoShow": N_("No-show: {price} credits"),
    "receiptFailed": N_("The ledger did not carry out the request (transaction {tx})."),
    "prepaid": N_("Prepaid for bookings"),
    "prepaidIntro": N_(
        "Credits you prepay here pay your bookings without a transfer each time, so a booking "
        "costs the ledger less. Take back what is left at any time."
    ),
    "prepaidAmount": N_("Amount (KRW)"),
    "prepay": N_("Prepay (sign in your wallet)"),
    "withdrawPrepaid": N_("Withdraw"),
    "receiptPrepaid": N_("Prepaid {amount} credits (prepaid balance {balance})"),
    "receiptPrepaidWithdrawn": N_("Withdrew {amount} credits (prepaid balance {balance})"),
    "error": N_("Error: {message}"),
    "walletError": N_("Wallet error: {message}"),
    "networkError": N_("The API could not be reached: {message}"),
    "notMember": N_("Your membership must be approved before you can book."),
    "language": N_("Language"),
    "cat_PERSONAL": N_("personal"),
    "cat_PRIVATE_LOT": N_("private lot"),
    "cat_PUBLIC_LOT": N_("public lot"),
    "cat_RESIDENT_PRIORITY": N_("resident priority"),
}


def texts(locale: str) -> dict[str, str]:
    """The app's texts in `locale` ('ko' or 'en'), key → text."""
    catalog = translations(locale)
    return {key: catalog.gettext(message) for key, message in TEXTS.items()}
