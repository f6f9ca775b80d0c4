"""Hand-written value lists and value makers for the second PII evaluation set (bench/pii_eval/).

Nothing here comes from Faker or from the first set's generator (bench/pii.py): names, streets, towns and
formats were written for this set. Every list is split by index parity: even items fill the *dev* part,
odd items the *held-out* part, so held-out documents carry names, streets and towns that tuning never saw.

Checksummed values (cards, IBANs, resident IDs, ISBNs) are computed here, and each has a look-alike twin
with a broken checksum for the negative slots.
"""

from __future__ import annotations

import random
import string

# ---------------------------------------------------------------- people (many cultures), written by hand

FULL_NAMES = [
    "Aisha Bello", "Chukwuemeka Obi", "Priya Raghunathan", "Tomasz Wiśniewski", "Nguyen Thi Lan", "Kwame Mensah",
    "Siobhan O'Sullivan", "Mehmet Yılmaz", "Fatima Al-Hashimi", "Kenji Watanabe", "Ingrid Johansson", "Rahul Mehta",
    "Olumide Adeyemi", "Ana Luísa Ferreira", "Dmitri Volkov", "Yuki Tanaka", "Carlos Gutiérrez", "Leilani Kahale",
    "Hamid Rezaei", "Zanele Dlamini", "Björn Lindqvist", "Marisol Herrera", "Arjun Nair", "Chloé Dubois",
    "Tariq Hussain", "Min-jun Park", "Oksana Kovalenko", "Emeka Nwosu", "Sofia Papadopoulos", "Jamal Washington",
    "Aroha Ngata", "Giulia Romano", "Wei Zhang", "Nadia Haddad", "Patrick Brennan", "Esperanza Quispe",
    "Lakshmi Venkatesan", "Andrzej Nowak", "Mariana Costa", "Hiroshi Nakamura", "Amira Mansour", "Sean Gallagher",
    "Thandiwe Nkosi", "Javier Morales", "Eleni Georgiou", "Kofi Asante", "Anneliese Becker", "Vikram Singh",
    "Mei Ling Chen", "Rustam Nazarov", "Camille Laurent", "Babajide Ogunleye", "Daniela Rojas", "Farhan Qureshi",
    "Astrid Nilsson", "Jin-woo Kim", "Maëlle Girard", "Tendai Moyo", "Roberto Silva", "Ayesha Siddiqui",
    "Lars Eriksen", "Nomvula Zulu", "Pedro Almeida", "Keiko Yamamoto", "Omar Farouk", "Gráinne Murphy",
    "Sanjay Kapoor", "Elif Demir", "Hannah Schmidt", "Diego Fernández", "Chiamaka Eze", "Anh Tran",
    "Rosa Jiménez", "Bilal Chaudhry", "Margit Horváth", "Kalani Akana", "Svetlana Ivanova", "Ebru Aydın",
    "Marcus Thompson", "Yasmin Karimi", "Tobias Müller", "Luz Mendoza", "Adebayo Okonkwo", "Soo-ah Lee",
]
FIRST_NAMES = [
    "Aisha", "Emeka", "Priya", "Tomasz", "Lan", "Kwame", "Siobhan", "Mehmet", "Fatima", "Kenji", "Ingrid", "Rahul",
    "Olumide", "Dmitri", "Yuki", "Carlos", "Leilani", "Hamid", "Zanele", "Björn", "Marisol", "Arjun", "Chloé",
    "Tariq", "Oksana", "Sofia", "Jamal", "Aroha", "Giulia", "Nadia", "Patrick", "Esperanza", "Lakshmi", "Mariana",
    "Hiroshi", "Amira", "Thandiwe", "Javier", "Eleni", "Kofi", "Vikram", "Camille", "Daniela", "Farhan", "Astrid",
    "Tendai", "Roberto", "Ayesha", "Lars", "Pedro", "Keiko", "Omar", "Sanjay", "Elif", "Hannah", "Diego",
]
SURNAMES = ["Okafor", "Banerjee", "Kowalczyk", "Tran", "Boateng", "Fitzgerald", "Demir", "Saleh", "Sato", "Lund",
            "Iyer", "Adeyemi", "Carvalho", "Petrov", "Ramírez", "Moradi", "Khumalo", "Andersson", "Vega", "Pillai",
            "Moreau", "Rashid", "Choi", "Shevchenko", "Romano", "Haddad", "Brennan", "Mamani", "Wójcik", "Ito"]
