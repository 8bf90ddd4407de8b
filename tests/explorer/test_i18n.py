"""Korean and English (api/i18n): the gettext catalog covers every text (a msgid added without
a Korean msgstr fails here), the language follows ?lang= (kept in a cookie), the cookie, then
Accept-Language, Korean by default and for anything unknown or malformed; numbers, won and KST
times follow the language; the resident app's texts come from the same catalog as JSON. Over
the explorer tests' world (a real ledger node, read model and API over HTTP)."""

from __future__ import annotations

import re
import string
from html import unescape

import pytest
import requests
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg

from api.explorer.formatting import kst, kst_window, number, won
from api.i18n.catalog import read_catalog
from api.i18n.locale import COOKIE, accepted, choose, use
from api.resident_app.texts import TEXTS
from citypass.chain.deploy_mobility import VALET_FEE, VALET_WORKER_BPS
from tests.explorer_helpers import sqlite_explorer_world
from tests.oracle_helpers import ROOT

explorer_world = sqlite_explorer_world
APP_STATIC = ROOT / "api" / "resident_app" / "static"
AT_3PM = 1796709600  # 2026-12-08 15:00 KST


def page_text(reply: requests.Response) -> str:
    return unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", reply.text)))


def html_lang(reply: requests.Response) -> str:
    found = re.search(r'<html lang="([^"]*)"', reply.text)
    assert found, reply.text[:200]
    return found.group(1)


# ------------------------------------------------------------------------------ the catalog


def extracted() -> dict[str, tuple[str, ...]]:
    """Every msgid `make i18n` would extract (babel.cfg over api/), with its plural forms."""
    with (ROOT / "babel.cfg").open() as cfg:
        method_map, options_map = parse_mapping_cfg(cfg)
    found: dict[str, tuple[str, ...]] = {}
    for _file, _line, message, _comments, _context in extract_from_dir(
        str(ROOT / "api"), method_map, options_map
    ):
        forms = message if isinstance(message, tuple) else (message,)
        found[forms[0]] = forms
    return found


def placeholders(text: str) -> set[str]:
    """{name…} fields (str.format, the sentences) and %(name)s ones (Jinja's trans)."""
    braces = {f[1] for f in string.Formatter().parse(text) if f[1] is not None}
    return braces | set(re.findall(r"%\((\w+)\)", text))


def test_every_extracted_text_has_a_korean_translation():
    messages = extracted()
    assert len(messages) > 300 and "Lease" in messages and "CityPass explorer" in messages
    catalog = read_catalog("ko")
    problems = []
    for msgid, forms in sorted(messages.items()):
        entry = catalog.get(forms if len(forms) > 1 else msgid)
        strings = entry.string if entry and isinstance(entry.string, tuple) else (
            (entry.string,) if entry else ()
        )  # fmt: skip
        if entry is None or not all(strings):
            problems.append(f"no Korean for {msgid!r}: run `make i18n` and fill its msgstr")
        elif entry.fuzzy:
            problems.append(f"fuzzy Korean for {msgid!r}: check it and drop the fuzzy flag")
        elif any(placeholders(s) != placeholders(msgid) for s in strings):
            problems.append(f"the Korean for {msgid!r} does not keep its placeholders")
    assert not problems, "\n".join(problems)


def test_the_resident_app_asks_only_for_texts_the_catalog_has():
    asked = set()
    sources = [p for p in APP_STATIC.glob("js/*.js") if p.name != "i18n.js"]  # i18n.js: t itself
    for source in [*sources, APP_STATIC / "index.html"]:
        code = source.read_text()
        asked |= set(re.findall(r'\bt\("(\w+)"', code))
        asked |= set(re.findall(r'data-i18n(?:-title)?="(\w+)"', code))
    assert len(asked) > 50 and not asked - set(TEXTS), sorted(asked - set(TEXTS))


