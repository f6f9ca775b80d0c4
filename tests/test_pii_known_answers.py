"""Every recogniser registered in the pii stage's presidio RecognizerRegistry, called through presidio's interface
(`recognizer.analyze(text, entities)`) on a text with a known answer: the value it must find and its entity.
A new recogniser without a row here fails test_every_registered_recogniser_has_a_known_answer. (Span-exact known
answers per detector and look-alike class: test_pii_recognizers.py.)"""

from __future__ import annotations

import pytest

from dsforge.filters.pii_names import SPACY_MODEL
from dsforge.filters.pii_recognizers import build_registry

ENTITIES = {"PERSON", "LOCATION", "DATE", "DATE_OF_BIRTH", "EMAIL_ADDRESS", "PHONE_NUMBER", "CREDIT_CARD", "IBAN_CODE",
            "IP_ADDRESS", "URL", "US_SSN", "CN_MOBILE", "CN_RESIDENT_ID", "API_KEY", "AWS_KEY", "PRIVATE_KEY", "SECRET",
            "CRYPTO", "UK_NHS", "UK_NINO"}

# recogniser name -> (text, the value it must find, entity)
KNOWN = {
    "email": ("Write to priya.nair@northwind-mail.co.uk for the invoice.", "priya.nair@northwind-mail.co.uk", "EMAIL_ADDRESS"),
    "url": ("My portfolio: https://jdoe-photos.net/gallery?id=88 (private).", "https://jdoe-photos.net/gallery?id=88", "URL"),
    "phone": ("Call me on (415) 555-0142 after six.", "(415) 555-0142", "PHONE_NUMBER"),
    "card": ("Card: 4539 1488 0343 6467, exp 09/27.", "4539 1488 0343 6467", "CREDIT_CARD"),
    "iban": ("Pay to IBAN GB82 WEST 1234 5698 7654 32 by Friday.", "GB82 WEST 1234 5698 7654 32", "IBAN_CODE"),
    "ssn": ("SSN 536-22-8726 on the W-2 form.", "536-22-8726", "US_SSN"),
    "ipv4": ("The attack came from 81.2.69.160 last night.", "81.2.69.160", "IP_ADDRESS"),
    "ipv6": ("Her laptop had 2a02:c7f:7c28:6400:d1c5:33ad:9f2e:1b07 at home.", "2a02:c7f:7c28:6400:d1c5:33ad:9f2e:1b07", "IP_ADDRESS"),
    "btc": ("Send it to 1BoatSLRHtKNngkdXEeobR76b53LETtpyT please.", "1BoatSLRHtKNngkdXEeobR76b53LETtpyT", "CRYPTO"),
    "api key": ("OPENAI_API_KEY=sk-proj-Xa81kq0LmP3vN7rT2yW9zB4cD6eF8gH0jK", "sk-proj-Xa81kq0LmP3vN7rT2yW9zB4cD6eF8gH0jK", "API_KEY"),
    "aws key id": ("aws_access_key_id = AKIAZ7Q3WXYV4KMN2PLR", "AKIAZ7Q3WXYV4KMN2PLR", "AWS_KEY"),
    "aws secret": ("aws_secret_access_key = 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", "9sF2kLmQ8vXr4TnB7wYc1ZpD3hJ6gE0aUiOyRt5K", "AWS_KEY"),
    "pem": ("-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEAu1SU1LfVLPHCozMxH2Mo4lgOEePzNm0tRgeLezV6ffAt0gun\n"
            "-----END RSA PRIVATE KEY-----", "-----BEGIN RSA PRIVATE KEY-----", "PRIVATE_KEY"),  # the whole block
    "secret": ('db_password = "Tr0ub4dor&3xQ!"', "Tr0ub4dor&3xQ!", "SECRET"),
    "date": ("Date of birth: 14/03/1987", "14/03/1987", "DATE"),  # the engine makes it DATE_OF_BIRTH by context
    "cn mobile": ("请拨打13812345678联系我。", "13812345678", "CN_MOBILE"),
    "cn resident id": ("身份证号：11010519491231002X", "11010519491231002X", "CN_RESIDENT_ID"),
    "cn name after a labelled cue": ("姓名：王建国，电话见下。", "王建国", "PERSON"),
    "cn name after a cue word": ("联系人张伟，明天到。", "张伟", "PERSON"),
    "cn name before honorific": ("会议由李明先生主持。", "李明", "PERSON"),
    "cn name before words said of a person": ("我和刘洋的手机都没电了。", "刘洋", "PERSON"),
    "cn address": ("地址：北京市海淀区中关村大街27号", "北京市海淀区中关村大街27号", "LOCATION"),
    "street address": ("Ship to 4821 Larchmont Drive, Fresno, CA 93722 by Monday.",
                       "4821 Larchmont Drive, Fresno, CA 93722", "LOCATION"),
    "eu street address": ("Lieferadresse: Hauptstraße 12, 10115 Berlin.", "Hauptstraße 12, 10115 Berlin", "LOCATION"),
    "phone matcher": ("WhatsApp +44 7911 123456 if late.", "+44 7911 123456", "PHONE_NUMBER"),
    "name cues and gazetteer": ("Dear Olumide Adeyemi, your parcel is ready.", "Olumide Adeyemi", "PERSON"),
    "place gazetteer": ("She moved from Thessaloniki last year.", "Thessaloniki", "LOCATION"),
    "spacy ner": ("Yesterday Margaret Thornbury signed the lease.", "Margaret Thornbury", "PERSON"),
    "ContextNhsRecognizer": ("NHS number 943 476 5919 is on the letter.", "943 476 5919", "UK_NHS"),
    "UkNinoRecognizer": ("National Insurance number: AB 12 34 56 C.", "AB 12 34 56 C", "UK_NINO"),
}


@pytest.fixture(scope="module")
def registry():
    return build_registry(ENTITIES, SPACY_MODEL)


def test_every_registered_recogniser_has_a_known_answer(registry):
    assert {r.name for r in registry.recognizers} == set(KNOWN)


@pytest.mark.parametrize("name", sorted(KNOWN))
def test_recogniser_finds_its_known_answer(registry, name):
    text, value, entity = KNOWN[name]
    rec = next(r for r in registry.recognizers if r.name == name)
    found = {(r.entity_type, text[r.start:r.end]) for r in rec.analyze(text, sorted(ENTITIES))}
    assert any(e == entity and (v == value or (name == "pem" and v.startswith(value) and v.endswith("KEY-----")))
               for e, v in found), found
