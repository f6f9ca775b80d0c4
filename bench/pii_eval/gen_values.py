"""Values for the independent English PII sets (issue 28): names of many cultures (Faker locales plus short
hand lists in gen_names.json), real cities (gen_places.json), street addresses in each country's own format,
phone numbers that `phonenumbers` calls valid, dates in many formats, Luhn-valid cards, mod-97-valid IBANs,
SSNs, public IPs, e-mails and personal URLs; and values that are not PII (order numbers, prices, versions).

Written for the evaluation only, without looking at the detector's rules, so the sets test it rather than
mirror it. Every maker takes the `Profile` of the text (a country) so the values of one text fit together.
"""

from __future__ import annotations

import datetime
import json
import random
import string
import unicodedata
from dataclasses import dataclass
from pathlib import Path

import phonenumbers as pn
from checks import luhn_ok  # the sets' own checksum, shared with reader.py
from faker import Faker

HERE = Path(__file__).resolve().parent
PLACES = json.loads((HERE / "gen_places.json").read_text(encoding="utf-8"))
HAND_NAMES = json.loads((HERE / "gen_names.json").read_text(encoding="utf-8"))
ROMANISED = {"ja_JP", "zh_CN"}  # Faker locales whose names we take in Latin script
MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
          "November", "December"]
STREET_WORDS = ["Oak", "Maple", "Church", "Mill", "High", "Park", "Station", "Victoria", "King", "Queen", "Elm",
                "Cedar", "Lake", "Hill", "River", "Bridge", "Market", "North", "School", "Green", "Willow", "Chestnut",
                "Orchard", "Meadow", "Forest", "Spring", "Highland", "Sunset", "Pine", "Birch", "Harbour", "Abbey"]
US_SUFFIX = ["Street", "St", "St.", "Avenue", "Ave", "Ave.", "Road", "Rd", "Boulevard", "Blvd", "Lane", "Ln",
             "Drive", "Dr", "Court", "Ct", "Way", "Place", "Pl", "Terrace", "Parkway", "Circle"]
UK_SUFFIX = ["Street", "Road", "Lane", "Close", "Crescent", "Gardens", "Grove", "Avenue", "Way", "Terrace", "Mews",
             "Drive", "Place", "Rise", "Walk", "Square"]
INDIA_ROADS = ["MG Road", "Residency Road", "Linking Road", "Park Street", "Anna Salai", "Brigade Road",
               "Nehru Nagar Main Road", "Ring Road", "Station Road", "Gandhi Marg", "Church Street", "Hill Road"]
INDIA_AREAS = ["Koramangala", "Indiranagar", "Bandra West", "Andheri East", "T. Nagar", "Salt Lake", "Jayanagar",
               "Banjara Hills", "Kothrud", "Vasant Kunj", "Powai", "Whitefield", "Adyar", "Viman Nagar"]
BUILDINGS = ["Sunrise Apartments", "Green Park Residency", "Lakeview Towers", "Prestige Meadows", "Shanti Niketan",
             "Orchid Heights", "Rose Court", "Kingfisher House", "Carlton Mansions", "Riverside Lofts"]
JP_TOWNS = ["Jingumae", "Ebisu", "Roppongi", "Akasaka", "Umeda", "Namba", "Sakae", "Tenjin", "Nishiki", "Kichijoji"]
MAIL_DOMAINS = ["gmail.com", "outlook.com", "yahoo.com", "hotmail.co.uk", "icloud.com", "proton.me", "web.de",
                "gmx.de", "orange.fr", "libero.it", "yahoo.co.in", "rediffmail.com", "uol.com.br", "wp.pl",
                "btinternet.com", "aol.com", "mail.com", "fastmail.fm", "shaw.ca", "bigpond.com", "zoho.com"]
COMPANY_DOMAINS = ["northwindlogistics.com", "bluepeak.io", "harbourline.co.uk", "kestrel-health.org", "lumen-bank.eu",
                   "tandem-hr.com", "orbitalfreight.net", "greenleaf.edu", "cobaltlabs.dev", "meridian-care.org"]
