"""pii stage: known answers per entity, look-alikes that must not fire, redaction that never leaves part
of an entity, the three actions, allow-lists/thresholds, and the loud fallback without the spaCy model.

presidio + spaCy load once per session (build_analyzer is cached); most tests use n_process=1.
"""

from __future__ import annotations

import json
import pickle
import re
from pathlib import Path

import polars as pl
import pytest

from dsforge.filters import pii
from dsforge.filters.pii_checks import cn_id_check_char, is_valid_cn_id
from dsforge.filters.pii_detect import PiiDetector

ALL_ENTITIES = [*pii.DEFAULT_ENTITIES, "PERSON", "LOCATION", "DATE", "URL"]  # names, places, dates: opt-in
from dsforge.pipelines.core import records
from dsforge.pipelines.core.stage import StageContext


def cn_id(prefix17: str) -> str:
    return prefix17 + cn_id_check_char(prefix17)


VALID_ID = cn_id("11010519491231002")  # the GB 11643 worked example: ...002X
PEM = ("-----BEGIN RSA PRIVATE KEY-----\nMIIEpAIBAAKCAQEAu1SU1LfVLPHCozMxH2Mo4lgOEePzNm0tRgeLezV6ffAt0gun\n"
       "VTLw7onLRnrq0/IzW7yWR7QkrmBL7jTKEn5u+qKhbwKfBstIs+bMY2Zkp18gnTxK\n-----END RSA PRIVATE KEY-----")

# (text, entity, the exact value that must be found)
POSITIVES = [
    ("Write to maria.gonzalez@fastmail.fm about the refund.", "EMAIL_ADDRESS", "maria.gonzalez@fastmail.fm"),
    ("Call me on my phone: (415) 692-0132 tomorrow.", "PHONE_NUMBER", "(415) 692-0132"),
    ("Charge it to card 4539 1488 0343 6467 please.", "CREDIT_CARD", "4539 1488 0343 6467"),
    ("Wire it to IBAN GB82WEST12345698765432 today.", "IBAN_CODE", "GB82WEST12345698765432"),
    ("The login came from 84.17.43.201 last night.", "IP_ADDRESS", "84.17.43.201"),
    ("My blog is at https://janes-garden.net/about now.", "URL", "https://janes-garden.net/about"),
    ("Send BTC to 1BoatSLRHtKNngkdXEeobR76b53LETtpyT.", "CRYPTO", "1BoatSLRHtKNngkdXEeobR76b53LETtpyT"),
    ("Her social security number is 536-22-8726.", "US_SSN", "536-22-8726"),
    ("Patient born on March 3, 1985 was admitted.", "DATE_OF_BIRTH", "March 3, 1985"),
    ("出生日期：1990年5月17日，籍贯四川。", "DATE_OF_BIRTH", "1990年5月17日"),
    ("请拨打我的手机13812345678联系。", "CN_MOBILE", "13812345678"),
    ("Reach Li Wei on +86 139-1234-5678 any time.", "CN_MOBILE", "+86 139-1234-5678"),
    (f"身份证号：{VALID_ID}，请核对。", "CN_RESIDENT_ID", VALID_ID),
    ("export OPENAI_API_KEY=sk-proj-Ab3dEf6hIj9kLm2nOp5qRs8tUv1wXy4z", "API_KEY", "sk-proj-Ab3dEf6hIj9kLm2nOp5qRs8tUv1wXy4z"),
    ("token ghp_A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8 leaked", "API_KEY", "ghp_A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8"),
    ("aws_access_key_id = AKIA4QWJX7RZ2HMB5KTE", "AWS_KEY", "AKIA4QWJX7RZ2HMB5KTE"),  # (AWS's own ...EXAMPLE key is a template)
    (f"key file:\n{PEM}\nend", "PRIVATE_KEY", PEM),
    ('db_password = "Tr0ub4dor-and-3"', "SECRET", "Tr0ub4dor-and-3"),
    ("#!/bin/bash\nEMAIL='ops-team@corp-mail.io'\n", "EMAIL_ADDRESS", "ops-team@corp-mail.io"),
    ("Yesterday Jennifer Lawrence met the press.", "PERSON", "Jennifer Lawrence"),
    ("我叫王小明，今年二十岁。", "PERSON", "王小明"),
    ("We moved to Barcelona in 2019.", "LOCATION", "Barcelona"),
]

