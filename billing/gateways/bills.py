"""Reading the daily bills (对账单) that Alipay and WeChat Pay publish, for settlement.

Operators (or a download job) put each day's bill into ``MEDBOOK_BILL_DIR`` as
``alipay-YYYY-MM-DD.csv`` (Alipay's 业务明细 trade bill) or ``wechat-YYYY-MM-DD.csv`` (WeChat
Pay's 交易账单, type ALL). Both are CSV with Chinese headers; Alipay's comes GBK-encoded with
``#`` comment lines, WeChat Pay's prefixes every value with a backtick and ends with summary
rows. A missing bill is a GatewayError: settlement skips that gateway until the file is there.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from decimal import Decimal, InvalidOperation
from pathlib import Path

from django.conf import settings

from .base import GatewayError, StatementEntry


def bill_path(gateway: str, day: dt.date) -> Path:
    return Path(settings.MEDBOOK_BILL_DIR) / f"{gateway}-{day:%Y-%m-%d}.csv"


def _read(path: Path, encodings: tuple[str, ...]) -> str:
    if not path.exists():
        raise GatewayError(f"the bill {path.name} has not been downloaded into MEDBOOK_BILL_DIR")
    raw = path.read_bytes()
    for encoding in encodings:
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise GatewayError(f"the bill {path.name} is in an unknown encoding")


def _amount(value: str, path: Path) -> Decimal:
    try:
        return abs(Decimal(value.strip().lstrip("`") or "0"))
    except InvalidOperation as exc:
        raise GatewayError(f"the bill {path.name} has an unreadable amount {value!r}") from exc


def alipay_statement(day: dt.date) -> list[StatementEntry]:
    path = bill_path("alipay", day)
    lines = [
        line
        for line in _read(path, ("utf-8-sig", "gb18030")).splitlines()
        if not line.startswith("#")
    ]
    entries = []
    for row in csv.DictReader(io.StringIO("\n".join(lines))):
        row = {k.strip(): (v or "").strip() for k, v in row.items() if k}
        kind = row.get("业务类型", "")
        trade_no = row.get("支付宝交易号", "")
        if not trade_no:
            continue
        if kind == "交易":
            entries.append(
                StatementEntry(
                    "payment",
                    trade_no,
                    row.get("商户订单号", ""),
                    _amount(row["订单金额（元）"], path),
                )
            )
        elif kind == "退款":
            entries.append(
                StatementEntry(
                    "refund",
                    f"{trade_no}/{row.get('退款批次号/请求号', '')}",
                    row.get("商户订单号", ""),
                    _amount(row.get("商家实收（元）") or row["订单金额（元）"], path),
                )
            )
    return entries


def wechat_statement(day: dt.date) -> list[StatementEntry]:
    path = bill_path("wechat", day)
    text = _read(path, ("utf-8-sig", "gb18030"))
    body = text.split("\n总交易单数", 1)[0]  # the summary rows follow the transactions
    entries = []
    for row in csv.DictReader(io.StringIO(body)):
        row = {k.strip(): (v or "").strip().lstrip("`") for k, v in row.items() if k}
        state = row.get("交易状态", "")
        if state == "SUCCESS":
            entries.append(
                StatementEntry(
                    "payment",
                    row["微信订单号"],
                    row.get("商户订单号", ""),
                    _amount(row.get("订单金额") or row["应结订单金额"], path),
                )
            )
        elif state == "REFUND":
            entries.append(
                StatementEntry(
                    "refund",
                    row["微信退款单号"],
                    row.get("商户订单号", ""),
                    _amount(row["退款金额"], path),
                )
            )
    return entries
