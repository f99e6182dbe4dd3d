"""The reports in English name departments, doctors and member levels by their English names
(``name_en``; the Chinese name where none is set) — in the dashboards' tables, chart labels and
filter choices, and in exports made in English; in Chinese they keep the Chinese names. The
rollups are the same for both: only the labels change."""

from __future__ import annotations

import datetime as dt
import io
import json
import zipfile

import pytest
from django.conf import settings
from django.urls import reverse

from members.models import MemberLevel
from reports import exports, services
from reports.dashboards import BY_SLUG
from tests.appointments.factories import DepartmentFactory, DoctorFactory
from tests.members.factories import MemberFactory
from tests.reports.clinic import SHANGHAI, joined, order, session, visit

pytestmark = pytest.mark.django_db

WEEK = {"range": "custom", "start": "2026-03-02", "end": "2026-03-08"}
ENGLISH = {"内科": "Internal Medicine", "儿科": "Paediatrics", "王医生": "Dr Wang Wei"}
CHINESE_NAMES = ["内科", "儿科", "王医生", "普通会员", "金卡会员"]
LEVELS_EN = {
    "普通会员": "Standard",
    "银卡会员": "Silver",
    "金卡会员": "Gold",
    "钻石会员": "Diamond",
}


@pytest.fixture
def clinic(levels):
    """内科 (王医生, Dr Wang Wei) and 儿科 (赵医生: no English name); levels with English names;
    a week of visits, paid orders and a no-show."""
    for name, name_en in LEVELS_EN.items():
        MemberLevel.objects.filter(name=name).update(name_en=name_en)
    internal = DepartmentFactory(name="内科", name_en="Internal Medicine", sort_order=1)
    children = DepartmentFactory(name="儿科", name_en="Paediatrics", sort_order=2)
    wang = DoctorFactory(name="王医生", name_en="Dr Wang Wei", department=internal)
    zhao = DoctorFactory(name="赵医生", name_en="", department=children)
    start = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    m1 = joined(MemberFactory(name="张三丰", level=levels["普通"]), start)
    m2 = joined(MemberFactory(name="李四", level=levels["金卡"]), start)
    early = dt.datetime(2026, 2, 27, 2, tzinfo=dt.UTC)
    s1 = session(wang, dt.date(2026, 3, 2), dt.time(8))
    paid = dt.datetime(2026, 3, 2, 3, tzinfo=dt.UTC)
    order(visit(s1, m1, "completed", booked_at=early), gateway="alipay", rate="1", paid_at=paid)
    order(visit(s1, m2, "no_show", booked_at=early), gateway="wechat", rate="0.9", paid_at=paid)
    s2 = session(zhao, dt.date(2026, 3, 3), dt.time(14))
    order(visit(s2, m2, "completed", booked_at=early), gateway="alipay", rate="0.9", paid_at=paid)
    order(
        visit(s2, m1, "completed", booked_at=dt.datetime(2026, 3, 3, 1, tzinfo=dt.UTC)),
        gateway="alipay",
        rate="1",
        paid_at=dt.datetime(2026, 3, 3, 10, tzinfo=SHANGHAI),
    )
    services.rebuild_rollups(start=dt.date(2026, 2, 1), end=dt.date(2026, 3, 31))
    return {"internal": internal, "wang": wang, "zhao": zhao, "levels": levels}


def page(client, user, slug: str, language: str, **params) -> str:
    """The dashboard ``slug`` as ``user`` with the language switch on ``language``."""
    client.force_login(user)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    response = client.get(reverse(f"staff:{BY_SLUG[slug].url_name}"), {**WEEK, **params})
    assert response.status_code == 200, response.content[:300]
    return response.content.decode()


def charts(html: str) -> dict:
    marker = '<script id="report-charts" type="application/json">'
    return json.loads(html.split(marker)[1].split("</script>")[0])


