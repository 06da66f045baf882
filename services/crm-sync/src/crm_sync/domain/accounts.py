"""Support mode: the Account a new Contact joins, by the visitor's company name or email
domain (`account_linking`), and the Account to create when there is none (`create_account`).

A free-mail domain says nothing about an employer: two visitors from `gmail.com` are never
put under one Account.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from urllib.parse import urlsplit

from chat_contracts.chat import Conversation
from chat_contracts.settings import AccountLinking
from crm_sync.domain.matching import modified_at
from crm_sync.domain.salesforce import Row
from crm_sync.domain.text import sf_cut

FREE_MAIL: frozenset[str] = frozenset(
    {
        "gmail.com", "googlemail.com", "yahoo.com", "yahoo.co.uk", "yahoo.fr", "yahoo.de",
        "ymail.com", "rocketmail.com", "hotmail.com", "hotmail.co.uk", "hotmail.fr",
        "hotmail.de", "outlook.com", "outlook.fr", "outlook.de", "live.com", "live.co.uk",
        "msn.com", "aol.com", "icloud.com", "me.com", "mac.com", "proton.me",
        "protonmail.com", "pm.me", "gmx.com", "gmx.de", "gmx.net", "web.de", "t-online.de",
        "mail.com", "mail.ru", "yandex.ru", "yandex.com", "zoho.com", "qq.com", "163.com",
        "126.com", "sina.com", "naver.com", "hanmail.net", "orange.fr", "free.fr", "laposte.net",
        "libero.it", "virgilio.it", "btinternet.com", "comcast.net", "verizon.net",
        "att.net", "sbcglobal.net", "fastmail.com", "hey.com", "tutanota.com", "seznam.cz",
        "wp.pl", "o2.pl", "interia.pl", "rediffmail.com", "bigpond.com", "shaw.ca",
        "rogers.com", "sky.com", "virginmedia.com", "ntlworld.com", "uol.com.br", "bol.com.br",
    }
)  # fmt: skip
NAME, DOMAIN = "name", "domain"
NAME_LENGTH = 255
"""Account.Name and Account.Website are 255 long in every org."""
AccountKey = tuple[str, str]
"""("name", lower-cased company) or ("domain", email domain)."""


def email_domain(email: str | None) -> str | None:
    """The domain of an address, unless it is a free-mail one."""
    if not email or "@" not in email:
        return None
    domain = email.rsplit("@", 1)[1].strip().lower().rstrip(".")
    return None if not domain or domain in FREE_MAIL else domain


def account_key(conversation: Conversation, linking: AccountLinking) -> AccountKey | None:
    """What finds the visitor's Account under `linking` (None: nothing to go by)."""
    if linking is AccountLinking.COMPANY_NAME:
        company = (conversation.visitor.company or "").strip()
        return (NAME, company.lower()) if company else None
    if linking is AccountLinking.EMAIL_DOMAIN:
        domain = email_domain(conversation.visitor.email)
        return (DOMAIN, domain) if domain else None
    return None


def website_variants(domain: str) -> list[str]:
    """How an Account's Website may spell a domain (SOQL compares them whole)."""
    hosts = [domain, f"www.{domain}"]
    return [
        f"{scheme}{host}{slash}"
        for scheme in ("", "http://", "https://")
        for host in hosts
        for slash in ("", "/")
    ]


def site_domain(website: object) -> str | None:
    """The bare domain of a Website value (`https://www.acme.com/` → `acme.com`)."""
    if not isinstance(website, str) or not website.strip():
        return None
    text = website.strip().lower()
    host = urlsplit(text if "//" in text else f"//{text}").hostname or ""
    host = host.removeprefix("www.")
    return host or None


def by_key(rows: Iterable[Row]) -> dict[AccountKey, str]:
    """Each Account's keys (its name, its website's domain) to its id; of several, the most
    recently modified."""
    found: dict[AccountKey, list[Row]] = defaultdict(list)
    for row in rows:
        name = row.get("Name")
        if isinstance(name, str) and name.strip():
            found[(NAME, name.strip().lower())].append(row)
        domain = site_domain(row.get("Website"))
        if domain:
            found[(DOMAIN, domain)].append(row)
    return {
        key: str(max(rows, key=lambda r: (modified_at(r), str(r.get("Id"))))["Id"])
        for key, rows in found.items()
    }


def new_account(conversation: Conversation, key: AccountKey) -> dict[str, str]:
    """The fields of the Account to create for `key`."""
    if key[0] == NAME:
        return {"Name": sf_cut((conversation.visitor.company or key[1]).strip(), NAME_LENGTH)}
    return {"Name": sf_cut(key[1], NAME_LENGTH), "Website": sf_cut(key[1], NAME_LENGTH)}
