"""What the appointments API reads and answers (shapes only: the rules are the services')."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from appointments.choices import AppointmentStatus, Channel, DoctorTitle
from appointments.models import Appointment
from medbook.api.inputs import (
    LOCAL_NAME_HELP,
    ClockTimeField,
    JsonBooleanField,
    QueryBooleanField,
    QuerySerializer,
)
from members.models import InsurerChoice, Relation

from ..choices import Gateway, OrderStatus, PaymentMethod
from ..gateways import member_gateways
from ..insurance import services as insurance
from ..models import Order
from ..reschedule_selectors import MoveOption, ReschedulePage
from ..selectors import (
    CancelRule,
    PaymentRequest,
    default_method,
    method_of_gateway,
    order_of,
    payable_order,
    refund_summary,
)

IDEMPOTENCY_HEADER = "Idempotency-Key"
IDEMPOTENCY_KEY_MAX = 255


class BookSerializer(serializers.Serializer):
    schedule = serializers.IntegerField(
        min_value=1,
        max_value=2**31 - 1,
        help_text=_("The session to book: a session's id from a doctor's sessions."),
    )
    patient = serializers.IntegerField(
        min_value=1,
        max_value=2**31 - 1,
        required=False,
        help_text=_(
            "Who the appointment is for: one of the account's patients (their id from the "
            "patients list). Absent: the account holder."
        ),
    )
    slot = serializers.IntegerField(
        min_value=0,
        max_value=1000,
        required=False,
        help_text=_(
            "For a session split into time slots: the chosen slot's index (from the session's "
            "slots). Absent: the earliest slot with a free place."
        ),
    )
    accept_late = JsonBooleanField(
        default=False,
        help_text=_(
            "Needed (true) when the session starts within the cancellation cutoff and the "
            "member's level may not cancel late: the member accepts that the booking cannot be "
            "cancelled online. Without it such a booking is refused (late_booking_unconfirmed)."
        ),
    )


class AppointmentFilterSerializer(QuerySerializer):
    status = serializers.ChoiceField(
        choices=AppointmentStatus.choices,
        required=False,
        help_text=_("Only appointments in this status."),
    )
    upcoming = QueryBooleanField(
        required=False,
        allow_null=True,
        default=None,
        help_text=_(
            "true: only appointments still ahead (awaiting payment, confirmed, checked in); "
            "false: only past or ended ones; absent: all."
        ),
    )


class PaySerializer(serializers.Serializer):
    gateway = serializers.CharField(
        required=False,
        allow_blank=True,
        default="",
        help_text=_(
            "Optional: the gateway to pay through, one of those the clinic offers members "
            "(alipay, wechat; sandbox in a demo). The unpaid order is switched to it first: "
            "a payment already made at the gateway it leaves is still applied, and a second "
            "payment is refunded automatically. Absent: the order's own gateway."
        ),
    )
    method = serializers.ChoiceField(
        choices=PaymentMethod.choices,
        required=False,
        help_text=_(
            "How to pay, through the order's gateway (after the switch, when gateway is "
            "sent): sandbox; alipay_page / alipay_app for Alipay; wechat_native / "
            "wechat_jsapi (with openid) / wechat_app for WeChat Pay. Optional with gateway "
            "(then alipay_page, wechat_native or sandbox); required without it."
        ),
    )

    def validate_gateway(self, value: str) -> str:
        offered = member_gateways()
        if value and value not in offered:
            raise serializers.ValidationError(
                _("Choose one of the payment methods offered here: %(offered)s.")
                % {"offered": ", ".join(offered)}
            )
        return value

    def validate(self, data: dict) -> dict:
        gateway, method = data["gateway"], data.get("method")
        if not gateway and not method:
            raise serializers.ValidationError({"method": [_("This field is required.")]})
        if not method:
            data["method"] = default_method(gateway)
        elif gateway and not method_of_gateway(method, gateway):
            raise serializers.ValidationError(
                {"method": [_("This is not a way to pay through the gateway chosen.")]}
            )
        return data

    openid = serializers.RegexField(
        r"^[A-Za-z0-9_-]{1,128}$",
        required=False,
        allow_blank=True,
        default="",
        help_text=_(
            "wechat_jsapi: the payer's openid under the app id MedBook pays with (from the "
            "WeChat login of the official account or mini program); required there, ignored "
            "otherwise."
        ),
    )


class DoctorBriefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField(source="local_name", help_text=LOCAL_NAME_HELP)
    title = serializers.ChoiceField(choices=DoctorTitle.choices)
    title_label = serializers.CharField(source="get_title_display")


class DepartmentBriefSerializer(serializers.Serializer):
    code = serializers.SlugField()
    name = serializers.CharField(source="local_name", help_text=LOCAL_NAME_HELP)


class SessionBriefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    date = serializers.DateField()
    session = serializers.CharField()
    session_label = serializers.CharField(source="get_session_display")
    starts_at = serializers.DateTimeField()
    ends_at = serializers.DateTimeField()
    room = serializers.CharField(source="local_room", help_text=LOCAL_NAME_HELP)
    doctor = DoctorBriefSerializer()
    department = DepartmentBriefSerializer(source="doctor.department")


class InsuranceSplitSerializer(serializers.Serializer):
    """How medical insurance split an insured visit's charge (医保结算): the order's
    ``amount`` is the member's own share (self_pay); refunds reverse every part alike."""

    insurer = serializers.ChoiceField(choices=InsurerChoice.choices)
    insurer_label = serializers.CharField(source="get_insurer_display")
    total = serializers.DecimalField(max_digits=10, decimal_places=2)
    fund = serializers.DecimalField(
        max_digits=10, decimal_places=2, help_text=_("Paid by the insurance fund (统筹).")
    )
    personal = serializers.DecimalField(
        max_digits=10, decimal_places=2, help_text=_("Paid from the personal account (个人账户).")
    )
    self_pay = serializers.DecimalField(max_digits=10, decimal_places=2)
    reversed_fund = serializers.DecimalField(max_digits=10, decimal_places=2)
    reversed_personal = serializers.DecimalField(max_digits=10, decimal_places=2)


