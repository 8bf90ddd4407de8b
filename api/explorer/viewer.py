"""Who is looking at an explorer page: the staff session in the explorer's cookie (set by
/explorer/sign-in, api/explorer/sign_in.py), and whether it may see persons' records (an
AUDITOR, INSPECTOR or CITY_ADMIN, api/record_access.py). The pages are server-rendered without
script, so the session travels as an HttpOnly cookie rather than a bearer header."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Request

from api.errors import Unauthenticated
from api.record_access import reads_records

COOKIE = "citypass_explorer_session"
# The JSON endpoint the sign-in page's script calls (not a page: its errors are the API's JSON).
SESSION_PATH = "/explorer/session"


@dataclass(frozen=True)
class Viewer:
    address: str | None = None  # the signed-in staff address, None for the public
    reads_records: bool = False  # sees persons' individual records
    expired: bool = False  # the cookie's session has ended: sign in again


def viewer_of(request: Request) -> Viewer:
    """The request's viewer, resolved once per request (the pages' dependency and the templates'
    context processor both ask)."""
    cached = getattr(request.state, "explorer_viewer", None)
    if cached is not None:
        return cached
    viewer = _resolve(request)
    request.state.explorer_viewer = viewer
    return viewer


def _resolve(request: Request) -> Viewer:
    token = request.cookies.get(COOKIE)
    siwe = getattr(request.app.state, "siwe", None)
    if not token or siwe is None:
        return Viewer()
    try:
        session = siwe.session(token)
    except Unauthenticated:
        return Viewer(expired=True)
    return Viewer(session.address, reads_records(siwe, session.address))


def viewer_context(request: Request) -> dict[str, Any]:
    """For every template: the header's sign-in link, or who is signed in."""
    return {"viewer": viewer_of(request)}


ViewerDep = Annotated[Viewer, Depends(viewer_of)]
