"""The segmenter and the scorer over the shipped knowledge table (no database)."""

from __future__ import annotations

import pytest

from demo.data import DEPARTMENTS
from triage import segmenter
from triage.knowledge import KnowledgeError, knowledge, load
from triage.scoring import triage

DEMO = {code for code, *_ in DEPARTMENTS}


def codes(text: str) -> list[str]:
    return [d.code for d in triage(text, available=DEMO).departments]


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("胸闷心慌两天", ["胸闷", "心慌", "两天"]),
        ("没有胸痛就是心慌", ["没有", "胸痛", "就是", "心慌"]),
        ("宝宝拉肚子", ["宝宝拉肚子"]),  # the table has it as one word
        ("胃胀反酸", ["胃胀", "反酸"]),
        ("牙疼得睡不着", ["牙疼", "得", "睡不着"]),
    ],
)
def test_it_segments_the_key_terms_whole(text, words) -> None:
    assert segmenter.cut(text) == words


def test_it_keeps_jiebas_cache_under_the_var_dir(settings) -> None:
    segmenter.cut("胸闷")
    assert (segmenter.cache_dir() / "jieba.cache").exists()
    assert str(segmenter.cache_dir()).startswith(str(settings.VAR_DIR))


def test_it_ranks_cardiology_first_for_chest_tightness_and_palpitations() -> None:
    result = triage("胸闷 心慌 两天", available=DEMO)
    first = result.departments[0]
    assert first.code == "cardiology"
    assert first.terms == ("胸闷", "心慌")
    assert result.symptoms == ("胸闷", "心慌")  # 两天 matches nothing
    assert not result.red_flags


@pytest.mark.parametrize(
    ("text", "first"),
    [
        ("胃疼了三天，反酸", "gastroenterology"),
        ("咳嗽两周有黄痰", "respiratory"),
        ("牙龈出血", "stomatology"),
        ("膝盖疼上下楼更明显", "orthopedics"),
        ("月经不调", "obstetrics-gynecology"),
        ("皮肤痒起红疹", "dermatology"),
        ("眼睛干涩", "ophthalmology"),
    ],
)
def test_it_sends_common_complaints_to_their_department(text, first) -> None:
    assert codes(text)[0] == first


def test_a_negated_symptom_does_not_count() -> None:
    result = triage("没有胸痛，不发烧，就是胃胀", available=DEMO)
    assert result.symptoms == ("胃胀",)
    assert {f.term for f in result.found if f.negated} == {"胸痛", "发热"}
    assert codes("没有胸痛，不发烧，就是胃胀")[0] == "gastroenterology"


def test_a_negation_ends_at_a_contrast_word() -> None:
    assert triage("不咳嗽但是发烧", available=DEMO).symptoms == ("发热",)


def test_a_child_goes_to_pediatrics_but_a_childs_teeth_to_stomatology() -> None:
    assert codes("孩子发烧咳嗽")[0] == "pediatrics"
    assert codes("5岁 拉肚子")[0] == "pediatrics"
    assert codes("五岁孩子呕吐")[0] == "pediatrics"
    assert codes("孩子牙疼")[0] == "stomatology"
    assert codes("30岁 拉肚子")[0] == "gastroenterology"


def test_a_temperature_counts_as_fever() -> None:
    assert "发热" in triage("体温38.5度", available=DEMO).symptoms


def test_departments_the_clinic_lacks_are_left_out() -> None:
    assert codes("耳鸣") == ["tcm"]  # ENT is not one of the demo's departments
    assert triage("耳鸣").departments[0].code == "ent"


@pytest.mark.parametrize(
    ("text", "flag"),
    [
        ("胸痛 大汗", "胸痛伴大汗"),
        ("突然喘不上气", "呼吸困难"),
        ("老人意识不清", "意识不清"),
        ("说话不清，半身无力", "一侧肢体无力（警惕脑卒中）"),
    ],
)
def test_red_flags_are_reported(text, flag) -> None:
    assert flag in triage(text, available=DEMO).red_flags


def test_a_denied_red_flag_is_no_flag_and_one_sign_alone_is_none() -> None:
    assert triage("没有胸痛，也没有出汗", available=DEMO).red_flags == ()
    assert triage("胸痛", available=DEMO).red_flags == ()


def test_simple_english_is_understood_with_its_negations() -> None:
    result = triage("I have a cough but no fever", available=DEMO)
    assert result.symptoms == ("咳嗽",)
    assert not result.has_chinese
    assert result.departments[0].code == "respiratory"


def test_unknown_english_finds_nothing() -> None:
    result = triage("my elbow feels funny", available=DEMO)
    assert result.symptoms == () and result.departments == ()


def test_the_shipped_table_is_consistent() -> None:
    kb = knowledge()
    assert len(kb.terms) >= 100
    departments = {code for term in kb.terms.values() for code in term.departments}
    assert departments >= DEMO  # every demo department is reachable


def test_the_loader_refuses_a_surface_form_claimed_twice(tmp_path) -> None:
    from triage.knowledge import DATA_DIR

    (tmp_path / "rules.json").write_text((DATA_DIR / "rules.json").read_text())
    rows = (DATA_DIR / "symptoms.csv").read_text()
    (tmp_path / "symptoms.csv").write_text(rows + "心悸,,cardiology:1,,\n")
    with pytest.raises(KnowledgeError):
        load(tmp_path)


def test_body_part_cues_catch_phrasings_the_symptom_rows_lack() -> None:
    result = triage("牙龈一碰就出血", available=DEMO)
    assert result.departments[0].code == "stomatology"
    assert [f.said for f in result.found] == ["牙龈"]


def test_the_pages_examples_go_to_the_demo_departments_they_are_meant_for() -> None:
    from triage.views import EXAMPLES

    expected = ["cardiology", "pediatrics", "stomatology", "orthopedics"]
    assert [codes(example)[0] for example in EXAMPLES] == expected
