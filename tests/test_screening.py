"""Screening lists on the real UFLPA Entity List: names, aliases, dates in force, removal."""

from __future__ import annotations

import hashlib
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from test_verify_entry_lists import cotton, load, offline_equals_online

from ledger.errors import MalformedError, TooLargeError, UsageError
from ledger.screening import (
    loaded_lists,
    name_key,
    normalize_name,
    parse_list,
    read_list_file,
    record_list,
)
from ledger.verify import impacted_by_list
from verify_fixtures import (
    ENTITY_LIST,
    CottonChain,
    World,
    bare_world_fixture,  # noqa: F401 - the `bare_world` fixture
    world_fixture,  # noqa: F401 - the `world` fixture
)

LOADED = datetime(2025, 3, 1, tzinfo=UTC)


@pytest.fixture(scope="module")
def uflpa() -> object:
    assert ENTITY_LIST.exists(), f"vendored data missing: {ENTITY_LIST}"
    return read_list_file(ENTITY_LIST, name="UFLPA Entity List", loaded_at=LOADED)


def hits(lst: object, name: str, on: str | None = None) -> list[str]:
    found = lst.matches([name], on=date.fromisoformat(on) if on else None)  # type: ignore[attr-defined]
    return [m.listing.name for m in found]


def test_the_vendored_list_parses_with_its_hash(uflpa: object) -> None:
    data = ENTITY_LIST.read_bytes()
    assert uflpa.sha256 == hashlib.sha256(data).hexdigest()  # type: ignore[attr-defined]
    assert len(uflpa.listings) == 91  # type: ignore[attr-defined]
    east_hope = next(x for x in uflpa.listings if x.name.startswith("Xinjiang East Hope"))  # type: ignore[attr-defined]
    assert east_hope.effective is None and east_hope.in_force(date(2020, 1, 1))


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("Baoding LYSZD Trade and Business Co., Ltd.", "baoding lyszd trade and business"),
        ("BAODING LYSZD TRADE & BUSINESS COMPANY LIMITED", "baoding lyszd trade and business"),
        ("Camel Group Co., Ltd.", "camel group"),  # "Group" kept: one word would remain
        ("Xinjiang Zhongtai Group Co. Ltd.", "xinjiang zhongtai"),
        ("Hefei Meiling Group Holdings Limited (former name)", "hefei meiling"),
        ("Kashgar Construction Engineering (Group) Co., Ltd.", "kashgar construction engineering"),
        ("Acme Trading L.L.C.", "acme trading"),
        ("Société Générale S.A.", "societe generale"),
        (
            "China Cotton Group Henan Logistics Park Co., Ltd., Xinye Branch",
            "china cotton group henan logistics park co ltd xinye branch",
        ),
    ],
)
def test_normalisation(name: str, expected: str) -> None:
    assert normalize_name(name) == expected


def test_normalisation_does_not_over_reach() -> None:
    assert name_key("Xinjiang Zhongtai Chemical Co. Ltd.") != name_key(
        "Xinjiang Zhongtai Group Co. Ltd."
    )
    assert name_key("Esquel Ltd") != name_key("Esquel Group")
    assert name_key("Camel Co., Ltd.") != name_key("Camel Group Co., Ltd.")
    assert name_key("Xinjiang Nonferrous") != name_key(
        "Xinjiang Nonferrous Metals Industry Group Co., Ltd."
    )
    assert name_key("Huafu Fashion Co., Ltd.") != name_key("Ninghai Huafu Textile")


