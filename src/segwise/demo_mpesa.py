"""A seeded M-Pesa paybill statement of a co-operative: the example statement of
docs/mpesa.md (``segwise demo`` writes one) and test data with known content.

Members pay with their member number as the account (a few leave it blank), a few payments
fail or are reversed, every payment costs the business a charge, and the business withdraws
to its bank weekly. The file looks as the business portal exports it: a few lines about the
account above the table, the newest transaction first, withdrawals as negative amounts.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path

import numpy as np


@dataclass(frozen=True)
class MpesaLine:
    """One row of an M-Pesa business (paybill) statement, as the portal exports it."""

    receipt: str
    time: datetime
    details: str
    paid_in: float = 0.0
    withdrawn: float = 0.0
    reason_type: str = "Pay Bill Online"
    other_party: str = ""
    account: str = ""
    status: str = "Completed"


def mpesa_statement_lines(
    members: int = 60, *, seed: int = 7, start: date = date(2026, 1, 1), days: int = 90
) -> list[MpesaLine]:
    """A seeded paybill statement of a co-operative: members pay with their member number as
    the account (some leave it blank), a few payments fail or are reversed, and the business
    pays transaction charges and withdraws to its bank."""
    rng = np.random.default_rng(seed)
    lines: list[MpesaLine] = []
    receipts = iter(f"T{n:09X}" for n in rng.choice(16**9, size=members * 80, replace=False))
    for m in range(1, members + 1):
        phone = f"2547{rng.integers(10_000_000, 99_999_999)}"
        party = f"{phone} - MEMBER {m:03d}"
        for _ in range(int(rng.integers(1, 25))):
            when = datetime.combine(start, datetime.min.time()) + timedelta(
                days=int(rng.integers(0, days)), minutes=int(rng.integers(360, 1260))
            )
            amount = float(rng.integers(2, 60) * 50)
            account = "" if rng.random() < 0.05 else f"M{m:04d}"
            status = "Failed" if rng.random() < 0.03 else "Completed"
            receipt = next(receipts)
            lines.append(
                MpesaLine(
                    receipt,
                    when,
                    f"Pay Bill from {party} Acc. {account}",
                    amount,
                    0.0,
                    "Pay Bill Online",
                    party,
                    account,
                    status,
                )
            )
            if status == "Completed":
                lines.append(
                    MpesaLine(
                        next(receipts),
                        when + timedelta(seconds=1),
                        "Pay Bill Charge",
                        0.0,
                        round(amount * 0.01, 2),
                        "Business Pay Bill Charge",
                        "",
                        "",
                        status,
                    )
                )
            if status == "Completed" and rng.random() < 0.02:
                lines.append(
                    MpesaLine(
                        next(receipts),
                        when + timedelta(hours=2),
                        f"Reversal of {receipt}",
                        0.0,
                        amount,
                        "Pay Bill Online Reversal",
                        party,
                        account,
                        status,
                    )
                )
    for week in range(days // 7):
        when = datetime.combine(start + timedelta(days=7 * week + 6), datetime.min.time())
        lines.append(
            MpesaLine(
                next(receipts),
                when.replace(hour=17),
                "Withdraw Funds to Bank",
                0.0,
                float(rng.integers(20, 80) * 1000),
                "Business Withdrawal to Bank",
                "KCB BANK",
                "",
                "Completed",
            )
        )
    return sorted(lines, key=lambda line: (line.time, line.receipt))


def write_mpesa_statement(
    lines: list[MpesaLine],
    path: str | Path,
    *,
    organisation: str = "UMOJA DAIRY FARMERS CO-OPERATIVE",
    short_code: str = "512345",
) -> Path:
    """Write a statement as the business portal exports it: a few lines about the account,
    then the table (CSV, or XLSX by extension), newest transaction first, with a running
    balance."""
    import csv

    path = Path(path)
    first = min(line.time for line in lines).date()
    last = max(line.time for line in lines).date()
    head = [
        ["Account Holder:", organisation],
        ["Short Code:", short_code],
        ["Time Period:", f"{first:%d-%m-%Y} - {last:%d-%m-%Y}"],
        [],
    ]
    header = [
        "Receipt No.",
        "Completion Time",
        "Initiation Time",
        "Details",
        "Transaction Status",
        "Paid In",
        "Withdrawn",
        "Balance",
        "Reason Type",
        "Other Party Info",
        "A/C No.",
    ]
    rows, balance = [], 0.0
    for line in sorted(lines, key=lambda item: (item.time, item.receipt)):
        done = line.status == "Completed"
        balance += (line.paid_in - line.withdrawn) if done else 0.0
        stamp = f"{line.time:%Y-%m-%d %H:%M:%S}"
        rows.append(
            [
                line.receipt,
                stamp if done else "",
                stamp,
                line.details,
                line.status,
                f"{line.paid_in:.2f}" if line.paid_in else "",
                f"-{line.withdrawn:.2f}" if line.withdrawn else "",
                f"{balance:.2f}",
                line.reason_type,
                line.other_party,
                line.account,
            ]
        )
    rows.reverse()  # the portal lists the newest first
    if path.suffix.lower() == ".xlsx":
        from openpyxl import Workbook

        book = Workbook()
        sheet = book.active
        assert sheet is not None
        for row in [*head, header, *rows]:
            sheet.append(row)
        book.save(path)
        return path
    with path.open("w", newline="", encoding="utf-8") as fh:
        csv.writer(fh).writerows([*head, header, *rows])
    return path
