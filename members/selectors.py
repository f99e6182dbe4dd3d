"""Reads of the members app."""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass

from django.conf import settings
from django.contrib.postgres.expressions import ArraySubquery
from django.core.exceptions import ValidationError
from django.db import connection
from django.db.models import (
    BooleanField,
    F,
    Func,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
)
from django.db.models.functions import Coalesce, Collate, Upper
from django.db.models.lookups import StartsWith
from django.http import Http404

from medbook.crypto import blind_index
from medbook.i18n import local_name
from medbook.personal_data import (
    mask_national_id,
    mask_phone,
    normalize_phone,
    validate_national_id,
)

from .models import (
    NATIONAL_ID_PURPOSE,
    PHONE_PURPOSE,
    Member,
    MemberLevel,
    Message,
    Patient,
    PointsEntry,
    PointsReason,
)

# Spending points does not cost a member their level: every other ledger line counts.
NOT_QUALIFYING = (PointsReason.REDEMPTION,)


def member_by_phone(phone: str) -> Member | None:
    """Exact look-up by mobile number through the blind index (any common spelling works)."""
    try:
        normalized = normalize_phone(phone)
    except ValidationError:
        return None
    return (
        Member.objects.select_related("level", "user")
        .filter(phone_index=blind_index(normalized, purpose=PHONE_PURPOSE))
        .first()
    )


def member_for_user(*, user_id: int | None) -> Member | None:
    """The member a login is (with their level), or None for a staff login."""
    return Member.objects.select_related("level").filter(user_id=user_id).first()


def member_with_login(*, pk: int | None) -> Member | None:
    """A member with their login, by id (None when there is no such member)."""
    if pk is None:
        return None
    return Member.objects.select_related("user").filter(pk=pk).first()


def members_with_ledger_drift() -> QuerySet[Member]:
    """Members whose points balance differs from the sum of their ledger (should be none)."""
    ledger_sum = (
        PointsEntry.objects.filter(member=OuterRef("pk"))
        .values("member")
        .annotate(total=Sum("delta"))
        .values("total")
    )
    return (
        Member.objects.annotate(
            ledger_total=Coalesce(Subquery(ledger_sum, output_field=IntegerField()), Value(0))
        )
        .exclude(points_balance=F("ledger_total"))
        .order_by("pk")
    )


def qualifying_points(*, member: Member) -> int:
    """The points the level rule looks at: everything earned, corrected or reversed, but not
    what the member spent (a redemption never lowers a level)."""
    total = (
        PointsEntry.objects.filter(member=member)
        .exclude(reason__in=NOT_QUALIFYING)
        .aggregate(total=Sum("delta"))["total"]
    )
    return total or 0


def level_by_rule(*, points: int) -> MemberLevel:
    """The level rule: the highest level whose threshold ``points`` reach (else the lowest)."""
    reached = MemberLevel.objects.filter(min_points__lte=points).order_by("-level").first()
    return reached or MemberLevel.objects.order_by("level").first()


def members_with_level_drift() -> QuerySet[Member]:
    """Members whose level is neither what the level rule gives for their qualifying points
    nor a level recorded as set by staff (``level_grant``). Should be none.

    Annotated with ``rule_level_id`` (what the rule gives)."""
    qualifying = (
        PointsEntry.objects.filter(member=OuterRef("pk"))
        .exclude(reason__in=NOT_QUALIFYING)
        .values("member")
        .annotate(total=Sum("delta"))
        .values("total")
    )
    lowest = MemberLevel.objects.order_by("level").values("pk")[:1]
    by_rule = (
        MemberLevel.objects.filter(min_points__lte=OuterRef("qualifying"))
        .order_by("-level")
        .values("pk")[:1]
    )
    return (
        Member.objects.annotate(
            qualifying=Coalesce(Subquery(qualifying, output_field=IntegerField()), Value(0))
        )
        .annotate(
            rule_level_id=Coalesce(
                Subquery(by_rule, output_field=IntegerField()),
                Subquery(lowest, output_field=IntegerField()),
            )
        )
        .exclude(Q(level_grant__isnull=True, level_id=F("rule_level_id")))
        .exclude(Q(level_grant__isnull=False, level_id=F("level_grant_id")))
        .select_related("level")
        .order_by("pk")
    )