def test_real_names_and_aliases_match(uflpa: object) -> None:
    # legal names, in other spellings of their legal forms and punctuation
    assert hits(uflpa, "Ninestar Corp.") == ["Ninestar Corporation"]
    assert hits(uflpa, "Zhuhai Pu Tech Industrial Company Limited") == [
        "Zhuhai Pu-Tech Industrial Co., Ltd."
    ]
    assert hits(uflpa, "Sichuan Yuanan Pharmaceutical Co Ltd") == ["Sichuan Yuan'an Pharmaceutical"]
    # aliases, including former names marked as such in the list
    assert hits(uflpa, "Hotan Haolin Hair Accessories") == [
        "Hetian Haolin Hair Accessories Co. Ltd."
    ]
    assert hits(uflpa, "Hefei Meiling Co., Ltd.") == ["Changhong Meiling Co., Ltd."]
    assert hits(uflpa, "Chaohu Youngor Color Spinning Technology Co., Ltd.") == [
        "Anhui Xinya New Materials Co., Ltd."
    ]
    assert hits(uflpa, "HY Solar") == ["Hongyuan Green Energy Co., Ltd."]
    assert hits(uflpa, "Junan Jinsheng Import and Export") == ["Junan Jinsheng Import & Export"]
    # near misses stay misses
    assert hits(uflpa, "Xinjiang Nonferrous") == []  # an alias removed from East Hope
    assert hits(uflpa, "Ninestar Printing") == []
    assert hits(uflpa, "Hetian Haolin") == []


def test_a_listing_not_yet_in_force_at_the_event_date(uflpa: object) -> None:
    name = "Akesu Huafu Melange Yarn Co., Ltd."  # an alias of Aksu Huafu, effective 2025-01-15
    assert hits(uflpa, name, "2025-01-14") == []
    assert hits(uflpa, name, "2025-01-15") == ["Aksu Huafu Color Spinning Co., Ltd."]
    assert hits(uflpa, "Donghai JA Solar Technology Co Ltd", "2024-12-31") == []
    assert hits(uflpa, "Donghai JA Solar Technology Co Ltd", "2025-02-01") != []


def test_a_removed_listing_and_its_relisting(uflpa: object) -> None:
    def sections(on: str) -> list[str]:
        found = uflpa.matches(["Changji Yida Textile Co Ltd"], on=date.fromisoformat(on))  # type: ignore[attr-defined]
        return [m.listing.section for m in found]

    assert sections("2023-05-01") == ["2(d)(2)(B)(i)"]  # the (i) row, removed 2024-11-01
    assert sections("2024-12-01") == ["2(d)(2)(B)(v)"]  # only the (v) row from that day
    assert sections("2022-06-20") == []  # before the list existed


def test_lists_of_the_same_shape_with_a_removal() -> None:
    data = (
        b"name,aliases,list_section,effective_date,location,sector,source,removed_date,notes\n"
        b'"Example Spinning Co., Ltd.",Example Yarn,WRO,2023-01-01,Somewhere,yarn,test,'
        b"2024-06-30,\n"
    )
    lst = parse_list(data, name="Test WRO list", loaded_at=LOADED)
    assert hits(lst, "EXAMPLE YARN", "2024-06-29") == ["Example Spinning Co., Ltd."]
    assert hits(lst, "Example Spinning Company Limited", "2024-06-30") == []


@pytest.mark.parametrize(
    ("data", "error"),
    [
        (b"", MalformedError),
        (b"\xff\xfe", MalformedError),
        (b"title,aliases\nX,\n", MalformedError),
        (b"name,effective_date\nX,2024/01/01\n", MalformedError),
        (b"name,effective_date\nX,2024-01-01,extra\n", MalformedError),
        (b"name\n\n,\n", MalformedError),
        (b"name\n" + b"x" * 16_000_001, TooLargeError),
    ],
)
def test_bad_lists_are_refused_with_codes(data: bytes, error: type[Exception]) -> None:
    with pytest.raises(error):
        parse_list(data, name="bad", loaded_at=LOADED)


def test_bad_list_names_and_files(tmp_path: Path) -> None:
    with pytest.raises(UsageError):
        parse_list(b"name\nX\n", name="", loaded_at=LOADED)
    with pytest.raises(UsageError):
        read_list_file(tmp_path / "missing.csv", name=None, loaded_at=LOADED)


def test_lists_are_recorded_with_versions(bare_world: World) -> None:
    store = bare_world.ledger.store
    first, added = record_list(
        store,
        ENTITY_LIST.read_bytes(),
        name="UFLPA Entity List",
        source="uflpa-entity-list.csv",
        now=LOADED,
    )
    assert added
    _, again = record_list(
        store,
        ENTITY_LIST.read_bytes(),
        name="UFLPA Entity List",
        source="uflpa-entity-list.csv",
        now=LOADED,
    )
    assert not again  # the same bytes are not a new version
    newer = ENTITY_LIST.read_bytes() + b'"Example New Entity Co., Ltd.",,,2025-06-01,,,,,\n'
    latest, added = record_list(
        store, newer, name="UFLPA Entity List", source=None, now=datetime(2025, 6, 2, tzinfo=UTC)
    )
    assert added and latest.sha256 != first.sha256
    assert [x.sha256 for x in loaded_lists(store)] == [latest.sha256]
    assert len(loaded_lists(store, all_versions=True)) == 2