TITLES = ["Dr.", "Mr.", "Ms.", "Mrs.", "Prof."]
ZH_NAMES = ["王建国", "李秀英", "张伟", "刘洋", "陈静", "杨帆", "赵敏", "黄晓明", "周杰", "吴丽", "徐强", "孙悦",
            "马超", "朱琳", "胡斌", "郭婷", "林峰", "何佳", "高翔", "罗敏", "欧阳娜", "司马光明"]

# ---------------------------------------------------------------- places, written by hand

US_STREETS = ["Maple", "Jefferson", "Cedar Ridge", "Lakeview", "Martin Luther King Jr", "Sycamore", "Old Mill",
              "Pine Hollow", "Washington", "Elmwood", "Rio Grande", "Peachtree", "Sunset", "Harbor View", "Kingsley",
              "Birch", "Magnolia", "Prospect", "Willow Creek", "Franklin"]
US_SUFFIX = ["Street", "St", "Avenue", "Ave", "Road", "Rd", "Boulevard", "Blvd", "Lane", "Ln", "Drive", "Dr",
             "Court", "Ct", "Way", "Place", "Pl", "Parkway", "Terrace", "Circle"]
US_UNITS = ["Apt 4B", "Suite 210", "Unit 12", "Apt. 3", "#508", "Floor 2", "Ste 100", "Apt 17C"]
US_TOWNS = [("Springfield", "IL", "627"), ("Austin", "TX", "787"), ("Tacoma", "WA", "984"), ("Savannah", "GA", "314"),
            ("Boise", "ID", "837"), ("Dayton", "OH", "454"), ("Fresno", "CA", "937"), ("Tucson", "AZ", "857"),
            ("Albany", "NY", "122"), ("Omaha", "NE", "681"), ("Raleigh", "NC", "276"), ("Madison", "WI", "537"),
            ("Portland", "OR", "972"), ("Burlington", "VT", "054"), ("Santa Fe", "NM", "875"), ("Duluth", "MN", "558")]
UK_STREETS = ["Kingsway", "Mill Lane", "Victoria Road", "Station Road", "Church Street", "Albert Terrace",
              "Queen's Drive", "Hawthorn Close", "Bridge Street", "Park Crescent", "Greenfield Avenue", "Orchard Way",
              "Castle Hill", "Market Place", "Willow Gardens", "Abbey Road"]
UK_TOWNS = [("Leeds", "LS6 2QT"), ("Bristol", "BS8 1TH"), ("Manchester", "M14 5RB"), ("Norwich", "NR2 4SF"),
            ("Cardiff", "CF10 3AT"), ("Glasgow", "G12 8QQ"), ("York", "YO1 7HH"), ("Brighton", "BN1 3XE"),
            ("London", "SW1A 2AA"), ("Edinburgh", "EH8 9YL"), ("Nottingham", "NG7 2RD"), ("Belfast", "BT9 6AD"),
            ("Oxford", "OX1 3BG"), ("Sheffield", "S10 2TN"), ("Exeter", "EX4 4QJ"), ("Aberdeen", "AB24 3FX")]
CITIES = ["Lagos", "Nairobi", "Mumbai", "Chennai", "Kraków", "Hanoi", "Accra", "Dublin", "Istanbul", "Dubai", "Osaka",
          "Stockholm", "Lisbon", "Saint Petersburg", "Guadalajara", "Honolulu", "Tehran", "Johannesburg", "Gothenburg",
          "Bogotá", "Bangalore", "Lyon", "Karachi", "Seoul", "Kyiv", "Enugu", "Thessaloniki", "Atlanta", "Auckland",
          "Milan", "Shanghai", "Beirut", "Cork", "Lima", "Hyderabad", "Warsaw", "Porto", "Sapporo", "Cairo", "Galway",
          "Durban", "Valencia", "Athens", "Kumasi", "Munich", "Jaipur", "Chengdu", "Tashkent", "Marseille", "Ibadan",
          "Medellín", "Lahore", "Malmö", "Busan", "Harare", "Recife"]
