"""Presidio recognisers for PII that presidio lacks but our users meet: Chinese mobile numbers and resident
ID numbers (with the GB 11643 checksum), API keys and secrets (`sk-...`, GitHub, Slack, Google, Stripe,
Hugging Face; `password = ...` as SECRET), AWS keys, PEM private keys, dates of birth (a date *next to* a birth cue
in English or Chinese) and Chinese personal names after an explicit cue (我叫, 姓名：...).

Why patterns and not a model: these are formats, and a checksum or a cue word is a better signal than a
small NER model trained on news. Secrets use `(?-i:...)` because presidio matches with IGNORECASE.

Not here: engine set-up, thresholds and redaction (pii.py).
"""

from __future__ import annotations

from datetime import date

from presidio_analyzer import Pattern, PatternRecognizer

# ---------------------------------------------------------------- Chinese resident ID (GB 11643-1999)

_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"


def cn_id_check_char(first17: str) -> str:
    """The 18th character of a resident ID number (ISO 7064 MOD 11-2 as in GB 11643)."""
    return _ID_CHECK[sum(int(c) * w for c, w in zip(first17, _ID_WEIGHTS)) % 11]


def is_valid_cn_id(value: str) -> bool:
    v = value.strip().upper()
    if len(v) != 18 or not v[:17].isdigit():
        return False
    try:
        date(int(v[6:10]), int(v[10:12]), int(v[12:14]))
    except ValueError:
        return False
    return cn_id_check_char(v[:17]) == v[17]


class CnResidentIdRecognizer(PatternRecognizer):
    PATTERNS = [Pattern("cn resident id", r"(?<![0-9A-Za-z])[1-9]\d{5}(?:18|19|20)\d{2}(?:0[1-9]|1[0-2])"
                                          r"(?:0[1-9]|[12]\d|3[01])\d{3}[0-9Xx](?![0-9A-Za-z])", 0.5)]
    CONTEXT = ["身份证", "身份证号", "证件号", "id", "identity", "resident"]

    def __init__(self, supported_language: str = "en"):
        super().__init__(supported_entity="CN_RESIDENT_ID", patterns=self.PATTERNS, context=self.CONTEXT,
                         supported_language=supported_language, name="CnResidentIdRecognizer")

    def validate_result(self, pattern_text: str) -> bool:
        return is_valid_cn_id(pattern_text)  # True -> score 1.0, False -> dropped


# ---------------------------------------------------------------- Chinese mobile numbers

class CnMobileRecognizer(PatternRecognizer):
    # 1[3-9]x xxxx xxxx, optionally +86 / 0086, separators - or space in the 3-4-4 places; no digit around.
    PATTERNS = [
        Pattern("cn mobile", r"(?<![\d\-/])(?<!\d\.)(?:(?:\+|00)86[\s-]?)?1[3-9]\d(?:[\s-]?\d{4}){2}(?![\d\-/])(?!\.\d)", 0.55),
    ]
    CONTEXT = ["手机", "电话", "联系", "致电", "拨打", "mobile", "phone", "tel", "call", "whatsapp", "wechat", "微信"]

    def __init__(self, supported_language: str = "en"):
        super().__init__(supported_entity="CN_MOBILE", patterns=self.PATTERNS, context=self.CONTEXT,
                         supported_language=supported_language, name="CnMobileRecognizer")


# ---------------------------------------------------------------- secrets

class ApiKeyRecognizer(PatternRecognizer):
    PATTERNS = [
        Pattern("openai/anthropic key", r"(?-i:\bsk-(?:proj-|ant-(?:api\d\d-)?)?[A-Za-z0-9_\-]{20,})", 0.9),
        Pattern("github token", r"(?-i:\b(?:gh[pousr]_[A-Za-z0-9]{36,}|github_pat_[A-Za-z0-9_]{40,}))", 0.95),
        Pattern("slack token", r"(?-i:\bxox[abprs]-[A-Za-z0-9-]{10,})", 0.9),
        Pattern("google api key", r"(?-i:\bAIza[0-9A-Za-z_\-]{35})", 0.9),
        Pattern("stripe key", r"(?-i:\b[sr]k_(?:live|test)_[0-9A-Za-z]{16,})", 0.9),
        Pattern("hugging face token", r"(?-i:\bhf_[A-Za-z]{30,})", 0.85),
    ]
    CONTEXT = ["key", "token", "secret", "api", "密钥"]

    def __init__(self, supported_language: str = "en"):
        super().__init__(supported_entity="API_KEY", patterns=self.PATTERNS, context=self.CONTEXT,
                         supported_language=supported_language, name="ApiKeyRecognizer")


class AssignedSecretRecognizer(PatternRecognizer):
    """`password = "..."`, `api_key: ...`: the value after a secret-sounding name. Its own entity (SECRET)
    because tutorial code is full of `password = "secret123"`; vendor-format keys are API_KEY."""

    PATTERNS = [
        # key = value assignments; the name is context, only the value is the entity.
        Pattern("assigned secret",
                r"(?<=(?:api[_-]?key|apikey|secret(?:[_-]?key)?|access[_-]?token|auth[_-]?token|password|passwd)"
                r"[\"']?\s*[:=]\s*[\"']?)(?=[A-Za-z0-9_\-+/=]*\d)(?=[A-Za-z0-9_\-+/=]*[A-Za-z])"
                r"[A-Za-z0-9_\-+/=]{12,}", 0.6),
    ]

    def __init__(self, supported_language: str = "en"):
        super().__init__(supported_entity="SECRET", patterns=self.PATTERNS, supported_language=supported_language,
                         name="AssignedSecretRecognizer")