def test_which_shipments_a_newly_loaded_list_now_fails(bare_world: World) -> None:
    world = bare_world
    chain = CottonChain(world)
    chain.actors(
        names={"knitter": "Esquel China Holdings Limited"},  # an Esquel Group alias
        countries={"knitter": "CN"},
        regions={"knitter": "CN-GD"},
    )
    chain.certify()
    for stage in (chain.farm, chain.gin, chain.spin, chain.knit, chain.sew, chain.ship):
        stage()
    assert world.verify().codes() == {"SCREENING_MISSING"}  # no list loaded yet
    listed, _ = record_list(
        world.ledger.store,
        ENTITY_LIST.read_bytes(),
        name="UFLPA Entity List",
        source=None,
        now=world.clock.now,
    )
    found = impacted_by_list(world.ledger, listed)
    assert [x["shipment"] for x in found] == [world.ids["shipment"]]
    assert found[0]["status"] == "fail"
    assert {f["code"] for f in found[0]["findings"]} == {"ENTITY_LISTED"}
    assert impacted_by_list(world.ledger, "UFLPA Entity List") == found
    not_yet = parse_list(
        b"name,aliases,effective_date\nEsquel Group,Esquel China Holdings Limited,2026-01-01\n",
        name="future",
        loaded_at=LOADED,
    )
    assert impacted_by_list(world.ledger, not_yet) == []  # matches, but not in force then


# -- legal forms across the regions of the lists, and names that differ in substance --------