class OrderSerializer(serializers.Serializer):
    out_trade_no = serializers.CharField()
    gateway = serializers.ChoiceField(choices=Gateway.choices)
    original_amount = serializers.DecimalField(max_digits=10, decimal_places=2)
    discount_rate = serializers.DecimalField(max_digits=3, decimal_places=2)
    amount = serializers.DecimalField(max_digits=10, decimal_places=2)
    refunded_amount = serializers.DecimalField(max_digits=10, decimal_places=2)
    status = serializers.ChoiceField(choices=OrderStatus.choices)
    status_label = serializers.CharField(source="get_status_display")
    expires_at = serializers.DateTimeField(help_text=_("Pay before this, or the slot is released."))
    paid_at = serializers.DateTimeField(allow_null=True)
    insurance = serializers.SerializerMethodField()

    @extend_schema_field(InsuranceSplitSerializer(allow_null=True))
    def get_insurance(self, order: Order) -> dict | None:
        claim = insurance.selected_claim(order)
        return InsuranceSplitSerializer(claim).data if claim is not None else None


class RefundSummarySerializer(serializers.Serializer):
    requested = serializers.DecimalField(
        max_digits=10, decimal_places=2, help_text=_("On its way back to the member's account.")
    )
    refunded = serializers.DecimalField(
        max_digits=10, decimal_places=2, help_text=_("Back on the member's account.")
    )


class PatientBriefSerializer(serializers.Serializer):
    """Who the appointment is for (就诊人): the account holder or a relative."""

    id = serializers.IntegerField()
    name = serializers.CharField()
    relation = serializers.ChoiceField(choices=Relation.choices)
    relation_label = serializers.CharField(source="get_relation_display")


class AppointmentSerializer(serializers.ModelSerializer):
    """One of the member's appointments. Read with its order (the selectors do)."""

    status = serializers.ChoiceField(choices=AppointmentStatus.choices)
    status_label = serializers.CharField(source="get_status_display")
    channel = serializers.ChoiceField(choices=Channel.choices)
    schedule = SessionBriefSerializer()
    patient = PatientBriefSerializer(allow_null=True)
    order = serializers.SerializerMethodField()
    refunds = serializers.SerializerMethodField()
    can_pay = serializers.SerializerMethodField(
        help_text=_("Awaiting payment and the hold has not run out: POST …/pay/.")
    )

    estimated_time = ClockTimeField(
        read_only=True, help_text=_("The estimated time of the visit, clinic time (HH:MM).")
    )

    class Meta:
        model = Appointment
        fields = [
            "id",
            "status",
            "status_label",
            "queue_number",
            "estimated_time",
            "channel",
            "fee",
            "created_at",
            "confirmed_at",
            "cancelled_at",
            "cancel_reason",
            "schedule",
            "patient",
            "order",
            "refunds",
            "can_pay",
        ]
        read_only_fields = fields

    @extend_schema_field(OrderSerializer(allow_null=True))
    def get_order(self, appointment: Appointment) -> dict | None:
        order = order_of(appointment)
        return OrderSerializer(order).data if order is not None else None

    @extend_schema_field(RefundSummarySerializer(allow_null=True))
    def get_refunds(self, appointment: Appointment) -> dict | None:
        pending = getattr(appointment, "refund_pending", None)  # a list reads it with the rows
        summary = refund_summary(order_of(appointment), pending=pending)
        return RefundSummarySerializer(summary).data if summary is not None else None

    def get_can_pay(self, appointment: Appointment) -> bool:
        return payable_order(appointment, self.context["now"]) is not None


