"""PII benchmark: per-entity precision/recall/F1 on a generated labelled-span set, and docs/second of the
`pii` stage's detector (BatchAnalyzerEngine in worker processes) against presidio's AnalyzerEngine used
one text at a time, both measured in this run on this machine.

    .venv/bin/python bench/pii.py                      # 600 docs, writes nothing
    .venv/bin/python bench/pii.py --docs 1200 --n-process 1 2 --json out.json

The evaluation set: English and Chinese templates filled with Faker values (en_US, en_GB, de_DE, zh_CN)
and values we build with valid checksums (Bitcoin base58check, GB 11643 resident IDs, Luhn cards come
from Faker); plus negative look-alikes that must produce no span (order and tracking numbers, versions,
ISBNs, decimals, example.com addresses, loopback IPs, code such as socket.bind). A prediction is correct
when it has the gold entity type and overlaps the gold span by IoU >= 0.5.

Peer: presidio AnalyzerEngine with its default recognisers and the same offline spaCy model (its default
en_core_web_lg cannot be downloaded here), analyze() one text at a time, score_threshold 0.5 except
PHONE_NUMBER 0.4 (presidio's own score without context). Entity names presidio lacks are not asked of it;
gold Chinese mobile numbers count as PHONE_NUMBER for presidio (its nearest type).
Not here: accuracy on real PII (we have no labelled real data; the templates are our own).
"""

from __future__ import annotations

import os
import sys

import argparse
import hashlib
import json
import random
import re
import string
import time
from collections import defaultdict

from faker import Faker

# ---------------------------------------------------------------- values

B58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"


def btc_address(rng: random.Random) -> str:
    payload = b"\x00" + bytes(rng.getrandbits(8) for _ in range(20))
    check = hashlib.sha256(hashlib.sha256(payload).digest()).digest()[:4]
    n = int.from_bytes(payload + check, "big")
    out = ""
    while n:
        n, r = divmod(n, 58)
        out = B58[r] + out
    return "1" + out  # one leading zero byte -> one "1"


AREA_CODES = ["212", "415", "617", "312", "206", "303", "512", "404", "702", "213", "646", "718", "305", "202"]


def us_phone(f: Faker, rng: random.Random) -> str:
    fmt = rng.choice(["(AAA) %##-####", "AAA-%##-####", "+1 AAA %## ####", "AAA.%##.####"])
    return f.numerify(fmt.replace("AAA", rng.choice(AREA_CODES)))


def dob(f: Faker, rng: random.Random, zh: bool = False) -> str:
    d = f.date_of_birth(minimum_age=18, maximum_age=90)
    if zh:
        return f"{d.year}年{d.month}月{d.day}日"
    return rng.choice([d.strftime("%B %-d, %Y"), d.strftime("%m/%d/%Y"), d.strftime("%Y-%m-%d"),
                       d.strftime("%-d %B %Y")])


def api_key(rng: random.Random) -> str:
    alnum = string.ascii_letters + string.digits
    return rng.choice([
        "sk-" + "".join(rng.choice(alnum) for _ in range(48)),
        "sk-proj-" + "".join(rng.choice(alnum + "_-") for _ in range(40)),
        "ghp_" + "".join(rng.choice(alnum) for _ in range(36)),
        "xoxb-" + "-".join("".join(rng.choice(string.digits) for _ in range(12)) for _ in range(2)) + "-" +
        "".join(rng.choice(alnum) for _ in range(24)),
        "AIza" + "".join(rng.choice(alnum + "_-") for _ in range(35)),
    ])


def aws_key(rng: random.Random) -> str:
    return "AKIA" + "".join(rng.choice(string.ascii_uppercase + string.digits) for _ in range(16))


def pem(rng: random.Random) -> str:
    body = "\n".join("".join(rng.choice(string.ascii_letters + string.digits + "+/") for _ in range(64)) for _ in range(4))
    kind = rng.choice(["RSA ", "EC ", "", "OPENSSH "])
    return f"-----BEGIN {kind}PRIVATE KEY-----\n{body}\n-----END {kind}PRIVATE KEY-----"