def test_accept_language_is_read_with_its_q_values():
    assert accepted("fr-CH, fr;q=0.9, en;q=0.8, *;q=0.5") == ["fr-CH", "fr", "en", "*"]
    assert accepted("en;q=0.2, ko;q=0.9, de;q=0") == ["ko", "en"]
    assert accepted("<script>, en;q=abc, ;;, ko-KR") == ["ko-KR"]
    assert choose(None, None, "fr, en-GB;q=0.5") == "en"
    assert choose(None, None, "en;q=0.2, ko-KR;q=0.9") == "ko"
    assert choose(None, None, "fr, de") == "ko" and choose(None, None, None) == "ko"
    assert choose("EN", "ko", "ko") == "en" and choose("xx", "en", "ko") == "en"
    assert choose(None, "garbage", "en") == "en"


def test_numbers_won_and_kst_times_per_language():
    with use("ko"):
        assert kst(AT_3PM) == "2026년 12월 8일 오후 3:00"
        assert kst(AT_3PM + 5) == "2026년 12월 8일 오후 3:00:05"
        assert kst_window(AT_3PM, AT_3PM + 7200) == "2026년 12월 8일 오후 3:00~5:00"
        assert won(1234) == "₩1,234" and won(-5) == "-₩5" and number(1234567) == "1,234,567"
    with use("en"):
        assert kst(AT_3PM) == "8 Dec 2026, 15:00"
        assert kst_window(AT_3PM, AT_3PM + 7200) == "8 Dec 2026, 15:00–17:00"
        assert won(1234) == "₩1,234" and won(1_000_000) == "₩1,000,000"
    assert AT_3PM % 86400 == 6 * 3600  # 06:00 UTC: 15:00 in Seoul whatever the machine's zone


# ------------------------------------------------------------------------------ over HTTP


def test_accept_language_chooses_the_page_language(explorer_world):
    english = explorer_world.get("/explorer/statements", language="en")
    korean = explorer_world.get("/explorer/statements", language="ko-KR,ko;q=0.9")
    default = explorer_world.get("/explorer/statements", language=None)
    assert (english.status_code, korean.status_code, default.status_code) == (200, 200, 200)
    assert html_lang(english) == "en" and "Monthly revenue statements" in page_text(english)
    assert html_lang(korean) == "ko" and "월별 수익 정산서" in page_text(korean)
    assert html_lang(default) == "ko" and "월별 수익 정산서" in page_text(default)
    for reply in (english, korean, default):
        vary = {v.strip().lower() for v in reply.headers["vary"].split(",")}
        assert {"accept-language", "cookie"} <= vary and "set-cookie" not in reply.headers
    # Every page header has the switch, each link this page in the other language.
    assert 'href="/explorer/statements?lang=en"' in korean.text and ">English</a>" in korean.text
    assert 'href="/explorer/statements?lang=ko"' in english.text and ">한국어</a>" in english.text


def test_the_switch_sets_a_cookie_that_later_requests_follow(explorer_world):
    browser = requests.Session()
    browser.headers["Accept-Language"] = "ko"
    url = explorer_world.url
    switched = browser.get(url + "/explorer/block/1", params={"lang": "en"}, timeout=60)
    assert switched.status_code == 200 and html_lang(switched) == "en"
    assert f"{COOKIE}=en" in switched.headers["set-cookie"]
    assert "Path=/" in switched.headers["set-cookie"]
    later = browser.get(url + "/explorer/statements", timeout=60)  # Accept-Language still ko
    assert html_lang(later) == "en" and "set-cookie" not in later.headers
    back = browser.get(url + "/dashboard", params={"lang": "ko"}, timeout=60)
    assert html_lang(back) == "ko" and f"{COOKIE}=ko" in back.headers["set-cookie"]
    assert html_lang(browser.get(url + "/explorer/block/1", timeout=60)) == "ko"


@pytest.mark.parametrize(
    ("query", "accept"),
    [
        ({"lang": "xx"}, None),
        ({"lang": "<script>alert(1)</script>"}, None),
        ({"lang": ""}, "!!;q=zz, ,,;q=2, 12345678901"),
        (None, "x" * 5000),
        (None, "fr-FR, de;q=0.8"),
    ],
)
def test_unknown_or_malformed_languages_get_the_korean_page(explorer_world, query, accept):
    reply = explorer_world.get("/explorer/block/1", params=query, language=accept)
    assert reply.status_code == 200 and html_lang(reply) == "ko"
    assert "블록 1" in page_text(reply) and "set-cookie" not in reply.headers
    assert "<script>alert" not in reply.text  # the switch's links escape what was asked


