"""The members API: log in (password; texted code past the failed-login limit; TOTP for staff),
refresh, log out, sign up by texted code, and the member's own profile."""

from __future__ import annotations

from allauth.core import ratelimit
from django.conf import settings
from django.contrib.auth.models import update_last_login
from django.contrib.auth.signals import user_logged_out
from django.db.models import QuerySet
from django.urls import reverse
from django.utils import timezone
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import generics, status
from rest_framework.exceptions import Throttled
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from medbook import audit
from medbook.api import tokens
from medbook.api.pagination import CursorPagination
from medbook.models import TokenRevocation
from medbook.personal_data import mask_phone

from .. import consents, patients, selectors, services
from ..consent import SIGNUP_KINDS
from ..models import MemberLevel, Message, PointsEntry
from .auth import check_login
from .permissions import IsMember
from .serializers import (
    AcceptConsentSerializer,
    AgreementSerializer,
    LoginSerializer,
    LogoutSerializer,
    MembershipSerializer,
    MessageFilterSerializer,
    MessageSerializer,
    PatientChangeSerializer,
    PatientInputSerializer,
    PatientSerializer,
    PhoneCodeSentSerializer,
    PointsEntrySerializer,
    ProfileChangeSerializer,
    ProfileSerializer,
    RefreshSerializer,
    SignupCodeSentSerializer,
    SignupCodeSerializer,
    SignupSerializer,
    TokenPairSerializer,
)


class MessagePagination(CursorPagination):
    ordering = ("-created_at", "-id")


class PointsPagination(CursorPagination):
    ordering = ("-created_at", "-id")


def _pair_response(pair: tokens.TokenPair, *, status_code: int = status.HTTP_200_OK) -> Response:
    body = TokenPairSerializer(
        {
            "access": pair.access,
            "refresh": pair.refresh,
            "token_type": "Bearer",
            "access_expires_at": pair.access_expires_at,
            "refresh_expires_at": pair.refresh_expires_at,
        }
    ).data
    return Response(body, status=status_code, headers={"Cache-Control": "no-store"})


class TokenView(APIView):
    """Log in: a 10-minute access token and a refresh token."""

    permission_classes = [AllowAny]
    authentication_classes: list = []
    error_statuses = (401, 403)

    @extend_schema(
        operation_id="auth_token",
        request=LoginSerializer,
        responses={200: TokenPairSerializer},
        description=(
            "Members log in with their mobile number and password. After too many failed "
            "logins the answer is 403 login_code_required and a code is texted to the "
            "account's number: send it as `code` with the password. Staff logins also send "
            "`otp`, the code of their authenticator app (without two-factor authentication "
            "set up, staff cannot use the API)."
        ),
    )
    def post(self, request: Request) -> Response:
        data = LoginSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        user, second_factor = check_login(
            request._request,
            login=data.validated_data["login"],
            password=data.validated_data["password"],
            code=data.validated_data.get("code", ""),
            otp=data.validated_data.get("otp", ""),
        )
        pair = tokens.issue_tokens(user=user, second_factor=second_factor)
        update_last_login(None, user)
        audit.record(actor=user, action="api.login", target=user, request=request._request)
        return _pair_response(pair)


class RefreshView(APIView):
    """Exchange the refresh token for a new pair (the old refresh token is used up)."""

    permission_classes = [AllowAny]
    authentication_classes: list = []
    error_statuses = (401,)

    @extend_schema(
        operation_id="auth_token_refresh",
        request=RefreshSerializer,
        responses={200: TokenPairSerializer},
        description=(
            "Each refresh token is good once. Presenting one that was exchanged already ends "
            "the whole login (401 token_reused): someone else has a copy."
        ),
    )
    def post(self, request: Request) -> Response:
        data = RefreshSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        return _pair_response(tokens.rotate_refresh_token(raw=data.validated_data["refresh"]))


class LogoutView(APIView):
    """End this API login (its refresh and access tokens); optionally every login."""

    permission_classes = [IsAuthenticated]

    @extend_schema(
        operation_id="auth_logout",
        request=LogoutSerializer,
        responses={204: OpenApiResponse(description="Logged out.")},
    )
    def post(self, request: Request) -> Response:
        data = LogoutSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        tokens.revoke_family(family_id=request.auth.get("fam"), reason=TokenRevocation.LOGOUT)
        if data.validated_data["everywhere"]:
            # What the web's logout does (medbook.audit_signals): the login's session_epoch
            # goes up, so every session and every API token of the account ends; logged.
            user_logged_out.send(
                sender=type(request.user), request=request._request, user=request.user
            )
        else:
            audit.record(
                actor=request.user,
                action="api.logout",
                target=request.user,
                request=request._request,
            )
        return Response(status=status.HTTP_204_NO_CONTENT)