IBAN_FORMATS = {  # country: BBAN as (kind, length) runs, n = digits, a = upper letters, c = alphanumeric
    "DE": [("n", 18)], "GB": [("a", 4), ("n", 14)], "FR": [("n", 10), ("c", 11), ("n", 2)],
    "ES": [("n", 20)], "IT": [("a", 1), ("n", 10), ("c", 12)], "NL": [("a", 4), ("n", 10)],
    "BE": [("n", 12)], "CH": [("n", 5), ("c", 12)], "PL": [("n", 24)], "PT": [("n", 21)],
    "IE": [("a", 4), ("n", 14)], "AT": [("n", 16)], "DK": [("n", 14)], "SE": [("n", 20)], "NO": [("n", 11)]}
CARD_PREFIXES = [("4", 16), ("4", 16), ("51", 16), ("53", 16), ("55", 16), ("2221", 16), ("2720", 16), ("34", 15),
                 ("37", 15), ("6011", 16), ("65", 16), ("3528", 16), ("3589", 16), ("36", 14)]


def strip_accents_for_mail(s: str) -> str:
    s = unicodedata.normalize("NFKD", s).encode("ascii", "ignore").decode()
    return "".join(ch for ch in s.lower() if ch.isalnum())


@dataclass
class Profile:
    """The country a text is set in: its cities, phone region, name cultures and address format."""
    code: str
    rng: random.Random
    fakers: dict

    @property
    def spec(self) -> dict:
        return PLACES[self.code]

    def faker(self, loc: str) -> Faker:
        if loc not in self.fakers:
            f = Faker(loc)
            f.seed_instance(self.rng.randrange(1 << 30))
            self.fakers[loc] = f
        return self.fakers[loc]

    # ------------------------------------------------------------ names
    def name_parts(self) -> tuple[str, str]:
        locs = self.spec["names"]
        loc = self.rng.choice(locs) if self.rng.random() < 0.8 else self.rng.choice(
            ["en_US", "en_GB", "en_IN", "de_DE", "fr_FR", "es_MX", "it_IT", "pt_BR", "nl_NL", "pl_PL", "ja_JP",
             "zh_CN", "vi_VN", "tr_TR", "yo_NG", "ig_NG", "sw", "ga_IE", "fi_FI", "sv_SE", "cs_CZ", "id_ID",
             "zu_ZA", "ar", "ko", "ha", "af"])
        if loc in HAND_NAMES:
            return self.rng.choice(HAND_NAMES[loc]["first"]), self.rng.choice(HAND_NAMES[loc]["last"])
        f = self.faker(loc)
        if loc in ROMANISED:
            return f.first_romanized_name(), f.last_romanized_name()
        return f.first_name(), f.last_name()

    def full_name(self) -> str:
        first, last = self.name_parts()
        r = self.rng.random()
        if r < 0.10:
            return f"{first} {self.rng.choice(string.ascii_uppercase)}. {last}"
        if r < 0.18:
            return f"{first} {self.name_parts()[0]} {last}"
        return f"{first} {last}"

    def person(self) -> dict:
        """One person: the parts a template may use, all the same person."""
        first, last = self.name_parts()
        mid = self.rng.choice(string.ascii_uppercase)
        r = self.rng.random()
        full = f"{first} {mid}. {last}" if r < 0.1 else f"{first} {last}"
        user = self.rng.choice([f"{first}.{last}", f"{first[0]}{last}", f"{first}{last[0]}", f"{first}_{last}",
                                f"{last}.{first}", f"{first}{self.rng.randint(1, 99)}"])
        if r > 0.96:  # forms and labels often write the whole name in capitals
            full = full.upper()
        return {"NAME": full, "FIRST": first, "LAST": last, "INITIAL_LAST": f"{first[0]}. {last}",
                "LAST_FIRST": f"{last}, {first}", "UPPER_NAME": f"{last.upper()} {first}",
                "LOWER_FIRST": first.lower(), "user": strip_accents_for_mail(user) or "user"}

    # ------------------------------------------------------------ places
    def city(self) -> tuple[str, str]:
        return tuple(self.rng.choice(self.spec["cities"]))

    def country(self) -> str:
        return self.rng.choice(self.spec["country"])

    def street_line(self) -> str:
        c, rng = self.code, self.rng
        if c in ("US", "CA", "AU", "NZ", "IE", "GB", "ZA", "NG", "SG", "KE"):
            base = rng.choice(STREET_WORDS) if rng.random() < 0.5 else self.faker("en_US").last_name()
            suffix = rng.choice(US_SUFFIX if c in ("US", "CA") else UK_SUFFIX)
            pre = rng.choice(["", "", "", "North ", "S. ", "West ", "E "]) if c in ("US", "CA") else ""
            return f"{rng.randint(1, 9999) if c in ('US', 'CA') else rng.randint(1, 240)} {pre}{base} {suffix}"
        if c == "IN":
            return f"{rng.randint(1, 120)}, {rng.choice(INDIA_ROADS)}"
        if c == "JP":
            return f"{rng.randint(1, 5)}-{rng.randint(1, 30)}-{rng.randint(1, 20)} {rng.choice(JP_TOWNS)}"
        loc = {"DE": "de_DE", "FR": "fr_FR", "ES": "es_ES", "IT": "it_IT", "NL": "nl_NL", "PL": "pl_PL",
               "BR": "pt_BR", "MX": "es_MX"}[c]
        street = self.faker(loc).street_name()
        num = rng.randint(1, 180)
        if c == "FR":
            return f"{num}{rng.choice(['', '', ' bis'])}, {street}" if rng.random() < 0.5 else f"{num} {street}"
        if c in ("BR", "MX"):
            return f"{street}, {num}" if c == "BR" else f"{street} {num}"
        if c == "PL":
            return f"ul. {street} {num}{rng.choice(['', '/' + str(rng.randint(1, 40))])}"
        return f"{street} {num}{rng.choice(['', '', 'a', 'b'])}" if c in ("DE", "NL") else f"{street} {num}"

    def unit(self) -> str:
        c, rng = self.code, self.rng
        n = rng.randint(1, 40)
        if c in ("US", "CA"):
            return rng.choice([f"Apt {n}{rng.choice('ABCD')}", f"Apt. {n}", f"Suite {n * 10}", f"Unit {n}",
                               f"#{n * 10 + 2}", f"Ste {n * 100}", f"Fl {rng.randint(2, 9)}"])
        if c in ("GB", "IE", "NZ", "ZA"):
            return rng.choice([f"Flat {n}", f"Flat {n}{rng.choice('ABC')}", f"Apartment {n}", f"Unit {n}"])
        if c == "AU":
            return rng.choice([f"Unit {n}", f"Apt {n}", f"Level {rng.randint(2, 12)}"])
        if c == "DE":
            return rng.choice([f"{rng.randint(1, 4)}. OG", "Hinterhaus", f"Whg. {n}"])
        if c == "FR":
            return rng.choice([f"Appartement {n}", f"Bât. {rng.choice('ABC')}", f"Esc. {rng.randint(1, 4)}"])
        if c == "IN":
            return f"Flat No. {rng.randint(1, 12)}0{rng.randint(1, 9)}, {rng.choice(BUILDINGS)}"
        return rng.choice([f"Apt {n}", f"Piso {rng.randint(1, 9)}", f"#{n}"])

    def postcode(self) -> str:
        c, rng = self.code, self.rng
        if c == "US":
            z = f"{rng.randint(1001, 99950):05d}"
            return z + (f"-{rng.randint(1, 9999):04d}" if rng.random() < 0.2 else "")
        loc = {"GB": "en_GB", "CA": "en_CA", "AU": "en_AU", "IE": "en_IE", "NZ": "en_NZ", "DE": "de_DE",
               "FR": "fr_FR", "ES": "es_ES", "IT": "it_IT", "NL": "nl_NL", "PL": "pl_PL", "BR": "pt_BR",
               "MX": "es_MX"}.get(c)
        if loc:
            pc = self.faker(loc).postcode()
            if c == "NL" and " " not in pc:
                pc = pc[:4] + " " + pc[4:]
            if c == "CA" and " " not in pc:
                pc = pc[:3] + " " + pc[3:]
            return pc.split("-")[0] if c == "MX" else pc
        if c == "IN":
            return rng.choice(["{0}", "{0}", "{1} {2}"]).format(f"{rng.randint(110001, 855117)}",
                                                                f"{rng.randint(110, 855)}", f"{rng.randint(1, 117):03d}")
        if c == "JP":
            return f"〒{rng.randint(100, 999)}-{rng.randint(0, 9999):04d}" if rng.random() < 0.2 else \
                f"{rng.randint(100, 999)}-{rng.randint(0, 9999):04d}"
        if c == "SG":
            return f"Singapore {rng.randint(100000, 829999)}"
        if c == "NG":
            return f"{rng.randint(100001, 982002)}"
        return f"{rng.randint(1000, 9999)}"

    def address(self, multiline: bool = False) -> str:
        """A whole postal address in the country's order; sometimes without postcode, unit or country."""
        c, rng = self.code, self.rng
        city, region = self.city()
        street = self.street_line()
        unit = self.unit() if rng.random() < 0.35 else ""
        pc = self.postcode() if rng.random() < 0.85 else ""
        country = self.country() if rng.random() < 0.3 else ""
        if c in ("US", "CA", "AU"):
            first = [street + (f", {unit}" if unit and c != "AU" else "")] if not multiline else [street] + ([unit] if unit else [])
            if c == "AU" and unit:
                first = [f"{unit}, {street}"] if not multiline else [unit, street]
            sep = " " if c != "AU" else " "
            last = f"{city}, {region}{sep}{pc}".strip() if c != "AU" else f"{city} {region} {pc}".strip()
            lines = first + [last]
        elif c in ("GB", "IE", "NZ", "ZA", "NG", "KE"):
            lines = ([unit] if unit else []) + [street, city + (f" {pc}" if pc and c in ("GB", "IE") else "")]
            if region and rng.random() < 0.4:
                lines.append(region)
            if pc and c not in ("GB", "IE"):
                lines[-1] += f" {pc}"
        elif c == "IN":
            lines = ([unit] if unit else []) + [street, rng.choice(INDIA_AREAS),
                                                f"{city}{' - ' + pc if pc else ''}", region]
        elif c == "JP":
            lines = [f"{street}, {city}" + (f" {pc}" if pc else "")]
        elif c == "SG":
            lines = [f"Blk {rng.randint(1, 999)} {rng.choice(STREET_WORDS)} {rng.choice(['Avenue', 'Road', 'Street'])} {rng.randint(1, 9)}",
                     f"#{rng.randint(2, 25):02d}-{rng.randint(1, 300):02d}", pc or "Singapore"]
        else:  # continental Europe and Latin America: street number, postcode before the city
            lines = [street] + ([unit] if unit and rng.random() < 0.5 else [])
            lines.append(f"{pc} {city}".strip() if c not in ("BR", "MX") else f"{city}{' - ' + region if region else ''}{', ' + pc if pc else ''}")
        if country and c != "SG":
            lines.append(country)
        if c in ("US", "CA", "AU", "NZ", "ZA") and rng.random() < 0.06:  # a post-office box in place of the street
            i = next(i for i, line in enumerate(lines) if street in line)
            lines[i] = lines[i].replace(street, rng.choice(["PO Box", "P.O. Box", "Post Office Box"]) + f" {rng.randint(1, 9999)}")
        if multiline:
            return "\n".join(lines)
        joined = rng.choices([", ".join(lines), " ".join(lines), " - ".join(lines), "; ".join(lines), " · ".join(lines)],
                             [80, 9, 4, 4, 3])[0]
        return joined.upper() if rng.random() < 0.05 else joined

    # ------------------------------------------------------------ contact
    def phone(self, region: str | None = None) -> str:
        """A number `phonenumbers` calls valid for the region, written the way people write it."""
        region = region or self.spec["phone"]
        rng = self.rng
        kind = rng.choice([pn.PhoneNumberType.MOBILE, pn.PhoneNumberType.FIXED_LINE])
        ex = pn.example_number_for_type(region, kind) or pn.example_number(region)
        nat = str(ex.national_number)
        for attempt in range(400):  # random digits after a short prefix of the example, until valid
            keep = rng.randint(1, 3) if attempt < 300 else len(nat) - 4
            cand = nat[:keep] + "".join(rng.choice(string.digits) for _ in range(len(nat) - keep))
            num = pn.parse(f"+{ex.country_code}{cand}")
            if pn.is_valid_number(num) and "555" not in cand[3:6]:
                break
        fmt = rng.random()
        if fmt < 0.25:
            s = pn.format_number(num, pn.PhoneNumberFormat.INTERNATIONAL)
        elif fmt < 0.50:
            s = pn.format_number(num, pn.PhoneNumberFormat.NATIONAL)
        elif fmt < 0.60:
            s = pn.format_number(num, pn.PhoneNumberFormat.E164)
        elif fmt < 0.70:
            s = pn.format_number(num, pn.PhoneNumberFormat.INTERNATIONAL).replace(" ", ".").replace("-", ".")
        elif fmt < 0.78:
            s = pn.format_number(num, pn.PhoneNumberFormat.NATIONAL).replace(" ", "").replace("-", "").replace("(", "").replace(")", "")
        elif fmt < 0.86 and region in ("GB", "IE", "DE", "FR", "IT", "AU", "NZ", "NL", "ZA"):
            intl = pn.format_number(num, pn.PhoneNumberFormat.INTERNATIONAL)
            cc, rest = intl.split(" ", 1)
            s = f"{cc} (0){rest}"
        elif fmt < 0.93:
            s = f"00{ex.country_code} " + pn.format_number(num, pn.PhoneNumberFormat.NATIONAL).lstrip("0").lstrip("(")
            s = s.replace(")", "")
        elif fmt < 0.96:
            s = pn.format_number(num, pn.PhoneNumberFormat.INTERNATIONAL).replace(" ", "-")
        else:
            cc, rest = pn.format_number(num, pn.PhoneNumberFormat.INTERNATIONAL).split(" ", 1)
            s = f"({cc}) {rest}"
        if rng.random() < 0.12:
            s += rng.choice([" x", " ext. ", " ext ", " Ext. ", " extension ", " x"]) + str(rng.randint(2, 9999))
        return s

    def email(self, person: dict | None = None) -> str:
        person = person or self.person()
        dom = self.rng.choice(MAIL_DOMAINS if self.rng.random() < 0.75 else COMPANY_DOMAINS)
        return f"{person['user']}@{dom}"

    # ------------------------------------------------------------ dates
    def date(self, birth: bool = False) -> str:
        rng = self.rng
        y = rng.randint(1938, 2006) if birth else rng.randint(2012, 2027)
        m, d = rng.randint(1, 12), rng.randint(1, 28)
        mon = MONTHS[m - 1]
        th = {1: "st", 2: "nd", 3: "rd", 21: "st", 22: "nd", 23: "rd"}.get(d, "th")
        us = self.code in ("US", "CA")
        forms = [f"{m:02d}/{d:02d}/{y}" if us else f"{d:02d}/{m:02d}/{y}", f"{m}/{d}/{y}" if us else f"{d}/{m}/{y}",
                 f"{y}-{m:02d}-{d:02d}", f"{d:02d}.{m:02d}.{y}", f"{d} {mon} {y}", f"{mon} {d}, {y}",
                 f"{mon[:3]}. {d}{th}, {y}", f"{d}{th} of {mon} {y}", f"{d:02d}-{mon[:3]}-{y}",
                 f"{d} {mon[:3]} {y}", f"{mon} {d}{th} {y}", f"{mon[:3]} {d}, {y}", f"{y}/{m:02d}/{d:02d}",
                 f"{d}{th} {mon} {y}", f"{m:02d}-{d:02d}-{y}" if us else f"{d:02d}-{m:02d}-{y}",
                 f"{m}/{d}/{str(y)[2:]}" if us else f"{d}/{m}/{str(y)[2:]}", f"{d:02d}{mon[:3].upper()}{y}"]
        forms += [f"{d}.{m}.{y}", f"{d:02d} {mon[:3]} {str(y)[2:]}"]
        if not birth:
            wd = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"][datetime.date(y, m, d).weekday()]
            forms += [f"{mon} {d}", f"{d} {mon}", f"the {d}{th} of {mon}", f"{wd}, {d} {mon[:3]} {y}",
                      f"{wd} {mon} {d}{th}, {y}"]
        return rng.choice(forms)