NEGATIVES = [
    "Your order number is 13812345678901, shipping soon.",
    "Upgrade to version 2.14.3 before Friday.",
    "ISBN 978-3-16-148410-0 is the book's number.",
    "const double PI = 3.14159265359;",
    "server_socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)",
    "Send it to john.doe@example.com for the demo.",
    "app.run(host='127.0.0.1', port=5000)",
    "订单号：13812345678901，请查收。",
    f"身份证号：{VALID_ID[:-1]}{'0' if VALID_ID[-1] != '0' else '1'}（校验位错误）",
    "The coordinates are 48.864716, 2.349014 in decimal degrees.",
    # found by reading the cleaning run (docs/notes/cleaning-alpaca.md)
    "100 kilometers is equal to python('100 * 0.621371') miles.",
    "The energy generated is python('120 * 50 * 0.87 / 1000') MWh.",
    'if (strspn(ip, "0123456789.") < strlen(ip)) return 0;',
    "Input: 1 2 3 4 5 6 7 8 9 10",
    "Coded message: 14-23 16-18-9-13-5 18-5-1-12-9-20-25 9-19",
    "print(s[::2])",
]


DETECTOR = PiiDetector(ALL_ENTITIES)  # models load on first use, once for the module


def spans_of(text: str, entities=None, **kw) -> list[tuple[str, str]]:
    raw = (PiiDetector(entities) if entities else DETECTOR).scan([text])[0]
    neg = pii.negative_cue_regex(pii.DEFAULT_NEGATIVE_CUES)
    allow = [re.compile(p, re.I) for p in pii.DOCUMENTATION_VALUES]
    return [(s.entity, text[s.start:s.end])
            for s in pii.resolve_spans(text, raw, kw.get("thresholds", pii.DEFAULT_THRESHOLDS), set(), allow, neg)]


def table(texts: list[str], field: str = "input") -> pl.DataFrame:
    return records.from_rows([{"id": f"t:{i}", "source": "t", "kind": "instruction", "instruction": "Do it.",
                               field: t, "response": "ok"} for i, t in enumerate(texts)])


CTX = StageContext(work_dir=Path("."))


def test_cn_id_checksum_known_answer():
    assert VALID_ID == "11010519491231002X"
    assert is_valid_cn_id(VALID_ID)
    assert not is_valid_cn_id("110105194912310021")
    assert not is_valid_cn_id("110105194902300028")  # 30 February


@pytest.mark.parametrize("text,entity,value", POSITIVES, ids=[p[1] + str(i) for i, p in enumerate(POSITIVES)])
def test_finds_each_entity(text, entity, value):
    assert (entity, value) in spans_of(text)


@pytest.mark.parametrize("text", NEGATIVES)
def test_look_alikes_are_not_pii(text):
    assert spans_of(text) == []


def test_overlapping_spans_merge_into_one_whole_entity():
    text = "mail john.smith@corp-mail.io now"
    a, b = text.index("john"), text.index(" now")
    found = [pii.Span("URL", a, a + 7, 0.5), pii.Span("EMAIL_ADDRESS", a, b, 1.0), pii.Span("URL", a + 11, b, 0.5)]
    merged = pii.resolve_spans(text, found, {"default": 0.0}, set(), [])
    assert merged == [pii.Span("EMAIL_ADDRESS", a, b, 1.0)]
    assert pii.redact(text, merged) == "mail <EMAIL_ADDRESS> now"
    # partly overlapping spans of two types become their union, labelled by the higher score
    chain = [pii.Span("PHONE_NUMBER", 0, 8, 0.4), pii.Span("CN_MOBILE", 4, 15, 0.55)]
    assert pii.resolve_spans("139123456789999 x", chain, {"default": 0.0}, set(), []) == [pii.Span("CN_MOBILE", 0, 15, 0.55)]


def test_span_stopping_inside_a_word_is_widened():
    text = "key sk-abcdefghijklmnopqrstuvwxyz0123 end"
    cut = [pii.Span("API_KEY", 4, 20, 0.9)]  # a recogniser that stopped early
    assert pii.redact(text, pii.resolve_spans(text, cut, {"default": 0.0}, set(), [])) == "key <API_KEY> end"


def test_redaction_leaves_no_fragment_of_any_entity():
    texts = [t for t, _, _ in POSITIVES] + [
        "Mail john.smith@mail-server.co.uk or www.john-smith-portfolio.com, phone +1 212 639 0188.",
        f"{VALID_ID}、{VALID_ID}",  # neighbouring entities
    ]
    out = pii.Pii({"action": "redact", "drop_entities": [], "entities": ALL_ENTITIES,
                   "operators": {"DEFAULT": {"type": "replace"}}}).process(table(texts), CTX).kept
    redacted = dict(zip(out["id"], out["input"]))
    for i, (text, _, value) in enumerate(POSITIVES):
        red = re.sub(r"<[A-Z_]+>", "", redacted[f"t:{i}"])
        pieces = [p for p in re.split(r"[\s\-()/:.,，。]+", value) if len(p) >= 4]
        assert not [p for p in pieces if p in red], (text, red)
    assert "smith" not in redacted[f"t:{len(POSITIVES)}"].lower()
    assert redacted[f"t:{len(POSITIVES) + 1}"] == "<CN_RESIDENT_ID>、<CN_RESIDENT_ID>"