class SignupCodeView(APIView):
    """Sign-up, step 1: a code texted to the number."""

    permission_classes = [AllowAny]
    authentication_classes: list = []

    @extend_schema(
        operation_id="auth_signup_code",
        request=SignupCodeSerializer,
        responses={202: SignupCodeSentSerializer},
        description=(
            "Texts a six-digit code (valid 10 minutes) to the number. The answer is the same "
            "whether or not the number is registered. Limited as the website's codes are."
        ),
    )
    def post(self, request: Request) -> Response:
        data = SignupCodeSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        phone = services.normalized_phone(phone=data.validated_data["phone"])
        # The web's limit on codes texted to one number and from one address (allauth hashes
        # the key, as for the sign-up page's codes: the same bucket).
        if not ratelimit.consume(request._request, action="verify_phone", key=phone):
            raise Throttled()
        services.send_signup_code(phone=phone)
        return Response(
            SignupCodeSentSerializer({"masked_phone": mask_phone(phone)}).data,
            status=status.HTTP_202_ACCEPTED,
        )


class SignupView(APIView):
    """Sign-up, step 2: name, number, the texted code, a password and the two consents (terms,
    privacy policy: both ``true``); logged in at once."""

    permission_classes = [AllowAny]
    authentication_classes: list = []
    error_statuses = (409,)

    @extend_schema(
        operation_id="auth_signup",
        request=SignupSerializer,
        responses={201: TokenPairSerializer},
    )
    def post(self, request: Request) -> Response:
        if not ratelimit.consume(request._request, action="signup"):  # the sign-up page's
            raise Throttled()
        data = SignupSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        member = services.register_member_by_code(
            name=data.validated_data["name"],
            phone=data.validated_data["phone"],
            password=data.validated_data["password"],
            code=data.validated_data["code"],
            now=timezone.now(),
        )
        consents.accept(user=member.user, kinds=SIGNUP_KINDS, request=request._request, log=False)
        audit.record(
            actor=member.user, action="api.signup", target=member, request=request._request
        )
        pair = tokens.issue_tokens(user=member.user, second_factor=False)
        return _pair_response(pair, status_code=status.HTTP_201_CREATED)


class MeView(APIView):
    """The member's own profile (number and ID number masked, as on the profile page)."""

    permission_classes = [IsAuthenticated, IsMember]
    error_statuses = (400, 409)

    @extend_schema(operation_id="me", responses={200: ProfileSerializer})
    def get(self, request: Request) -> Response:
        return Response(
            ProfileSerializer(request.member).data, headers={"Cache-Control": "no-store"}
        )

    @extend_schema(
        operation_id="me_update",
        request=ProfileChangeSerializer,
        responses={200: ProfileSerializer, 202: PhoneCodeSentSerializer},
        description=(
            "What the website lets a member change: the mobile number, in two steps. Send "
            "`phone` alone: a code is texted to the new number (202; the number is unchanged). "
            "Send `phone` with that `code`: the number changes (200, the profile). A number "
            "another account uses gets no code, and the answer does not say so. Name, ID "
            "number, gender and date of birth are corrected at the front desk (400). Limited "
            "as on the website: 3 numbers an hour per login, one code per number every 30 s."
        ),
    )
    def patch(self, request: Request) -> Response:
        data = ProfileChangeSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        member = request.member
        phone = services.normalized_phone(phone=data.validated_data["phone"])
        code = data.validated_data.get("code")
        headers = {"Cache-Control": "no-store"}
        if code:
            member = services.change_phone_by_code(
                member=member, phone=phone, code=code, request=request._request
            )
            return Response(ProfileSerializer(member).data, headers=headers)
        # The website's limits on changing the number (per login) and on codes texted to
        # one number (allauth's counters: the same buckets as the pages').
        if not ratelimit.consume(request._request, action="change_phone") or not (
            ratelimit.consume(request._request, action="verify_phone", key=phone)
        ):
            raise Throttled()
        services.send_phone_change_code(member=member, phone=phone)
        return Response(
            PhoneCodeSentSerializer({"masked_phone": mask_phone(phone)}).data,
            status=status.HTTP_202_ACCEPTED,
            headers=headers,
        )


