"""The console's pages, rendered on the server: plain HTML, one stylesheet, no script.

Every value that comes from a record (emails, chat ids, Salesforce's messages, audit
targets) goes through `e()` (html.escape, quotes included) before it reaches a page; the
pages are served with a Content-Security-Policy that allows no script at all. Links and
forms carry the signed link's parameters, as auth's connect page does, so a tenant admin
who came with a link stays inside their own tenant.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import datetime
from html import escape
from typing import Any
from urllib.parse import quote, urlencode

from console_service.domain.history import STATUSES, TROUBLED, Row

CSP = (
    "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; "
    "frame-ancestors 'none'; base-uri 'none'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Cache-Control": "no-store",
}
LINK_PARAMS = ("tenant", "expires", "sig")


def e(value: Any) -> str:
    """Escaped text ("" for None)."""
    return "" if value is None else escape(str(value), quote=True)


def when(value: datetime | None) -> str:
    return "" if value is None else value.strftime("%Y-%m-%d %H:%M:%S UTC")


class Page:
    """What every page of one request shares: the tenant, its link, the flash message."""

    def __init__(self, tenant: str, link: Mapping[str, str], instance_url: str | None) -> None:
        self.tenant = tenant
        self.link = {k: link[k] for k in LINK_PARAMS if k in link}
        self.instance_url = instance_url.rstrip("/") if instance_url else None

    def url(self, path: str = "", **params: Any) -> str:
        query = {k: v for k, v in params.items() if v not in (None, "")}
        query.update(self.link)
        base = f"/console/{quote(self.tenant, safe='')}{path}"
        return f"{base}?{urlencode(query)}" if query else base

    def hidden(self) -> str:
        """The link's parameters as hidden form fields."""
        return "".join(
            f'<input type="hidden" name="{e(k)}" value="{e(v)}">' for k, v in self.link.items()
        )

    def record_link(self, object_: str | None, record_id: str | None) -> str:
        if not record_id:
            return ""
        label = f"{e(object_)} {e(record_id)}"
        if self.instance_url is None:
            return f'<span class="record">{label}</span>'
        href = f"{self.instance_url}/{quote(record_id, safe='')}"
        return (
            f'<a class="record" href="{e(href)}" target="_blank" rel="noopener noreferrer">'
            f"{label}</a>"
        )

    def layout(self, title: str, body: str, *, flash: str | None = None) -> str:
        nav = "".join(
            f'<a href="{e(self.url(path))}">{label}</a>'
            for path, label in (
                ("", "Overview"),
                ("/chats", "Chats"),
                ("/dead-letters", "Dead letters"),
                ("/backfill", "Backfill"),
                ("/audit", "Audit"),
            )
        )
        message = f'<p class="flash" role="status">{e(flash)}</p>' if flash else ""
        return (
            "<!doctype html><html lang=en><head><meta charset=utf-8>"
            f"<title>{e(title)} · {e(self.tenant)}</title>"
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            '<link rel="stylesheet" href="/console-static/console.css"></head><body>'
            f'<header><strong>Chat → Salesforce</strong> <span class="tenant">tenant '
            f"{e(self.tenant)}</span><nav>{nav}</nav></header><main>"
            f"<h1>{e(title)}</h1>{message}{body}</main></body></html>"
        )


def banner(connection: Row | None) -> str:
    if connection is None:
        return '<p class="banner warn" id="connection-banner">No connection event seen yet.</p>'
    state = connection["state"]
    if state in TROUBLED:
        text = {
            "revoked": "Salesforce revoked this tenant's connection: chats are parked until "
            "an admin reconnects.",
            "disconnected": "This tenant is disconnected from Salesforce: chats are parked "
            "until an admin connects it again.",
            "refresh_failed": "The last token refresh failed; it will be retried.",
        }[state]
        detail = f" ({e(connection['detail'])})" if connection.get("detail") else ""
        return f'<p class="banner bad" id="connection-banner">{text}{detail}</p>'
    return (
        f'<p class="banner ok" id="connection-banner">Connected to Salesforce since '
        f"{e(when(connection['at']))}.</p>"
    )


def overview(page: Page, health: Mapping[str, Any], charts: Sequence[tuple[str, str]]) -> str:
    """The tenant at a glance; `charts` are (caption, drawn SVG)."""
    counts = health["counts"]
    rows = "".join(
        f"<tr><th>{e(window)}</th>"
        + "".join(f'<td class="status-{s}">{counts[window][s]}</td>' for s in STATUSES)
        + "</tr>"
        for window in ("24h", "30d")
    )
    calls = health["api_calls"]
    body = (
        banner(health["connection_row"])
        + '<table class="counts"><tr><th></th>'
        + "".join(f"<th>{s}</th>" for s in STATUSES)
        + f"</tr>{rows}</table>"
        + f"<p>API calls in the last 24 h: <strong>{calls['24h']:.0f}</strong> of a daily "
        f"limit of {calls['daily_limit']}. Dead letters: "
        f'<a href="{e(page.url("/dead-letters"))}">{health["dead_letters"]}</a>. '
        f'<a class="failed-link" href="{e(page.url("/chats", status="failed"))}">'
        "Failed chats</a></p>"
        + "".join(
            f'<figure class="chart"><figcaption>{e(title)}</figcaption>{svg}</figure>'
            for title, svg in charts
        )
    )
    return page.layout("Overview", body)


