"""Admin and console lists that cost the same at any size (issue 17, part 6): the same query
count on a small and a ten times bigger clinic, no full COUNT(*) of a big table (estimated or
capped counts), name search through indexes, the operation log paged by keyset, and the demo
seed writing messages, operation-log and history rows. The timings at 1M are bench/admin_lists.py's.
"""

from __future__ import annotations

import datetime as dt
import io
import re
from urllib.parse import urlencode

import pytest
from django.contrib.contenttypes.models import ContentType
from django.core.cache import caches
from django.core.management import call_command
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from appointments.models import Appointment
from medbook import audit, selectors
from medbook.models import OperationLog
from medbook.paginator import CappedPaginator
from members.models import Member, Message
from members.selectors import MemberSearch, name_matches, search_members
from tests.appointments.factories import ScheduleFactory, book
from tests.conftest import enable_totp
from tests.members.factories import MemberFactory, UserFactory

pytestmark = pytest.mark.django_db

ADMIN_LISTS = [
    "admin:members_member_changelist",
    "admin:members_user_changelist",
    "admin:members_pointsentry_changelist",
    "admin:members_message_changelist",
    "admin:appointments_appointment_changelist",
    "admin:appointments_schedule_changelist",
    "admin:billing_order_changelist",
    "admin:billing_refund_changelist",
    "admin:billing_sandboxtrade_changelist",
    "admin:medbook_operationlog_changelist",
]
CONSOLE_LISTS = [
    "staff:today",
    "staff:operation_log",
    "staff:schedules",
    "staff:unpaid_holds",
]
FULL_COUNT = re.compile(r"SELECT COUNT\(\*\)", re.IGNORECASE)
# A count of one login's or member's rows (the unread messages in the page's header) is an
# index range of its own; any other count must stop at a LIMIT.
ONE_PERSON = re.compile(r'"(user_id|member_id)" = \d+')


@pytest.fixture
def superuser(db):
    user = UserFactory(username="bench-admin", is_staff=True, is_superuser=True)
    enable_totp(user)
    return user


def seed(members: int, appointments: int) -> None:
    call_command(
        "seed_demo", members=members, appointments=appointments, days=3, stdout=io.StringIO()
    )


def pages(client) -> list[str]:
    """Every list this test pins, some filtered and searched, and change pages."""
    urls = [reverse(name) for name in ADMIN_LISTS + CONSOLE_LISTS]
    urls += [
        reverse("admin:appointments_appointment_changelist") + "?status__exact=completed",
        reverse("admin:appointments_appointment_changelist") + "?q=王",
        reverse("admin:billing_order_changelist") + "?q=王建国",
        reverse("admin:members_member_changelist") + "?q=王",
    ]
    # Rows of the same shape at both sizes: a completed, paid visit (no canceller) and its
    # member, who has a points ledger (the page used to show all of it).
    visit = (
        Appointment.objects.filter(status="completed", order__isnull=False).order_by("-pk").first()
    )
    urls.append(reverse("admin:members_member_change", args=[visit.member_id]))
    urls.append(reverse("staff:member", args=[visit.member_id]))
    urls.append(reverse("admin:appointments_appointment_change", args=[visit.pk]))
    urls.append(reverse("staff:appointment", args=[visit.pk]))
    # The console's member search keeps the query in the session and redirects to its token.
    surname = Member.objects.order_by("pk").values_list("name", flat=True).first()[0]
    found = client.post(reverse("staff:members"), {"q": surname})
    urls.append(found.url)
    return urls


def query_counts(client) -> dict[str, int]:
    counts = {}
    for url in pages(client):
        # Cold caches for every page (the login, the clinic's details, the session): what the
        # database answers, the same way at both sizes.
        for cache in caches.all():
            cache.clear()
        ContentType.objects.clear_cache()
        with CaptureQueriesContext(connection) as queries:
            response = client.get(url)
        assert response.status_code == 200, url
        counts[re.sub(r"\d+", "N", re.sub(r"search=[\w-]+", "search=T", url))] = len(queries)
        for sql in (q["sql"] for q in queries.captured_queries):
            if FULL_COUNT.search(sql) and not ONE_PERSON.search(sql):
                assert "LIMIT" in sql.upper(), f"{url} counted a whole table: {sql}"
    return counts


def test_it_pins_the_same_query_counts_on_a_clinic_ten_times_bigger(client, superuser) -> None:
    client.force_login(superuser)
    sizes = {}
    for members, appointments in [(20, 120), (200, 1200)]:
        with transaction.atomic():
            seed(members, appointments)
            sizes[members] = query_counts(client)
            transaction.set_rollback(True)
    small, big = sizes[20], sizes[200]
    assert small.keys() == big.keys()
    differ = {url: (small[url], big[url]) for url in small if small[url] != big[url]}
    assert not differ, differ


