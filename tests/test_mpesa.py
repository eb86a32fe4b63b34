"""M-Pesa paybill statements read as a log: the RFM worked by hand for a few members.

The statement (written as the business portal exports it: account lines above the table,
newest first, withdrawals negative) holds, in March 2026:

  03-01 M0001 pays 1,000.00            + a 10.00 pay bill charge (the business's)
  03-05 M0002 pays 500.00
  03-10 M0001 pays 2,000.00, reversed two hours later (Withdrawn 2,000.00)
  03-12 M0003 pays 300.00 but the payment Failed
  03-15 M0003 pays 750.00
  03-15 254711000004 (JANE, no account number ever) pays 400.00
  03-20 M0002's phone pays 250.00 with the account left blank
  03-25 the business withdraws 3,000.00 to its bank
  03-28 M0001 pays 1,500.50            + a 15.00 pay bill charge

As-of: the day after the last line, 2026-03-29. By hand (DESIGN.md's definitions):

  customer      recency  frequency  monetary  scores  segment
  M0001         1        3          2500.50   444     Loyal (R4, FM (4+4)/2 = 4)
  M0002         9        2           750.00   332     Potential Loyalist (FM 2.5 -> 3)
  M0003         14       1           750.00   112     Hibernating (FM 1.5 -> 2)
  254711000004  14       1           400.00   111     Lost

M0001's reversed payment is still a purchase (an invoice), the reversal lowers its spend as
a return does. Scores with n = 4: 1 + floor(5 * worse / 4); e.g. M0002's monetary 750 has
one worse value (400): 1 + floor(5/4) = 2.
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import pandas as pd
import pytest

from segwise import service
from segwise.demo_mpesa import MpesaLine, mpesa_statement_lines, write_mpesa_statement

JANE = "254711000004 - JANE WANJIRU"
AMOS = "254722000002 - AMOS KIPROP"


def pay(receipt: str, when: str, amount: float, party: str, account: str, **kw: object):
    return MpesaLine(
        receipt,
        datetime.fromisoformat(when),
        f"Pay Bill from {party} Acc. {account}",
        paid_in=amount,
        other_party=party,
        account=account,
        **kw,  # type: ignore[arg-type]
    )


def charge(receipt: str, when: str, amount: float) -> MpesaLine:
    return MpesaLine(
        receipt,
        datetime.fromisoformat(when),
        "Pay Bill Charge",
        withdrawn=amount,
        reason_type="Business Pay Bill Charge",
    )


LINES = [
    pay("TA00000001", "2026-03-01 09:00:00", 1000, "254733000001 - MARY ATIENO", "M0001"),
    charge("TA0000000C", "2026-03-01 09:00:01", 10),
    pay("TA00000002", "2026-03-05 10:00:00", 500, AMOS, "M0002"),
    pay("TA00000003", "2026-03-10 11:00:00", 2000, "254733000001 - MARY ATIENO", "m 0001"),
    MpesaLine(
        "TA00000004",
        datetime(2026, 3, 10, 13, 0),
        "Reversal of TA00000003",
        withdrawn=2000,
        reason_type="Pay Bill Online Reversal",
    ),
    pay(
        "TA00000005",
        "2026-03-12 08:00:00",
        300,
        "254744000003 - ALI HASSAN",
        "M0003",
        status="Failed",
    ),
    pay("TA00000006", "2026-03-15 09:00:00", 750, "254744000003 - ALI HASSAN", "M0003"),
    pay("TA00000007", "2026-03-15 10:00:00", 400, JANE, ""),
    pay("TA00000008", "2026-03-20 09:00:00", 250, AMOS, ""),
    MpesaLine(
        "TA00000009",
        datetime(2026, 3, 25, 17, 0),
        "Withdraw Funds to Bank",
        withdrawn=3000,
        reason_type="Business Withdrawal to Bank",
        other_party="KCB BANK",
    ),
    pay("TA00000010", "2026-03-28 09:00:00", 1500.50, "254733000001 - MARY ATIENO", "M0001"),
    charge("TA0000000D", "2026-03-28 09:00:01", 15),
]

BY_HAND = pd.DataFrame(
    {
        "customer_id": ["254711000004", "M0001", "M0002", "M0003"],
        "recency": [14, 1, 9, 14],
        "frequency": [1, 3, 2, 1],
        "monetary": [400.0, 2500.5, 750.0, 750.0],
        "rfm_code": ["111", "444", "332", "112"],
        "segment": ["Lost", "Loyal", "Potential Loyalist", "Hibernating"],
    }
)


@pytest.fixture(params=["csv", "xlsx"])
def statement(request: pytest.FixtureRequest, tmp_path: Path) -> Path:
    return write_mpesa_statement(LINES, tmp_path / f"statement.{request.param}")


def test_the_statement_has_header_lines_and_the_portal_columns(tmp_path):
    text = write_mpesa_statement(LINES, tmp_path / "s.csv").read_text().splitlines()
    assert text[0].startswith("Account Holder:") and text[1] == "Short Code:,512345"
    assert text[4].startswith("Receipt No.,Completion Time,Initiation Time,Details,")
    assert text[5].startswith("TA0000000D,2026-03-28 09:00:01")  # newest first


def test_cli_gives_the_hand_worked_rfm(cli, statement, tmp_path):
    out = tmp_path / "rfm.csv"
    result = cli("rfm", statement, "--out", out, "--json")
    assert result.exit_code == 0, result.stderr
    got = pd.read_csv(out, dtype={"customer_id": str, "rfm_code": str})
    pd.testing.assert_frame_equal(got[list(BY_HAND.columns)], BY_HAND)
    summary = json.loads(result.stdout)
    assert summary["as_of"] == "2026-03-29"
    assert summary["input"]["format"] == "M-Pesa statement"
    report = summary["report"]
    assert report["lines"] == 12 and report["kept_lines"] == 8 and report["returns"] == 1
    assert report["dropped"] == {"adjustment": 3, "not_completed": 1}


def test_service_gives_the_hand_worked_rfm(statement):
    """What the CLI does, through ``service`` (as a schedule passes a source string)."""
    with service.local_input(str(statement)) as path:
        rfm = service.compute_rfm(path)
    got = rfm.to_pandas().sort_values("customer_id", ignore_index=True)
    assert got[["r_score", "f_score", "m_score"]].values.tolist() == [
        [1, 1, 1],
        [4, 4, 4],
        [3, 3, 2],
        [1, 1, 2],
    ]
    pd.testing.assert_frame_equal(got[list(BY_HAND.columns)], BY_HAND, check_dtype=False)
    info = service.ingest_input(str(statement))
    assert info.customers == 4 and info.dropped == {"adjustment": 3, "not_completed": 1}
    assert service.ingest_input(str(statement)).id == info.id  # content-addressed


def test_the_paying_party_stands_in_when_no_account_is_ever_given(tmp_path):
    lines = [replace_account(line) for line in LINES]
    path = write_mpesa_statement(lines, tmp_path / "no_accounts.csv")
    with service.local_input(path) as log:
        ids = set(service.compute_rfm(log).to_pandas().customer_id)
    assert ids == {"254711000004", "254722000002", "254733000001", "254744000003"}


def replace_account(line: MpesaLine) -> MpesaLine:
    from dataclasses import replace

    return replace(line, account="", details=line.details.split(" Acc.")[0])


def test_format_flag_and_column_flags(cli, statement, tmp_path):
    plain = tmp_path / "plain.csv"
    plain.write_text("customer,date,amount\n1,2026-01-01,5\n1,2026-01-02,6\n")
    result = cli("rfm", plain, "--format", "mpesa")
    assert result.exit_code == 2 and "not an M-Pesa statement" in result.stderr
    result = cli("rfm", statement, "--customer", "Other Party Info")
    assert result.exit_code == 2 and "--customer does not apply" in result.stderr
    result = cli("rfm", statement, "--format", "pdf")
    assert result.exit_code == 2 and "--format 'pdf' is unknown" in result.stderr
    result = cli("rfm", tmp_path / "missing.csv", "--format", "mpesa")
    assert result.exit_code == 2 and "file not found (missing.csv)" in result.stderr
    (tmp_path / "empty.csv").write_text("")
    result = cli("rfm", tmp_path / "empty.csv", "--format", "mpesa")
    assert result.exit_code == 2 and "the file is empty" in result.stderr


def test_a_generated_statement_keeps_every_shilling(cli, tmp_path):
    """The example statement: spend per member is what members paid and kept, by the
    generator's own records; charges and withdrawals belong to no one."""
    lines = mpesa_statement_lines(40, seed=3)
    path = write_mpesa_statement(lines, tmp_path / "mpesa_statement.csv")
    reversed_receipts = {
        line.details.split()[-1] for line in lines if "Reversal" in line.reason_type
    }
    spend: dict[str, float] = {}
    for line in lines:
        if line.status == "Completed" and line.reason_type == "Pay Bill Online":
            member = "M" + line.other_party.split("MEMBER ")[1].zfill(4)
            spend[member] = spend.get(member, 0.0) + line.paid_in
            if line.receipt in reversed_receipts:
                spend[member] -= line.paid_in
    out = tmp_path / "rfm.csv"
    result = cli("rfm", path, "--out", out, "--json")
    assert result.exit_code == 0, result.stderr
    got = pd.read_csv(out, dtype={"customer_id": str}).set_index("customer_id")["monetary"]
    assert got.round(2).to_dict() == pytest.approx({k: round(v, 2) for k, v in spend.items()})
    report = json.loads(result.stdout)["report"]
    assert report["dropped"]["not_completed"] == sum(line.status != "Completed" for line in lines)
    assert report["dropped"]["adjustment"] == sum(
        line.reason_type.startswith("Business") for line in lines
    )
    assert report["returns"] == len(reversed_receipts) > 0


