"""Chinese PII patterns: mobile numbers, resident ID numbers (GB 11643 checksum and a real birth date),
personal names that start with a surname, after an explicit cue (我叫X, 姓名：X, 被告X), before an honorific
(X老师) or before words said only of a person (X的手机, X来电), and postal addresses (省/市/区/路/号).

None of them relies on word boundaries: Chinese has no spaces, and Python's `\\b` sees no edge between a
Chinese character and a Latin letter or digit. Edges are "no digit/Latin letter next to it" instead.
Chinese dates (2021年5月3日) are in pii_patterns.DATE.

Not here: Chinese person names with nothing person-only around them (a bare 2-3 character span is far too
often an ordinary word).
"""

from __future__ import annotations

import re
from functools import lru_cache

from dsforge.filters import pii_checks as C
from dsforge.filters.pii_rules import rules
from dsforge.filters.pii_spans import Detector

_CJK_NEAR = re.compile(r"[\u4e00-\u9fff]")
_PHONE_WORD = re.compile(r"(?i)phone|mobile|tel\b|call|text|sms|whatsapp|wechat|contact|number|reach")


def _cn_mobile_check(text: str, m: re.Match, value: str):
    """+86 or a separator makes it a phone number anywhere; a bare 11-digit run needs Chinese text or a phone
    word near it (in English code and logs it is as often an order or row id)."""
    if value[0] in "+(0" or not value.isdigit():
        return 0.85
    s, e = m.span("v")
    near = text[max(0, s - 20):e + 20]
    return 0.85 if _CJK_NEAR.search(near) or _PHONE_WORD.search(text, max(0, s - 40), s) else 0.45


CN_MOBILE = Detector("CN_MOBILE", re.compile(
    r"(?<![A-Za-z0-9+\-_./])(?P<v>(?:\(?(?:\+|00)86\)?[ \-]?)?1[3-9]\d(?:[ \-]?\d{4}){2})(?![0-9A-Za-z_]|[\-.]\d)"),
    r"1[3-9]\d[ \-]?\d{4}[ \-]?\d{4}", 0.85, _cn_mobile_check, name="cn mobile")

CN_RESIDENT_ID = Detector("CN_RESIDENT_ID", re.compile(
    r"(?<![0-9A-Za-z])(?P<v>[1-9]\d{5}(?:18|19|20)\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])\d{3}[0-9Xx])(?![0-9A-Za-z])"),
    r"[1-9]\d{16}[0-9Xx]", 1.0, lambda t, m, v: 1.0 if C.is_valid_cn_id(v) else None, name="cn resident id")

# Cues that name a person by themselves, and words that do only as a form label ("客户：X", not "客户来电").
# With the surname check below, role nouns of forms, court papers and logs can be cues too. Without a colon a
# cue is as often a sentence's subject (患者白天嗜睡), so there the name has 2-3 characters and a delimiter after
# (punctuation, 的, a title, a number, or a conjunction or verb that follows names: 与, 和, 由, 陪, 帮, 说, 来电, 系).
_CUE_ALONE = "|".join(rules()["zh_name_cues"])
_CUE_LABEL = "|".join([*rules()["zh_name_cues"], *rules()["zh_name_labels"]])
_NAME_END = r"(?=[，,。.\s;；:：、（()）]|的|先生|女士|同志|$|\d|[A-Za-z]|手机|电话|身份证|与|和|及|跟|由|陪|帮|说|来电|系)"
_CUE_TRIGGER = _CUE_LABEL.replace("被保险人|", "保险人|")

# Compound surnames (复姓) Faker's lists lack; with Faker's zh_CN/zh_TW surnames, the closed class a Han
# name starts with.
_COMPOUND_SURNAMES = frozenset(rules()["zh_compound_surnames"])


@lru_cache(maxsize=1)
def surnames() -> frozenset:
    from faker.providers.person.zh_CN import Provider as Mainland
    from faker.providers.person.zh_TW import Provider as Taiwan

    return frozenset(Mainland.last_names) | frozenset(Taiwan.last_names) | _COMPOUND_SURNAMES


_UNIT_ENDS = frozenset("部门处科室局厅组司")