def chat_list(
    page: Page, chats: Sequence[Row], filters: Mapping[str, str], next_: str | None
) -> str:
    options = "".join(
        f'<option value="{s}"{" selected" if filters.get("status") == s else ""}>{s}</option>'
        for s in ("", *STATUSES)
    )
    form = (
        f'<form class="search" method="get" action="{e(page.url("/chats").split("?")[0])}">'
        f"{page.hidden()}"
        f'<label>Status <select name="status">{options}</select></label>'
        f'<label>Email <input name="email" value="{e(filters.get("email"))}"></label>'
        f'<label>Chat id <input name="chat_id" value="{e(filters.get("chat_id"))}"></label>'
        f'<label>From <input type="date" name="from" value="{e(filters.get("from"))}"></label>'
        f'<label>To <input type="date" name="to" value="{e(filters.get("to"))}"></label>'
        '<button type="submit">Search</button></form>'
    )
    rows = "".join(
        f'<tr class="chat status-{e(c["status"])}"><td><a class="chat-link" '
        f'href="{e(page.url("/chats/" + quote(c["chat_id"], safe="")))}">{e(c["chat_id"])}</a>'
        f'</td><td class="status">{e(c["status"])}</td><td>{e(c["visitor_email"])}</td>'
        f"<td>{page.record_link(c['person_object'], c['person_id'])}</td>"
        f"<td>{page.record_link(c['activity_object'], c['activity_id'])}</td>"
        f'<td class="sf-message">{e(c["error_message"])}</td><td>{e(when(c["updated_at"]))}</td>'
        "</tr>"
        for c in chats
    )
    more = (
        f'<p><a class="next" href="{e(page.url("/chats", before=next_, **filters))}">Older</a></p>'
        if next_
        else ""
    )
    table = (
        '<table class="chats"><tr><th>Chat</th><th>Status</th><th>Visitor</th><th>Person</th>'
        f"<th>Activity</th><th>Salesforce said</th><th>Updated</th></tr>{rows}</table>"
        if chats
        else '<p class="empty">No chat matches.</p>'
    )
    return page.layout("Chats", form + table + more)


def chat_detail(
    page: Page, chats: Sequence[Row], attempts: Sequence[Row], flash: str | None
) -> str:
    parts = []
    for c in chats:
        error = ""
        if c["error_code"]:
            fields = ", ".join(json.loads(c["error_fields"] or "[]"))
            error = (
                f'<dt>Error</dt><dd class="sf-error"><code>{e(c["salesforce_error_code"])}</code> '
                f'<span class="sf-message">{e(c["error_message"])}</span>'
                f"{' (fields: ' + e(fields) + ')' if fields else ''}</dd>"
            )
        retry = f"<dt>Next retry</dt><dd>{e(when(c['retry_at']))}</dd>" if c["retry_at"] else ""
        parts.append(
            f'<dl class="chat-detail"><dt>Status</dt><dd class="status status-{e(c["status"])}">'
            f"{e(c['status'])}</dd><dt>Kind</dt><dd>{e(c['kind'])}</dd><dt>Visitor</dt>"
            f"<dd>{e(c['visitor_email'])}</dd><dt>Person</dt><dd>"
            f"{page.record_link(c['person_object'], c['person_id'])} {e(c['person_outcome'])}</dd>"
            f"<dt>Activity</dt><dd>{page.record_link(c['activity_object'], c['activity_id'])} "
            f"{e(c['activity_outcome'])}</dd>{error}{retry}<dt>Ended</dt>"
            f"<dd>{e(when(c['ended_at']))}</dd><dt>Updated</dt><dd>{e(when(c['updated_at']))}"
            "</dd></dl>"
        )
    chat_id = chats[0]["chat_id"]
    action = page.url("/chats/" + quote(chat_id, safe="") + "/resync").split("?")[0]
    resync = (
        f'<form method="post" action="{e(action)}">'
        f'{page.hidden()}<button id="resync" type="submit">Resync this chat</button></form>'
    )
    rows = "".join(
        f'<tr class="status-{e(a["status"])}"><td>{e(when(a["at"]))}</td><td>{e(a["status"])}</td>'
        f'<td>{e(a["salesforce_error_code"])}</td><td class="sf-message">{e(a["error_message"])}'
        f"</td><td>{a['api_calls']:.2f}</td><td>{a['batch_size']}</td></tr>"
        for a in attempts
    )
    table = (
        '<h2>Attempts</h2><table class="attempts"><tr><th>When</th><th>Outcome</th>'
        "<th>Salesforce code</th><th>Message</th><th>API calls</th><th>Batch</th></tr>"
        f"{rows}</table>"
    )
    return page.layout(f"Chat {chat_id}", "".join(parts) + resync + table, flash=flash)


