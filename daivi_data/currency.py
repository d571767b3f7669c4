"""Money in more than one currency: amounts of different currencies are never added.

Every figure a view shows is in one currency. When the data in scope holds one
currency, that is the one shown (and named); when it holds several, the view
shows the totals per currency and lets the user pick which one the rest of the
page is in: every query then filters on that currency (`currency = :currency`
in billing, `line_item_currency_code = :currency` in the CUR), so no sum ever
mixes two. A row without a currency code counts as USD, as the importers write it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from daivi_data.errors import InvalidRequest

DEFAULT_CURRENCY = "USD"
CURRENCY_RE = re.compile(r"^[A-Z]{3}$")  # ISO 4217 alphabetic code
SYMBOLS = {"USD": "$"}


def require_currency(value: str) -> str:
    """An ISO 4217 code ('EUR'), or InvalidRequest naming the field."""
    if not isinstance(value, str) or not CURRENCY_RE.match(value):
        raise InvalidRequest(f"Currency {str(value)[:20]!r} is not a three-letter ISO 4217 code like USD or EUR.")
    return value


def shown_code(currency: object) -> str:
    """The currency code as shown: an ISO 4217 code as is, anything else as 'XXX' (ISO's "no currency").

    Codes come from the data; one that is not three capitals never reaches a label, a chart or Markdown.
    """
    return currency if isinstance(currency, str) and CURRENCY_RE.match(currency) else "XXX"


def money_prefix(currency: str) -> str:
    """'$' for USD, 'EUR ' otherwise: the tick prefix of a money axis."""
    return SYMBOLS.get(currency, f"{shown_code(currency)} ")


@dataclass(frozen=True)
class CurrencyChoice:
    currency: str  # the one every figure on the page is in
    available: tuple[str, ...]  # every currency in scope, most cost first
    notice: str = ""  # why the URL's currency was not used, if it was not

    @property
    def several(self) -> bool:
        return len(self.available) > 1


def choose_currency(totals: dict[str, float], requested: str | None = None) -> CurrencyChoice:
    """The page's currency: the requested one if the data has it, else the one with the most cost.

    `totals` maps currency -> absolute cost in scope (from a `currencies` query).
    """
    available = tuple(sorted(totals, key=lambda c: (-abs(totals[c] or 0.0), c))) or (DEFAULT_CURRENCY,)
    if requested is None or requested == "":
        return CurrencyChoice(available[0], available)
    if not CURRENCY_RE.match(requested) or requested not in available:
        shown = requested if CURRENCY_RE.match(requested) else requested[:20]
        return CurrencyChoice(available[0], available,
                              f"No amounts in {shown!r} here; showing {available[0]} (the data holds {', '.join(available)}).")
    return CurrencyChoice(requested, available)


# ISO 4217 currencies without a minor unit: amounts are whole (JPY 1, not JPY 0.54).
ZERO_DECIMAL_CURRENCIES = frozenset({"BIF", "CLP", "DJF", "GNF", "ISK", "JPY", "KMF", "KRW", "PYG", "RWF", "UGX", "UYI",
                                     "VND", "VUV", "XAF", "XOF", "XPF"})


def decimals(currency: str) -> int:
    """Digits after the decimal point in `currency`'s amounts: 0 for JPY and its kind, else 2."""
    return 0 if currency in ZERO_DECIMAL_CURRENCIES else 2


COLUMN_FORMATS = {"USD": "dollar", "EUR": "euro", "JPY": "yen"}  # Streamlit's NumberColumn presets


def column_format(currency: str) -> str:
    """A table column's number format for amounts in `currency` (Streamlit preset, else printf with the code)."""
    return COLUMN_FORMATS.get(currency, f"%.2f {require_currency(currency)}")


def totals_text(totals: dict[str, float], format_amount) -> str:
    """'USD 1,234.00 · EUR 99.00': one total per currency, side by side, never added."""
    return " · ".join(format_amount(v, c) for c, v in sorted(totals.items(), key=lambda kv: (-abs(kv[1] or 0.0), kv[0])))