# ---------------------------------------------------------------- templates

EN = [
    ("Hi, I'm {PERSON}. Reach me at {EMAIL_ADDRESS} if anything changes.", None),
    ("Please call {PERSON} on {PHONE_NUMBER} before noon.", None),
    ("My phone number is {PHONE_NUMBER}, text me.", None),
    ("Customer {PERSON} paid with card {CREDIT_CARD} on Tuesday.", None),
    ("Transfer the deposit to IBAN {IBAN_CODE} by Friday.", None),
    ("Failed logins came from {IP_ADDRESS} three times.", None),
    ("Her portfolio lives at {URL} and is updated weekly.", None),
    ("Donations in bitcoin go to {CRYPTO}, thank you!", None),
    ("Applicant SSN: {US_SSN}. Do not share.", None),
    ("{PERSON} was born on {DATE_OF_BIRTH} in {LOCATION}.", None),
    ("Date of birth: {DATE_OF_BIRTH}", None),
    ("We are moving from {LOCATION} to {LOCATION} next spring.", None),
    ("Set OPENAI_API_KEY={API_KEY} in your shell.", None),
    ("The leaked token {API_KEY} was revoked.", None),
    ("aws_access_key_id = {AWS_KEY}", None),
    ("Here is my server key, keep it safe:\n{PRIVATE_KEY}\nthanks", None),
    ('config.password = "{SECRET}"', None),
    ("Forward the invoice to {EMAIL_ADDRESS} and cc {PERSON}.", None),
]
ZH = [
    ("我叫{PERSON}，手机号是{CN_MOBILE}，有事请联系。", None),
    ("联系人：{PERSON}，电话{CN_MOBILE}", None),
    ("身份证号：{CN_RESIDENT_ID}，姓名：{PERSON}。", None),
    ("请把材料发到{EMAIL_ADDRESS}，谢谢。", None),
    ("出生日期：{DATE_OF_BIRTH}，户籍所在地四川。", None),
    ("客户：{PERSON}，身份证{CN_RESIDENT_ID}，手机{CN_MOBILE}。", None),
    ("如有问题请拨打 +86 {CN_MOBILE}。", None),
]
NEGATIVE = [
    "Your order number is {ORDER}, it ships tomorrow.",
    "Tracking number: {ORDER}",
    "Upgrade numpy to version {VERSION} before running the tests.",
    "The book's ISBN is {ISBN}.",
    "ISBN {ISBN}",
    "const double PI = 3.{DIGITS};",
    "The result is {DECIMAL} after rounding.",
    "Send a test mail to {EXAMPLE_EMAIL} first.",
    "app.run(host='127.0.0.1', port={PORT})",
    "server_socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM); server_socket.bind(('', {PORT}))",
    "The meeting moved to {MEETING_DATE} at 10am.",
    "订单号：{ORDER}，请注意查收。",
    "快递单号{ORDER}已发出。",
    "请升级到版本{VERSION}。",
    "In 1642 the population was {POP} people.",
]


def fill(template: str, values: dict[str, callable]) -> tuple[str, list[tuple[str, int, int]]]:
    text, spans, pos = "", [], 0
    for m in re.finditer(r"\{([A-Z_]+)\}", template):
        text += template[pos:m.start()]
        value = values[m.group(1)]()
        if m.group(1).isupper() and m.group(1) in ENTITY_NAMES:
            spans.append((m.group(1), len(text), len(text) + len(value)))
        text += value
        pos = m.end()
    return text + template[pos:], spans


ENTITY_NAMES = {"PERSON", "EMAIL_ADDRESS", "PHONE_NUMBER", "CREDIT_CARD", "IBAN_CODE", "IP_ADDRESS", "URL",
                "CRYPTO", "US_SSN", "LOCATION", "DATE_OF_BIRTH", "CN_MOBILE", "CN_RESIDENT_ID", "API_KEY",
                "AWS_KEY", "PRIVATE_KEY", "SECRET"}


