"""Who may open a tenant's page: admin token or a link signed for that tenant."""

from __future__ import annotations

import pytest

from auth_service.entrypoints.access import Denied, Gate
from tests.unit.auth.fakes import FakeClock


def gate(clock: FakeClock | None = None) -> Gate:
    return Gate(
        admin_token="admin-token",
        link_secret=b"link-secret",
        link_ttl_s=900,
        public_url="http://auth.example/",
        clock=clock or FakeClock(),
    )


def test_admin_token_opens_any_tenant() -> None:
    access = gate().check("Bearer admin-token", {"tenant": "t1"})
    assert (access.tenant_id, access.via) == ("t1", "admin")


def test_a_link_opens_its_tenant_only() -> None:
    g = gate()
    params = g.link_params("t1")
    assert g.check(None, params).via == "link"
    with pytest.raises(Denied) as caught:
        g.check(None, {**params, "tenant": "t2"})
    assert caught.value.status == 403


@pytest.mark.parametrize(
    ("authorization", "params", "status"),
    [
        (None, {"tenant": "t1"}, 401),
        ("Bearer wrong", {"tenant": "t1"}, 401),
        ("Basic admin-token", {"tenant": "t1"}, 401),
        ("Bearer admin-token", {}, 400),
        ("Bearer admin-token", {"tenant": "a|b"}, 400),
        (None, {"tenant": "t1", "expires": "1", "sig": "x"}, 403),
    ],
)
def test_refusals(authorization: str | None, params: dict[str, str], status: int) -> None:
    with pytest.raises(Denied) as caught:
        gate().check(authorization, params)
    assert caught.value.status == status


def test_a_wrong_admin_token_does_not_fall_back_to_the_link() -> None:
    g = gate()
    with pytest.raises(Denied) as caught:
        g.check("Bearer wrong", g.link_params("t1"))
    assert caught.value.status == 401


def test_admin_only_endpoints_refuse_links() -> None:
    g = gate()
    with pytest.raises(Denied):
        g.check(None, g.link_params("t1"), admin_only=True)


def test_expired_link() -> None:
    clock = FakeClock()
    g = gate(clock)
    params = g.link_params("t1")
    clock.advance(901)
    with pytest.raises(Denied, match="expired"):
        g.check(None, params)


def test_page_url() -> None:
    url = gate().page_url("t1", notice="connected")
    assert url.startswith("http://auth.example/connect?tenant=t1&expires=")
    assert url.endswith("&notice=connected")