@dataclass(frozen=True)
class LevelProgress:
    """Where a member stands: their level, the next one and how far it is."""

    level: MemberLevel
    next_level: MemberLevel | None
    points_needed: int
    percent: int


def level_progress(*, member: Member, levels: list[MemberLevel]) -> LevelProgress:
    """Progress from the member's level to the next (``levels`` sorted by level)."""
    higher = [lv for lv in levels if lv.level > member.level.level]
    next_level = higher[0] if higher else None
    if next_level is None:
        return LevelProgress(member.level, None, 0, 100)
    span = max(next_level.min_points - member.level.min_points, 1)
    done = min(max(member.points_balance - member.level.min_points, 0), span)
    return LevelProgress(
        level=member.level,
        next_level=next_level,
        points_needed=max(next_level.min_points - member.points_balance, 0),
        percent=int(done * 100 / span),
    )


@dataclass(frozen=True)
class Membership:
    """The member's membership page: every level in order, their progress, their ledger."""

    levels: list[MemberLevel]
    progress: LevelProgress
    ledger: QuerySet[PointsEntry]


def membership(*, member: Member) -> Membership:
    levels = member_levels()
    return Membership(
        levels=levels,
        progress=level_progress(member=member, levels=levels),
        ledger=points_ledger(member=member),
    )


def points_ledger(*, member: Member) -> QuerySet[PointsEntry]:
    """The member's points ledger (积分流水), newest first."""
    return member.points_entries.order_by("-created_at", "-id")


def member_levels() -> list[MemberLevel]:
    """Every level, lowest first."""
    return list(MemberLevel.objects.order_by("level"))


def member_level(*, pk: int) -> MemberLevel:
    """One level by id; a 404 when there is none."""
    level = MemberLevel.objects.filter(pk=pk).first()
    if level is None:
        raise Http404("no such level")
    return level


@dataclass(frozen=True)
class LevelsOverview:
    """The staff levels page: every level and the latest changes to them."""

    levels: QuerySet[MemberLevel]
    history: QuerySet


def levels_overview(*, changes: int = 15) -> LevelsOverview:
    return LevelsOverview(
        levels=MemberLevel.objects.all(),
        history=MemberLevel.history.select_related("history_user").order_by("-history_date")[
            :changes
        ],
    )


def member_messages(*, member: Member, unread: bool = False) -> QuerySet[Message]:
    """The member's messages, newest first (only the unread ones with ``unread``)."""
    messages = member.messages.all()
    return messages.filter(read_at__isnull=True) if unread else messages


def member_message(*, member: Member, pk: int) -> Message:
    """One of the member's own messages; anyone else's is a 404, so ids tell nothing."""
    message = Message.objects.filter(pk=pk, member=member).first()
    if message is None:
        raise Http404("no such message")
    return message


def unread_message_count(*, member_id: int | None = None, user_id: int | None = None) -> int:
    """Unread messages of a member, by the member's id or (one join further) their login's."""
    filters = {"member_id": member_id} if member_id is not None else {"member__user_id": user_id}
    return Message.objects.filter(read_at__isnull=True, **filters).count()


@dataclass(frozen=True)
class MemberSearch:
    """A staff search as it may be kept in a session: never a full phone or ID number, only
    their blind indexes and masked forms."""

    name: str = ""
    phone_index: str = ""
    national_id_index: str = ""
    shown: str = ""  # what the page shows of the query: a name, or a masked number
    level: int | None = None

    @classmethod
    def from_query(cls, query: str, level: int | None = None) -> MemberSearch:
        """A full mobile number or ID number searches exactly (blind index); anything else is
        part of a name."""
        query = (query or "").strip()
        if not query:
            return cls(level=level)
        try:
            phone = normalize_phone(query)
        except ValidationError:
            pass
        else:
            index = blind_index(phone, purpose=PHONE_PURPOSE)
            return cls(phone_index=index, shown=mask_phone(phone), level=level)
        try:
            national_id = validate_national_id(query)
        except ValidationError:
            return cls(name=query, shown=query, level=level)
        index = blind_index(national_id, purpose=NATIONAL_ID_PURPOSE)
        return cls(national_id_index=index, shown=mask_national_id(national_id), level=level)

    def as_dict(self) -> dict:
        return asdict(self)


