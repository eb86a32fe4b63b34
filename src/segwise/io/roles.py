"""Recognise which column plays which role in a transaction log, by header and by content.

Headers are compared after lower-casing and removing everything but letters and digits, so
``CustomerID``, ``Customer ID`` and ``customer_id`` are one name. Flags (``--customer`` ...)
always win. A total-amount column is used as is, never multiplied by a quantity.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields
from pathlib import Path

from segwise.errors import InputError
from segwise.io.limits import listed

ROLES = ("customer", "date", "invoice", "quantity", "price", "amount", "product", "description")

SYNONYMS: dict[str, frozenset[str]] = {
    "customer": frozenset(
        [
            "customerid",
            "customer",
            "customerno",
            "customernumber",
            "customercode",
            "custid",
            "custno",
            "client",
            "clientid",
            "clientno",
            "clientnumber",
            "memberid",
            "member",
            "memberno",
            "membernumber",
            "msisdn",
            "accountid",
            "accountno",
            "accountnumber",
            "account",
            "userid",
            "user",
            "buyerid",
            "buyer",
            "shopperid",
            "subscriberid",
            "subscriber",
            "phonenumber",
            "mobilenumber",
            "walletid",
        ]
    ),
    "date": frozenset(
        [
            "invoicedate",
            "date",
            "transactiondate",
            "txndate",
            "trandate",
            "orderdate",
            "purchasedate",
            "saledate",
            "salesdate",
            "datetime",
            "timestamp",
            "transactiontime",
            "txntime",
            "createdat",
            "orderdatetime",
            "day",
            "postingdate",
            "valuedate",
            "bookingdate",
            "paymentdate",
        ]
    ),
    "invoice": frozenset(
        [
            "invoiceno",
            "invoice",
            "invoiceid",
            "invoicenumber",
            "orderid",
            "order",
            "orderno",
            "ordernumber",
            "transactionid",
            "txnid",
            "tranid",
            "transactionno",
            "receipt",
            "receiptno",
            "receiptid",
            "receiptnumber",
            "basketid",
            "billno",
            "billid",
            "ticketid",
            "documentno",
            "reference",
        ]
    ),
    "quantity": frozenset(
        [
            "quantity",
            "qty",
            "units",
            "unitssold",
            "numberofunits",
            "numberofitems",
            "items",
            "itemcount",
            "count",
            "numberofcds",
            "quantitysold",
            "pieces",
        ]
    ),
    "price": frozenset(
        """unitprice price priceeach itemprice unitcost rate sellingprice pricePerUnit
        priceperunit""".lower().split()
    ),
    "amount": frozenset(
        [
            "amount",
            "total",
            "totalamount",
            "totalprice",
            "sales",
            "sale",
            "revenue",
            "value",
            "dollarvalue",
            "spend",
            "netamount",
            "lineamount",
            "linetotal",
            "linevalue",
            "transactionamount",
            "txnamount",
            "amt",
            "turnover",
            "paid",
            "amountpaid",
            "monetary",
            "grossamount",
            "salesamount",
            "ordervalue",
            "ordertotal",
        ]
    ),
    "product": frozenset(
        [
            "stockcode",
            "productcode",
            "productid",
            "sku",
            "itemcode",
            "itemid",
            "articleno",
            "article",
            "product",
            "item",
            "productno",
        ]
    ),
    "description": frozenset(
        ["description", "productname", "itemname", "itemdescription", "productdescription"]
    ),
}

_DATE_TEXT = re.compile(
    r"^\s*(\d{4}[-/.]\d{1,2}[-/.]\d{1,2}|\d{1,2}[-/.]\d{1,2}[-/.]\d{2,4}|(19|20)\d{6})([ T].*)?$"
)


def normalise(name: str) -> str:
    """A header reduced to lower-case letters and digits (BOM and punctuation removed)."""
    return re.sub(r"[^0-9a-z]", "", name.replace("\ufeff", "").replace("ï»¿", "").lower())


@dataclass(frozen=True)
class RoleMapping:
    """Which input column plays each role (None when absent), and how each was recognised."""

    customer: str | None = None
    date: str | None = None
    invoice: str | None = None
    quantity: str | None = None
    price: str | None = None
    amount: str | None = None
    product: str | None = None
    description: str | None = None
    how: Mapping[str, str] = field(default_factory=dict)

    def as_dict(self) -> dict[str, str]:
        """Role -> column, for the roles that were found."""
        return {f.name: v for f in fields(self) if f.name != "how" and (v := getattr(self, f.name))}

    def describe(self) -> list[tuple[str, str, str]]:
        """(role, column, how it was recognised) rows, for showing the mapping to the user."""
        return [(role, col, self.how.get(role, "")) for role, col in self.as_dict().items()]


def detect_roles(
    columns: Sequence[str],
    sample: Mapping[str, Sequence[object]],
    overrides: Mapping[str, str | None] | None = None,
    *,
    file: str | None = None,
) -> RoleMapping:
    """Map roles to columns: flags first, then header synonyms, then content (dates only).

    ``sample`` holds a few hundred values per column, used to recognise a date column that
    has an unfamiliar header.
    """
    found: dict[str, str] = {}
    how: dict[str, str] = {}
    taken: set[str] = set()
    for role, wanted in (overrides or {}).items():
        if not wanted:
            continue
        if role not in ROLES:
            raise InputError(f"unknown column role '{role}'", hint=f"roles are {', '.join(ROLES)}")
        column = _find_column(columns, wanted)
        if column is None:
            raise InputError(
                f"column '{wanted}' given by --{role} is not in the file",
                file=file,
                hint=f"columns are: {listed(columns)}",
            )
        found[role], how[role] = column, "flag"
        taken.add(column)

    by_name = {normalise(c): c for c in reversed(columns)}  # first occurrence wins
    for role in ROLES:
        if role in found:
            continue
        for name, column in by_name.items():
            if column not in taken and name in SYNONYMS[role]:
                found[role], how[role] = column, "header"
                taken.add(column)
                break

    if "date" not in found:
        for column in columns:
            values = [str(v) for v in sample.get(column, ()) if v is not None and str(v).strip()]
            if column not in taken and values and _share(values, _DATE_TEXT) >= 0.9:
                found["date"], how["date"] = column, "content"
                taken.add(column)
                break
    return RoleMapping(**found, how=how)


def _find_column(columns: Sequence[str], wanted: str) -> str | None:
    if wanted in columns:
        return wanted
    matches = [c for c in columns if normalise(c) == normalise(wanted)]
    return matches[0] if matches else None


def _share(values: Sequence[str], pattern: re.Pattern[str]) -> float:
    return sum(1 for v in values if pattern.match(v)) / len(values)


def looks_like_log(mapping: RoleMapping, sample: Mapping[str, Sequence[object]]) -> bool:
    """A transaction log has a customer, a date and money, and customers that come back."""
    if not (mapping.customer and mapping.date and (mapping.amount or mapping.price)):
        return False
    if mapping.invoice:
        return True
    ids = [v for v in sample.get(mapping.customer, ()) if v is not None]
    return len(set(ids)) < len(ids)


def id_column(columns: Sequence[str], sample: Mapping[str, Sequence[object]]) -> str | None:
    """The column of a customer table that names each customer, if one does.

    The customer role by header, else an id-like name (``id``, ``rownames``, ``*_id``...)
    whose sampled values are all distinct.
    """
    found = detect_roles(columns, sample).customer
    if found:
        return found
    for column in columns:
        name = normalise(column)
        values = [v for v in sample.get(column, ()) if v is not None]
        idlike = name in ("id", "rownames", "index", "no", "number") or name.endswith("id")
        if idlike and values and len(set(values)) == len(values):
            return column
    return None


def require_log_roles(mapping: RoleMapping, columns: Sequence[str], file: str | Path) -> None:
    """A log needs a customer id, a date, and an amount (or a quantity and a unit price):
    say which is missing, and the columns there are to name it with."""
    cols = listed(columns)
    if mapping.customer is None:
        raise InputError(
            "no customer id column found",
            file=file,
            hint=f"name it with --customer COL (columns: {cols})",
        )
    if mapping.date is None:
        raise InputError(
            "no date column found", file=file, hint=f"name it with --date COL (columns: {cols})"
        )
    if mapping.amount is None and mapping.price is None:
        raise InputError(
            "no amount found: the log needs an amount column, or a quantity and a unit price",
            file=file,
            hint=f"name them with --amount COL, or --quantity COL --price COL (columns: {cols})",
        )