def test_a_cp1252_statement_with_a_footer_reads_the_same(cli, tmp_path):
    """Excel's "CSV" in Windows-1252 (a name with an accent) and a footer wider than the
    table: the same RFM as the clean export."""
    clean = write_mpesa_statement(LINES, tmp_path / "clean.csv")
    text = clean.read_text(encoding="utf-8").replace("JANE WANJIRU", "JANE WANJIRÚ")
    footer = "Disclaimer: this statement is computer generated" + "," * 14 + "end\n"
    legacy = tmp_path / "legacy.csv"
    legacy.write_bytes((text + "\n" + footer).encode("cp1252"))
    want = rfm_of(cli, clean, tmp_path / "a.csv")
    pd.testing.assert_frame_equal(rfm_of(cli, legacy, tmp_path / "b.csv"), want)


def rfm_of(cli, path: Path, out: Path) -> pd.DataFrame:
    result = cli("rfm", path, "--out", out)
    assert result.exit_code == 0, result.stderr
    return pd.read_csv(out, dtype={"customer_id": str})


def test_a_folder_of_statements_is_one_log(cli, tmp_path):
    """March in two statements (CSV to the 12th, XLSX from the 15th). A payment without an
    account goes to the account its party uses in the same statement: AMOS's blank payment of
    the 20th is in the second statement, where he never gives M0002, so his phone stands in.

      customer      recency  frequency  monetary  scores  segment
      M0001         1        3          2500.50   555     Champions
      254722000002  9        1           250.00   411     Promising
      M0003         14       1           750.00   214     Need Attention (FM 2.5 -> 3)
      254711000004  14       1           400.00   212     Need Attention (FM 1.5 -> 2)
      M0002         24       1           500.00   113     Hibernating (FM 2)
    """
    folder = tmp_path / "march"
    folder.mkdir()
    cut = datetime(2026, 3, 13)
    write_mpesa_statement([x for x in LINES if x.time < cut], folder / "2026-03a.csv")
    write_mpesa_statement([x for x in LINES if x.time >= cut], folder / "2026-03b.xlsx")
    out = tmp_path / "rfm.csv"
    result = cli("rfm", folder, "--out", out, "--json")
    assert result.exit_code == 0, result.stderr
    got = pd.read_csv(out, dtype={"customer_id": str, "rfm_code": str})
    want = pd.DataFrame(
        {
            "customer_id": ["254711000004", "254722000002", "M0001", "M0002", "M0003"],
            "recency": [14, 9, 1, 24, 14],
            "frequency": [1, 1, 3, 1, 1],
            "monetary": [400.0, 250.0, 2500.5, 500.0, 750.0],
            "rfm_code": ["212", "411", "555", "113", "214"],
            "segment": [
                "Need Attention",
                "Promising",
                "Champions",
                "Hibernating",
                "Need Attention",
            ],
        }
    )
    pd.testing.assert_frame_equal(got[list(want.columns)], want)
    report = json.loads(result.stdout)["report"]
    assert report["files"] == [
        {"file": "2026-03a.csv", "lines": 6, "dropped": {"adjustment": 1, "not_completed": 1}},
        {"file": "2026-03b.xlsx", "lines": 6, "dropped": {"adjustment": 2}},
    ]