def _privileges(level: MemberLevel) -> dict:
    return {
        "level": level.level,
        "name": level.local_name,
        "min_points": level.min_points,
        "discount_rate": level.discount_rate,
        "discount_percent": level.discount_percent,
        "booking_lead_hours": level.booking_lead_hours,
        "max_active_appointments": level.max_active_appointments,
        "can_cancel_late": level.can_cancel_late,
        "free_cancellation_hours": settings.MEDBOOK_CANCEL_CUTOFF_HOURS,
        "points_multiplier": level.points_multiplier,
    }


class MembershipView(APIView):
    """The member's level and its privileges, points balance, the next level and the points it
    takes, and every level's privileges: what the membership page shows."""

    permission_classes = [IsAuthenticated, IsMember]

    @extend_schema(operation_id="membership", responses={200: MembershipSerializer})
    def get(self, request: Request) -> Response:
        member = request.member
        membership = selectors.membership(member=member)
        progress = membership.progress
        body = {
            "level": _privileges(member.level),
            "points_balance": member.points_balance,
            "next_level": _privileges(progress.next_level) if progress.next_level else None,
            "points_needed": progress.points_needed,
            "progress_percent": progress.percent,
            "levels": [_privileges(level) for level in membership.levels],
        }
        return Response(MembershipSerializer(body).data, headers={"Cache-Control": "no-store"})


class PointsListView(generics.ListAPIView):
    """The member's points ledger (积分流水), newest first, a page at a time (cursor)."""

    permission_classes = [IsAuthenticated, IsMember]
    error_statuses = (400,)
    serializer_class = PointsEntrySerializer
    pagination_class = PointsPagination

    @extend_schema(operation_id="membership_points")
    def get(self, request: Request, *args: object, **kwargs: object) -> Response:
        response = super().get(request, *args, **kwargs)
        response["Cache-Control"] = "no-store"
        return response

    def get_queryset(self) -> QuerySet[PointsEntry]:
        return selectors.points_ledger(member=self.request.member)


class MessageListView(generics.ListAPIView):
    """The member's in-app messages, newest first, a page at a time (cursor: new messages
    arriving meanwhile neither repeat nor skip one)."""

    permission_classes = [IsAuthenticated, IsMember]
    error_statuses = (400,)
    serializer_class = MessageSerializer
    pagination_class = MessagePagination

    @extend_schema(operation_id="messages", parameters=[MessageFilterSerializer])
    def get(self, request: Request, *args: object, **kwargs: object) -> Response:
        response = super().get(request, *args, **kwargs)
        response["Cache-Control"] = "no-store"
        return response

    def get_queryset(self) -> QuerySet[Message]:
        query = MessageFilterSerializer(data=self.request.query_params)
        query.is_valid(raise_exception=True)
        return selectors.member_messages(
            member=self.request.member, unread=query.validated_data["unread"]
        )


class MessageDetailView(APIView):
    """One of the member's messages; reading it marks it read (as opening it on the site does).
    Another member's message is a 404."""

    permission_classes = [IsAuthenticated, IsMember]

    @extend_schema(operation_id="message", responses={200: MessageSerializer})
    def get(self, request: Request, pk: int) -> Response:
        message = selectors.member_message(member=request.member, pk=pk)
        services.mark_message_read(message=message, now=timezone.now())
        return Response(MessageSerializer(message).data, headers={"Cache-Control": "no-store"})


class MessagesReadAllView(APIView):
    """Mark every message of the member read."""

    permission_classes = [IsAuthenticated, IsMember]

    @extend_schema(
        operation_id="messages_read_all",
        request=None,
        responses={204: OpenApiResponse(description="All read.")},
    )
    def post(self, request: Request) -> Response:
        services.mark_all_messages_read(member=request.member, now=timezone.now())
        return Response(status=status.HTTP_204_NO_CONTENT)


