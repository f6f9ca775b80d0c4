"""Checksums the sets' claims rest on (a valid card passes Luhn, a broken one does not, ...), written here so the
sets are checked without the detector's own validators."""

from __future__ import annotations

CN_ID_WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]


def digits(value: str) -> str:
    return "".join(c for c in value if c.isdigit())


def luhn_ok(number: str) -> bool:
    total, alt = 0, False
    for ch in reversed(number):
        n = int(ch)
        if alt:
            n = n * 2 - 9 if n > 4 else n * 2
        total, alt = total + n, not alt
    return bool(number) and total % 10 == 0


def iban_ok(value: str) -> bool:
    s = value.replace(" ", "").upper()
    if len(s) < 15 or not s.isalnum() or not s[:2].isalpha() or not s[2:4].isdigit():
        return False
    s = s[4:] + s[:4]
    return int("".join(str(int(ch, 36)) for ch in s)) % 97 == 1


def is_valid_cn_id(value: str) -> bool:
    """GB 11643-1999: 17 digits weighted, check character from '10X98765432'."""
    if len(value) != 18 or not value[:17].isdigit():
        return False
    check = "10X98765432"[sum(int(d) * w for d, w in zip(value[:17], CN_ID_WEIGHTS)) % 11]
    return value[17].upper() == check


def gtin_ok(value: str) -> bool:
    """EAN-13 / UPC check digit: weights 1, 3 alternating from the left (EAN-13)."""
    if not value.isdigit():
        return False
    body, check = value[:-1], int(value[-1])
    total = sum(int(d) * (3 if i % 2 else 1) for i, d in enumerate(body)) if len(value) == 13 else \
        sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(body))
    return (10 - total % 10) % 10 == check


def isbn_ok(value: str) -> bool:
    s = value.replace("-", "").replace(" ", "").upper()
    if len(s) == 13 and s.isdigit():
        return s[:3] in ("978", "979") and gtin_ok(s)
    if len(s) == 10 and s[:9].isdigit() and (s[9].isdigit() or s[9] == "X"):
        total = sum((10 - i) * int(c) for i, c in enumerate(s[:9])) + (10 if s[9] == "X" else int(s[9]))
        return total % 11 == 0
    return False
