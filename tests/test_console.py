"""The web console over the API's own policy, through Flask's test client.

Sign-in into a session cookie, CSRF on every form, who sees which page (a page the
caller may not see answers exactly like a missing one), and the API left unchanged:
its routes ignore the console's cookie and still answer problem+json.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta
from html.parser import HTMLParser

import pytest
from flask.testing import FlaskClient

import pg
from api_fixtures import World, build_world, problem
from conftest import BACKENDS, T0
from ledger.tokens import TokenStore

CSRF = re.compile(r'name="csrf" value="([^"]+)"')


@pytest.fixture(scope="module", params=BACKENDS)
def world(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[World]:
    db = None if request.param == "sqlite" else pg.fresh_schema()
    w = build_world(tmp_path_factory.mktemp("console"), db)
    yield w
    w.ledger.store.close()


def csrf_of(client: FlaskClient, path: str = "/signin") -> str:
    page = client.get(path)
    found = CSRF.search(page.get_data(as_text=True))
    assert found is not None, path
    return found.group(1)


def signed_in(world: World, party: str) -> FlaskClient:
    client = world.client()
    response = client.post(
        "/signin", data={"csrf": csrf_of(client), "token": world.tokens[party], "next": "/"}
    )
    assert response.status_code == 303, response.get_data(as_text=True)
    return client


def test_sign_in_sets_a_hardened_session_cookie(world: World) -> None:
    client = world.client()
    token = csrf_of(client)
    response = client.post("/signin", data={"csrf": token, "token": world.tokens["party:cbp"]})
    assert response.status_code == 303 and response.headers["Location"] == "/"
    cookie = response.headers["Set-Cookie"]
    assert cookie.startswith("__Host-lotchain-console=")
    for flag in ("Secure", "HttpOnly", "SameSite=Strict", "Path=/"):
        assert flag in cookie
    assert world.tokens["party:cbp"] not in cookie  # the token itself is never in the cookie
    page = client.get("/").get_data(as_text=True)
    assert "Signed in as <strong>party:cbp</strong>" in page
    assert client.get("/shipments").status_code == 200
    out = client.post("/signout", data={"csrf": csrf_of(client, "/")})
    assert out.status_code == 303
    assert client.get("/shipments").status_code == 302  # back to the sign-in page


def test_a_bad_token_is_refused_and_says_so(world: World) -> None:
    client = world.client()
    response = client.post("/signin", data={"csrf": csrf_of(client), "token": "lct_nope"})
    assert response.status_code == 401
    assert "unknown, revoked" in response.get_data(as_text=True)
    assert client.get("/shipments").status_code == 302


@pytest.mark.parametrize(
    "path", ["/signin", "/signout", "/screening"], ids=["signin", "signout", "screening"]
)
def test_posts_without_the_csrf_secret_are_refused(world: World, path: str) -> None:
    client = signed_in(world, "party:cbp")
    for data in ({}, {"csrf": "forged"}, {"csrf": ""}):
        response = client.post(path, data={**data, "token": world.tokens["party:cbp"]})
        assert response.status_code == 403, (path, data)
        assert "did not come from this console" in response.get_data(as_text=True)
    # a right secret from another site is refused too
    response = client.post(
        path, data={"csrf": csrf_of(client, "/")}, headers={"Sec-Fetch-Site": "cross-site"}
    )
    assert response.status_code == 403
    assert client.get("/shipments").status_code == 200  # still signed in: nothing happened


def test_sign_in_starts_a_new_session(world: World) -> None:
    """A session secret planted before sign-in does not survive it (no fixation)."""
    client = world.client()
    before = csrf_of(client)
    client.post("/signin", data={"csrf": before, "token": world.tokens["party:acme"]})
    after = csrf_of(client, "/")
    assert before != after
    assert client.post("/signout", data={"csrf": before}).status_code == 403


def test_a_revoked_token_ends_the_session(world: World) -> None:
    tokens = TokenStore(world.ledger.store)
    issued = tokens.issue("party:gin", now=T0, label="console test")
    client = world.client()
    client.post("/signin", data={"csrf": csrf_of(client), "token": issued.token})
    assert client.get("/facilities").status_code == 200
    tokens.revoke(issued.info.id, now=T0 + timedelta(minutes=1))
    response = client.get("/facilities")
    assert response.status_code == 302 and "/signin" in response.headers["Location"]


def test_redirects_after_sign_in_stay_on_this_site(world: World) -> None:
    for target in ("https://evil.example/", "//evil.example/x", "/\\evil.example", "javascript:x"):
        client = world.client()
        response = client.post(
            "/signin",
            data={"csrf": csrf_of(client), "token": world.tokens["party:cbp"], "next": target},
        )
        assert response.headers["Location"] == "/", target


def _shipment_page(client: FlaskClient, ref: str) -> tuple[int, str]:
    response = client.get(f"/shipments/{ref}")
    text = response.get_data(as_text=True)
    return response.status_code, text.replace(ref, "REF")


def test_each_party_sees_what_the_api_lets_it_see(world: World) -> None:
    acme_entry, globex_entry = "ACM-1234567-8", "GLX-7654321-0"
    cbp = signed_in(world, "party:cbp")
    listing = cbp.get("/shipments").get_data(as_text=True)
    assert acme_entry in listing and globex_entry in listing
    assert _shipment_page(cbp, acme_entry)[0] == 200
    assert _shipment_page(cbp, globex_entry)[0] == 200

    acme = signed_in(world, "party:acme")
    listing = acme.get("/shipments").get_data(as_text=True)
    assert acme_entry in listing and globex_entry not in listing
    status, page = _shipment_page(acme, acme_entry)
    assert status == 200 and "Download the evidence bundle" in page
    # another importer's shipment is answered exactly like one that does not exist
    other = _shipment_page(acme, globex_entry)
    missing = _shipment_page(acme, "GLX-7654321-9")
    assert other[0] == missing[0] == 404
    assert other[1] == missing[1]
    by_id = _shipment_page(acme, world.ids["rival_origin"])  # not a shipment, not its own
    assert by_id[0] == 404
    assert acme.get(f"/shipments/{globex_entry}/evidence").status_code == 404

    farm = signed_in(world, "party:farm")
    assert acme_entry not in farm.get("/shipments").get_data(as_text=True)
    assert _shipment_page(farm, acme_entry) == _shipment_page(farm, "ACM-1234567-9")
    # CBP-only pages are not there for anyone else
    assert farm.get("/screening").status_code == acme.get("/screening").status_code == 404
    assert cbp.get("/screening").status_code == 200


def test_the_shipment_page_shows_the_verdict_graph_and_origins(world: World) -> None:
    cbp = signed_in(world, "party:cbp")
    page = cbp.get("/shipments/GLX-7654321-0").get_data(as_text=True)
    api = world.client().get(
        "/v1/shipments/GLX-7654321-0/verification", headers=world.auth("party:cbp")
    ).get_json()
    assert api["status"] == "fail"
    assert 'class="badge badge-fail"' in page
    for finding in api["findings"]:
        assert finding["code"] in page
    assert "<svg" in page and page.count('class="node node-') == len(
        world.client()
        .get("/v1/shipments/GLX-7654321-0/graph", headers=world.auth("party:cbp"))
        .get_json()["nodes"]
    )
    assert "node-error" in page  # the Xinjiang origin is drawn as an error
    assert "CN-XJ" in page
    bundle = cbp.get("/shipments/GLX-7654321-0/evidence")
    api_bundle = world.client().get(
        "/v1/shipments/GLX-7654321-0/bundle", headers=world.auth("party:cbp")
    )
    assert bundle.get_json() == api_bundle.get_json()
    assert "attachment" in bundle.headers["Content-Disposition"]


def test_facilities_follow_the_api_policy(world: World) -> None:
    farm = signed_in(world, "party:farm")
    assert farm.get("/facilities/facility:farm").status_code == 200
    theirs = farm.get("/facilities/facility:rival")
    missing = farm.get("/facilities/facility:nowhere")
    assert theirs.status_code == missing.status_code == 404
    listing = farm.get("/facilities").get_data(as_text=True)
    assert "facility:farm" in listing and "facility:rival" not in listing


def test_public_pages_need_no_session(world: World) -> None:
    client = world.client()
    for path in ("/", "/log", "/parties", "/parties/party:auditor", "/certificates",
                 "/certificates/FLA-KSH-2025", "/explorer", "/log/selftest"):
        response = client.get(path)
        assert response.status_code == 200, path
        assert response.mimetype == "text/html"
        csp = response.headers["Content-Security-Policy"]
        assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert "Revoked" in client.get("/certificates/FLA-KSH-2025").get_data(as_text=True)


def test_the_api_is_unchanged_and_ignores_the_session(world: World) -> None:
    client = signed_in(world, "party:cbp")
    problem(client.get("/v1/shipments"), 401, "UNAUTHORIZED")  # the cookie is no token
    problem(client.get("/no/such/route"), 404, "NOT_FOUND")
    problem(client.get("/v1/shipments?regoin=CN-XJ", headers=world.auth("party:cbp")),
            400, "MALFORMED")
    assert "Set-Cookie" not in client.get("/v1/checkpoint").headers


def test_servers_sharing_a_console_secret_share_sessions(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    from api import create_app
    from api.serve import console_secret
    from ledger.errors import ConfigError

    monkeypatch.setenv("LOTCHAIN_CONSOLE_SECRET", "too short")
    with pytest.raises(ConfigError, match="at least 32"):
        console_secret()
    monkeypatch.setenv("LOTCHAIN_CONSOLE_SECRET", "x" * 40)
    secret = console_secret()
    assert secret == b"x" * 40
    monkeypatch.delenv("LOTCHAIN_CONSOLE_SECRET")
    assert console_secret() != console_secret()  # random when unset

    one, two, other = (
        create_app(ledger=world.ledger, config={"LOTCHAIN_SECRET_KEY": key})
        for key in (secret, secret, b"y" * 40)
    )
    client = one.test_client()
    client.post("/signin", data={"csrf": csrf_of(client), "token": world.tokens["party:cbp"]})
    cookie = client.get_cookie("__Host-lotchain-console")
    assert cookie is not None
    for app, status in ((two, 200), (other, 302)):
        peer = app.test_client()
        peer.set_cookie("__Host-lotchain-console", cookie.value)
        assert peer.get("/shipments").status_code == status


def test_cbp_loads_a_list_version_and_sees_what_it_now_catches(world: World) -> None:
    from io import BytesIO

    header = "name,aliases,list_section,effective_date,location,sector,source,removed_date,notes\n"
    row = '"Kashgar Cotton Co.",,2(d)(2)(B)(i),2024-01-01,"Xinjiang, China",cotton,test,,\n'
    cbp = signed_in(world, "party:cbp")
    response = cbp.post(
        "/screening",
        data={"csrf": csrf_of(cbp, "/screening"), "name": "console-test-list",
              "list": (BytesIO((header + row).encode()), "list.csv")},
        content_type="multipart/form-data",
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 200, page
    assert "Loaded: console-test-list (1 listings)" in page
    assert "GLX-7654321-0" in page and "ACM-1234567-8" not in page.split('id="impact"')[1]
    bad = cbp.post(
        "/screening",
        data={"csrf": csrf_of(cbp, "/screening"),
              "list": (BytesIO(b"not,a,list\n"), "bad.csv")},
        content_type="multipart/form-data",
    )
    assert bad.status_code == 400 and 'role="alert"' in bad.get_data(as_text=True)
    acme = signed_in(world, "party:acme")
    refused = acme.post(
        "/screening",
        data={"csrf": csrf_of(acme, "/"), "list": (BytesIO(b"x"), "x.csv")},
        content_type="multipart/form-data",
    )
    assert refused.status_code == 404


@pytest.mark.parametrize(
    "party", ["party:cbp", "party:acme", "party:globex", "party:farm", "party:auditor"]
)
def test_the_shipment_list_is_the_api_search(world: World, party: str) -> None:
    client = signed_in(world, party)
    for query in ("", "?country=CN", "?region=CN-XJ", "?status=pass", "?hs=6109"):
        api = world.client().get("/v1/shipments" + query, headers=world.auth(party)).get_json()
        page = client.get("/shipments" + query).get_data(as_text=True)
        shown = set(re.findall(r">([A-Z]{3}-[0-9]{7}-[0-9])</a>", page))
        assert shown == {s["entry_number"] for s in api["shipments"]}, (party, query)


class _Form(HTMLParser):
    """Collects the ids of visible form fields and of the labels that name them."""

    def __init__(self) -> None:
        super().__init__()
        self.fields: list[str] = []
        self.labels: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag in ("input", "select", "textarea") and a.get("type") != "hidden":
            self.fields.append(a.get("id") or f"<{tag} name={a.get('name')} without an id>")
        if tag == "label" and a.get("for"):
            self.labels.add(str(a["for"]))


def test_every_form_field_has_a_label(world: World) -> None:
    client = signed_in(world, "party:cbp")
    for path in ("/", "/shipments", "/log?entry=1", "/explorer", "/screening"):
        parser = _Form()
        parser.feed(client.get(path).get_data(as_text=True))
        unlabelled = [f for f in parser.fields if f not in parser.labels]
        assert not unlabelled, (path, unlabelled)
    parser = _Form()
    parser.feed(world.client().get("/signin").get_data(as_text=True))
    assert parser.fields == ["token"] and "token" in parser.labels


def test_the_demo_guide_gives_the_console_and_a_token_to_paste() -> None:
    from ledger.cli.demo_cmds import guide

    summary = {
        "size": 3, "home": "/tmp/h", "refused_at_append": [],
        "shipments": [{"status": "fail", "entry_number": "AAP-2504101-7", "label": "x",
                       "codes": ["YIELD"]}],
        "tokens": {"cbp": "lct_cbp", "importer": "lct_importer"},
    }
    text = guide(summary, "http://127.0.0.1:8080")
    assert "Console:    http://127.0.0.1:8080/" in text
    assert "CBP token:  lct_cbp" in text
    assert "?token=" not in text and "signin?" not in text  # never a token in a URL