COUNTRIES = ["Nigeria", "Kenya", "India", "Poland", "Vietnam", "Ghana", "Ireland", "Turkey", "Japan", "Sweden",
             "Portugal", "Mexico", "Iran", "South Africa", "Colombia", "France", "Pakistan", "South Korea", "Ukraine",
             "Greece", "Germany", "Brazil", "Egypt", "Argentina", "Canada", "Peru", "Norway", "New Zealand",
             "Uzbekistan", "Zimbabwe", "Indonesia", "Morocco", "Chile", "Hungary", "Australia", "Lebanon"]
ZH_PLACES = [("北京市", "朝阳区", "建国路"), ("上海市", "浦东新区", "世纪大道"), ("广东省深圳市", "南山区", "科技园路"),
             ("浙江省杭州市", "西湖区", "文三路"), ("四川省成都市", "武侯区", "人民南路"), ("江苏省南京市", "鼓楼区", "中山北路"),
             ("湖北省武汉市", "洪山区", "珞喻路"), ("陕西省西安市", "雁塔区", "长安南路"), ("天津市", "和平区", "南京路"),
             ("山东省青岛市", "市南区", "香港中路"), ("福建省厦门市", "思明区", "湖滨南路"), ("重庆市", "渝中区", "解放碑路")]

# ---------------------------------------------------------------- e-mail domains and users

EMAIL_DOMAINS = ["gmail.com", "outlook.com", "yahoo.co.uk", "proton.me", "hotmail.fr", "web.de", "mail.ru",
                 "icloud.com", "uni-heidelberg.de", "acme-logistics.com", "nhs.net", "tcs.co.in", "qq.com", "163.com",
                 "126.com", "sina.cn", "fastmail.fm", "gmx.net", "yandex.ru", "company.co.za"]

# ---------------------------------------------------------------- secrets

B58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
ALNUM = string.ascii_letters + string.digits


def part(items: list, split: str) -> list:
    """Even items for dev, odd items for held-out."""
    return items[0::2] if split == "dev" else items[1::2]


def luhn_digit(body: str) -> str:
    total = 0
    for i, c in enumerate(reversed(body)):
        d = int(c) * (2 if i % 2 == 0 else 1)
        total += d - 9 if d > 9 else d
    return str((10 - total % 10) % 10)


CARD_PREFIXES = [("4", 16), ("51", 16), ("55", 16), ("2221", 16), ("34", 15), ("37", 15), ("6011", 16),
                 ("65", 16), ("3528", 16), ("36", 14), ("4", 13), ("62", 16)]


