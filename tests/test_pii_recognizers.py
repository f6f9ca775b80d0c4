"""Known answers for each PII recogniser (pii_patterns, pii_zh, pii_places, pii_names) and each look-alike
class the second evaluation set has: what must be found, with its exact span, and what must not.

Most cases run without the spaCy model (PiiDetector(spacy_model=None)) so they test our own recognisers,
not en_core_web_sm; one test checks NER-only names and the CJK guard with the model.
"""

from __future__ import annotations

import re

import pytest

from dsforge.filters import pii
from dsforge.filters import pii_checks as C
from dsforge.filters.pii_detect import PiiDetector

ALL_ENTITIES = [*pii.DEFAULT_ENTITIES, "PERSON", "LOCATION", "DATE", "URL"]  # names, places, dates: opt-in

NO_NER = PiiDetector(ALL_ENTITIES, spacy_model=None)
WITH_NER = PiiDetector(ALL_ENTITIES)
NEG = pii.negative_cue_regex(pii.DEFAULT_NEGATIVE_CUES)
ALLOW = [re.compile(p, re.I) for p in pii.DOCUMENTATION_VALUES]


def found(text: str, det: PiiDetector = NO_NER) -> list[tuple[str, str]]:
    raw = det.scan([text])[0]
    return [(s.entity, text[s.start:s.end]) for s in pii.resolve_spans(text, raw, pii.DEFAULT_THRESHOLDS, set(), ALLOW, NEG)]


