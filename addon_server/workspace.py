"""The Google Workspace add-on (HTTP runtime): Google POSTs an event object to these endpoints and
renders the card JSON they answer in the Sheets side panel.

Every request is checked before any work (401 otherwise): the ``Authorization: Bearer`` system ID
token must be Google's, for exactly the URL Google called (MAPSHEETS_PUBLIC_URL + path), from the
deployment's service account (MAPSHEETS_ADDON_SERVICE_ACCOUNT), unexpired; a ``userIdToken`` must be
for the deployment's OAuth client (MAPSHEETS_WORKSPACE_CLIENT_ID, default MAPSHEETS_ADDON_CLIENT_ID).
The ``userOAuthToken`` reaches the spreadsheet for that request only. Then one service call from
mapsheets.service.addon* (the sidebar's), and a card from addon_server.cards.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from datetime import date, datetime, timezone
from typing import Any

from flask import Blueprint, Response, current_app, g, jsonify, request
from flask.typing import ResponseReturnValue

from addon_server import cards, events, shown, step_cards
from addon_server.api import json_object
from addon_server.auth import Unauthenticated
from addon_server.dev import local_plan
from mapsheets.errors import MapsheetsError, PermissionDenied, PlanFileError, UsageError
from mapsheets.service import addon, addon_writes

bp = Blueprint("workspace", __name__, url_prefix="/workspace")
TRIGGERS = ("workspace.homepage", "workspace.file_scope_granted")
GENERATE_FIELDS = ("template", "buyer", "seller", "ae_name", "champion_name", "champion_email", "economic_buyer_name",
                   "economic_buyer_email", "holidays")
STEP_FIELDS = ("title", "phase", "side", "owners", "depends_on", "notes")


def _conf() -> dict[str, Any]:
    conf: dict[str, Any] = current_app.config["MAPSHEETS"]
    return conf


def _links() -> cards.Links:
    return cards.Links(_conf()["PUBLIC_URL"])


@bp.before_request
def _verify() -> None:
    """Google's system ID token, then the user's ID token: 401 before anything else happens."""
    conf, verifier = _conf(), current_app.extensions["mapsheets_verifier"]
    g.respond = cards.push if request.endpoint in TRIGGERS else cards.update
    g.event = None
    if not conf["PUBLIC_URL"] or not conf["ADDON_SERVICE_ACCOUNT"]:
        raise Unauthenticated("the Workspace add-on is not configured here "
                              "(MAPSHEETS_PUBLIC_URL, MAPSHEETS_ADDON_SERVICE_ACCOUNT)")
    header = request.headers.get("Authorization", "")
    if not (header.lower().startswith("bearer ") and header[7:].strip()):
        raise Unauthenticated("no system ID token from Google (Authorization: Bearer ...)")
    called = conf["PUBLIC_URL"] + request.path + (f"?{request.query_string.decode()}" if request.query_string else "")
    verifier.verify_service(header[7:].strip(), called, conf["ADDON_SERVICE_ACCOUNT"])
    event = json_object(request, "the request body must be a JSON event object")
    user = events.user_id_token(event)
    g.caller = verifier.verify(user, audience=conf["WORKSPACE_CLIENT_ID"] or conf["CLIENT_ID"]) if user else None
    g.event = event


@bp.errorhandler(MapsheetsError)
def _failed(exc: MapsheetsError) -> ResponseReturnValue:
    """Before the event is read (identity, body): JSON and its status. After: a card saying what
    went wrong, so Google shows it in the panel."""
    if isinstance(exc, Unauthenticated) or g.get("event") is None:
        return jsonify({"error": str(exc), "field": getattr(exc, "field", None)}), exc.http_status
    return jsonify(g.respond(cards.message("Could not do that", str(exc), _links())))


def _answer(card: dict[str, Any]) -> Response:
    return jsonify(g.respond(card))


def _common() -> dict[str, Any]:
    return {"store": current_app.extensions["mapsheets_store"], "now": datetime.now(timezone.utc)}


def _today() -> date:
    today: date = _conf().get("TODAY") or events.today(g.event)
    return today


def _ready() -> tuple[str, Any] | dict[str, Any]:
    """(plan reference, Google credentials) of the open spreadsheet, or the card that asks the user
    for what the event lacks: who they are, access to this file, their token."""
    conf, links = _conf(), _links()
    if g.caller is None:
        return cards.needs("your email address (userinfo.email) to know who is asking", links)
    sheet = events.sheet_id(g.event)
    if sheet is None:
        return cards.file_scope(links)
    if conf["DEV"] and conf["PLANS_DIR"]:
        return local_plan(conf["PLANS_DIR"], sheet), None
    token = events.user_oauth_token(g.event)
    if token is None:
        return cards.needs("access to this spreadsheet (drive.file)", links)
    return sheet, addon.GoogleCredentials.access_token(token)


def _templates() -> list[str]:
    from mapsheets.service.addon import template_names

    return template_names(_conf()["TEMPLATES"])


def _on_the_file(view: Callable[..., Response]) -> Callable[..., Response]:
    """``view(ref, credentials, ...)`` on the open spreadsheet; or the card that asks for what is missing."""
    @functools.wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Response:
        target = _ready()
        if isinstance(target, dict):
            return _answer(target)
        return view(*target, *args, **kwargs)
    return wrapped


@_on_the_file
def _home(ref: str, credentials: Any, page: int = 0) -> Response:
    try:
        data = shown.glance(addon.summary(ref, g.caller, today=_today(), credentials=credentials,
                                          seller_domains=_conf()["SELLER_DOMAINS"], **_common()))
    except PlanFileError as exc:  # not NoPlan: summary answers that with plan None
        return _answer(cards.refused(str(exc), _links()))
    if data["plan"] is None:
        # The AE's name prefilled from the sign-in profile, where the token carries one.
        return _answer(cards.generate_form(_templates(), {"ae_name": g.caller.name}, {}, events.user_tz(g.event),
                                           _links()))
    built = cards.summary(data, _links(), page)
    # My steps right under the plan at a glance: what the person came to do (issue 21).
    built["sections"][1:1] = [s for s in step_cards.my_steps_sections(data.get("my_steps"), _links()) if s["widgets"]]
    return _answer(built)


@bp.post("/homepage")
def homepage() -> ResponseReturnValue:
    return _home()


@bp.post("/file-scope-granted")
def file_scope_granted() -> ResponseReturnValue:
    """addOns.sheets.onFileScopeGrantedTrigger: the event now carries sheets.id; carry on."""
    return _home()


@bp.post("/home")
def home() -> ResponseReturnValue:
    try:
        page = int(events.parameters(g.event).get("page") or 0)
    except ValueError:
        page = 0
    return _home(page)


@bp.post("/request-file-scope")
def request_file_scope() -> ResponseReturnValue:
    return jsonify(cards.request_file_scope())


def _form(names: tuple[str, ...], dates: tuple[str, ...]) -> tuple[dict[str, Any], dict[str, str]]:
    """The typed values (to keep them) and the date pickers' errors, from commonEventObject.formInputs."""
    values: dict[str, Any] = {n: events.form_text(g.event, n) for n in names}
    errors: dict[str, str] = {}
    for name in dates:
        try:
            values[name] = events.form_date(g.event, name)
        except UsageError as exc:
            values[name], errors[name] = None, str(exc)
    return values, errors