def build_set(n: int, seed: int = 0) -> list[dict]:
    rng = random.Random(seed)
    en, gb, de, zh = Faker("en_US"), Faker("en_GB"), Faker("de_DE"), Faker("zh_CN")
    for i, f in enumerate((en, gb, de, zh)):
        f.seed_instance(seed + i)
    alnum = string.ascii_letters + string.digits
    en_values = {
        "PERSON": en.name, "EMAIL_ADDRESS": lambda: rng.choice([en, gb, de]).free_email(),
        "PHONE_NUMBER": lambda: us_phone(en, rng), "CREDIT_CARD": en.credit_card_number,
        "IBAN_CODE": lambda: rng.choice([gb, de]).iban(), "IP_ADDRESS": en.ipv4_public,
        "URL": lambda: f"https://{en.domain_word()}-{en.user_name()}.{rng.choice(['net', 'io', 'org', 'dev'])}/{en.uri_path()}",
        "CRYPTO": lambda: btc_address(rng), "US_SSN": en.ssn, "LOCATION": lambda: rng.choice([en.city(), en.country()]),
        "DATE_OF_BIRTH": lambda: dob(en, rng), "API_KEY": lambda: api_key(rng), "AWS_KEY": lambda: aws_key(rng),
        "PRIVATE_KEY": lambda: pem(rng), "SECRET": lambda: "".join(rng.choice(alnum) for _ in range(14)) + str(rng.randint(10, 99)),
    }
    zh_values = {"PERSON": zh.name, "CN_MOBILE": zh.phone_number, "CN_RESIDENT_ID": zh.ssn,
                 "EMAIL_ADDRESS": zh.free_email, "DATE_OF_BIRTH": lambda: dob(zh, rng, zh=True)}
    neg_values = {
        "ORDER": lambda: "".join(rng.choice(string.digits) for _ in range(rng.choice([11, 14, 16]))),
        "VERSION": lambda: f"{rng.randint(1, 3)}.{rng.randint(0, 30)}.{rng.randint(0, 9)}",
        "ISBN": lambda: rng.choice([en.isbn13(), en.isbn10()]), "DIGITS": lambda: str(rng.randint(10**10, 10**11)),
        "DECIMAL": lambda: f"{rng.randint(0, 99)}.{rng.randint(10**6, 10**7)}",
        "EXAMPLE_EMAIL": lambda: f"{en.user_name()}@example.com", "PORT": lambda: str(rng.randint(1024, 9999)),
        "MEETING_DATE": lambda: en.date_between("-1y", "+1y").strftime("%B %-d, %Y"),
        "POP": lambda: f"{rng.randint(1000, 99999):,}",
    }
    docs = []
    for i in range(n):
        r = rng.random()
        if r < 0.55:
            tpl, values, lang = rng.choice(EN)[0], en_values, "en"
        elif r < 0.8:
            tpl, values, lang = rng.choice(ZH)[0], zh_values, "zh"
        else:
            tpl, values, lang = rng.choice(NEGATIVE), neg_values, "negative"
        text, spans = fill(tpl, values)
        docs.append({"id": i, "lang": lang, "text": text, "spans": spans})
    return docs


# ---------------------------------------------------------------- scoring


def iou(a: tuple[int, int], b: tuple[int, int]) -> float:
    inter = max(0, min(a[1], b[1]) - max(a[0], b[0]))
    return inter / (max(a[1], b[1]) - min(a[0], b[0]))


