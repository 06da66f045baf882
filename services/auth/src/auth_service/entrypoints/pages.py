"""The connect page, server-rendered. Every value is HTML-escaped; notices are fixed
texts chosen by code, never text taken from the URL."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from html import escape

from auth_service.domain.connection import ConnectionStatus
from auth_service.domain.permissions import describe_missing

NOTICES = {
    "connected": ("ok", "Connected to Salesforce."),
    "denied": ("warn", "The Salesforce sign-in was cancelled; nothing changed."),
    "failed": ("error", "Salesforce did not complete the connection. Please try again."),
    "disconnected": ("ok", "Disconnected: the token was revoked at Salesforce and forgotten."),
    "checked": ("ok", "Permissions checked."),
    "check_failed": ("error", "The permission check could not run; see below."),
}

_STYLE = """
body{font-family:system-ui,sans-serif;max-width:46rem;margin:2rem auto;padding:0 1rem;color:#1b1b1b}
h1{font-size:1.5rem}.badge{display:inline-block;padding:.2rem .6rem;border-radius:1rem;color:#fff}
.connected{background:#2e7d32}.revoked{background:#c62828}.not_connected{background:#616161}
.notice{padding:.6rem 1rem;border-radius:.3rem;margin:1rem 0}.ok{background:#e8f5e9}
.warn{background:#fff8e1}.error{background:#ffebee}
dl{display:grid;grid-template-columns:14rem 1fr;gap:.3rem 1rem}dt{color:#555}dd{margin:0}
form{display:inline-block;margin:.3rem .5rem .3rem 0}button{padding:.5rem 1rem;cursor:pointer}
table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:.2rem .6rem}
"""

_BADGE = {
    "connected": "Connected",
    "revoked": "Connection lost: reconnect needed",
    "not_connected": "Not connected",
}


def connect_page(
    status: ConnectionStatus, form_params: Mapping[str, str], notice: str | None = None
) -> str:
    tenant = escape(status.tenant_id)
    parts = [
        f"<h1>Salesforce connection of tenant {tenant}</h1>",
        _notice(notice),
        f'<p>Status: <span id="status" class="badge {status.state}">{_BADGE[status.state]}'
        "</span></p>",
    ]
    if status.state == "revoked":
        parts.append(
            '<p class="notice error" role="alert">Salesforce no longer accepts this '
            "connection (the token was revoked or expired). Chats are not synchronised until "
            "you connect again.</p>"
        )
    parts.append(_details(status))
    parts.append(_permissions(status))
    parts.append(_actions(status, form_params))
    body = "\n".join(p for p in parts if p)
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        f"<title>Salesforce connection: tenant {tenant}</title><style>{_STYLE}</style>"
        f"</head><body>{body}</body></html>"
    )


def error_page(title: str, message: str) -> str:
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        f"<title>{escape(title)}</title><style>{_STYLE}</style></head><body>"
        f'<h1>{escape(title)}</h1><p class="notice error" role="alert">{escape(message)}</p>'
        "</body></html>"
    )


def _notice(code: str | None) -> str:
    if code not in NOTICES:
        return ""
    kind, text = NOTICES[code]
    return f'<p class="notice {kind}" role="status">{escape(text)}</p>'


def _details(status: ConnectionStatus) -> str:
    record = status.record
    if record is None:
        return "<p>This tenant is not connected to a Salesforce org.</p>"
    rows = [
        ("Org id", f'<code id="org-id">{escape(record.org_id)}</code>'),
        ("Connected user", f"{escape(record.username)} (<code>{escape(record.user_id)}</code>)"),
        ("Environment", "Sandbox" if record.sandbox else "Production"),
        ("Instance", escape(record.instance_url)),
        ("Connected at", _time(record.connected_at)),
        ("Last successful token refresh", _time(record.last_refreshed_at)),
    ]
    if record.revoked_at is not None:
        rows.append(("Revoked by Salesforce at", _time(record.revoked_at)))
    items = "".join(f"<dt>{k}</dt><dd>{v}</dd>" for k, v in rows)
    return f"<dl>{items}</dl>"


def _permissions(status: ConnectionStatus) -> str:
    if not status.connected:
        return ""
    check = status.permission_check
    if check is None:
        reason = escape(status.permission_error or "not checked yet")
        return f'<h2>Permission check</h2><p id="permissions">Could not check: {reason}</p>'
    if check.ok:
        return (
            '<h2>Permission check</h2><p id="permissions" class="notice ok">Account, Contact, '
            f"Lead, Case and Task can be queried, created and updated ({_time(check.occurred_at)})."
            "</p>"
        )
    rows = "".join(
        f"<tr><td>{escape(obj)}</td><td>{escape(', '.join(ops))}</td></tr>"
        for obj, ops in describe_missing(check.missing).items()
    )
    return (
        '<h2>Permission check</h2><p id="permissions" class="notice error">The connected user '
        "lacks permissions the integration needs:</p>"
        f"<table><tr><th>Object</th><th>Missing</th></tr>{rows}</table>"
    )


def _actions(status: ConnectionStatus, params: Mapping[str, str]) -> str:
    hidden = "".join(
        f'<input type="hidden" name="{escape(k)}" value="{escape(v)}">' for k, v in params.items()
    )

    def button(action: str, label: str) -> str:
        return (
            f'<form method="post" action="/connect">{hidden}'
            f'<button name="action" value="{action}" id="{action}">{label}</button></form>'
        )

    buttons = [
        button("connect_production", "Connect with Salesforce"),
        button("connect_sandbox", "Connect with Salesforce Sandbox"),
    ]
    if status.connected:
        buttons.append(button("check", "Check permissions"))
    if status.record is not None:
        buttons.append(button("disconnect", "Disconnect"))
    return "<h2>Actions</h2>" + "".join(buttons)


def _time(value: datetime | None) -> str:
    return escape(value.strftime("%Y-%m-%d %H:%M:%S UTC")) if value is not None else "never"
