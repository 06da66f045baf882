"""The login-and-allow page of the authorize endpoint: one form, two buttons."""

from __future__ import annotations

from html import escape

HIDDEN = (
    "response_type",
    "client_id",
    "redirect_uri",
    "scope",
    "state",
    "code_challenge",
    "code_challenge_method",
    "prompt",
)


def login_page(params: dict[str, str], sandbox: bool, error: str = "") -> str:
    hidden = "\n".join(
        f'<input type="hidden" name="{k}" value="{escape(params[k])}">'
        for k in HIDDEN
        if k in params
    )
    scope = escape(params.get("scope") or "api refresh_token")
    title = "Log in to your sandbox" if sandbox else "Log in to Salesforce"
    alert = f'<p class="error" role="alert">{escape(error)}</p>' if error else ""
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{title} (emulator)</title>
<style>body{{font-family:sans-serif;max-width:28rem;margin:3rem auto}}
label,input,button{{display:block;margin:.4rem 0}}.error{{color:#b00}}</style></head>
<body><h1>{title}</h1>{alert}
<form method="post">
{hidden}
<label>Username <input name="username" autocomplete="username" required></label>
<label>Password <input name="password" type="password" autocomplete="current-password"
 required></label>
<h2>Allow access?</h2>
<p>The app <code>{escape(params.get("client_id", ""))}</code> asks for: <code>{scope}</code></p>
<button name="action" value="allow">Log in and allow</button>
<button name="action" value="deny" formnovalidate>Deny</button>
</form></body></html>"""
