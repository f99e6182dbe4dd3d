"""The members API: log in (password; texted code past the failed-login limit; TOTP for staff),
refresh, log out, sign up by texted code, and the member's own profile."""

from __future__ import annotations

from allauth.core import ratelimit
from django.contrib.auth.models import update_last_login
from django.contrib.auth.signals import user_logged_out
from django.db.models import QuerySet
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

from .. import selectors, services
from ..models import Message
from .auth import check_login
from .permissions import IsMember
from .serializers import (
    LoginSerializer,
    LogoutSerializer,
    MessageFilterSerializer,
    MessageSerializer,
    ProfileSerializer,
    RefreshSerializer,
    SignupCodeSentSerializer,
    SignupCodeSerializer,
    SignupSerializer,
    TokenPairSerializer,
)


class MessagePagination(CursorPagination):
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
    """Sign-up, step 2: name, number, the texted code and a password; logged in at once."""

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
        audit.record(
            actor=member.user, action="api.signup", target=member, request=request._request
        )
        pair = tokens.issue_tokens(user=member.user, second_factor=False)
        return _pair_response(pair, status_code=status.HTTP_201_CREATED)


class MeView(APIView):
    """The member's own profile."""

    permission_classes = [IsAuthenticated, IsMember]

    @extend_schema(operation_id="me", responses={200: ProfileSerializer})
    def get(self, request: Request) -> Response:
        return Response(
            ProfileSerializer(request.member).data, headers={"Cache-Control": "no-store"}
        )


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
