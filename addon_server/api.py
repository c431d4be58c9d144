"""The JSON API under /api/: every route identifies the caller first (401), then reads its input
(400 naming the field), then calls one service function. Errors become JSON in create_app."""

from __future__ import annotations

import re
from datetime import date, datetime, timezone
from typing import Any

from flask import Blueprint, Request, current_app, g, jsonify, request
from flask.typing import ResponseReturnValue

from addon_server import shown
from addon_server.auth import Unauthenticated, access_token, identify
from addon_server.dev import local_plan
from mapsheets.core.vocabulary import SHEET_ID, YEARS, in_years
from mapsheets.errors import UsageError
from mapsheets.service import addon, addon_writes

bp = Blueprint("api", __name__, url_prefix="/api")


@bp.before_request
def _identify() -> None:
    g.caller = identify(request, current_app.config["MAPSHEETS"], current_app.extensions["mapsheets_verifier"])


def _body() -> dict[str, Any]:
    return json_object(request, "the request body must be a JSON object")


def json_object(req: Request, error: str) -> dict[str, Any]:
    """The request's JSON object, or a 400 naming the body (malformed, not an object, or nested
    deep enough to exhaust the parser)."""
    try:
        data = req.get_json(silent=True)
    except RecursionError:
        data = None
    if not isinstance(data, dict):
        raise UsageError(error, field="body")
    return data


def _str(data: dict[str, Any], name: str, default: str = "") -> str:
    value = data.get(name, default)
    if value is None:
        return default
    if not isinstance(value, str):
        raise UsageError(f"{name} must be text", field=name)
    return value


def _list(data: dict[str, Any], name: str) -> list[str]:
    value = data.get(name) or []
    if isinstance(value, str):
        value = [v for v in re.split(r"[,\n]", value)]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise UsageError(f"{name} must be a list of text", field=name)
    return value


def _date(data: dict[str, Any], name: str) -> date | None:
    value = _str(data, name).strip()
    if not value:
        return None
    try:
        parsed = date.fromisoformat(value)
    except ValueError:
        raise UsageError(f"{value!r} is not a date (YYYY-MM-DD)", field=name) from None
    if not in_years(parsed.year):
        raise UsageError(f"{value!r} is outside the years {YEARS}", field=name)
    return parsed


def _target(data: dict[str, Any]) -> tuple[str, Any]:
    """(plan reference, Google credentials) of the open spreadsheet."""
    config = current_app.config["MAPSHEETS"]
    sheet = _str(data, "spreadsheet_id").strip()
    if not SHEET_ID.match(sheet):
        raise UsageError("spreadsheet_id is missing or not a spreadsheet ID", field="spreadsheet_id")
    if config["DEV"] and config["PLANS_DIR"]:
        return local_plan(config["PLANS_DIR"], sheet), None
    token = access_token(request)
    if token is None:
        raise Unauthenticated("no Google access token for the spreadsheet (X-Mapsheets-Access-Token)")
    return sheet, addon.GoogleCredentials.access_token(token)


def _common() -> dict[str, Any]:
    return {"store": current_app.extensions["mapsheets_store"], "now": _now()}


def _now() -> datetime:
    """The time; dev mode may fix it (config NOW, set by tests) to reach a digest's send hour."""
    config = current_app.config["MAPSHEETS"]
    return config.get("NOW") if config["DEV"] and config.get("NOW") else datetime.now(timezone.utc)


def _today() -> date:
    today: date = current_app.config["MAPSHEETS"].get("TODAY") or date.today()
    return today


def _domains() -> list[str]:
    domains: list[str] = current_app.config["MAPSHEETS"]["SELLER_DOMAINS"]
    return domains


@bp.post("/summary")
def summary() -> ResponseReturnValue:
    data = _body()
    ref, credentials = _target(data)
    return jsonify(shown.glance(addon.summary(ref, g.caller, today=_today(), credentials=credentials,
                                              seller_domains=_domains(), **_common())))


@bp.post("/changes")
def changes() -> ResponseReturnValue:
    data = _body()
    ref, credentials = _target(data)
    return jsonify(shown.since(addon.changes(ref, g.caller, credentials=credentials, **_common())))