# A part of a name this long or longer is looked up anywhere in the name through the trigram
# index (pg_trgm: it needs three characters to pick rows); a shorter one is the name's beginning
# (the surname, or surname and first given character): a range of member_name_order_idx
# (UPPER(name) in byte order; members 0025). Both are on UPPER(name), the expression Django's
# case-insensitive look-ups use.
NAME_CONTAINS_MIN = 3


def name_matches(term: str, *, prefix: str = "") -> Q:
    """Members (at ``prefix``, e.g. ``"member__"``) whose name contains ``term`` (three
    characters or more) or starts with it (one or two): at 100k members an index look-up,
    where a bare ``'%…%'`` reads every member."""
    term = term.strip()
    if len(term) >= NAME_CONTAINS_MIN:
        return Q(**{f"{prefix}name__icontains": term})
    return Q(StartsWith(name_key(prefix), term.upper()))


def name_key(prefix: str = "") -> Collate | Upper:
    """A member's name as the name indexes hold it: upper case, and in byte order ("C") on
    PostgreSQL (member_name_order_idx), where a prefix is then a range of the index and its
    matches come out in the index's order: a surname shared by a thousand members gives its
    first page from 20 index entries, not from all thousand rows sorted."""
    upper = Upper(f"{prefix}name")
    return Collate(upper, "C") if connection.vendor == "postgresql" else upper


class _EqualsAny(Func):
    """``lhs = ANY(ARRAY(SELECT …))`` (PostgreSQL): the sub-select runs once, first."""

    template = "%(expressions)s)"
    arg_joiner = " = ANY("
    output_field = BooleanField()


def members_named(term: str, *, prefix: str = "member") -> Q:
    """Rows (of a table with a member at ``prefix``) of the members :func:`name_matches` finds.
    On PostgreSQL as ``= ANY(ARRAY(SELECT …))``: the members are looked up once through the
    name indexes and the table through its member index; an ``IN (SELECT …)`` lets the planner
    walk a big table newest first, looking up each row's member, until a page is found."""
    ids = Member.objects.filter(name_matches(term)).order_by().values("pk")
    if connection.vendor == "postgresql":
        return Q(_EqualsAny(F(f"{prefix}__id"), ArraySubquery(ids)))
    return Q(**{f"{prefix}__in": ids})


def _members_or_patients(members: Q, patients: Q) -> QuerySet:
    """The ids of the members ``members`` matches and of the accounts whose patients
    ``patients`` matches, each through its own index."""
    own = Member.objects.filter(members).order_by().values("pk")
    return own.union(Patient.objects.filter(patients).order_by().values("member_id"))


def search_members(*, search: MemberSearch) -> QuerySet[Member]:
    """Staff search: a full mobile or ID number finds that member exactly (blind index; a part
    of a number finds nothing; an ID number also finds the account one of whose patients
    (就诊人) it is: the desk holds the child's or the parent's card), anything else searches
    names; optionally one level. No criteria, no result."""
    # Ordered by the expression the name index holds (name_key): ordered by ``name``,
    # PostgreSQL walks the name index from "A" filtering every member until a page turns up.
    found = Member.objects.select_related("level").order_by(name_key(), "pk")
    # The member's own number, or one of its patients': the two indexed look-ups as one UNION
    # (an OR of the two made PostgreSQL read every member: 40 ms at 100k members, 1 ms so).
    if search.phone_index:
        found = found.filter(
            pk__in=_members_or_patients(
                Q(phone_index=search.phone_index), Q(phone_index=search.phone_index)
            )
        )
    elif search.national_id_index:
        found = found.filter(
            pk__in=_members_or_patients(
                Q(national_id_index=search.national_id_index),
                Q(id_number_index=search.national_id_index),
            )
        )
    elif search.name:
        found = found.filter(name_matches(search.name))
    if search.level is not None:
        found = found.filter(level__level=search.level)
    if not (search.shown or search.level is not None):
        found = found.none()
    return found


