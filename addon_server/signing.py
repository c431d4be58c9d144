"""The signing page a buyer opens from an emailed link (issue 20 part 4): /sign/<token>.

No sign-in: the link is the credential, single-use and expiring (mapsheets/service/sign_links.py).
A link that is used, expired or not ours is a plain page that says which; it shows nothing of the plan.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from flask import Blueprint, current_app, render_template, request
from flask.typing import ResponseReturnValue

from mapsheets.errors import MapsheetsError, PermissionDenied
from mapsheets.service import sign_links

bp = Blueprint("signing", __name__)

PROBLEMS = {
    "used": (410, "This link has been used", "The plan was signed with this link already; a link works once."),
    "expired": (410, "This link has expired", "Links to sign a plan work for a limited time."),
    "invalid": (404, "This link is not valid", "It may have been copied incompletely. Ask the sender for a new one."),
}


def _settings() -> dict[str, Any]:
    conf = current_app.config["MAPSHEETS"]
    return {"store": current_app.extensions["mapsheets_store"], "seller_domains": conf["SELLER_DOMAINS"]}


def mailer() -> Any:
    from mapsheets.service.delivery import make_mailer

    conf = current_app.config["MAPSHEETS"]
    return make_mailer(conf["SMTP_URL"] or None, conf["OUTBOX"] or None)


def base_url() -> str:
    """Where links point: MAPSHEETS_PUBLIC_URL, else the address this request came to."""
    url: str = current_app.config["MAPSHEETS"]["PUBLIC_URL"] or request.host_url.rstrip("/")
    return url


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _problem(link: Any, token: str) -> ResponseReturnValue:
    status, heading, why = PROBLEMS[link.state]
    renewable = link.state in ("used", "expired") and bool(link.email)
    return render_template("sign_problem.html", heading=heading, why=why, renewable=renewable, token=token), status


@bp.errorhandler(MapsheetsError)
def _refused(exc: MapsheetsError) -> ResponseReturnValue:
    """A page, not the API's JSON; saying why only when it names the signer, never the plan."""
    current_app.logger.warning("signing link refused: %s", exc.__class__.__name__)
    why = str(exc) if isinstance(exc, PermissionDenied) else "Ask the sender for a new link."
    return render_template("sign_problem.html", heading="This link cannot be used now", why=why,
                           renewable=False, token=""), exc.http_status


@bp.get("/sign/<token>")
def page(token: str) -> ResponseReturnValue:
    link = sign_links.look(token, now=_now(), client=request.remote_addr or "", store=_settings()["store"])
    if link.state != "ok":
        return _problem(link, token)
    return render_template("sign.html", link=link, plan=link.plan, token=token)


@bp.post("/sign/<token>")
def sign(token: str) -> ResponseReturnValue:
    conf = current_app.config["MAPSHEETS"]
    link, signed = sign_links.sign(token, seen=request.form.get("fingerprint", ""), now=_now(), mailer=mailer(),
                                   client=request.remote_addr or "", sender=conf["MAIL_FROM"] or None, **_settings())
    if link.state != "ok":
        return _problem(link, token)
    if not signed:  # the plan changed after the page was shown: show it again, with what changed
        return render_template("sign.html", link=link, plan=link.plan, token=token, moved=True), 409
    return render_template("signed.html", link=link, plan=link.plan)


@bp.post("/sign/<token>/again")
def again(token: str) -> ResponseReturnValue:
    conf = current_app.config["MAPSHEETS"]
    sign_links.again(token, now=_now(), mailer=mailer(), base_url=base_url(), sender=conf["MAIL_FROM"] or None,
                     **_settings())
    return render_template("sign_problem.html", heading="A new link is on its way",
                           why="We sent a new link to the address this one was sent to.", renewable=False, token="")