def dead_letters(
    page: Page, letters: Sequence[Row], reasons: Mapping[str, int], flash: str | None
) -> str:
    action = e(page.url("/dead-letters/replay").split("?")[0])
    by_reason = "".join(
        f'<form class="inline" method="post" action="{action}">{page.hidden()}'
        f'<input type="hidden" name="reason" value="{e(r)}">'
        f'<button class="replay-reason" type="submit" name="all" value="1">Replay all {n} '
        f"for {e(r)}</button></form>"
        for r, n in reasons.items()
    )
    rows = "".join(
        f'<tr class="letter"><td><input type="checkbox" name="letter" value="{e(d["id"])}"'
        f"{'' if d['replayable'] else ' disabled'}></td><td>{e(d['reason'])}</td>"
        f'<td>{e(d["chat_id"])}</td><td class="sf-message">{e(d["message"])}</td>'
        f"<td>{e(d['error_code'])}</td><td>{e(d['service'])}</td><td>{e(when(d['failed_at']))}"
        f"</td><td>{e(when(d['replay_requested_at']))}</td></tr>"
        for d in letters
    )
    table = (
        f'<form method="post" action="{action}">{page.hidden()}<table class="letters"><tr>'
        "<th></th><th>Reason</th><th>Chat</th><th>Message</th><th>Code</th><th>Service</th>"
        f"<th>Failed</th><th>Replay asked</th></tr>{rows}</table>"
        '<button id="replay-selected" type="submit">Replay selected</button></form>'
        if letters
        else '<p class="empty">No dead letters.</p>'
    )
    return page.layout(
        "Dead letters", f'<div class="reasons">{by_reason}</div>{table}', flash=flash
    )


def backfill(page: Page, flash: str | None) -> str:
    action = e(page.url("/backfill").split("?")[0])
    body = (
        "<p>Write again every chat of this tenant that ended between these dates and is "
        "still in Kafka's retention. Chats already in Salesforce are not written twice.</p>"
        f'<form method="post" action="{action}">{page.hidden()}'
        '<label>From <input type="datetime-local" name="from" required></label>'
        '<label>To <input type="datetime-local" name="to" required></label>'
        '<button id="backfill" type="submit">Backfill</button></form>'
    )
    return page.layout("Backfill", body, flash=flash)


def audit(page: Page, events: Sequence[Row], commands: Sequence[Row]) -> str:
    rows = "".join(
        f"<tr><td>{e(when(a['at']))}</td><td>{e(a['service'])}</td><td>{e(a['actor'])}</td>"
        f"<td>{e(a['action'])}</td><td>{e(a['target'])}</td><td>{e(a['outcome'])}</td><td>"
        + "; ".join(f"{e(c['field'])}: {e(c['before'])} → {e(c['after'])}" for c in a["changes"])
        + "</td></tr>"
        for a in events
    )
    sent = "".join(
        f"<tr><td>{e(when(c['sent_at']))}</td><td>{e(c['summary'])}</td><td>{e(c['requested_by'])}"
        f'</td><td class="command-{e(c["status"])}">{e(c["status"])}</td><td>{e(c["requeued"])}'
        f"</td><td>{e(c['error'])}</td></tr>"
        for c in commands
    )
    body = (
        '<h2>Repairs asked</h2><table class="commands"><tr><th>Sent</th><th>What</th><th>By</th>'
        f"<th>Answer</th><th>Chats put back</th><th>Error</th></tr>{sent}</table>"
        '<h2>Admin actions</h2><table class="audit"><tr><th>When</th><th>Service</th><th>Who</th>'
        f"<th>Action</th><th>Target</th><th>Outcome</th><th>Changes</th></tr>{rows}</table>"
    )
    return page.layout("Audit", body)


def error(status: int, message: str) -> str:
    return (
        "<!doctype html><html lang=en><head><meta charset=utf-8><title>Console</title>"
        '<link rel="stylesheet" href="/console-static/console.css"></head><body><main>'
        f'<h1>{status}</h1><p class="error">{e(message)}</p></main></body></html>'
    )


CSS = """
body{font:14px/1.4 system-ui,sans-serif;margin:0;color:#222}
header{background:#0b3d91;color:#fff;padding:.6em 1em;display:flex;gap:1em;align-items:center}
header nav a{color:#fff;margin-right:1em}
main{padding:1em}
table{border-collapse:collapse;margin:.5em 0}
td,th{border:1px solid #ddd;padding:.25em .5em;text-align:left;vertical-align:top}
.banner{padding:.6em;border-radius:4px}
.banner.bad{background:#fdecea;color:#c62828;font-weight:bold}
.banner.ok{background:#e8f5e9}
.banner.warn{background:#fff8e1}
.flash{background:#e3f2fd;padding:.5em}
.status-failed{color:#c62828}
.status-parked{color:#a66d00}
.status-ok{color:#2e7d32}
.sf-message{max-width:40em}
form.inline{display:inline-block;margin-right:.5em}
form label{margin-right:.6em}
figure.chart{margin:.5em 0}
figcaption{font-weight:bold;margin:.3em 0}
dl.chat-detail dt{font-weight:bold}
"""