def card(rng: random.Random, valid: bool = True) -> str:
    prefix, length = rng.choice(CARD_PREFIXES)
    body = prefix + "".join(rng.choice(string.digits) for _ in range(length - len(prefix) - 1))
    check = luhn_digit(body)
    digits = body + (check if valid else str((int(check) + rng.randint(1, 9)) % 10))
    style = rng.choice(["space", "dash", "none"])
    if style == "none":
        return digits
    sep = " " if style == "space" else "-"
    groups = [4, 6, 5] if length == 15 else [4, 6, 4] if length == 14 else [4] * (length // 4)
    out, i = [], 0
    for g in groups:
        out.append(digits[i:i + g]); i += g
    if i < length:
        out.append(digits[i:])
    return sep.join(out)


IBAN_FORMATS = {"GB": "4a14n", "DE": "18n", "FR": "10n11c2n", "ES": "20n", "NL": "4a10n", "IT": "1a10n12c",
                "BE": "12n", "PL": "24n", "CH": "5n12c", "IE": "4a14n"}


def iban(rng: random.Random, valid: bool = True, spaced: bool | None = None) -> str:
    country = rng.choice(list(IBAN_FORMATS))
    bban = ""
    for n, kind in __import__("re").findall(r"(\d+)([anc])", IBAN_FORMATS[country]):
        pool = string.ascii_uppercase if kind == "a" else string.digits if kind == "n" else string.ascii_uppercase + string.digits
        bban += "".join(rng.choice(pool) for _ in range(int(n)))
    num = int("".join(str(int(c, 36)) for c in bban + country + "00"))
    check = 98 - num % 97
    if not valid:
        check = (check + rng.randint(1, 40)) % 97 + 2
    value = f"{country}{check:02d}{bban}"
    if spaced if spaced is not None else rng.random() < 0.6:
        value = " ".join(value[i:i + 4] for i in range(0, len(value), 4))
    return value


_ID_W = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
AREAS = ["110105", "310104", "440305", "330106", "510107", "320106", "420111", "610113", "120101", "370202"]


def cn_id(rng: random.Random, valid: bool = True) -> str:
    y, m, d = rng.randint(1950, 2005), rng.randint(1, 12), rng.randint(1, 28)
    first = f"{rng.choice(AREAS)}{y}{m:02d}{d:02d}{rng.randint(0, 999):03d}"
    check = "10X98765432"[sum(int(c) * w for c, w in zip(first, _ID_W)) % 11]
    if not valid:
        check = rng.choice([c for c in "0123456789X" if c != check])
    return first + check


def isbn(rng: random.Random) -> str:
    if rng.random() < 0.5:
        body = "978" + "".join(rng.choice(string.digits) for _ in range(9))
        check = (10 - sum(int(c) * (1 if i % 2 == 0 else 3) for i, c in enumerate(body)) % 10) % 10
        v = body + str(check)
        return rng.choice([v, f"{v[:3]}-{v[3]}-{v[4:7]}-{v[7:12]}-{v[12]}", f"{v[:3]}-{v[3:5]}-{v[5:9]}-{v[9:12]}-{v[12]}"])
    body = "".join(rng.choice(string.digits) for _ in range(9))
    c = (11 - sum(int(x) * (10 - i) for i, x in enumerate(body)) % 11) % 11
    v = body + ("X" if c == 10 else str(c))
    return rng.choice([v, f"{v[0]}-{v[1:4]}-{v[4:9]}-{v[9]}"])


def api_key(rng: random.Random) -> str:
    r = lambda n, pool=ALNUM: "".join(rng.choice(pool) for _ in range(n))  # noqa: E731
    return rng.choice([f"sk-{r(48)}", f"sk-proj-{r(56, ALNUM + '_-')}", f"sk-ant-api03-{r(80, ALNUM + '_-')}",
                       f"ghp_{r(36)}", f"github_pat_{r(22)}_{r(59)}", f"xoxb-{r(11, string.digits)}-{r(12, string.digits)}-{r(24)}",
                       f"AIza{r(35, ALNUM + '_-')}", f"sk_live_{r(24)}", f"hf_{r(34, string.ascii_letters)}",
                       f"glpat-{r(20, ALNUM + '_-')}"])


def aws_key(rng: random.Random) -> str:
    return rng.choice(["AKIA", "ASIA"]) + "".join(rng.choice(string.ascii_uppercase + "234567") for _ in range(16))


def password(rng: random.Random) -> str:
    words = ["Summer", "blue", "Tiger", "kettle", "Orbit", "maple", "Rocket", "violet"]
    return rng.choice(words) + rng.choice(["!", "#", "_", "-", ""]) + str(rng.randint(10, 9999)) + rng.choice(words) + rng.choice(["$", "&", "%"])


# ---------------------------------------------------------------- dates in many formats

MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
          "November", "December"]
DAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]


def _ordinal(d: int) -> str:
    return f"{d}{'th' if 11 <= d <= 13 else {1: 'st', 2: 'nd', 3: 'rd'}.get(d % 10, 'th')}"


def date(rng: random.Random, birth: bool = False) -> str:
    y = rng.randint(1948, 2004) if birth else rng.randint(2015, 2027)
    m, d = rng.randint(1, 12), rng.randint(1, 28)
    mon = MONTHS[m - 1]
    return rng.choice([
        f"{y}-{m:02d}-{d:02d}", f"{m:02d}/{d:02d}/{y}", f"{d}/{m}/{y}", f"{d:02d}.{m:02d}.{y}", f"{d} {mon} {y}",
        f"{mon} {d}, {y}", f"{mon[:3]} {d}, {y}", f"{_ordinal(d)} {mon} {y}", f"the {_ordinal(d)} of {mon} {y}",
        f"{d}-{mon[:3]}-{y}", f"{mon} {_ordinal(d)}, {y}", f"{DAYS[rng.randint(0, 6)]}, {d} {mon} {y}",
        f"{y}/{m:02d}/{d:02d}", f"{d} {mon[:3]} {y}", f"{mon[:3]}. {d}, {y}", f"{m}/{d}/{str(y)[2:]}",
    ])


