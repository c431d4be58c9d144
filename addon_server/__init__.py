"""The Google Sheets add-on backend: a Flask app over mapsheets.service, like the CLI.

    gunicorn 'addon_server:create_app()'        # production: MAPSHEETS_ADDON_CLIENT_ID, MAPSHEETS_DB
    mapsheets serve --dev                        # try it locally without Google
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from addon_server import config as settings

if TYPE_CHECKING:
    from flask import Flask, Response
    from flask.typing import ResponseReturnValue

# Only the app's own scripts and styles; the dev page frames the sidebar from the same origin.
CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
       "frame-src 'self'; frame-ancestors 'self'; base-uri 'none'; form-action 'self'")


def create_app(config: Mapping[str, Any] | None = None, env: Mapping[str, str] | None = None) -> Flask:
    """The app: settings from MAPSHEETS_* (``config`` wins), one store for its lifetime, blueprints
    ``sidebar`` (HTML), ``api`` (JSON under /api/) and ``workspace`` (cards under /workspace/),
    errors as JSON in one place."""
    from flask import Flask

    from addon_server import api, sidebar, signing, workspace
    from addon_server.auth import Verifier
    from mapsheets.errors import UsageError
    from mapsheets.service.addon import open_store

    conf = settings.load(env, config)
    refusal = settings.refusal(conf)
    if refusal:
        raise UsageError(refusal)
    app = Flask(__name__)
    app.config["MAPSHEETS"] = conf
    if not conf["DEV"] and not conf["SELLER_DOMAINS"]:
        # Sides then come from the Team tab, which anyone who can edit the sheet can change.
        app.logger.warning("MAPSHEETS_SELLER_DOMAINS is not set: who signs for the seller is taken from the "
                           "Team tab, which buyers who can edit the sheet can change; set the seller's domains")
    app.config["MAX_CONTENT_LENGTH"] = conf["MAX_BODY"]
    app.json.sort_keys = False  # type: ignore[attr-defined]  # the default provider has it
    # The process's one Store for this URL (the service's open_store): the same engine as any
    # service call in this process, disposed at exit.
    app.extensions["mapsheets_store"] = open_store(conf["DB"] or None)
    app.extensions["mapsheets_verifier"] = Verifier(conf["CLIENT_ID"], conf["CERTS_URL"])
    app.register_blueprint(sidebar.bp)
    app.register_blueprint(api.bp)
    app.register_blueprint(workspace.bp)  # the Workspace add-on (HTTP runtime), cards under /workspace/
    app.register_blueprint(signing.bp)  # /sign/<token>: signing by emailed link, no sign-in
    # The signing page shows the commitments with the certificate's own template (mapsheets/emails).
    from jinja2 import ChoiceLoader, PackageLoader

    app.jinja_loader = ChoiceLoader([app.jinja_loader, PackageLoader("mapsheets.emails", "templates")])
    app.add_url_rule("/.well-known/mapsheets-signing-key", "signing_key", _signing_key)
    _errors(app)
    app.before_request(_started)
    app.before_request(_whole_body)
    if conf["DEV"]:
        app.before_request(_loopback_host)
    app.after_request(_headers)
    return app


def _signing_key() -> ResponseReturnValue:
    """The public keys seals are checked with (current first), one per line: what a buyer verifies with."""
    from mapsheets.service.seals import public_keys

    return "\n".join(public_keys()) + "\n", 200, {"Content-Type": "text/plain; charset=utf-8"}


def _loopback_host() -> ResponseReturnValue | None:
    """Dev mode trusts a header for identity: answer only requests addressed to a loopback name,
    so a web page that rebinds its own name to 127.0.0.1 (DNS rebinding) gets nothing."""
    from flask import request

    from addon_server.config import LOOPBACK

    host = request.host.rsplit(":", 1)[0] if not request.host.startswith("[") else request.host[1:].split("]")[0]
    if host not in LOOPBACK:
        return {"error": "dev mode answers only requests to 127.0.0.1, localhost or [::1]", "field": None}, 403
    return None


def _whole_body() -> None:
    """A body sent in chunks (no Content-Length) is cut at MAX_CONTENT_LENGTH by Werkzeug, not
    refused, so it would read as malformed (400): refuse it as too large (413) instead. A chunked
    body of exactly the limit cannot be told from a longer one, so it is refused too."""
    from flask import request
    from werkzeug.exceptions import RequestEntityTooLarge

    limit = request.max_content_length
    if request.content_length is None and limit and len(request.get_data(cache=True)) >= limit:
        raise RequestEntityTooLarge()


def _started() -> None:
    from time import perf_counter

    from flask import g

    g.started = perf_counter()


def _errors(app: Flask) -> None:
    """MapsheetsError → {"error", "field"} and its status: the one place the HTTP surface does it."""
    from flask import jsonify
    from werkzeug.exceptions import HTTPException

    from mapsheets.errors import MapsheetsError

    @app.errorhandler(MapsheetsError)
    def _mapsheets(exc: MapsheetsError) -> ResponseReturnValue:
        return jsonify({"error": str(exc), "field": getattr(exc, "field", None)}), exc.http_status

    @app.errorhandler(HTTPException)
    def _http(exc: HTTPException) -> ResponseReturnValue:
        field = "body" if exc.code in (400, 413) else None
        text = "the request body is too large" if exc.code == 413 else exc.description or exc.name
        return jsonify({"error": text, "field": field}), exc.code or 500


def _headers(response: Response) -> Response:
    from time import perf_counter

    from flask import g

    if "started" in g:  # the time spent in the app, for benchmarks/bench_addon.py and browsers' dev tools
        response.headers["Server-Timing"] = f"app;dur={1000 * (perf_counter() - g.started):.2f}"
    response.headers["Content-Security-Policy"] = CSP
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers.setdefault("Cache-Control", "no-store")
    return response


def run_locally(app: Flask, host: str, port: int) -> None:
    """Werkzeug's threaded server, for `mapsheets serve` (production: gunicorn)."""
    from werkzeug.serving import run_simple

    run_simple(host, port, app, threaded=True, use_reloader=False)


__all__ = ["create_app", "run_locally"]