def _cn_name_check(text: str, m: re.Match, value: str):
    """A name starts with a surname (or is a transliterated name with ·): not a department (收件人：行政部), a
    form filler (姓名：本人, 联系人：待定) or a role (负责人：课题组)."""
    if value[-1] in _UNIT_ENDS:
        return None  # a unit of an organisation before a title: （原部门经理）, 财务处主任
    if "·" in value or value[0] in surnames() or value[:2] in surnames():
        return 0.85
    return None


CN_NAME = Detector("PERSON", re.compile(
    rf"(?:(?:{_CUE_LABEL})\s*[:：=]\s*(?P<v>[\u4e00-\u9fff·]{{2,4}}?){_NAME_END})"),
    _CUE_TRIGGER, 0.85, _cn_name_check, name="cn name after a labelled cue")
CN_NAME_ALONE = Detector("PERSON", re.compile(
    rf"(?:(?:{_CUE_ALONE})\s*(?P<v>[\u4e00-\u9fff·]{{2,3}}?){_NAME_END})"),
    _CUE_TRIGGER, 0.85, _cn_name_check, name="cn name after a cue word")

# A name right before an honorific (唐晓峰老师, 罗静女士), after a function word or a delimiter.
_HONORIFICS = "老师|先生|女士|小姐|医生|律师|教授|同学|经理|主任"
CN_NAME_TITLE = Detector("PERSON", re.compile(
    r"(?:(?<=[由和与给请向找跟是被让对、，,：:\s（(])|^)(?P<v>[\u4e00-\u9fff]{2,3}?)"
    rf"(?={_HONORIFICS})"), _HONORIFICS, 0.8, _cn_name_check, name="cn name before honorific")


def _without_honorific(m: re.Match, value: str):
    """A surname and an honorific (葛先生反映) is the surname alone, as after a Latin title ("Mr. Okafor")."""
    title = re.search(rf"(?:{_HONORIFICS})$", value)
    if title and title.start() > 0:
        start = m.start("v")
        return (0.8, start, start + title.start()) if value[0] in surnames() else None
    return _cn_name_check("", m, value)


# A name in running text with no cue, where what follows is said only of a person: "杜明远的手机换号了",
# "莫晓燕来电"; at a clause start or after a word that takes a person (和, 给, 找, 让, 把 ...), and starting
# with a surname. Not 说 or 表示 after it: "项目说明", "据说", "黄色表示" (on 20,550 Chinese Alpaca texts this
# finds 2 non-names: 华为的手机, 党组织反映).
_PERSON_AFTER = (r"的(?:手机|电话|微信|邮箱|身份证|账户|账号|银行卡|生日|妈妈|爸爸|父母|孩子|丈夫|妻子)|你好|您好"
                 r"|生日|打电话|来电|反映")
CN_NAME_CONTEXT = Detector("PERSON", re.compile(
    r"(?:(?<=[和与跟给找让请把被由是叫向对、，,。：:；;！!？?\s（(])|^)(?P<v>[\u4e00-\u9fff]{2,3}?)"
    rf"(?={_PERSON_AFTER})"),
    _PERSON_AFTER, 0.8, lambda t, m, v: _without_honorific(m, v), name="cn name before words said of a person")

PROVINCES = "|".join(rules()["zh_provinces"])
_H = r"[\u4e00-\u9fff]"
CN_ADDRESS = Detector("LOCATION", re.compile(
    rf"(?P<v>(?:(?:{PROVINCES})(?:省|市|特别行政区|(?:壮族|回族|维吾尔)?自治区)?|(?<=[：:，,到至在于址\s]){_H}{{2,3}}市)"
    rf"(?:{_H}{{2,4}}?[市州盟])?(?:{_H}{{1,5}}?(?:区|县|旗))?(?:{_H}{{1,5}}?(?:镇|乡|街道))?"
    rf"[\u4e00-\u9fff\d]{{1,10}}?(?:路|街|大道|大街|巷|胡同|道)(?:\d+号(?:院)?)?(?:\d+(?:号楼|栋|幢|座|单元))?(?:\d+室)?)"),
    rf"(?:{PROVINCES}|市){_H}{{0,12}}(?:路|街|大道|巷|胡同|道)", 0.85, name="cn address")

DETECTORS = [CN_MOBILE, CN_RESIDENT_ID, CN_NAME, CN_NAME_ALONE, CN_NAME_TITLE, CN_NAME_CONTEXT, CN_ADDRESS]
