"""The explorer's sign-in: a page whose small script (static/sign-in.js, reusing the resident
app's wallet and SIWE modules) signs an EIP-4361 message with the auditor's wallet and gets a
staff session, then exchanges its token for an HttpOnly cookie the server-rendered pages read
(api/explorer/viewer.py); and sign-out, which ends the session and drops the cookie."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response
from pydantic import BaseModel, ConfigDict, Field

from api.errors import PermissionDenied
from api.explorer import inputs
from api.explorer.pages import html_errors, render
from api.explorer.viewer import COOKIE, SESSION_PATH, ViewerDep
from api.siwe.deps import SiweDep

router = APIRouter(prefix="/explorer", tags=["explorer"], include_in_schema=False)

SCRIPT = Path(__file__).resolve().parent / "static" / "sign-in.js"


class SessionExchange(BaseModel):
    model_config = ConfigDict(extra="forbid")
    token: str = Field(min_length=1, max_length=200, description="POST /v1/auth/siwe's token")


@router.get("/sign-in", response_class=HTMLResponse)
@html_errors
def sign_in_page(
    request: Request, viewer: ViewerDep,
    back: Annotated[str, Query(alias="next", description="the page to return to")] = "/explorer",
) -> HTMLResponse:  # fmt: skip
    return render(request, "sign_in.html", next_path=inputs.next_path(back), viewer=viewer)


@router.get("/sign-in.js")
def sign_in_script() -> FileResponse:
    return FileResponse(SCRIPT, media_type="text/javascript", headers={"Cache-Control": "no-cache"})


@router.post(SESSION_PATH.removeprefix("/explorer"), status_code=204)
def open_cookie(body: SessionExchange, request: Request, siwe: SiweDep) -> Response:
    """A staff session's token → the explorer's cookie (401 for a dead token, 403 for a session
    that holds no staff role, such as a resident's)."""
    session = siwe.session(body.token)
    if not siwe.roles.staff_roles(session.address):
        raise PermissionDenied(
            f"{session.address} holds no staff role now: the explorer's sign-in is for staff "
            "(an auditor, an inspector or the city see persons' records)",
            code="not_staff",
        )
    response = Response(status_code=204)
    response.set_cookie(
        COOKIE, body.token, max_age=max(1, int(session.expires_at - time.time())),
        path="/", httponly=True, secure=request.url.scheme == "https", samesite="strict",
    )  # fmt: skip
    return response


@router.post("/sign-out")
def sign_out(request: Request, siwe: SiweDep) -> RedirectResponse:
    """Ends the session (its token stops working everywhere) and drops the cookie."""
    token = request.cookies.get(COOKIE)
    if token:
        siwe.sessions.close(token)
    response = RedirectResponse("/explorer/sign-in", status_code=303)
    response.delete_cookie(COOKIE, path="/", httponly=True, samesite="strict")
    return response