# (text, entity, exact value)
KNOWN = [
    # e-mail glued to Chinese characters (\\b sees no edge there)
    ("请联系zhang.wei@163.com获取验证码", "EMAIL_ADDRESS", "zhang.wei@163.com"),
    ("邮箱：li_na88@qq.com。", "EMAIL_ADDRESS", "li_na88@qq.com"),
    # phones, international formats (libphonenumber), North American shape, extensions
    ("Call me on +44 (0)20 7183 0321 tomorrow.", "PHONE_NUMBER", "+44 (0)20 7183 0321"),
    ("Mobile: 07911 123456", "PHONE_NUMBER", "07911 123456"),
    ("WhatsApp +91-9823062634 please", "PHONE_NUMBER", "+91-9823062634"),
    ("Büro: +49 30 39155337", "PHONE_NUMBER", "+49 30 39155337"),
    ("tel. 06 12 34 56 78", "PHONE_NUMBER", "06 12 34 56 78"),
    ("ring (02) 9123 4567 after six", "PHONE_NUMBER", "(02) 9123 4567"),
    ("Reach the desk at +1-555-123-4567x123 today", "PHONE_NUMBER", "+1-555-123-4567x123"),
    ("Her number is 212.639.0188.", "PHONE_NUMBER", "212.639.0188"),
    # cards: Luhn and issuer ranges; 15-digit Amex without separators
    ("Amex 371449635391238 on file", "CREDIT_CARD", "371449635391238"),
    ("card 6011-0077-2034-5676", "CREDIT_CARD", "6011-0077-2034-5676"),
    # IBAN (mod 97, per-country length), spaced and compact, cut at its length
    ("IBAN DE89 3704 0044 0532 0130 00 BY FRIDAY", "IBAN_CODE", "DE89 3704 0044 0532 0130 00"),
    ("账号GB82WEST12345698765432转账", "IBAN_CODE", "GB82WEST12345698765432"),
    ("SSN: 536-22-8726", "US_SSN", "536-22-8726"),
    ("SSN: 536228726", "US_SSN", "536228726"),
    ("from 2a02:6b8:b010::1f and 91.198.174.192", "IP_ADDRESS", "2a02:6b8:b010::1f"),
    ("from 2a02:6b8:b010::1f and 91.198.174.192", "IP_ADDRESS", "91.198.174.192"),
    ("send to bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq", "CRYPTO", "bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq"),
    # secrets, also glued to Chinese
    ("把这个密钥sk-proj-Ab3dEf6hIj9kLm2nOp5qRs8tUv1wXy4z配置好", "API_KEY", "sk-proj-Ab3dEf6hIj9kLm2nOp5qRs8tUv1wXy4z"),
    ("export GITLAB=glpat-Xy12Ab34Cd56Ef78Gh90", "API_KEY", "glpat-Xy12Ab34Cd56Ef78Gh90"),
    ("AWS_ACCESS_KEY_ID=ASIA4TQ7WZ9KXQY7M2HD", "AWS_KEY", "ASIA4TQ7WZ9KXQY7M2HD"),
    ('DB_PASSWORD = "Summer!2024maple$"', "SECRET", "Summer!2024maple$"),
    ("数据库密码 password=Tiger_889violet&", "SECRET", "Tiger_889violet&"),
    # dates in many formats; a date after a birth cue (or before 出生) is a date of birth
    ("Interview on the 3rd of May 2026 at ten.", "DATE", "the 3rd of May 2026"),
    ("Due Tue, 4 June 2024 please", "DATE", "Tue, 4 June 2024"),
    ("ships 12-Mar-2025", "DATE", "12-Mar-2025"),
    ("paid 03/17/2024", "DATE", "03/17/2024"),
    ("我们会在2024/1/6之前回复", "DATE", "2024/1/6"),
    ("入职日期2021年04月12日", "DATE", "2021年04月12日"),
    ("DOB: 14.02.1987", "DATE_OF_BIRTH", "14.02.1987"),
    ("报名信息：1990年5月17日出生", "DATE_OF_BIRTH", "1990年5月17日"),
    # Chinese formats without word boundaries
    ("请拨打13812345678联系", "CN_MOBILE", "13812345678"),
    ("电话：(+86) 139 1234 5678", "CN_MOBILE", "(+86) 139 1234 5678"),
    (f"身份证{'11010519491231002X'}，", "CN_RESIDENT_ID", "11010519491231002X"),
    ("收件人：欧阳娜\n电话", "PERSON", "欧阳娜"),
    ("地址：广东省深圳市南山区科技园路88号3栋1201室", "LOCATION", "广东省深圳市南山区科技园路88号3栋1201室"),
    ("寄到北京市朝阳区建国路88号，谢谢", "LOCATION", "北京市朝阳区建国路88号"),
    # a cue word, then a name ending at a conjunction or a verb that follows names
    ("原告柏文彬与被告解秀芝系邻居关系。", "PERSON", "柏文彬"),
    ("原告柏文彬与被告解秀芝系邻居关系。", "PERSON", "解秀芝"),
    ("推荐人：滕子昂（原项目经理），电话见附件。", "PERSON", "滕子昂"),
    ("她丈夫蔺海涛帮她办的手续。", "PERSON", "蔺海涛"),
    # no cue, but what follows is said only of a person
    ("杜建平的手机换号了，新号码稍后发你。", "PERSON", "杜建平"),
    ("莫雅琴来电，说快递柜没收到取件通知。", "PERSON", "莫雅琴"),
    ("下周是葛晓东生日，记得订蛋糕。", "PERSON", "葛晓东"),
    ("祝女士来电，说发票抬头写错了。", "PERSON", "祝"),  # a surname and an honorific: the surname, as "Mr. Okafor"
    # street addresses, US and UK, one span from number to ZIP/postcode
    ("Ship to 4759 William Haven Apt. 194\nWest Corey, CA 90152 today", "LOCATION",
     "4759 William Haven Apt. 194\nWest Corey, CA 90152"),
    ("Billing: 939 Sunset Street, Ste 100, Raleigh, NC 27673.", "LOCATION", "939 Sunset Street, Ste 100, Raleigh, NC 27673"),
    ("Flat 3, 12 Mill Lane, Leeds LS6 2QT", "LOCATION", "Flat 3, 12 Mill Lane, Leeds LS6 2QT"),
    ("at 12 Kingsway, Leeds, LS6 2QT", "LOCATION", "12 Kingsway, Leeds, LS6 2QT"),
    # places from the gazetteer (with or without diacritics), countries
    ("She moved from Kraków to Medellín.", "LOCATION", "Kraków"),
    ("She moved from Krakow to Medellín.", "LOCATION", "Medellín"),
    ("back to Uzbekistan next week", "LOCATION", "Uzbekistan"),
    # names from cues and the gazetteer (no model)
    ("Dear Ms. Okafor,", "PERSON", "Okafor"),
    ("Kind regards,\nChukwuemeka Obi", "PERSON", "Chukwuemeka Obi"),
    ("Attendees: Ingrid Johansson and Tomasz Wiśniewski", "PERSON", "Tomasz Wiśniewski"),
    ("[10:42] Priya: are you still there?", "PERSON", "Priya"),
]