def zh_date(rng: random.Random, birth: bool = False) -> str:
    y = rng.randint(1950, 2004) if birth else rng.randint(2018, 2026)
    m, d = rng.randint(1, 12), rng.randint(1, 28)
    return rng.choice([f"{y}年{m}月{d}日", f"{y}年{m:02d}月{d:02d}日", f"{y}-{m:02d}-{d:02d}", f"{y}/{m}/{d}", f"{y}.{m:02d}.{d:02d}"])


# ---------------------------------------------------------------- phone numbers, international formats

def _d(rng: random.Random, n: int) -> str:
    return "".join(rng.choice(string.digits) for _ in range(n))


US_AREAS = ["212", "312", "415", "503", "617", "702", "206", "404", "512", "919", "305", "608"]


def phone(rng: random.Random, country: str | None = None) -> str:
    c = country or rng.choice(["US", "US", "UK", "UK", "DE", "FR", "IN", "AU", "JP", "BR", "NG", "ZA", "MX", "ES",
                               "IE", "KE"])
    a, x = rng.choice(US_AREAS), str(rng.randint(2, 9))
    return {
        "US": rng.choice([f"({a}) {x}{_d(rng, 2)}-{_d(rng, 4)}", f"{a}-{x}{_d(rng, 2)}-{_d(rng, 4)}",
                          f"+1 {a} {x}{_d(rng, 2)} {_d(rng, 4)}", f"{a}.{x}{_d(rng, 2)}.{_d(rng, 4)}",
                          f"1-{a}-{x}{_d(rng, 2)}-{_d(rng, 4)}", f"+1 ({a}) {x}{_d(rng, 2)}-{_d(rng, 4)}"]),
        "UK": rng.choice([f"07{rng.choice('3456789')}{_d(rng, 2)} {_d(rng, 6)}", f"+44 7{rng.choice('3456789')}{_d(rng, 2)} {_d(rng, 6)}",
                          f"020 7{_d(rng, 3)} {_d(rng, 4)}", f"+44 (0)20 7{_d(rng, 3)} {_d(rng, 4)}",
                          f"0161 {rng.randint(2, 9)}{_d(rng, 2)} {_d(rng, 4)}"]),
        "DE": rng.choice([f"+49 30 {rng.randint(2, 9)}{_d(rng, 7)}", f"+49 151 {_d(rng, 8)}", f"030 {rng.randint(2, 9)}{_d(rng, 3)} {_d(rng, 4)}",
                          f"0171 {_d(rng, 7)}"]),
        "FR": rng.choice([f"+33 6 {_d(rng, 2)} {_d(rng, 2)} {_d(rng, 2)} {_d(rng, 2)}", f"06 {_d(rng, 2)} {_d(rng, 2)} {_d(rng, 2)} {_d(rng, 2)}",
                          f"+33 1 {_d(rng, 2)} {_d(rng, 2)} {_d(rng, 2)} {_d(rng, 2)}"]),
        "IN": rng.choice([f"+91 9{_d(rng, 4)} {_d(rng, 5)}", f"+91-98{_d(rng, 8)}", f"098{_d(rng, 3)} {_d(rng, 5)}"]),
        "AU": rng.choice([f"+61 4{_d(rng, 2)} {_d(rng, 3)} {_d(rng, 3)}", f"04{_d(rng, 2)} {_d(rng, 3)} {_d(rng, 3)}",
                          f"(02) 9{_d(rng, 3)} {_d(rng, 4)}"]),
        "JP": rng.choice([f"+81 90-{_d(rng, 4)}-{_d(rng, 4)}", f"03-{rng.randint(3, 6)}{_d(rng, 3)}-{_d(rng, 4)}"]),
        "BR": rng.choice([f"+55 11 9{_d(rng, 4)}-{_d(rng, 4)}", f"(21) 9{_d(rng, 4)}-{_d(rng, 4)}"]),
        "NG": rng.choice([f"+234 803 {_d(rng, 3)} {_d(rng, 4)}", f"0803 {_d(rng, 3)} {_d(rng, 4)}"]),
        "ZA": f"+27 82 {_d(rng, 3)} {_d(rng, 4)}",
        "MX": f"+52 55 {rng.randint(1, 9)}{_d(rng, 3)} {_d(rng, 4)}",
        "ES": rng.choice([f"+34 6{_d(rng, 2)} {_d(rng, 3)} {_d(rng, 3)}", f"91 {_d(rng, 3)} {_d(rng, 2)} {_d(rng, 2)}"]),
        "IE": rng.choice([f"+353 87 {_d(rng, 3)} {_d(rng, 4)}", f"(01) {rng.randint(2, 9)}{_d(rng, 2)} {_d(rng, 4)}"]),
        "KE": f"+254 7{_d(rng, 2)} {_d(rng, 3)} {_d(rng, 3)}",
    }[c]


