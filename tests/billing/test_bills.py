"""The daily bills of Alipay and WeChat Pay, read for settlement."""

# ruff: noqa: E501 - the sample bills are long lines, as the providers write them
# ruff: noqa: F811 - fixtures shared with the Alipay tests are imported by name

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from billing import settlement
from billing.choices import MismatchKind
from billing.gateways import GatewayError
from billing.gateways.bills import alipay_statement, wechat_statement
from tests.billing.test_alipay import alipay, keys, notify_body, order  # noqa: F401 - fixtures

DAY = dt.date(2026, 11, 24)

ALIPAY_BILL = """#支付宝业务明细查询
#账号：[20880000000000000156]
#起始日期：[2026年11月24日 00:00:00]   终止日期：[2026年11月25日 00:00:00]
#-----------------------------------------业务明细列表----------------------------------------
支付宝交易号,商户订单号,业务类型,商品名称,创建时间,完成时间,门店编号,门店名称,操作员,终端号,对方账户,订单金额（元）,商家实收（元）,支付宝红包（元）,集分宝（元）,支付宝优惠（元）,商家优惠（元）,券核销金额（元）,券名称,商家红包消费金额（元）,卡消费金额（元）,退款批次号/请求号,服务费（元）,分润（元）,备注
2026112422001448621414433777	,MB20261124101450000000001	,交易,挂号费,2026-11-24 10:14:50,2026-11-24 10:15:01,,,,,138****1234,50.00,50.00,0.00,0.00,0.00,0.00,0.00,,0.00,0.00,,-0.30,0.00,
2026112422001448621414433777	,MB20261124101450000000001	,退款,挂号费,2026-11-24 15:00:00,2026-11-24 15:00:02,,,,,138****1234,-20.00,-20.00,0.00,0.00,0.00,0.00,0.00,,0.00,0.00,RF2026112410145000000000101,0.12,0.00,
#-----------------------------------------业务明细列表结束------------------------------------
#交易合计：1笔，商家实收共50.00元
"""

WECHAT_BILL = """交易时间,公众账号ID,商户号,特约商户号,设备号,微信订单号,商户订单号,用户标识,交易类型,交易状态,付款银行,货币种类,应结订单金额,代金券金额,微信退款单号,商户退款单号,退款金额,充值券退款金额,退款类型,退款状态,商品名称,商户数据包,手续费,费率,订单金额,申请退款金额,费率备注
`2026-11-24 10:15:01,`wxd678efh567hg6787,`1900000109,`0,`,`4200000000202611240000000001,`MB20261124101450000000002,`oUpF8uMuAJO_M2pxb1Q9zNjWeS6o,`NATIVE,`SUCCESS,`OTHERS,`CNY,`50.00,`0.00,`0,`0,`0.00,`0.00,`,`,`挂号费,`,`0.30000,`0.60%,`50.00,`0.00,`
`2026-11-24 16:00:00,`wxd678efh567hg6787,`1900000109,`0,`,`4200000000202611240000000001,`MB20261124101450000000002,`oUpF8uMuAJO_M2pxb1Q9zNjWeS6o,`NATIVE,`REFUND,`OTHERS,`CNY,`0.00,`0.00,`50000000382019052709732678859,`RF2026112410145000000000201,`20.00,`0.00,`ORIGINAL,`SUCCESS,`挂号费,`,`-0.12000,`0.60%,`0.00,`20.00,`
总交易单数,应结订单总金额,退款总金额,充值券退款总金额,手续费总金额,订单总金额,申请退款总金额
`1,`50.00,`20.00,`0.00,`0.18000,`50.00,`20.00
"""


@pytest.fixture
def bill_dir(settings, tmp_path):
    settings.MEDBOOK_BILL_DIR = str(tmp_path)
    return tmp_path


def test_alipay_bills_are_read_in_gbk_with_their_comment_lines(bill_dir) -> None:
    (bill_dir / "alipay-2026-11-24.csv").write_bytes(ALIPAY_BILL.encode("gb18030"))

    entries = alipay_statement(DAY)

    assert [(e.kind, e.reference, e.out_trade_no, e.amount) for e in entries] == [
        (
            "payment",
            "2026112422001448621414433777",
            "MB20261124101450000000001",
            Decimal("50.00"),
        ),
        (
            "refund",
            "2026112422001448621414433777/RF2026112410145000000000101",
            "MB20261124101450000000001",
            Decimal("20.00"),
        ),
    ]


def test_wechat_bills_drop_backticks_and_summary_rows(bill_dir) -> None:
    (bill_dir / "wechat-2026-11-24.csv").write_text(WECHAT_BILL, encoding="utf-8")

    entries = wechat_statement(DAY)

    assert [(e.kind, e.reference, e.amount) for e in entries] == [
        ("payment", "4200000000202611240000000001", Decimal("50.00")),
        ("refund", "50000000382019052709732678859", Decimal("20.00")),
    ]


def test_a_missing_bill_says_so(bill_dir) -> None:
    with pytest.raises(GatewayError, match="has not been downloaded"):
        alipay_statement(DAY)


@pytest.mark.django_db
def test_alipay_settlement_reconciles_against_the_bill(
    bill_dir,
    client,
    keys,
    alipay,
    order,
) -> None:
    client.post(
        "/payments/notify/alipay/",
        notify_body(keys, order),
        content_type="application/x-www-form-urlencoded",
    )
    order.refresh_from_db()
    day = order.paid_at.astimezone(dt.timezone(dt.timedelta(hours=8))).date()
    rows = ALIPAY_BILL.replace("MB20261124101450000000001", order.out_trade_no)
    rows = "\n".join(line for line in rows.splitlines() if ",退款," not in line)
    (bill_dir / f"alipay-{day:%Y-%m-%d}.csv").write_bytes(rows.encode("gb18030"))

    agreed = settlement.settle_day(day=day, gateway=alipay)
    assert (agreed.payments_total, agreed.mismatch_count) == (Decimal("50.00"), 0)

    (bill_dir / f"alipay-{day:%Y-%m-%d}.csv").write_bytes(
        rows.replace(",50.00,50.00,", ",5.00,5.00,").encode("gb18030")
    )
    disputed = settlement.settle_day(day=day, gateway=alipay)
    assert [m.kind for m in disputed.mismatches.all()] == [MismatchKind.AMOUNT_DIFFERS]