@bp.post("/generate")
def generate() -> ResponseReturnValue:
    data = _body()
    ref, credentials = _target(data)
    result = addon_writes.generate(
        ref, g.caller, template=_str(data, "template"), buyer=_str(data, "buyer"), seller=_str(data, "seller"),
        start=_date(data, "start_date"), close=_date(data, "close_date"), holidays=_str(data, "holidays"),
        champion=(_str(data, "champion_name"), _str(data, "champion_email")),
        economic_buyer=(_str(data, "economic_buyer_name"), _str(data, "economic_buyer_email")),
        today=_today(), credentials=credentials, template_dirs=current_app.config["MAPSHEETS"]["TEMPLATES"],
        ae_name=_str(data, "ae_name"), **_common())
    return jsonify(shown.generated(result)), 201


@bp.post("/steps")
def add_step() -> ResponseReturnValue:
    data = _body()
    ref, credentials = _target(data)
    step, warnings = addon_writes.add_step(
        ref, g.caller, title=_str(data, "title"), phase=_str(data, "phase"), side=_str(data, "side", "joint"),
        owners=_list(data, "owners"), due=_date(data, "due"), depends_on=_list(data, "depends_on"),
        notes=_str(data, "notes"), today=_today(), credentials=credentials, seller_domains=_domains(),
        **_common())
    return jsonify({"id": step.id, "title": step.title, "due": step.due.isoformat() if step.due else None,
                    "warnings": shown.words(warnings)}), 201


@bp.post("/sign")
def sign() -> ResponseReturnValue:
    data = _body()
    ref, credentials = _target(data)
    side = _str(data, "side").strip() or None
    signature, written = addon_writes.sign(ref, g.caller, side=side, credentials=credentials,
                                           seller_domains=_domains(), **_common())
    return jsonify({"signature": signature.to_dict(), "written": written}), 201 if written else 200


@bp.post("/request-signature")
def request_signature() -> ResponseReturnValue:
    from addon_server.signing import base_url, mailer

    data = _body()
    ref, credentials = _target(data)
    sent_to = addon_writes.request_signature(ref, g.caller, to=_str(data, "to"), credentials=credentials,
                                             mailer=mailer(), base_url=base_url(), seller_domains=_domains(),
                                             sender=current_app.config["MAPSHEETS"]["MAIL_FROM"] or None,
                                             **_common())
    return jsonify({"sent_to": sent_to}), 201


@bp.post("/subscription")
def subscription() -> ResponseReturnValue:
    data = _body()
    ref, credentials = _target(data)
    every = addon_writes.subscribe(ref, g.caller, every=_str(data, "every"), credentials=credentials,
                                   seller_domains=_domains(), **_common())
    return jsonify({"every": every})


@bp.post("/step-status")
def step_status() -> Any:
    """My steps: a step's status (done, in progress, blocked with a reason) and/or its due date."""
    from mapsheets.service.step_status import set_step

    data = _body()
    ref, credentials = _target(data)
    result = set_step(ref, g.caller, step_id=_str(data, "step"), status=_str(data, "status"),
                      reason=_str(data, "reason"), due=_date(data, "due"), today=_today(), credentials=credentials,
                      seller_domains=_domains(), **_common())
    return jsonify({**result, "warnings": shown.words(result["warnings"])})


@bp.post("/digest-run")
def digest_run() -> Any:
    """The add-on's hourly trigger, as one subscriber: read the plan with their token, send what is due."""
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    from addon_server.signing import mailer
    from mapsheets.service.addon_digest import run_as_subscriber

    data = _body()
    ref, credentials = _target(data)
    config = current_app.config["MAPSHEETS"]
    try:
        tz = ZoneInfo(config["TZ"]) if config["TZ"] else timezone.utc
    except (ZoneInfoNotFoundError, ValueError):
        raise UsageError(f"MAPSHEETS_TZ {config['TZ']!r} is not a time zone") from None
    result = run_as_subscriber(ref, g.caller, now=_now(), store=current_app.extensions["mapsheets_store"],
                               mailer=mailer(), credentials=credentials, sender=config["MAIL_FROM"] or None,
                               seller_domains=_domains(), tz=tz, hour=int(config["DIGEST_HOUR"]))
    return jsonify(result)