class AwsKeyRecognizer(PatternRecognizer):
    PATTERNS = [
        Pattern("aws access key id", r"(?-i:(?<![A-Z0-9])(?:AKIA|ASIA|ABIA|ACCA)[A-Z0-9]{16}(?![A-Z0-9]))", 0.9),
        Pattern("aws secret access key",
                r"(?<=aws_?secret(?:_?access)?_?key[\"']?\s*[:=]\s*[\"']?)[A-Za-z0-9/+]{40}(?![A-Za-z0-9/+])", 0.9),
    ]

    def __init__(self, supported_language: str = "en"):
        super().__init__(supported_entity="AWS_KEY", patterns=self.PATTERNS, context=["aws", "amazon", "iam"],
                         supported_language=supported_language, name="AwsKeyRecognizer")


class PrivateKeyRecognizer(PatternRecognizer):
    # The whole PEM block; a block cut off before its END line is taken to the end of its base64 body,
    # so redaction never leaves half a key behind.
    PATTERNS = [Pattern(
        "pem private key",
        r"(?-i:-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----(?:[\s\S]*?-----END (?:[A-Z0-9]+ )*PRIVATE KEY"
        r"(?: BLOCK)?-----|[A-Za-z0-9+/=\s]*(?:\.{3}|…)?))", 1.0)]

    def __init__(self, supported_language: str = "en"):
        super().__init__(supported_entity="PRIVATE_KEY", patterns=self.PATTERNS,
                         supported_language=supported_language, name="PrivateKeyRecognizer")


# ---------------------------------------------------------------- dates of birth

_MONTHS = (r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sep(?:t(?:ember)?)?"
           r"|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\.?")
_DATE = (rf"(?:\d{{4}}[-/.]\d{{1,2}}[-/.]\d{{1,2}}|\d{{1,2}}[-/.]\d{{1,2}}[-/.]\d{{2,4}}"
         rf"|{_MONTHS}\s+\d{{1,2}}(?:st|nd|rd|th)?,?\s+\d{{4}}|\d{{1,2}}(?:st|nd|rd|th)?\s+(?:of\s+)?{_MONTHS},?\s+\d{{4}}"
         rf"|\d{{4}}\s*年\s*\d{{1,2}}\s*月\s*\d{{1,2}}\s*[日号])")
_BIRTH_CUE = (r"(?:\bborn(?:\s+on)?|\bd\.?o\.?b\.?|date\s+of\s+birth|birth\s*date|birthday(?:\s+is)?"
              r"|出生(?:日期|年月日|于|在|时间)?|生日(?:是)?)")


class DateOfBirthRecognizer(PatternRecognizer):
    PATTERNS = [Pattern("date after a birth cue", rf"(?<={_BIRTH_CUE}\s*[:：,]?\s*(?:is\s+|on\s+|was\s+)?){_DATE}", 0.85)]

    def __init__(self, supported_language: str = "en"):
        super().__init__(supported_entity="DATE_OF_BIRTH", patterns=self.PATTERNS,
                         supported_language=supported_language, name="DateOfBirthRecognizer")


# ---------------------------------------------------------------- Chinese names after a cue

class CnNameRecognizer(PatternRecognizer):
    """Chinese personal names only where the text says so (我叫X, 姓名：X, 联系人：X): en_core_web_sm does
    not read Chinese, and a bare 2-3 character span is far too often an ordinary word."""

    PATTERNS = [Pattern(
        "cn name after cue",
        r"(?<=(?:我叫|我的名字是|姓名\s*[:：]|联系人\s*[:：]?|收件人\s*[:：]?|患者\s*[:：]|客户\s*[:：]|申请人\s*[:：]?)\s*)"
        r"[\u4e00-\u9fff·]{2,4}?(?=[，,。.\s;；:：、（(]|的|先生|女士|$|\d)", 0.85)]

    def __init__(self, supported_language: str = "en"):
        super().__init__(supported_entity="PERSON", patterns=self.PATTERNS,
                         supported_language=supported_language, name="CnNameRecognizer")


class SchemaUrlRecognizer(PatternRecognizer):
    """URLs with a scheme or a www. prefix only. presidio's own URL recogniser also takes bare `name.tld`
    with no boundary after the TLD, so in code `socket.bind` (.bi) and `socket.AF_INET` (.af) are "URLs"."""

    def __init__(self, supported_language: str = "en"):
        from presidio_analyzer.predefined_recognizers import UrlRecognizer

        base = UrlRecognizer.BASE_URL_REGEX
        end = r"(?![a-z0-9\-])"
        patterns = [Pattern("url with scheme", r"(?i)\b(?:https?|ftp)://" + base + end, 0.6),
                    Pattern("www url", r"(?i)(?<![\w.@/])(?=www\d{0,3}\.)" + base + end, 0.55)]
        super().__init__(supported_entity="URL", patterns=patterns, context=["url", "website", "link", "网址", "链接"],
                         supported_language=supported_language, name="SchemaUrlRecognizer")


def custom_recognizers(language: str = "en") -> list[PatternRecognizer]:
    return [CnResidentIdRecognizer(language), CnMobileRecognizer(language), ApiKeyRecognizer(language),
            AssignedSecretRecognizer(language), SchemaUrlRecognizer(language),
            AwsKeyRecognizer(language), PrivateKeyRecognizer(language), DateOfBirthRecognizer(language),
            CnNameRecognizer(language)]