def test_a_filtered_list_is_counted_only_up_to_the_cap(levels) -> None:
    for _ in range(5):
        MemberFactory(name="王五")
    with CaptureQueriesContext(connection) as queries:
        paginator = CappedPaginator(Member.objects.filter(name="王五").order_by("pk"), 2, cap=3)
        assert (paginator.count, paginator.total, paginator.capped) == (3, 3, True)
        assert paginator.num_pages == 2
        assert len(paginator.page(2).object_list) == 1
    counts = [q["sql"] for q in queries.captured_queries if FULL_COUNT.search(q["sql"])]
    assert len(counts) == 1 and "LIMIT 4" in counts[0]
    assert str(paginator.total_label).endswith("3") and paginator.total_label != "3"


def test_a_filtered_list_under_the_cap_is_counted_exactly(levels) -> None:
    MemberFactory(name="王五")
    paginator = CappedPaginator(Member.objects.filter(name="王五"), 20, cap=3)
    assert (paginator.count, paginator.capped, paginator.estimated) == (1, False, False)
    assert paginator.total_label == "1"


@pytest.mark.postgres  # the planner's statistics are PostgreSQL's
def test_a_whole_big_table_is_estimated_from_the_statistics_not_counted(levels) -> None:
    member = MemberFactory()
    Message.objects.bulk_create(
        Message(member=member, kind="points", title="t", body="b") for _ in range(30)
    )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE members_message")
    with CaptureQueriesContext(connection) as queries:
        paginator = CappedPaginator(Message.objects.all(), 10, cap=20)
        assert paginator.total == 30 and paginator.estimated
        assert paginator.count == 20 and paginator.num_pages == 2
    [sql] = [q["sql"] for q in queries.captured_queries]
    assert "pg_class" in sql and "LIMIT 21" in sql  # the sub-select runs only below the cap


def test_a_table_below_the_cap_is_counted_exactly_in_the_same_statement(levels) -> None:
    member = MemberFactory()
    Message.objects.bulk_create(
        Message(member=member, kind="points", title="t", body="b") for _ in range(4)
    )
    if connection.vendor == "postgresql":
        # Statistics of this table as it is now (inside the test's transaction, undone with it),
        # not those an earlier test left on the shared test database (a seed's thousands).
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE members_message")
    with CaptureQueriesContext(connection) as queries:
        paginator = CappedPaginator(Message.objects.all(), 10, cap=1000)
        assert (paginator.total, paginator.estimated, paginator.capped) == (4, False, False)
    assert len(queries) == 1


@pytest.mark.parametrize(
    ("term", "index"),
    [("王", "member_name_order_idx"), ("阳明华", "member_name_trgm_idx")],
)
def test_name_search_finds_a_member_by_part_of_the_name_through_an_index(
    levels, on_postgres, term, index
) -> None:
    wanted = MemberFactory(name="王欧阳明华")
    MemberFactory(name="李雷")
    found = search_members(search=MemberSearch.from_query(term))
    assert list(found) == [wanted]
    if on_postgres:
        # Too few rows for the planner to prefer an index by itself: it may use nothing else.
        sql, params = Member.objects.filter(name_matches(term)).query.sql_with_params()
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL enable_seqscan = off")
            cursor.execute("SET LOCAL enable_indexscan = off")
            cursor.execute("EXPLAIN " + sql, params)
            plan = "\n".join(row[0] for row in cursor.fetchall())
        assert index in plan, plan


def test_a_short_term_matches_the_beginning_of_a_name_only(levels) -> None:
    MemberFactory(name="王欧阳明华")
    assert not search_members(search=MemberSearch.from_query("明华")).exists()


def test_admin_finds_appointments_by_part_of_a_members_name(client, superuser, levels) -> None:
    from tests.billing.factories import paid_order

    mine = paid_order(MemberFactory(name="欧阳明华"))
    paid_order(MemberFactory(name="李雷"))
    client.force_login(superuser)
    for term in ("欧阳", "阳明华"):
        page = client.get(
            reverse("admin:appointments_appointment_changelist"), {"q": term}
        ).content.decode()
        rows = re.search(r"<tbody>(.*?)</tbody>", page, re.S).group(1)
        assert "欧阳明华" in rows and "李雷" not in rows, term
        assert f"/appointment/{mine.appointment.pk}/" in rows


