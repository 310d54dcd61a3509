"""WRO/Findings lists: parsing, stored versions with a kind, `screening load --kind wro`,
`--impact`, and step 16 (SCREENING_MISSING: both kinds applied, neither too old)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from wro_chains import build, cotton

from conftest import run_cli
from ledger.errors import LedgerError, MalformedError, TooLargeError, UsageError
from ledger.lists import loaded_versions, record_version
from ledger.orders import MAX_ORDER_BYTES, parse_orders
from ledger.screening import loaded_lists
from verify_fixtures import (  # noqa: F401 - the `world` fixture
    ENTITY_LIST,
    WRO_LIST,
    CottonChain,
    World,
    make_world,
    world_fixture,
)

NOW = datetime(2025, 5, 1, tzinfo=UTC)
HEADER = (
    "id,action,status,issued_on,modified_on,revoked_on,country,producer,aliases,merchandise,"
    "hs_prefixes,scope,region,source,notes\n"
)
GOOD = (
    'wro-2020-08-11-hero-vast,WRO,active,2020-08-11,,,CN,Hero Vast Group,"Henan Hero Vast '
    'Garment Co., Ltd.",garments,61 | 62,entity,,https://example.gov,HS: mine\n'
)


def parse(text: str) -> object:
    return parse_orders(text.encode(), name="wro", loaded_at=NOW)


# -- parsing -----------------------------------------------------------------------------------


def test_the_vendored_list_parses_with_every_scope_and_action() -> None:
    orders = parse_orders(WRO_LIST.read_bytes(), name="wro-findings", loaded_at=NOW).orders
    assert len(orders) == 49
    assert {o.scope for o in orders} == {"entity", "vessel", "region", "country"}
    assert sum(o.action == "Finding" for o in orders) == 5
    hoshine = next(o for o in orders if o.id == "wro-2021-06-24-hoshine")
    assert hoshine.names == (
        "Hoshine Silicon Industry Co., Ltd.",
        "Hoshine Silicon (Jia Xing) Industry Co., Ltd.",
    )
    xpcc = next(o for o in orders if o.id == "wro-2020-11-30-xpcc-cotton")
    assert "XPCC" in xpcc.names and "subordinate and affiliated entities" not in xpcc.names
    natchi = next(o for o in orders if o.id == "wro-2022-07-29-natchi-apparel")
    assert natchi.names == ("Natchi Apparel (P) Ltd.",)  # the parent company is not the producer
    lop = next(o for o in orders if o.id == "wro-2020-08-25-lop-no4-vsetc")
    assert lop.hs_prefixes == () and lop.covers_hs("9999.99")


@pytest.mark.parametrize(
    ("row", "words"),
    [
        (GOOD.replace(",WRO,", ",Order,"), "line 2: action 'Order' must be WRO or Finding"),
        (GOOD.replace(",2020-08-11,", ",2020-13-45,"), "issued_on 2020-13-45 is not a real"),
        (GOOD.replace(",2020-08-11,", ",11/08/2020,"), "issued_on '11/08/2020' is not a date"),
        (GOOD.replace(",active,", ",revoked,"), "line 2: status is revoked but revoked_on"),
        (GOOD.replace(",active,", ",paused,"), "line 2: status 'paused' must be one of"),
        (GOOD.replace(",entity,", ",planet,"), "line 2: scope 'planet' must be one of"),
        (GOOD.replace("61 | 62", "61 | cotton"), "line 2: hs_prefixes entry 'cotton'"),
        (GOOD.replace(",CN,", ",China,"), "line 2: country 'CHINA' must be an ISO 3166-1"),
        (GOOD.replace("Hero Vast Group", "").replace('"Henan Hero Vast Garment Co., Ltd."', ""),
         "line 2: a entity order needs a producer name"),
        (GOOD + GOOD, "line 3: id wro-2020-08-11-hero-vast appears twice"),
        (GOOD.replace("HS: mine", "HS: mine,extra"), "line 2: the row has more fields"),
        (GOOD.replace(",,,CN,", ",2019-01-01,,CN,"), "modified_on 2019-01-01 is before issued_on"),
    ],
)
def test_bad_rows_are_refused_with_their_line(row: str, words: str) -> None:
    with pytest.raises(MalformedError) as e:
        parse(HEADER + row)
    assert words in e.value.message


def test_header_encoding_and_size_are_checked() -> None:
    with pytest.raises(MalformedError, match="header lacks id"):
        parse("name,aliases\nX,\n")
    with pytest.raises(MalformedError, match="no orders"):
        parse(HEADER)
    with pytest.raises(MalformedError, match="not UTF-8"):
        parse_orders(b"\xff\xfe" + HEADER.encode(), name="wro", loaded_at=NOW)
    with pytest.raises(TooLargeError):
        parse_orders(b"x" * (MAX_ORDER_BYTES + 1), name="wro", loaded_at=NOW)
    with pytest.raises(UsageError):
        parse_orders((HEADER + GOOD).encode(), name=" ", loaded_at=NOW)


# -- stored versions with a kind, on both backends ---------------------------------------------


@pytest.fixture(params=["sqlite", "postgresql"])
def bare(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[World]:
    """A world with no list loaded."""
    import pg

    db = None
    if request.param == "postgresql":
        reason = pg.unavailable()
        if reason:
            pytest.skip(reason)
        db = pg.fresh_schema()
    w = make_world(tmp_path, db, lists=False)
    yield w
    w.ledger.store.close()


def test_versions_keep_their_kind_and_a_name_keeps_its_kind(bare: World) -> None:
    store = bare.ledger.store
    wro, added = record_version(
        store, WRO_LIST.read_bytes(), kind="wro", name="wro-findings", source=None, now=NOW
    )
    assert added and wro.kind == "wro"
    again, added = record_version(
        store, WRO_LIST.read_bytes(), kind="wro", name="wro-findings", source=None, now=NOW
    )
    assert not added and again.sha256 == wro.sha256
    with pytest.raises(UsageError, match="already the name of a wro list"):
        record_version(
            store, ENTITY_LIST.read_bytes(), kind="entity", name="wro-findings", source=None,
            now=NOW,
        )
    assert [x.kind for x in loaded_versions(store)] == ["wro"]
    assert loaded_lists(store) == []  # the entity-list reader never sees WRO lists


def _verify(w: World, **kw: object) -> list[str]:
    verdict = w.verify(**kw)
    return [f.message for f in verdict.findings if f.code == "SCREENING_MISSING"]


def test_no_list_at_all_is_two_warnings(bare: World) -> None:
    CottonChain(bare).build()
    verdict = bare.verify()
    assert verdict.status == "review" and verdict.codes() == {"SCREENING_MISSING"}
    messages = _verify(bare)
    assert len(messages) == 2
    assert "no entity list was applied" in messages[0] + messages[1]
    assert "no WRO/Findings list was applied" in messages[0] + messages[1]


def test_an_entity_list_alone_warns_of_the_missing_wro_list(bare: World) -> None:
    CottonChain(bare).build()
    record_version(bare.ledger.store, ENTITY_LIST.read_bytes(), kind="entity",
                   name="uflpa-entity-list", source=None, now=bare.clock.now)
    (message,) = _verify(bare)
    assert "no WRO/Findings list was applied" in message and "--kind wro" in message


def test_a_stale_list_warns_with_its_age_and_the_limit_is_configurable(
    bare: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    CottonChain(bare).build()
    loaded = bare.clock.now - timedelta(days=45)
    for kind, path in (("entity", ENTITY_LIST), ("wro", WRO_LIST)):
        record_version(bare.ledger.store, path.read_bytes(), kind=kind, name=kind, source=None,
                       now=loaded if kind == "wro" else bare.clock.now)
    (message,) = _verify(bare)
    assert "newest WRO/Findings list applied, wro" in message
    assert "45 days before the verification time" in message and "limit is 30 days" in message
    assert _verify(bare, max_list_age_days=60) == []
    monkeypatch.setenv("LOTCHAIN_MAX_LIST_AGE_DAYS", "50")
    assert _verify(bare) == []
    monkeypatch.setenv("LOTCHAIN_MAX_LIST_AGE_DAYS", "soon")
    with pytest.raises(LedgerError, match="LOTCHAIN_MAX_LIST_AGE_DAYS must be a whole number"):
        bare.verify()


def test_clean_chain_with_both_lists_current_passes(world: World) -> None:
    CottonChain(world).build()
    verdict = world.verify()
    assert verdict.status == "pass" and verdict.findings == ()
    kinds = sorted(x["kind"] for x in verdict.summary["screening_lists"])
    assert kinds == ["entity", "wro"]


def test_an_offline_bundle_judges_list_age_at_its_verification_time(world: World) -> None:
    from ledger.verify import build_bundle, verify_bundle

    CottonChain(world).build()
    data = json.dumps(build_bundle(world.ledger, world.ids["shipment"])).encode()
    assert verify_bundle(data, world.ledger.trust).status == "pass"
    later = datetime.now(UTC) + timedelta(days=400)
    verdict = verify_bundle(data, world.ledger.trust, now=later)
    assert verdict.codes() == {"SCREENING_MISSING"} and len(verdict.findings) == 2
    assert verify_bundle(data, world.ledger.trust, now=later, max_list_age_days=999).findings == ()


# -- the command line -----------------------------------------------------------------------


def _home(w: World) -> list[str]:
    return ["--home", str(w.home.path)]


def test_screening_load_kind_wro_list_and_impact(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    w = make_world(tmp_path, lists=False)
    try:
        tiers = cotton(knitter=("Henan Knit Fabrics Co., Ltd.", "CN", "CN-HA"),
                       garment=("Henan Hero Vast Garment Co., Ltd.", "CN", "CN-HA"))
        build(w, tiers, arrival="2025-04-20")
    finally:
        w.ledger.store.close()
    rows = WRO_LIST.read_text(encoding="utf-8").splitlines(keepends=True)
    without = tmp_path / "wro-findings.csv"
    without.write_text("".join(r for r in rows if "hero-vast" not in r), encoding="utf-8")
    code, out, _ = run_cli(capsys, "screening", "load", str(without), "--kind", "wro",
                           "--impact", *_home(w))
    assert code == 0 and "(wro, 48 orders)" in out and "no shipment is affected" in out
    without.write_text("".join(rows), encoding="utf-8")
    code, out, _ = run_cli(capsys, "screening", "load", str(without), "--kind", "wro",
                           "--impact", "--json", *_home(w))
    value = json.loads(out)
    assert code == 0 and value["kind"] == "wro" and value["added"] is True
    (hit,) = value["impacted"]
    assert hit["entry_number"] == "HBR-2500001-3" and hit["status"] == "fail"
    assert [f["code"] for f in hit["findings"]] == ["WRO"]
    assert "wro-2020-08-11-hero-vast" in hit["findings"][0]["message"]
    code, out, _ = run_cli(capsys, "screening", "list", "--all", *_home(w))
    assert code == 0 and out.count("wro-findings (wro): ") == 2
    code, out, _ = run_cli(capsys, "screening", "load", str(ENTITY_LIST), *_home(w))
    assert code == 0 and "(entity, 91 listings)" in out
    code, _, err = run_cli(capsys, "screening", "load", str(without), "--name", "other",
                           "--kind", "entity", *_home(w))
    assert code == 2 and "add --kind wro" in err  # a WRO list read as an entity list
    code, out, _ = run_cli(capsys, "screening", "load", str(without), "--name", "other",
                           *_home(w))
    assert code == 0 and "other (wro, 49 orders)" in out  # its kind read from its columns


def test_verify_shipment_max_list_age_option(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    w = make_world(tmp_path, lists=False)
    try:
        CottonChain(w).build()
        old = datetime.now(UTC) - timedelta(days=40)
        for kind, path in (("entity", ENTITY_LIST), ("wro", WRO_LIST)):
            record_version(w.ledger.store, path.read_bytes(), kind=kind, name=kind, source=None,
                           now=old)
    finally:
        w.ledger.store.close()
    code, out, _ = run_cli(capsys, "verify", "shipment", "ABC-1234567-8", "--json", *_home(w))
    assert code == 3 and {f["code"] for f in json.loads(out)["findings"]} == {"SCREENING_MISSING"}
    code, out, _ = run_cli(capsys, "verify", "shipment", "ABC-1234567-8", "--max-list-age", "45",
                           *_home(w))
    assert code == 0
