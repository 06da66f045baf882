"""The connect page, server-rendered. Every value is HTML-escaped; notices are fixed
texts chosen by code, never text taken from the URL."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from html import escape
from typing import Any, get_args

from auth_service.domain.connection import ConnectionStatus
from auth_service.domain.permissions import describe_missing
from auth_service.domain.settings import SettingsProblem
from chat_contracts.settings import CrmObject, UpdatePolicy

# Empty rows offered under the existing mapping rules.
BLANK_MAPPING_ROWS = 3
UPDATE_POLICY_LABELS = {
    UpdatePolicy.DO_NOT_UPDATE: "Do not update",
    UpdatePolicy.UPDATE_FROM_CHAT: "Update with information from the chat",
    UpdatePolicy.FILL_EMPTY_ONLY: "Only fill fields that are empty",
}

NOTICES = {
    "connected": ("ok", "Connected to Salesforce."),
    "denied": ("warn", "The Salesforce sign-in was cancelled; nothing changed."),
    "failed": ("error", "Salesforce did not complete the connection. Please try again."),
    "disconnected": ("ok", "Disconnected: the token was revoked at Salesforce and forgotten."),
    "checked": ("ok", "Permissions checked."),
    "check_failed": ("error", "The permission check could not run; see below."),
    "settings_saved": ("ok", "Settings saved."),
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
.settings{display:block}.settings label{display:block;margin:.4rem 0}
.field-error{color:#c62828;display:block;font-size:.9rem}
"""

_BADGE = {
    "connected": "Connected",
    "revoked": "Connection lost: reconnect needed",
    "not_connected": "Not connected",
}


def connect_page(
    status: ConnectionStatus,
    form_params: Mapping[str, str],
    notice: str | None = None,
    *,
    settings: Mapping[str, Any] | None = None,
    problems: Sequence[SettingsProblem] = (),
    settings_error: str | None = None,
) -> str:
    """The page; with `settings` (the values to show, as JSON) its settings section,
    `problems` and `settings_error` shown inline after a refused save."""
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
    if settings is not None:
        parts.append(_settings(settings, form_params, problems, settings_error))
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


def _settings(
    values: Mapping[str, Any],
    params: Mapping[str, str],
    problems: Sequence[SettingsProblem],
    error: str | None,
) -> str:
    by_field: dict[str, list[str]] = {}
    for problem in problems:
        by_field.setdefault(problem.field, []).append(problem.message)
    shown: set[str] = set()

    def errors(*fields: str) -> str:
        out: list[str] = []
        for name in fields:
            shown.add(name)
            out.extend(by_field.get(name, ()))
        return "".join(f'<span class="field-error">{escape(m)}</span>' for m in out)

    hidden = "".join(
        f'<input type="hidden" name="{escape(k)}" value="{escape(v)}">' for k, v in params.items()
    )
    mode = str(values.get("mode", "sales"))
    policy = str(values.get("update_policy", UpdatePolicy.DO_NOT_UPDATE))
    modes = "".join(
        f'<option value="{v}"{" selected" if v == mode else ""}>{label}</option>'
        for v, label in (
            ("sales", "Sales: Leads and Tasks"),
            ("support", "Support: Contacts and Cases"),
        )
    )
    policies = "".join(
        f'<option value="{p.value}"{" selected" if p.value == policy else ""}>{label}</option>'
        for p, label in UPDATE_POLICY_LABELS.items()
    )
    checked = " checked" if values.get("match_by_phone") is True else ""
    fields = [
        f'<label>Mode <select name="mode" id="settings-mode">{modes}</select>'
        f"{errors('mode')}</label>",
        f'<label>Existing Lead or Contact <select name="update_policy" '
        f'id="settings-update-policy">{policies}</select>{errors("update_policy")}</label>',
        '<label>Company placeholder <input name="company_placeholder" '
        f'id="settings-company-placeholder" maxlength="255" '
        f'value="{escape(str(values.get("company_placeholder", "")))}">'
        f"{errors('company_placeholder')}</label>",
        '<label><input type="checkbox" name="match_by_phone" value="on" '
        f'id="settings-match-by-phone"{checked}> Match by phone when there is no email</label>'
        f"{errors('match_by_phone')}",
        '<label>Default phone region <input name="default_phone_region" size="3" '
        f'maxlength="2" value="{escape(str(values.get("default_phone_region", "")))}">'
        f"{errors('default_phone_region')}</label>",
    ]
    rules = [r for r in values.get("field_mapping", ()) if isinstance(r, Mapping)]
    rows = []
    for index in range(len(rules) + BLANK_MAPPING_ROWS):
        rule = rules[index] if index < len(rules) else {}
        prefix = f"field_mapping.{index}"
        cells = [_object_select(index, str(rule.get("object", "")))]
        for part in ("source", "value"):
            cells.append(_map_input(part, index, rule.get(part)))
        table_text = "\n".join(f"{k} = {v}" for k, v in (rule.get("translate") or {}).items())
        cells.append(
            f'<textarea name="map_translate_{index}" id="map-translate-{index}" rows="2">'
            f"{escape(table_text)}</textarea>"
        )
        cells += [_map_input("default", index, rule.get("default"))]
        cells += [_map_input("target", index, rule.get("target"))]
        in_row = [f for f in by_field if f == prefix or f.startswith(f"{prefix}.")]
        row_errors = errors(*in_row)
        rows.append(
            "<tr>" + "".join(f"<td>{c}</td>" for c in cells) + f"<td>{row_errors}</td></tr>"
        )
    table = (
        '<table id="field-mapping"><tr><th>Object</th><th>Conversation field</th>'
        "<th>or a constant</th><th>Translations (<code>from = to</code> per line)</th>"
        "<th>Otherwise</th><th>Salesforce field</th><th></th></tr>" + "".join(rows) + "</table>"
    )
    rest = [m for field, messages in by_field.items() if field not in shown for m in messages]
    if error:
        rest.insert(0, error)
    summary = ""
    if rest or problems:
        items = "".join(f"<li>{escape(m)}</li>" for m in rest)
        summary = (
            '<div id="settings-errors" class="notice error" role="alert">'
            f"The settings were not saved.<ul>{items}</ul></div>"
        )
    return (
        f'<h2 id="settings">Settings</h2>{summary}'
        f'<form method="post" action="/connect" class="settings">{hidden}'
        + "".join(fields)
        + "<h3>Field mapping</h3><p>Conversation fields such as <code>visitor.email</code>, "
        "<code>custom_fields.&lt;name&gt;</code> or <code>custom_variables.&lt;name&gt;</code>, "
        "into any field of the object, custom <code>__c</code> fields included; or a constant "
        "(such as a <code>LeadSource</code>, written on new records only). A translation "
        "replaces each value it names (any case); others become <em>Otherwise</em>, or are "
        "left out when it is empty.</p>"
        + table
        + '<p><button name="action" value="save_settings" id="save_settings">Save settings'
        "</button></p></form>"
    )


def _map_input(part: str, index: int, value: object) -> str:
    shown = "" if value is None else str(value)
    return f'<input name="map_{part}_{index}" id="map-{part}-{index}" value="{escape(shown)}">'


def _object_select(index: int, current: str) -> str:
    options = ['<option value=""></option>'] + [
        f'<option value="{o}"{" selected" if o == current else ""}>{o}</option>'
        for o in get_args(CrmObject)
    ]
    return f'<select name="map_object_{index}" id="map-object-{index}">{"".join(options)}</select>'