# ---------------------------------------------------------------- checksummed and shaped values


def card(rng: random.Random) -> str:
    prefix, length = rng.choice(CARD_PREFIXES)
    body = prefix + "".join(rng.choice(string.digits) for _ in range(length - len(prefix) - 1))
    digits = next(body + c for c in string.digits if luhn_ok(body + c))
    style = rng.random()
    if style < 0.35:
        return digits
    sep = " " if style < 0.8 else "-"
    groups = {15: (4, 6, 5), 14: (4, 6, 4)}.get(length, (4, 4, 4, 4))
    out, i = [], 0
    for g in groups:
        out.append(digits[i:i + g])
        i += g
    return sep.join(out)


def iban(rng: random.Random, country: str | None = None) -> str:
    country = country or rng.choice(list(IBAN_FORMATS))
    pools = {"n": string.digits, "a": string.ascii_uppercase, "c": string.ascii_uppercase + string.digits}
    bban = "".join(rng.choice(pools[k]) for k, n in IBAN_FORMATS[country] for _ in range(n))
    num = int("".join(str(int(ch, 36)) for ch in bban + country + "00"))
    value = f"{country}{98 - num % 97:02d}{bban}"
    if rng.random() < 0.55:
        value = " ".join(value[i:i + 4] for i in range(0, len(value), 4))
    return value