def test_actions_tag_redact_drop():
    texts = ["Write to maria.gonzalez@fastmail.fm now.", "Nothing personal here at all.", f"My key:\n{PEM}"]
    df = table(texts)
    tag = pii.Pii({"action": "tag"}).process(df, CTX)
    spans = tag.kept.sort("id")["pii_spans"].to_list()
    assert spans[0] == [{"field": "input", "entity": "EMAIL_ADDRESS", "start": 9, "end": 35, "score": 1.0,
                         "recognizer": "email"}]
    assert spans[1] == []
    # PRIVATE_KEY is in drop_entities by default: dropped even when tagging, stored redacted
    assert tag.rejected["reason"].to_list() == ["pii:forbidden_entity"]
    assert "<PRIVATE_KEY>" in tag.rejected["input"][0] and "MIIE" not in tag.rejected["input"][0]

    red = pii.Pii({"action": "redact"}).process(df, CTX)
    row = red.kept.filter(pl.col("id") == "t:0").row(0, named=True)
    assert row["input"] == "Write to <EMAIL_ADDRESS> now."
    assert json.loads(row["lineage"][-1]["info"]) == {"redacted": {"input": ["EMAIL_ADDRESS"]},
                                                      "operators": {"EMAIL_ADDRESS": "replace"}}
    assert red.kept.filter(pl.col("id") == "t:1")["lineage"].list.len()[0] == 0

    drop = pii.Pii({"action": "drop"}).process(df, CTX)
    assert drop.kept["id"].to_list() == ["t:1"]
    assert set(drop.rejected["reason"]) == {"pii:found"}
    assert all(d and "EMAIL_ADDRESS" in d or "PRIVATE_KEY" in d for d in drop.rejected["detail"])
    assert "maria.gonzalez" not in " ".join(drop.rejected["detail"])  # details mask the value


def test_allow_list_thresholds_and_consistent_fakes():
    text = "Ask maria.gonzalez@fastmail.fm or help@shop.io."
    cfg = {"action": "redact", "allow": ["help@shop.io"]}
    assert pii.Pii(cfg).process(table([text]), CTX).kept["input"][0] == "Ask <EMAIL_ADDRESS> or help@shop.io."
    high = {"action": "redact", "thresholds": {"default": 0.5, "EMAIL_ADDRESS": 1.01}}
    assert pii.Pii(high).process(table([text]), CTX).kept["input"][0] == text
    fake = pii.Pii({"action": "redact", "redact_with": "fake", "entities": ["EMAIL_ADDRESS"]})
    out = fake.process(table([text, "cc maria.gonzalez@fastmail.fm"]), CTX).kept.sort("id")["input"].to_list()
    f1 = re.findall(r"\S+@\S+?(?=\s|$|\.$)", out[0])[0]
    assert "maria" not in out[0] and f1 in out[1] and f1 != "maria.gonzalez@fastmail.fm"


def test_messages_are_scanned_and_shards_are_independent():
    df = records.from_rows([{"id": "c:0", "source": "c", "kind": "conversation", "messages": [
        {"role": "user", "content": "My number is 13912345678."}, {"role": "assistant", "content": "Noted."}]}])
    out = pii.Pii({"action": "redact"}).process(df, CTX).kept
    assert out["messages"][0].to_list()[0]["content"] == "My number is <CN_MOBILE>."
    # the runner may split a table into shards in other processes: the answer must not change
    big = table([t for t, _, _ in POSITIVES] * 3)
    stage = pii.Pii({"action": "tag"})
    whole = stage.process(big, CTX).kept.sort("id")
    clone = pickle.loads(pickle.dumps(stage))  # what a worker process gets (models reload there)
    parts = pl.concat([clone.process(big.slice(0, 25), CTX).kept, stage.process(big.slice(25), CTX).kept]).sort("id")
    assert whole["pii_spans"].to_list() == parts["pii_spans"].to_list()


def test_missing_spacy_model_warns_and_falls_back_to_cues_and_gazetteers():
    stage = pii.Pii({"action": "tag", "spacy_model": "en_core_web_not_installed", "entities": ALL_ENTITIES})
    with pytest.warns(pii.PiiModelWarning, match=r"pip install en-core-web-not-installed"):
        res = stage.process(table(["Jennifer Lawrence wrote to maria.gonzalez@fastmail.fm."]), CTX)
    ents = [s["entity"] for s in res.kept["pii_spans"][0]]
    # without NER, names still come from the gazetteer and cues; places from addresses and the gazetteer
    assert ents == ["PERSON", "EMAIL_ADDRESS"] and res.stats["ner_model"] is False