class WechatJsapiParamsSerializer(serializers.Serializer):
    """Handed unchanged to WeixinJSBridge.invoke("getBrandWCPayRequest", …) or
    wx.requestPayment; paySign is RSA-SHA256 by the merchant key."""

    appId = serializers.CharField()
    timeStamp = serializers.CharField()
    nonceStr = serializers.CharField()
    package = serializers.CharField()  # "prepay_id=…"
    signType = serializers.CharField()  # "RSA"
    paySign = serializers.CharField()


class WechatAppParamsSerializer(serializers.Serializer):
    """Handed unchanged to the WeChat App SDK's PayReq; sign is RSA-SHA256 by the merchant
    key."""

    appid = serializers.CharField()
    partnerid = serializers.CharField()
    prepayid = serializers.CharField()
    package = serializers.CharField()  # "Sign=WXPay"
    noncestr = serializers.CharField()
    timestamp = serializers.CharField()
    sign = serializers.CharField()


class PaymentSerializer(serializers.Serializer):
    method = serializers.ChoiceField(choices=PaymentMethod.choices)
    gateway = serializers.ChoiceField(choices=Gateway.choices, source="order.gateway")
    out_trade_no = serializers.CharField(source="order.out_trade_no")
    amount = serializers.DecimalField(max_digits=10, decimal_places=2, source="order.amount")
    expires_at = serializers.DateTimeField(
        source="order.expires_at", help_text=_("Pay before this, or the slot is released.")
    )
    url = serializers.CharField(
        help_text=_(
            "The page to open for payment (sandbox cashier, Alipay page pay); empty for alipay_app."
        )
    )
    order_string = serializers.CharField(
        help_text=_("alipay_app: the signed order string for the Alipay SDK; empty otherwise.")
    )
    code_url = serializers.CharField(
        help_text=_("wechat_native: the weixin:// link to show as a QR code; empty otherwise.")
    )
    prepay_id = serializers.CharField(
        help_text=_("wechat_jsapi, wechat_app: WeChat Pay's prepay order id; empty otherwise.")
    )
    jsapi = serializers.SerializerMethodField(
        help_text=_("wechat_jsapi: the signed parameters for WeChat's payment call, or null.")
    )
    app = serializers.SerializerMethodField(
        help_text=_("wechat_app: the signed parameters for the WeChat App SDK; null otherwise.")
    )

    @extend_schema_field(WechatJsapiParamsSerializer(allow_null=True))
    def get_jsapi(self, payment: PaymentRequest) -> dict | None:
        if payment.method != PaymentMethod.WECHAT_JSAPI:
            return None
        return WechatJsapiParamsSerializer(payment.params).data

    @extend_schema_field(WechatAppParamsSerializer(allow_null=True))
    def get_app(self, payment: PaymentRequest) -> dict | None:
        if payment.method != PaymentMethod.WECHAT_APP:
            return None
        return WechatAppParamsSerializer(payment.params).data


class CancelPreviewSerializer(serializers.Serializer):
    can_cancel = serializers.BooleanField(source="allowed")
    reason_code = serializers.CharField(
        allow_null=True, help_text=_("Why it cannot be cancelled online now (a refusal's code).")
    )
    reason = serializers.CharField(help_text=_("The same, for people (empty when it can)."))
    cutoff = serializers.DateTimeField(
        help_text=_("Free cancellation until this time; later only for levels that may.")
    )
    late = serializers.BooleanField(help_text=_("Past the cutoff now."))
    paid = serializers.DecimalField(max_digits=10, decimal_places=2)
    refund = serializers.DecimalField(
        max_digits=10, decimal_places=2, help_text=_("What cancelling now gives back.")
    )
    rule = serializers.ChoiceField(
        choices=[
            CancelRule.NOT_CANCELLABLE,
            CancelRule.NOTHING_PAID,
            CancelRule.FULL_REFUND,
            CancelRule.LATE_SHARE,
            CancelRule.REMAINDER,
        ],
        help_text=_("The refund rule that applies."),
    )