def test_times_and_money_follow_the_language(explorer_world):
    s = explorer_world.scenario
    ko = page_text(
        explorer_world.get(f"/explorer/block/{s.chain.w3.eth.block_number}", language="ko")
    )
    en = page_text(
        explorer_world.get(f"/explorer/block/{s.chain.w3.eth.block_number}", language="en")
    )
    assert re.search(r"시각 \d{4}년 \d{1,2}월 \d{1,2}일 (오전|오후) \d{1,2}:\d{2}", ko), ko[:600]
    assert re.search(r"Time \d{1,2} [A-Z][a-z]{2} \d{4}, \d{2}:\d{2}", en), en[:600]
    slot = f"/explorer/slot/{s.slots['C']}"
    assert "30분당 ₩1,000" in page_text(explorer_world.get(slot, language="ko"))
    assert "₩1,000 per half-hour" in page_text(explorer_world.get(slot, language="en"))


def test_a_transaction_page_tells_its_events_in_korean(explorer_world):
    path = f"/explorer/tx/{explorer_world.txs['valet_return']}"
    request = explorer_world.valet["request"]
    share = VALET_FEE * VALET_WORKER_BPS // 10_000
    korean = page_text(explorer_world.get(path, language="ko"))
    assert f"대리주차 요청 #{request}: 기사 " in korean
    assert f"기사 {won(share)}, 마을기업 상살미사람들 {won(VALET_FEE - share)}" in korean
    assert "거래 내용" in korean and "성공" in korean and "Valet request" not in korean
    english = page_text(explorer_world.get(path, language="en"))
    assert f"Valet request #{request}: car returned by" in english and "대리주차" not in english


def test_error_pages_speak_the_language_with_the_same_status(explorer_world):
    cases = [
        ("/explorer/block/twelve", 422, "정수를 입력하세요", "whole number"),
        ("/explorer/nowhere", 404, "탐색기 페이지가 없습니다", "no explorer page"),
        ("/explorer/blocks?limit=0", 422, "다시 불러오세요", "load the page again"),
        ("/explorer/search?q=", 422, "검색어를 입력하세요", "type something"),
    ]
    for path, status, korean, english in cases:
        ko, en = explorer_world.get(path, language=None), explorer_world.get(path, language="en")
        assert (ko.status_code, en.status_code) == (status, status), path
        assert korean in page_text(ko) and english in page_text(en), path
    # The JSON API stays English whatever the reader's language, and does not vary by it.
    api = explorer_world.get("/v1/kpis", params={"days": 0}, language="ko")
    assert api.status_code == 422 and "days" in api.json()["error"]["message"]
    assert "accept-language" not in api.headers.get("vary", "").lower()


def test_the_resident_app_catalog_in_both_languages(explorer_world):
    ko = explorer_world.get("/app/i18n/ko.json", language=None)
    en = explorer_world.get("/app/i18n/en.json", language=None)
    assert ko.status_code == en.status_code == 200
    assert set(ko.json()) == set(en.json()) == set(TEXTS)
    assert ko.json()["title"] == "시티패스 주민" and en.json()["title"] == "CityPass Resident"
    assert ko.json()["booked"] == "예약 완료: 임대 #{lease}, 거래 {tx}"
    assert en.json() == TEXTS  # the msgids are the English texts
    for bad in ("xx.json", "ko", "KO.json", "..%2Fko.json"):
        reply = explorer_world.get(f"/app/i18n/{bad}", language=None)
        assert reply.status_code == 404, bad
        error = reply.json()["error"]
        assert error["code"] in ("no_catalog", "not_found") and (
            error["code"] != "no_catalog" or "ko.json, en.json" in error["message"]
        ), error