def score(docs: list[dict], predictions: list[list[tuple[str, int, int]]], entities: set[str],
          alias: dict[str, str] | None = None) -> dict[str, dict]:
    """alias maps gold types to the scored system's names (presidio calls a Chinese mobile PHONE_NUMBER)."""
    tp, fp, fn = defaultdict(int), defaultdict(int), defaultdict(int)
    alias = alias or {}
    for doc, pred in zip(docs, predictions):
        gold = [(alias.get(g[0], g[0]), g[1], g[2]) for g in doc["spans"]]
        gold = [g for g in gold if g[0] in entities]
        used = set()
        for p in pred:
            if p[0] not in entities:
                continue
            hit = next((j for j, g in enumerate(gold) if j not in used and g[0] == p[0]
                        and iou((g[1], g[2]), (p[1], p[2])) >= 0.5), None)
            if hit is None:
                fp[p[0]] += 1
            else:
                used.add(hit)
                tp[p[0]] += 1
        for j, g in enumerate(gold):
            if j not in used:
                fn[g[0]] += 1
    out = {}
    for e in sorted(entities | set(tp) | set(fp) | set(fn)):
        p = tp[e] / (tp[e] + fp[e]) if tp[e] + fp[e] else 0.0
        r = tp[e] / (tp[e] + fn[e]) if tp[e] + fn[e] else 0.0
        out[e] = {"tp": tp[e], "fp": fp[e], "fn": fn[e], "precision": round(p, 3), "recall": round(r, 3),
                  "f1": round(2 * p * r / (p + r), 3) if p + r else 0.0}
    T, F, N = sum(tp.values()), sum(fp.values()), sum(fn.values())
    P, R = (T / (T + F) if T + F else 0.0), (T / (T + N) if T + N else 0.0)
    out["ALL"] = {"tp": T, "fp": F, "fn": N, "precision": round(P, 3), "recall": round(R, 3),
                  "f1": round(2 * P * R / (P + R), 3) if P + R else 0.0}
    return out


# ---------------------------------------------------------------- systems


def run_dsforge(texts: list[str], n_process: int) -> tuple[list[list[tuple[str, int, int]]], float]:
    from dsforge.filters import pii

    neg = pii.negative_cue_regex(pii.DEFAULT_NEGATIVE_CUES)
    allow = [re.compile(p, re.I) for p in pii.DOCUMENTATION_VALUES]
    t = time.perf_counter()
    raw = pii.analyze_texts(texts, pii.DEFAULT_ENTITIES, n_process=n_process)
    preds = [[(s.entity, s.start, s.end) for s in pii.resolve_spans(text, r, pii.DEFAULT_THRESHOLDS, set(), allow, neg)]
             for text, r in zip(texts, raw)]
    return preds, time.perf_counter() - t


def presidio_engine():
    from presidio_analyzer import AnalyzerEngine
    from presidio_analyzer.nlp_engine import NlpEngineProvider

    from dsforge.filters.pii import SPACY_MODEL, _offline_tldextract

    _offline_tldextract()
    provider = NlpEngineProvider(nlp_configuration={"nlp_engine_name": "spacy",
                                                    "models": [{"lang_code": "en", "model_name": SPACY_MODEL}]})
    return AnalyzerEngine(nlp_engine=provider.create_engine(), supported_languages=["en"])


PRESIDIO_ENTITIES = ["PERSON", "EMAIL_ADDRESS", "PHONE_NUMBER", "CREDIT_CARD", "IBAN_CODE", "IP_ADDRESS", "URL",
                     "CRYPTO", "US_SSN", "LOCATION"]