LOOKALIKES = {
    "order number": "Your order 13812345678901 has shipped; order no. 4111111111111111 too.",
    "Chinese order number shaped like a mobile": "订单号：13912345678，请查收。",
    "tracking number": "Track it with 1Z999AA10123456784 or 9400111899223197428490.",
    "ISBN-13 and ISBN-10": "ISBN 978-3-16-148410-0 replaces 0-306-40615-2.",
    "version and build": "Upgrade from 3.4.1.220 to 2.14.3 (build 2021.5.3).",
    "wrong-Luhn card": "Test numbers that fail: 4532 1234 5678 9013 and 3712 345678 90124.",
    "wrong-checksum resident ID": "身份证号110105194912310021校验失败",
    "wrong-checksum IBAN": "The IBAN PL38 4796 6855 5558 9090 3386 5718 was rejected.",
    "invoice and part numbers": "Invoice INV-2024-00123, part 6379-750-25, case 3648-3784-0045.",
    "hash and UUID": "commit 9fceb02d0ae598e95dc970b74767f19372d61af8, id 3f2504e0-4f89-41d3-9a0c-0305e82c3301",
    "decimal and coordinates": "It weighed 123.456789 g at 48.85660, 2.35220.",
    "documentation e-mail and private IP": "Mail alice@example.com and bind 192.168.1.20:8080.",
    "price and timestamp": "Total $12,345.67 at unix time 1700000000.",
    "counting sequences": "Digits 0123456789 and 3 1 4 1 5 9 2 6 5 3.",
    "year range": "The novelist (1896-1940) wrote it.",  # (was "Fitzgerald ...": a public figure's name is PII now)
    "nine bare digits without an SSN word": "Row 536228726 updated.",
    "bare 11-digit id in code": "INSERT INTO t VALUES (13085477696, 'x');",
    "netmask and wildcard mask": "Give the VLAN mask 255.255.252.0 and the ACL wildcard 0.0.3.255.",
    "a unit of an organisation before a title": "请联系（原部门经理）办理交接。",
    "words said of a person after no name": "请把对方的手机号码发给我；项目说明分为两部分，据说没有效果。",
}


@pytest.mark.parametrize("text,entity,value", KNOWN, ids=[f"{e}-{i}" for i, (_, e, _) in enumerate(KNOWN)])
def test_recogniser_known_answer(text, entity, value):
    assert (entity, value) in found(text)


@pytest.mark.parametrize("kind", list(LOOKALIKES))
def test_lookalike_class_is_not_pii(kind):
    assert found(LOOKALIKES[kind]) == []


def test_checks_known_answers():
    assert C.card_ok("378282246310005") and not C.card_ok("378282246310006")
    assert C.iban_ok("GB82 WEST 1234 5698 7654 32") and not C.iban_ok("GB83 WEST 1234 5698 7654 32")
    assert C.is_valid_cn_id("11010519491231002X") and not C.is_valid_cn_id("110105194912310021")
    assert C.isbn_ok("978-3-16-148410-0") and C.isbn_ok("0-306-40615-2") and not C.isbn_ok("978-3-16-148410-1")
    assert C.btc_ok("1BoatSLRHtKNngkdXEeobR76b53LETtpyT") and not C.btc_ok("1BoatSLRHtKNngkdXEeobR76b53LETtpyU")
    assert C.ssn_ok("536-22-8726") and not C.ssn_ok("666-22-8726") and not C.ssn_ok("536-00-8726")
    assert C.phone_ok("+44 20 7946 0321") and not C.phone_ok("6379-750-25")


def test_ner_on_latin_text_only_and_places_voted():
    # the model finds a name no cue or gazetteer has; over Chinese text it must not invent PERSON spans
    assert ("PERSON", "Olumide Adeyemi") in found("Yesterday Olumide Adeyemi signed the lease.", WITH_NER)
    zh = "我叫王小明，手机13812345678，住在北京市朝阳区建国路88号。请联系zhang.wei@163.com获取资料。"
    persons = [v for e, v in found(zh, WITH_NER) if e == "PERSON"]
    assert persons == ["王小明"]
    # en_core_web_sm calls some towns PERSON; the gazetteer votes them back to LOCATION
    assert ("LOCATION", "Thessaloniki") in found("I grew up in Thessaloniki, in the north of Greece.", WITH_NER)


def test_unknown_entity_is_a_config_error():
    with pytest.raises(Exception, match="unknown entities"):
        pii.Pii({"entities": ["EMAIL", "PERSON"]})