def ssn(rng: random.Random) -> str:
    area = rng.choice([a for a in range(1, 900) if a != 666])
    body = f"{area:03d}-{rng.randint(1, 99):02d}-{rng.randint(1, 9999):04d}"
    return body if rng.random() < 0.85 else body.replace("-", " ")


def public_ip(rng: random.Random) -> str:
    if rng.random() < 0.15:
        head = rng.choice(["2a02", "2600", "2a00", "2001:4860", "2604", "2a01"])
        groups = [f"{rng.randint(0, 0xffff):x}" for _ in range(8 - head.count(":") - 1)]
        return head + ":" + ":".join(groups)
    while True:
        a = rng.randint(1, 223)
        b = rng.randint(0, 255)
        if a in (10, 127, 0) or (a == 192 and b == 168) or (a == 172 and 16 <= b <= 31) or (a == 169 and b == 254) \
                or (a == 100 and 64 <= b <= 127) or a in (192, 198, 203):
            continue
        return f"{a}.{b}.{rng.randint(0, 255)}.{rng.randint(1, 254)}"


def personal_url(rng: random.Random, person: dict) -> str:
    u = person["user"].replace("_", "-").replace(".", "-")
    return rng.choice([f"https://www.linkedin.com/in/{u}-{rng.randint(10, 999)}", f"https://github.com/{u}",
                       f"linkedin.com/in/{u}", f"https://{u}.com", f"https://calendly.com/{u}",
                       f"http://www.{u}-photography.net", f"https://twitter.com/{u}", f"www.{u}.me"])