SAME = [
    ("Rao Cotton Farms Pvt Ltd", "Rao Cotton Farms Private Limited"),  # India
    ("Rao Cotton Farms (Pvt.) Ltd.", "Rao Cotton Farms Private Limited"),  # Pakistan
    ("Rao Cotton Farms (Private) Limited", "RAO COTTON FARMS PVT. LTD."),  # Bangladesh
    ("Rao Cotton Farms (Pvt)", "Rao Cotton Farms Pvt. Ltd."),
    ("Maju Tekstil Sdn. Bhd.", "Maju Tekstil Sdn Bhd"),  # Malaysia
    ("Maju Tekstil Berhad", "Maju Tekstil Bhd"),
    ("PT Sinar Jaya Tekstil Tbk", "Sinar Jaya Tekstil"),  # Indonesia (PT leading only)
    ("PT. Sinar Jaya Tekstil", "Sinar Jaya Tekstil Tbk."),
    ("CV Sinar Jaya", "Sinar Jaya"),
    ("Kazakh Cotton JSC", "Kazakh Cotton Joint Stock Company"),  # Central Asia
    ("JSC Kazakh Cotton", "Kazakh Cotton OJSC"),
    ("OOO Romashka", "Romashka LLC"),  # Russia
    ("Viet Thang Jean Joint Stock Company", "Viet Thang Jean JSC"),  # Vietnam
    ("Thai Spinning Public Company Limited", "Thai Spinning PCL"),  # Thailand
    ("Hefei Solar Co., Ltd.", "Hefei Solar Company Limited"),  # China
    ("Hefei Solar Co Ltd", "HEFEI SOLAR CO.,LTD"),
    ("Nippon Cotton K.K.", "Kabushiki Kaisha Nippon Cotton"),  # Japan
    ("Acme Limited Liability Company", "Acme L.L.C."),
    ("Textilwerk Müller GmbH", "Textilwerk Muller"),  # Germany, diacritics
    ("Textilwerk Müller GmbH & Co. KG", "Textilwerk Muller"),
    ("Solar Holding AG", "Solar Holding"),
    ("Tejidos del Norte S.A. de C.V.", "Tejidos del Norte"),  # Mexico
    ("Tejidos del Norte, S. de R.L. de C.V.", "Tejidos del Norte SA"),
    ("Fiação Paulista Ltda.", "Fiacao Paulista"),  # Brazil
    ("Kipaş Mensucat A.Ş.", "Kipas Mensucat A.S."),  # Turkey
    ("Kipaş Mensucat San. ve Tic. A.Ş.", "Kipas Mensucat Sanayi ve Ticaret A.S."),
    ("Kipaş Mensucat Tic. A.Ş.", "Kipas Mensucat"),
    ("Tessitura Bianchi S.p.A.", "Tessitura Bianchi S.r.l."),  # Italy
    ("Katoen Handel B.V.", "Katoen Handel N.V."),  # Netherlands, Belgium
    ("Nordic Yarn Oy", "Nordic Yarn AB"),  # Finland, Sweden
    ("Dansk Bomuld A/S", "Dansk Bomuld"),  # Denmark
    ("Textiles du Nord SARL", "Textiles du Nord SAS"),  # France
    ("Singapore Fibre Pte. Ltd.", "Singapore Fibre Pte Ltd"),
    ("Aussie Cotton Pty Ltd", "Aussie Cotton Pty. Limited"),
    ("Baoding Trade & Business Co., Ltd.", "Baoding Trade and Business"),
    ("Xinjiang Zhongtai（Group）Co．，Ltd．", "Xinjiang Zhongtai Group Co., Ltd."),  # noqa: RUF001
    ("ＸＩＮＪＩＡＮＧ ＺＨＯＮＧＴＡＩ", "Xinjiang Zhongtai"),  # noqa: RUF001 - full width
    ("Junan Jinsheng Import ＆ Export", "Junan Jinsheng Import and Export"),  # noqa: RUF001
    ("Kırmızı Tekstil", "Kirmizi Tekstil"),  # noqa: RUF001 - Turkish dotless i
    ("新疆中泰化学股份有限公司", "新疆中泰化学有限公司"),
    ("M/s Patel Family Farm", "Patel Family Farm"),  # India: "M/s" (Messrs.)
    ("M/S. Patel Family Farm", "Patel Family Farm"),
    ("Messrs Patel Family Farm", "Patel Family Farm"),
    ("ООО Коимбатор Спиннерс", "Коимбатор Спиннерс"),  # Russia, in Cyrillic  # noqa: RUF001
    ("ООО «Коимбатор Спиннерс»", "Коимбатор Спиннерс ООО"),  # noqa: RUF001
    ("Общество с ограниченной ответственностью «Ромашка»", "ООО Ромашка"),  # noqa: RUF001
    ("АО «Ромашка»", "Ромашка"),  # noqa: RUF001
    ("ПАО Ромашка", "Публичное акционерное общество Ромашка"),
    ("ТОО «Казхлопок»", "Казхлопок"),  # Kazakhstan  # noqa: RUF001
]
DIFFERENT = [
    ("Rao Cotton Farms", "Rao Cotton Mills"),
    ("Rao Cotton Farms Pvt Ltd", "Rao Cotton Mills Private Limited"),
    ("Camel Group", "Camel"),
    ("Camel Group Co., Ltd.", "Camel Co., Ltd."),
    ("Xinjiang Zhongtai", "Xinjiang Zhongtai Chemical"),
    ("Xinjiang Zhongtai Chemical Co., Ltd.", "Xinjiang Zhongtai Co., Ltd."),
    # legal-form words inside a name are part of the name
    ("Limited Brands Inc", "Brands Inc"),
    ("The Company Store", "Store Ltd"),
    ("Sinar PT Jaya", "Sinar Jaya"),  # PT only at the start
    ("Jaya CV", "Jaya"),  # CV only at the start
    ("Private Label Textiles Ltd", "Label Textiles Ltd"),
    ("Rao Private", "Rao"),  # "Private" alone is not a legal form
    ("Joint Venture Textiles", "Venture Textiles"),
    ("Hefei Co-op Spinning", "Hefei Spinning"),
    ("Solar Holding AG", "Solar AG"),  # one word would remain: "Holding" is kept
    ("Anhui Textile Group", "Anhui Textile Mills Group"),
    ("A. O. Textile Ltd", "Textile Ltd"),
    ("Sinar Jaya Tekstil", "Sinar Jaya Tekstil Indah"),
    ("M.S. Textiles", "Textiles"),  # initials, not "M/s"
    ("MS Patel Farm", "Patel Farm"),
    ("ООО Коимбатор Спиннерс", "ООО Коимбатор Спиннинг"),  # noqa: RUF001
    ("Ромашка Ао", "Ромашка Ао Трейд"),  # noqa: RUF001
]