def run_presidio(engine, texts: list[str]) -> tuple[list[list[tuple[str, int, int]]], float]:
    t = time.perf_counter()
    preds = []
    for text in texts:
        res = engine.analyze(text=text, language="en", entities=PRESIDIO_ENTITIES, score_threshold=0.4)
        preds.append([(r.entity_type, r.start, r.end) for r in res
                      if r.score >= (0.4 if r.entity_type == "PHONE_NUMBER" else 0.5)])
    return preds, time.perf_counter() - t


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--docs", type=int, default=600)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--n-process", type=int, nargs="+", default=[1, 2])
    ap.add_argument("--json", help="also write the figures to this file")
    args = ap.parse_args(argv)

    import logging
    logging.getLogger("presidio-analyzer").setLevel(logging.ERROR)
    docs = build_set(args.docs, args.seed)
    texts = [d["text"] for d in docs]
    print(f"eval set: {len(docs)} docs ({sum(d['lang'] == 'en' for d in docs)} en, "
          f"{sum(d['lang'] == 'zh' for d in docs)} zh, {sum(d['lang'] == 'negative' for d in docs)} negative "
          f"look-alikes), {sum(len(d['spans']) for d in docs)} gold spans; cpu cores: {os.cpu_count()}")

    from dsforge.filters import pii
    t = time.perf_counter()
    pii.build_analyzer(pii.SPACY_MODEL)
    load_ours = time.perf_counter() - t
    t = time.perf_counter()
    engine = presidio_engine()
    load_peer = time.perf_counter() - t
    # warm both (first calls compile regexes, load phonenumbers metadata)
    run_dsforge(texts[:20], 1)
    run_presidio(engine, texts[:20])

    results: dict = {"docs": len(docs), "cores": os.cpu_count(), "load_s": {"dsforge": round(load_ours, 2),
                                                                            "presidio": round(load_peer, 2)}}
    peer_preds, peer_s = run_presidio(engine, texts)
    results["presidio_one_at_a_time"] = {"seconds": round(peer_s, 2), "docs_per_s": round(len(texts) / peer_s, 1)}
    ours = {}
    for n in args.n_process:
        preds, secs = run_dsforge(texts, n)
        ours[n] = preds
        results[f"dsforge_batch_n_process_{n}"] = {"seconds": round(secs, 2), "docs_per_s": round(len(texts) / secs, 1),
                                                   "speedup_vs_presidio": round(peer_s / secs, 2)}
    ours_preds = ours[args.n_process[0]]
    same = all(ours[n] == ours_preds for n in args.n_process)
    results["dsforge_scores"] = score(docs, ours_preds, ENTITY_NAMES)
    results["presidio_scores"] = score(docs, peer_preds, set(PRESIDIO_ENTITIES),
                                       alias={"CN_MOBILE": "PHONE_NUMBER"})
    results["negatives"] = {
        "docs": sum(d["lang"] == "negative" for d in docs),
        "dsforge_docs_with_a_span": sum(1 for d, p in zip(docs, ours_preds) if d["lang"] == "negative" and p),
        "presidio_docs_with_a_span": sum(1 for d, p in zip(docs, peer_preds) if d["lang"] == "negative" and p),
    }

    print("\nthroughput (same machine, same run)")
    print(f"  presidio AnalyzerEngine, one text at a time: {results['presidio_one_at_a_time']['docs_per_s']:>7} docs/s")
    for n in args.n_process:
        r = results[f"dsforge_batch_n_process_{n}"]
        print(f"  dsforge pii, BatchAnalyzerEngine, n_process={n}: {r['docs_per_s']:>7} docs/s  "
              f"({r['speedup_vs_presidio']}x presidio)")
    print(f"  identical spans for every n_process: {same}")
    print("\nper entity        dsforge P / R / F1        presidio P / R / F1   (IoU >= 0.5, same type)")
    for e in sorted(ENTITY_NAMES) + ["ALL"]:
        a = results["dsforge_scores"].get(e)
        b = results["presidio_scores"].get(e)
        fa = f"{a['precision']:.2f} / {a['recall']:.2f} / {a['f1']:.2f}" if a else "-"
        fb = f"{b['precision']:.2f} / {b['recall']:.2f} / {b['f1']:.2f}" if b and e in PRESIDIO_ENTITIES + ["ALL"] else "not offered"
        print(f"  {e:<16} {fa:<26} {fb}")
    neg = results["negatives"]
    print(f"\nnegative look-alikes with any span: dsforge {neg['dsforge_docs_with_a_span']}/{neg['docs']}, "
          f"presidio {neg['presidio_docs_with_a_span']}/{neg['docs']}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