def _field_error(exc: MapsheetsError) -> dict[str, str]:
    return {getattr(exc, "field", None) or "form": str(exc)}


@_on_the_file
def _form_action(ref: str, credentials: Any, fields: tuple[str, ...], dates: tuple[str, ...],
                 write: Callable[[str, Any, dict[str, Any]], dict[str, Any]],
                 form: Callable[[dict[str, Any], dict[str, str]], dict[str, Any]]) -> Response:
    """A form's submit: the file ready, the fields read, ``write`` (ref, credentials, values) -> the
    card that says it is done; on a field or permission error, the form again with what was typed."""
    values, errors = _form(fields, dates)
    if not errors:
        try:
            return _answer(write(ref, credentials, values))
        except (UsageError, PermissionDenied) as exc:
            errors = _field_error(exc)
    return _answer(form(values, errors))


@bp.post("/generate")
def generate() -> ResponseReturnValue:
    def write(ref: str, credentials: Any, values: dict[str, Any]) -> dict[str, Any]:
        result = addon_writes.generate(
            ref, g.caller, template=values["template"], buyer=values["buyer"], seller=values["seller"],
            start=values["start_date"], close=values["close_date"], holidays=values["holidays"],
            champion=(values["champion_name"], values["champion_email"]),
            economic_buyer=(values["economic_buyer_name"], values["economic_buyer_email"]),
            today=_today(), credentials=credentials, template_dirs=_conf()["TEMPLATES"],
            ae_name=values["ae_name"], **_common())
        return cards.message("Plan generated", f"{result.title}: {result.steps} steps.", _links())

    return _form_action(GENERATE_FIELDS, ("start_date", "close_date"), write, lambda values, errors:
                        cards.generate_form(_templates(), values, errors, events.user_tz(g.event), _links()))


def _phases() -> list[str]:
    return [p for p in events.parameters(g.event).get("phases", "").split("\n") if p]


@bp.post("/step-form")
def step_form() -> ResponseReturnValue:
    chosen = {"phase": events.parameters(g.event).get("next_phase", "")}  # the next open step's phase
    return _answer(cards.step_form(_phases(), chosen, {}, events.user_tz(g.event), _links()))