def member_for_staff(*, pk: int) -> Member | None:
    """Any member with level and login, for the console (permissions decide who gets here)."""
    return Member.objects.select_related("level", "user").filter(pk=pk).first()


def level_choices() -> QuerySet[MemberLevel]:
    """Every level, lowest first, for a form to choose one."""
    return MemberLevel.objects.order_by("level")


def latest_points(*, member: Member, limit: int = 20) -> QuerySet[PointsEntry]:
    """The member's latest points ledger lines."""
    return member.points_entries.all()[:limit]


@dataclass(frozen=True)
class NoShowPause:
    """One pause of a member's online booking for no-shows: from ``started_at`` until
    ``until``, or until staff lifted it (``lifted_at``). ``masked_name`` keeps the first
    character of the name only."""

    member_id: int
    masked_name: str
    level_name: str
    started_at: dt.datetime
    until: dt.datetime
    lifted_at: dt.datetime | None
    from_history: bool

    @property
    def ended_at(self) -> dt.datetime:
        return (
            self.lifted_at
            if self.lifted_at is not None and self.lifted_at < self.until
            else self.until
        )


def mask_name(name: str) -> str:
    """张三丰 -> 张**: the first character, one star for each of the rest."""
    return f"{name[:1]}{'*' * max(len(name) - 1, 1)}" if name else ""


def no_show_pauses(*, start: dt.datetime, end: dt.datetime) -> list[NoShowPause]:
    """The pauses for no-shows in force at some moment of ``start``..``end`` (``end`` not
    included), oldest first.

    A pause is a value of ``banned_until`` (set only by the no-show rule): it started when the
    member's history first recorded it, and ended at ``banned_until`` or when staff lifted it
    (the first later history row with ``banned_until`` cleared, at ``no_show_ban_lifted_at``).
    A member loaded in bulk has no history: their current pause is taken to have started
    ``MEDBOOK_NO_SHOW_BAN_DAYS`` before it ends. Four queries, whatever the number of members."""
    history = Member.history.model.objects
    started: dict[tuple[int, dt.datetime], dt.datetime] = {}
    for member_id, until, at in (
        history.filter(banned_until__gt=start, history_date__lt=end)
        .order_by("history_date", "history_id")
        .values_list("id", "banned_until", "history_date")
    ):
        started.setdefault((member_id, until), at)
    lifts: dict[int, list[dt.datetime]] = {}
    for member_id, lifted in (
        history.filter(
            banned_until__isnull=True,
            no_show_ban_lifted_at__isnull=False,
            no_show_ban_lifted_at__gt=start - dt.timedelta(days=settings.MEDBOOK_NO_SHOW_BAN_DAYS),
        )
        .order_by("no_show_ban_lifted_at")
        .values_list("id", "no_show_ban_lifted_at")
        .distinct()
    ):
        lifts.setdefault(member_id, []).append(lifted)
    ban = dt.timedelta(days=settings.MEDBOOK_NO_SHOW_BAN_DAYS)
    current = Member.objects.filter(banned_until__gt=start).values_list("id", "banned_until")
    from_history = set(started)
    for member_id, until in current:
        started.setdefault((member_id, until), until - ban)
    members = {
        row["id"]: row
        for row in Member.objects.filter(id__in={key[0] for key in started}).values(
            "id", "name", "level__name", "level__name_en"
        )
    }
    pauses = []
    for (member_id, until), at in started.items():
        lifted = next((t for t in lifts.get(member_id, []) if at < t < until), None)
        pause = NoShowPause(
            member_id=member_id,
            masked_name=mask_name(members[member_id]["name"]),
            level_name=local_name(
                members[member_id]["level__name"], members[member_id]["level__name_en"]
            ),
            started_at=at,
            until=until,
            lifted_at=lifted,
            from_history=(member_id, until) in from_history,
        )
        if pause.started_at < end and pause.ended_at > start:
            pauses.append(pause)
    return sorted(pauses, key=lambda p: (p.started_at, p.member_id))