class CancelledSerializer(serializers.Serializer):
    appointment = AppointmentSerializer()
    refund = serializers.DecimalField(
        max_digits=10,
        decimal_places=2,
        help_text=_("The refund started by this cancellation (0 when nothing was paid)."),
    )


class RescheduleSerializer(serializers.Serializer):
    schedule = serializers.IntegerField(
        min_value=1,
        max_value=2**31 - 1,
        help_text=_("The session to move to: another session of the same doctor."),
    )
    accept_late = JsonBooleanField(
        default=False,
        help_text=_(
            "Needed (true) when the new session starts within the cancellation cutoff and the "
            "member's level may not cancel late (late_booking_unconfirmed without it)."
        ),
    )


class RescheduledSerializer(serializers.Serializer):
    appointment = AppointmentSerializer(help_text=_("The new appointment."))
    previous = serializers.IntegerField(
        help_text=_(
            "The id of the appointment it replaces (cancelled, or once the difference is paid)."
        )
    )
    refund = serializers.DecimalField(
        max_digits=10,
        decimal_places=2,
        help_text=_("The difference refunded when the new session costs less (else 0)."),
    )
    completed = serializers.BooleanField(
        help_text=_(
            "False when the new session costs more: the new appointment holds its slot until "
            "the difference is paid (its order), and the previous one stays until then."
        )
    )
    difference = serializers.DecimalField(
        max_digits=10,
        decimal_places=2,
        help_text=_("The difference to pay when the new session costs more (else 0)."),
    )


# 改约: the sessions a booking may move to (billing/api/moves.py)


class MoveOptionSerializer(serializers.Serializer):
    """A session the appointment could move to, and what moving there means for the money."""

    session = SessionBriefSerializer(source="schedule")
    fee = serializers.DecimalField(max_digits=8, decimal_places=2, source="schedule.fee")
    other_doctor = serializers.BooleanField(
        source="target.other_doctor",
        help_text=_("Another doctor of the department (where the clinic allows it)."),
    )
    remaining = serializers.IntegerField(source="target.availability.remaining")
    due = serializers.DecimalField(
        max_digits=10,
        decimal_places=2,
        help_text=_("What the new session costs the member (their level's price)."),
    )
    refund = serializers.DecimalField(
        max_digits=10,
        decimal_places=2,
        help_text=_("Given back when the new session costs less than was paid (else 0)."),
    )
    extra = serializers.DecimalField(
        max_digits=10,
        decimal_places=2,
        help_text=_(
            "The difference to pay when it costs more than was paid (else 0): the move then "
            "holds the new slot with a top-up order until it is paid."
        ),
    )
    late = serializers.BooleanField(
        help_text=_("Once moved, it could not be cancelled online (send accept_late true to move).")
    )
    can_move = serializers.BooleanField()
    reason_code = serializers.SerializerMethodField(
        help_text=_("Why it cannot move there now (a refusal's code), or null.")
    )
    reason = serializers.SerializerMethodField(help_text=_("The same, for people."))

    def get_reason_code(self, option: MoveOption) -> str | None:
        return option.blocker.code if option.blocker is not None else None

    def get_reason(self, option: MoveOption) -> str:
        return str(option.blocker.message) if option.blocker is not None else ""


class RescheduleOptionsSerializer(serializers.Serializer):
    can_move = serializers.BooleanField(
        help_text=_("It may move now, and at least one session is open to it.")
    )
    reason_code = serializers.SerializerMethodField(
        help_text=_("Why it cannot move at all now (a refusal's code), or null.")
    )
    reason = serializers.SerializerMethodField(help_text=_("The same, for people."))
    moves = serializers.IntegerField(help_text=_("Times this booking has been moved already."))
    limit = serializers.IntegerField(help_text=_("Times the member's level may move a booking."))
    monthly = serializers.IntegerField(
        allow_null=True, help_text=_("Moves the level allows a month (null: no monthly limit).")
    )
    cutoff = serializers.DateTimeField(help_text=_("Moves are possible until this time."))
    paid = serializers.DecimalField(
        max_digits=10,
        decimal_places=2,
        help_text=_("What the member has paid for the booking (0 for an unpaid hold)."),
    )
    is_hold = serializers.BooleanField(
        help_text=_("An unpaid hold: it moves with its deadline, at the new session's price.")
    )
    options = MoveOptionSerializer(many=True, help_text=_("Soonest first."))

    def get_reason_code(self, page: ReschedulePage) -> str | None:
        return page.blocker.code if page.blocker is not None else None

    def get_reason(self, page: ReschedulePage) -> str:
        return str(page.blocker.message) if page.blocker is not None else ""