@bp.post("/add-step")
def add_step() -> ResponseReturnValue:
    def write(ref: str, credentials: Any, values: dict[str, Any]) -> dict[str, Any]:
        step, warnings = addon_writes.add_step(
            ref, g.caller, title=values["title"], phase=values["phase"], side=values["side"] or "joint",
            owners=values["owners"].split(","), due=values["due"], depends_on=values["depends_on"].split(","),
            notes=values["notes"], today=_today(), credentials=credentials,
            seller_domains=_conf()["SELLER_DOMAINS"], **_common())
        return cards.step_added({"id": step.id, "title": step.title,
                                 "due": step.due.isoformat() if step.due else None}, _links(), shown.words(warnings))

    return _form_action(STEP_FIELDS, ("due",), write, lambda values, errors:
                        cards.step_form(_phases(), values, errors, events.user_tz(g.event), _links()))


@bp.post("/sign")
@_on_the_file
def sign(ref: str, credentials: Any) -> Response:
    try:
        signature, written = addon_writes.sign(ref, g.caller, credentials=credentials,
                                               seller_domains=_conf()["SELLER_DOMAINS"], **_common())
    except PermissionDenied as exc:
        return _answer(cards.message("Cannot sign", str(exc), _links()))
    return _answer(cards.signed(signature.to_dict(), written, _links()))


@bp.post("/changes")
@_on_the_file
def changes(ref: str, credentials: Any) -> Response:
    return _answer(cards.changes(shown.since(addon.changes(ref, g.caller, credentials=credentials, **_common())),
                                 _links()))


@bp.post("/ask-form")
def ask_form() -> ResponseReturnValue:
    return _answer(cards.ask_form("", _links()))


@bp.post("/request-signature")
def request_signature() -> ResponseReturnValue:
    from addon_server.signing import base_url, mailer

    def write(ref: str, credentials: Any, values: dict[str, Any]) -> dict[str, Any]:
        sent_to = addon_writes.request_signature(ref, g.caller, to=values["to"], credentials=credentials,
                                                 mailer=mailer(), base_url=base_url(),
                                                 seller_domains=_conf()["SELLER_DOMAINS"],
                                                 sender=_conf()["MAIL_FROM"] or None, **_common())
        return cards.message("Link sent", f"A link to sign went to {sent_to}.", _links())

    return _form_action(("to",), (), write, lambda values, errors: cards.ask_form(values["to"], _links(), errors))


@bp.post("/email-form")
def email_form() -> ResponseReturnValue:
    return _answer(cards.email_form(events.parameters(g.event).get("every", "off"), _links()))


@bp.post("/subscription")
def subscription() -> ResponseReturnValue:
    def write(ref: str, credentials: Any, values: dict[str, Any]) -> dict[str, Any]:
        every = addon_writes.subscribe(ref, g.caller, every=values["every"], credentials=credentials,
                                       seller_domains=_conf()["SELLER_DOMAINS"], **_common())
        if every != "off":  # no trigger here: the digest run must be able to open the sheet itself
            from mapsheets.service.addon_digest import share_for_digests

            share_for_digests(ref, g.caller, account=_conf()["DIGEST_ACCOUNT"], credentials=credentials,
                              **_common())
        return cards.subscribed(every, _links(), _conf()["DIGEST_ACCOUNT"] if every != "off" else "")

    return _form_action(("every",), (), write, lambda values, errors: cards.email_form(values["every"], _links(),
                                                                                         errors))


def _step_params() -> dict[str, str]:
    return {k: v for k, v in events.parameters(g.event).items() if k in ("step", "title", "status", "due", "mark")}


@bp.post("/step-card")
def step_card() -> Any:
    """A step's card, from the values its button carried: no read."""
    from mapsheets.service.step_status import SETTABLE

    return _answer(step_cards.step_form(_step_params(), SETTABLE, {}, {}, events.user_tz(g.event), _links()))


@bp.post("/step-status")
def step_status() -> Any:
    """Save a step's status or due date (or Mark done): one read, one write, the audit entry."""
    from mapsheets.service.step_status import SETTABLE, set_step

    params = _step_params()

    def write(ref: str, credentials: Any, values: dict[str, Any]) -> dict[str, Any]:
        due = values["due"]
        moved = due if due is not None and due.isoformat() != params.get("due", "") else None
        status = "done" if params.get("mark") == "done" else values["status"]
        result = set_step(ref, g.caller, step_id=params.get("step", ""), status=status, reason=values["reason"],
                          due=None if params.get("mark") else moved, today=_today(), credentials=credentials,
                          seller_domains=_conf()["SELLER_DOMAINS"], **_common())
        return step_cards.step_saved({**result, "warnings": shown.words(result["warnings"])}, _links())

    return _form_action(("status", "reason"), ("due",), write, lambda values, errors: step_cards.step_form(
        params, SETTABLE, values, errors, events.user_tz(g.event), _links()))