def cn_mobile(rng: random.Random) -> str:
    n = "1" + rng.choice("3456789") + _d(rng, 9)
    return rng.choice([n, n, f"{n[:3]} {n[3:7]} {n[7:]}", f"{n[:3]}-{n[3:7]}-{n[7:]}", f"+86 {n}", f"+86-{n}", f"(+86) {n}"])


def ssn(rng: random.Random) -> str:
    area = rng.choice([rng.randint(1, 665), rng.randint(667, 899)])
    v = f"{area:03d}-{rng.randint(1, 99):02d}-{rng.randint(1, 9999):04d}"
    return v if rng.random() < 0.8 else v.replace("-", " ")


def ipv4(rng: random.Random) -> str:
    first = rng.choice([23, 31, 45, 52, 63, 78, 81, 91, 104, 141, 151, 178, 185, 193, 203, 212])
    return f"{first}.{rng.randint(0, 255)}.{rng.randint(0, 255)}.{rng.randint(1, 254)}"


def ipv6(rng: random.Random) -> str:
    g = [f"{rng.randint(0, 0xffff):x}" for _ in range(8)]
    return rng.choice([":".join(g), f"2a02:{g[1]}:{g[2]}::{g[7]}", f"2001:{g[1]}:{g[2]}:{g[3]}::{g[6]}:{g[7]}"])


# ---------------------------------------------------------------- addresses

def us_address(rng: random.Random, split: str, one_line: bool | None = None) -> str:
    town, state, zip3 = rng.choice(part(US_TOWNS, split))
    street = f"{rng.randint(1, 9899)} {rng.choice(part(US_STREETS, split))} {rng.choice(US_SUFFIX)}"
    if rng.random() < 0.35:
        street += rng.choice([", ", " "]) + rng.choice(US_UNITS)
    zip_code = zip3 + _d(rng, 2) + (f"-{_d(rng, 4)}" if rng.random() < 0.2 else "")
    sep = ", " if (one_line if one_line is not None else rng.random() < 0.7) else "\n"
    return f"{street}{sep}{town}, {state} {zip_code}"


def uk_address(rng: random.Random, split: str) -> str:
    town, postcode = rng.choice(part(UK_TOWNS, split))
    street = f"{rng.randint(1, 240)} {rng.choice(part(UK_STREETS, split))}"
    if rng.random() < 0.3:
        street = f"Flat {rng.randint(1, 30)}, " + street
    return f"{street}, {town} {postcode}" if rng.random() < 0.5 else f"{street}, {town}, {postcode}"


def zh_address(rng: random.Random, split: str) -> str:
    city, district, road = rng.choice(part(ZH_PLACES, split))
    tail = rng.choice([f"{rng.randint(1, 999)}号", f"{rng.randint(1, 500)}号{rng.randint(1, 30)}栋{rng.randint(101, 2505)}室",
                       f"{rng.randint(1, 300)}号院{rng.randint(1, 12)}号楼"])
    return f"{city}{district}{road}{tail}"