def non_pii(kind: str, rng: random.Random) -> str:
    """Numbers and codes that are not personal data: the precision side of the set."""
    a2 = "".join(rng.choice(string.ascii_uppercase) for _ in range(2))
    makers = {
        "ORDER": lambda: rng.choice([f"#{rng.randint(10000, 999999)}", f"ORD-{rng.randint(100000, 999999)}",
                                     f"{a2}-{rng.randint(1000, 99999)}-{rng.randint(10, 99)}"]),
        "SKU": lambda: rng.choice([f"{a2}{rng.randint(100, 9999)}-{rng.choice(['BLK', 'S', 'XL', 'RED'])}",
                                   f"SKU {rng.randint(100000, 9999999)}", f"P/N {rng.randint(10, 99)}-{rng.randint(1000, 9999)}"]),
        "VERSION": lambda: rng.choice([f"{rng.randint(1, 12)}.{rng.randint(0, 30)}.{rng.randint(0, 99)}",
                                       f"v{rng.randint(1, 5)}.{rng.randint(0, 9)}", f"build {rng.randint(1000, 99999)}"]),
        "PRICE": lambda: rng.choice([f"${rng.randint(1, 2000)}.{rng.randint(0, 99):02d}", f"£{rng.randint(1, 900)}",
                                     f"€{rng.randint(1, 900)},{rng.randint(0, 99):02d}", f"{rng.randint(1, 9999)} INR",
                                     f"USD {rng.randint(10, 99999):,}"]),
        "TIME": lambda: rng.choice([f"{rng.randint(1, 12)}:{rng.choice(['00', '15', '30', '45'])} {rng.choice(['am', 'pm', 'AM', 'PM'])}",
                                    f"{rng.randint(0, 23):02d}:{rng.randint(0, 59):02d}", f"{rng.randint(1, 11)}{rng.choice(['am', 'pm'])}"]),
        "QTY": lambda: str(rng.randint(2, 480)),
        "TRACKING": lambda: rng.choice([f"1Z{rng.randint(100, 999)}{a2}{rng.randint(10 ** 9, 10 ** 10 - 1)}",
                                        f"{a2}{rng.randint(10 ** 8, 10 ** 9 - 1)}GB", f"TBA{rng.randint(10 ** 11, 10 ** 12 - 1)}"]),
        "TICKET": lambda: rng.choice([f"INC{rng.randint(1000000, 9999999)}", f"#{rng.randint(1000, 99999)}",
                                      f"CASE-{rng.randint(10000, 99999)}", f"JIRA-{rng.randint(100, 9999)}"]),
        "MEASURE": lambda: rng.choice([f"{rng.randint(1, 300)} mg", f"{rng.randint(40, 140)} kg", f"{rng.randint(1, 99)}.{rng.randint(0, 9)} cm",
                                       f"{rng.randint(90, 180)}/{rng.randint(50, 110)} mmHg", f"{rng.randint(1, 25)} ml"]),
        "PERCENT": lambda: f"{rng.randint(1, 99)}{rng.choice(['', '.5'])}%",
        "YEARS": lambda: str(rng.randint(2, 25)),
        "ROOM": lambda: rng.choice([f"{rng.randint(1, 9)}{rng.randint(0, 3)}{rng.randint(1, 9)}", f"B{rng.randint(1, 4)}.{rng.randint(10, 60)}"]),
        "ID": lambda: rng.choice([f"EMP-{rng.randint(10000, 99999)}", f"{a2}{rng.randint(100000, 999999)}",
                                  f"MRN {rng.randint(1000000, 9999999)}", f"PO-{rng.randint(2019, 2026)}-{rng.randint(100, 9999):04d}"]),
    }
    return makers[kind]()