@pytest.mark.parametrize("slug", ["bookings", "no-shows", "revenue", "members", "releases", "flow"])
def test_an_english_dashboard_shows_the_english_names(client, clinic, clinic_admin, slug) -> None:
    html = page(client, clinic_admin, slug, "en")
    found = [name for name in CHINESE_NAMES if name in html]
    assert found == [], f"Chinese names on the English {slug} page: {found}"
    assert "Internal Medicine" in html  # the department filter's choices at least
    assert "Dr Wang Wei · Internal Medicine" in html or slug == "members"  # the doctor filter
    if "level" in BY_SLUG[slug].filters:
        assert "Gold" in html  # the level filter's choices, or the rows by level


def test_the_tables_and_charts_carry_the_english_names(client, clinic, clinic_admin) -> None:
    bookings = page(client, clinic_admin, "bookings", "en")
    assert charts(bookings)["by_department"]["categories"] == ["Internal Medicine", "Paediatrics"]
    assert "Dr Wang Wei</" in bookings or "Dr Wang Wei<" in bookings  # a table cell
    # A doctor without an English name keeps the Chinese one.
    assert "赵医生" in bookings
    noshows = page(client, clinic_admin, "no-shows", "en")
    assert "Standard" in noshows and "Gold" in noshows
    revenue = charts(page(client, clinic_admin, "revenue", "en"))
    assert "Internal Medicine" in json.dumps(revenue) and "Gold" in json.dumps(revenue)


def test_a_chinese_dashboard_keeps_the_chinese_names(client, clinic, clinic_admin) -> None:
    html = page(client, clinic_admin, "bookings", "zh-hans")
    assert charts(html)["by_department"]["categories"] == ["内科", "儿科"]
    assert "王医生" in html and "Dr Wang Wei" not in html and "Internal Medicine" not in html


def _export(user, clinic, *, language: str, kind: str = "tables", dashboard: str = "bookings"):
    from django.http import QueryDict
    from django.utils import translation

    from reports.forms import BookingFilterForm

    query = QueryDict(mutable=True)
    query.update({**WEEK, "department": str(clinic["internal"].pk)})
    with translation.override(language):
        form = BookingFilterForm(query, today=dt.date(2026, 3, 9))
        assert form.is_valid(), form.errors
        export, _created = exports.request_export(
            by=user,
            dashboard=BY_SLUG[dashboard],
            kind=kind,
            export_format="csv",
            filters=form.export_data(),
            filter_names=form.names(),
            language=language,
        )
    done = exports.run_export(export_id=export.pk)
    assert done is not None
    with exports.storage().open(done.file.name, "rb") as content:
        data = content.read()
    if data[:2] == b"PK":
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            return "".join(archive.read(name).decode("utf-8-sig") for name in archive.namelist())
    return data.decode("utf-8-sig")


@pytest.fixture
def export_storage(settings, tmp_path):
    settings.STORAGES = {
        **settings.STORAGES,
        "exports": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path / "exports")},
        },
    }


@pytest.mark.parametrize("kind", ["tables", "appointments"])
def test_an_english_export_names_them_in_english(
    clinic, clinic_admin, export_storage, kind
) -> None:
    text = _export(clinic_admin, clinic, language="en", kind=kind)
    assert "Internal Medicine" in text and "Dr Wang Wei" in text
    assert not [name for name in ("内科", "王医生", "普通会员", "金卡会员") if name in text]
    chinese = _export(clinic_admin, clinic, language="zh-hans", kind=kind)
    assert "内科" in chinese and "王医生" in chinese and "Dr Wang Wei" not in chinese


def test_a_paused_members_level_is_named_in_the_readers_language(clinic) -> None:
    from django.utils import translation

    from members.models import Member
    from reports.selectors import BookingFilters, noshows_dashboard

    gold = Member.objects.filter(level=clinic["levels"]["金卡"])
    gold.update(banned_until=dt.datetime(2026, 3, 5, 9, tzinfo=SHANGHAI))  # no history row
    filters = BookingFilters(dt.date(2026, 3, 2), dt.date(2026, 3, 8))
    for language, name in (("en", "Gold"), ("zh-hans", "金卡会员")):
        with translation.override(language):
            board = noshows_dashboard(filters=filters, today=dt.date(2026, 3, 9))
        assert [pause.level_name for pause in board.pauses] == [name]