def test_a_filtered_lists_rows_keep_the_filters_without_a_url_resolve_per_row(
    client, superuser, levels
) -> None:
    from django.contrib.admin.templatetags import admin_urls

    from tests.billing.factories import paid_order

    for _ in range(5):
        paid_order(MemberFactory(name="欧阳明华"))
    client.force_login(superuser)
    resolve = admin_urls.resolve
    calls = []

    def counted(path, *args):
        calls.append(path)
        return resolve(path, *args)

    admin_urls.resolve = counted
    try:
        page = client.get(
            reverse("admin:appointments_appointment_changelist"), {"q": "欧阳"}
        ).content.decode()
    finally:
        admin_urls.resolve = resolve
    rows = re.findall(r'<th class="field-[^"]*"><a href="([^"]+)"', page)
    assert len(rows) == 5
    # Each row's link brings the user back to the searched list, as the admin's own would.
    back = urlencode({"_changelist_filters": urlencode({"q": "欧阳"})})
    assert all(link.endswith(f"/change/?{back}") for link in rows), rows
    assert not [path for path in calls if "/change/" in path]  # none resolved per row


def test_the_admin_member_page_shows_the_latest_points_and_links_the_whole_ledger(
    client, superuser, levels
) -> None:
    from members import services

    member = MemberFactory()
    for n in range(15):
        services.adjust_points(member=member, delta=1, note=f"r{n}", by=superuser)
    client.force_login(superuser)
    page = client.get(reverse("admin:members_member_change", args=[member.pk])).content.decode()
    assert page.count("<td>1</td>") == 10
    ledger = reverse("admin:members_pointsentry_changelist") + f"?member__id__exact={member.pk}"
    assert ledger in page
    assert client.get(ledger).status_code == 200


def test_the_operation_log_pages_by_keyset_through_every_row_once(superuser) -> None:
    for n in range(5):
        audit.record(actor=superuser, action=f"member.test{n}", target_label=str(n))
    same = timezone.now().replace(microsecond=0) - dt.timedelta(hours=1)
    for n in (5, 6):  # two at the same moment: the id breaks the tie
        OperationLog.objects.create(action=f"member.test{n}", created_at=same)
    rows = selectors.operation_log(action="member.test")
    expected = list(rows.values_list("pk", flat=True))
    seen, cursor, pages_ = [], None, []
    while True:
        page = selectors.operation_log_page(rows=rows, before=cursor, size=3)
        pages_.append(page)
        seen += [row.pk for row in page.rows]
        if page.older is None:
            break
        cursor = page.older
    assert seen == expected and len(pages_) == 3
    back = selectors.operation_log_page(rows=rows, after=pages_[1].newer, size=3)
    assert [row.pk for row in back.rows] == [row.pk for row in pages_[0].rows]
    assert back.newer is None and back.older is not None


def test_the_console_log_ignores_a_hand_edited_cursor(client, clinic_admin) -> None:
    audit.record(actor=clinic_admin, action="member.test", target_label="x")
    client.force_login(clinic_admin)
    for bad in ("nonsense", "2026-01-01T00:00:00_x", "2026-01-01T00:00:00_5"):
        response = client.get(reverse("staff:operation_log"), {"before": bad})
        assert response.status_code == 200 and "member.test" in response.content.decode()
    assert selectors.LogCursor.parse("2026-01-01T00:00:00+08:00_5") is not None


def test_the_seed_writes_messages_the_operation_log_and_history(levels) -> None:
    seed(20, 120)
    appointments = Appointment.objects.count()
    assert Message.objects.count() >= appointments
    assert Appointment.history.filter(history_type="+").count() == appointments
    assert Appointment.history.filter(history_type="~").exists()
    actions = set(OperationLog.objects.values_list("action", flat=True))
    assert {"appointment.complete", "appointment.no_show"} <= actions
    out = io.StringIO()
    call_command("verify_audit_log", stdout=out)
    assert "intact" in out.getvalue()


def test_the_operation_log_of_one_login_reads_that_logins_rows_by_its_id(
    superuser, clinic_admin
) -> None:
    audit.record(actor=superuser, action="member.test1", target_label="1")
    audit.record(actor=clinic_admin, action="member.test2", target_label="2")
    rows = selectors.operation_log(actor=clinic_admin.username)
    assert [row.action for row in rows] == ["member.test2"]
    assert f'"actor_id" = {clinic_admin.pk}' in str(rows.query)  # the index's value, no join
    assert not selectors.operation_log(actor="nobody-here").exists()


def test_admin_asks_for_two_characters_of_a_name_on_a_members_rows(client, superuser) -> None:
    appointment = book(MemberFactory(name="欧阳娜娜"), ScheduleFactory())
    client.force_login(superuser)
    changelist = reverse("admin:appointments_appointment_changelist")
    surname = client.get(changelist, {"q": "欧"}).content.decode()
    assert "至少两个字" in surname
    assert f"/{appointment.pk}/change/" not in surname
    two = client.get(changelist, {"q": "欧阳"}).content.decode()
    assert f"/{appointment.pk}/change/" in two and "至少两个字" not in two
    members = client.get(reverse("admin:members_member_changelist"), {"q": "欧"}).content.decode()
    assert f"/{appointment.member_id}/change/" in members  # the members' own list: a surname