@pytest.mark.parametrize(("a", "b"), SAME)
def test_legal_forms_and_spellings_match(a: str, b: str) -> None:
    assert name_key(a) == name_key(b), (normalize_name(a), normalize_name(b))


@pytest.mark.parametrize(("a", "b"), DIFFERENT)
def test_names_that_differ_in_substance_do_not_match(a: str, b: str) -> None:
    assert name_key(a) != name_key(b), (normalize_name(a), normalize_name(b))


def test_a_listing_of_private_limited_matches_pvt_ltd() -> None:
    lst = parse_list(
        b"name,aliases,effective_date\nRao Cotton Farms Private Limited,,2025-01-01\n",
        name="list",
        loaded_at=LOADED,
    )
    assert hits(lst, "Rao Cotton Farms Pvt Ltd") == ["Rao Cotton Farms Private Limited"]
    assert hits(lst, "Rao Cotton Mills Pvt Ltd") == []


def _qualified_list() -> object:
    return parse_list(
        b"name,aliases,effective_date\n"
        b'"Dhaka Apparel Ltd (Bangladesh)",,2025-01-01\n'
        b'"Eastern Trading Co., Ltd. (Shanghai)",,2025-01-01\n'
        b'"Delta Knit (Unit 2)",,2025-01-01\n'
        b"Sonar Spinning Mills Limited,,2025-01-01\n",
        name="list",
        loaded_at=LOADED,
    )


@pytest.mark.parametrize(
    ("name", "listed"),
    [
        ("Dhaka Apparel Limited", ["Dhaka Apparel Ltd (Bangladesh)"]),
        ("Dhaka Apparel Ltd. (Bangladesh)", ["Dhaka Apparel Ltd (Bangladesh)"]),
        ("Eastern Trading Co., Ltd.", ["Eastern Trading Co., Ltd. (Shanghai)"]),
        ("Sonar Spinning Mills Ltd (Bangladesh)", ["Sonar Spinning Mills Limited"]),
        # two different qualifiers name two entities; a unit number is part of the name
        ("Eastern Trading Co., Ltd. (Beijing)", []),
        ("Delta Knit", []),
        ("Delta Knit (Unit 3)", []),
        ("Dhaka Apparel Mills (Bangladesh)", []),
    ],
)
def test_a_trailing_country_or_city_in_brackets_on_one_side(name: str, listed: list[str]) -> None:
    assert hits(_qualified_list(), name) == listed


@pytest.mark.parametrize(
    ("actors", "row"),
    [
        ({"names": {"farm": "M/s Patel Family Farm"}}, '"Patel Family Farm",,(v),2025-01-01,\n'),
        (
            {"names": {"spinner": "ООО Коимбатор Спиннерс"}},  # noqa: RUF001
            '"Коимбатор Спиннерс",,(v),2025-01-01,\n',
        ),
        ({}, '"Coimbatore Spinners Private Limited (India)",,(v),2025-01-01,\n'),
    ],
    ids=["messrs", "cyrillic-ooo", "country-in-brackets"],
)
def test_a_listed_supplier_written_with_a_regional_form_fails_the_shipment(
    world: World, actors: dict[str, Any], row: str
) -> None:
    cotton(world, **actors)
    load(world, row)
    verdict = world.verify()
    assert verdict.codes() == {"ENTITY_LISTED"}
    offline_equals_online(world)


def test_a_near_miss_in_a_regional_form_passes(world: World) -> None:
    cotton(world, names={"spinner": "ООО Коимбатор Спиннерс"})  # noqa: RUF001
    load(
        world,
        '"Коимбатор Спиннинг",,(v),2025-01-01,\n"Coimbatore Spinning (India)",,(v),2025-01-01,\n',
    )
    assert "ENTITY_LISTED" not in world.verify().codes()