class PatientListView(APIView):
    """The account's patients (就诊人), the holder first; add one."""

    permission_classes = [IsAuthenticated, IsMember]
    error_statuses = (400, 409)

    @extend_schema(operation_id="patients", responses={200: PatientSerializer(many=True)})
    def get(self, request: Request) -> Response:
        member = request.member
        patients.self_patient(member=member)  # an account from before patients gets its holder
        listed = patients.member_patients(member=member)
        return Response(
            PatientSerializer(listed, many=True).data, headers={"Cache-Control": "no-store"}
        )

    @extend_schema(
        operation_id="patient_add",
        request=PatientInputSerializer,
        responses={201: PatientSerializer},
        description=(
            "Add a patient: a relative with their real name and ID. A resident ID gives the "
            "birth date and sex. A child without an ID yet (id_type none) is registered with "
            "birth_date, gender and a guardian's name and resident ID. Refused: an ID number "
            "another account holds (409 patient_id_taken; the clinic merges on request), the "
            "account's limit (409 too_many_patients), bad details (400 invalid, with the field)."
        ),
    )
    def post(self, request: Request) -> Response:
        data = PatientInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        patient = patients.add_patient(
            member=request.member, by=request.user, request=request._request, **data.validated_data
        )
        return Response(
            PatientSerializer(patient).data,
            status=status.HTTP_201_CREATED,
            headers={"Cache-Control": "no-store"},
        )


class PatientDetailView(APIView):
    """One of the account's patients: read, correct, remove. Another account's is a 404."""

    permission_classes = [IsAuthenticated, IsMember]
    error_statuses = (400, 404, 409)

    @extend_schema(operation_id="patient", responses={200: PatientSerializer})
    def get(self, request: Request, pk: int) -> Response:
        patient = patients.member_patient(member=request.member, pk=pk)
        return Response(PatientSerializer(patient).data, headers={"Cache-Control": "no-store"})

    @extend_schema(
        operation_id="patient_update",
        request=PatientChangeSerializer,
        responses={200: PatientSerializer},
        description=(
            "Correct a patient's details: send only what changes. A verified patient's name and "
            "ID are fixed (400); the holder stays the holder."
        ),
    )
    def patch(self, request: Request, pk: int) -> Response:
        patient = patients.member_patient(member=request.member, pk=pk)
        data = PatientChangeSerializer(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        patient = patients.update_patient(
            patient=patient,
            changes=dict(data.validated_data),
            by=request.user,
            request=request._request,
        )
        return Response(PatientSerializer(patient).data, headers={"Cache-Control": "no-store"})

    @extend_schema(
        operation_id="patient_remove",
        responses={204: OpenApiResponse(description="Removed from the list (kept for history).")},
        description=(
            "Take the patient off the account's list; their appointments keep naming them. Not "
            "the holder (400), not while an appointment lies ahead (409 patient_has_appointment)."
        ),
    )
    def delete(self, request: Request, pk: int) -> Response:
        patient = patients.member_patient(member=request.member, pk=pk)
        patients.remove_patient(patient=patient, by=request.user, request=request._request)
        return Response(status=status.HTTP_204_NO_CONTENT)


def _agreements_body(request: Request) -> list[dict]:
    current = consents.current_agreements()
    pending = {a.pk for a in consents.pending_kinds(user=request.user, kinds=list(current))}
    return AgreementSerializer(
        [
            {
                "kind": agreement.kind,
                "version": agreement.version,
                "title": agreement.title,
                "url": request.build_absolute_uri(reverse("members:legal", args=[agreement.kind])),
                "accepted": agreement.pk not in pending,
            }
            for agreement in current.values()
        ],
        many=True,
    ).data


class ConsentsView(APIView):
    """The current agreements (terms, privacy policy, sensitive-information consent) and
    whether the member accepted each; POST accepts the current versions of the kinds named.
    Booking answers 403 ``sensitive_consent_required`` until ``sensitive`` is accepted."""

    permission_classes = [IsAuthenticated, IsMember]

    @extend_schema(operation_id="consents", responses={200: AgreementSerializer(many=True)})
    def get(self, request: Request) -> Response:
        return Response(_agreements_body(request))

    @extend_schema(
        operation_id="consents_accept",
        request=AcceptConsentSerializer,
        responses={200: AgreementSerializer(many=True)},
    )
    def post(self, request: Request) -> Response:
        data = AcceptConsentSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        consents.accept(user=request.user, kinds=data.validated_data["kinds"], request=request)
        return Response(_agreements_body(request))
