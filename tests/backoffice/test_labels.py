"""Codes stored by the workflow read in Chinese: every declared transition and state has a
label, every reason code a translation, the product's own actors a name."""

import re

import pytest
from django.apps import apps
from django.utils import translation
from django_fsm import FSMFieldMixin

from replenish.labels import actor_display, arrival_note_display, state_label, transition_label
from replenish.models import AuditEntry
from replenish.reasons import REASONS, Reason
from tests.english_words import english_words


def _machines():
    for model in apps.get_models():
        for field in model._meta.concrete_fields:
            if isinstance(field, FSMFieldMixin):
                yield model._meta.model_name.removeprefix("arrears"), model, field


def test_every_declared_transition_and_state_reads_in_chinese():
    with translation.override("zh-hans"):
        for subject, model, field in _machines():
            for t in field.get_all_transitions(model):
                # then the label is not the code, and has no English word
                shown = transition_label(subject, t.name)
                assert shown != t.name and not english_words(shown), (subject, t.name, shown)
            for code, _label in field.choices:
                shown = state_label(subject, code)
                assert shown != code and not english_words(shown), (subject, code, shown)


@pytest.mark.parametrize("code", sorted(REASONS))
def test_every_reason_code_has_its_chinese_text(code):
    # given a reason with placeholder arguments
    names = re.findall(r"%\((\w+)\)s", str(REASONS[code]))
    reason = Reason(code, **{name: "X1" for name in names})

    # when it is read in Chinese
    with translation.override("zh-hans"):
        shown = str(reason)

    # then it is translated, and its stored sentence is the English one
    assert not english_words(shown), shown
    assert reason.english() != shown


def test_an_audit_row_reads_in_the_readers_language(db):
    # given a row stored with codes
    entry = AuditEntry(
        subject="case",
        subject_id=1,
        transition="issue_notice",
        from_state="registered",
        to_state="notified",
        actor_label="system:run_daily",
        reason_code="notice_issued",
        reason_args={"notice": "N310101-2026-000001"},
        reason="notice N310101-2026-000001",
    )

    # then Chinese readers and English readers each read it in their language
    with translation.override("zh-hans"):
        assert entry.transition_shown == "发出通知单"
        assert entry.states_shown == "已登记 → 已通知"
        assert entry.actor_shown == "系统（每日批处理）"
        assert entry.reason_shown == "通知单 N310101-2026-000001"
    with translation.override("en"):
        assert entry.transition_shown == "notice issued"
        assert entry.reason_shown == "notice N310101-2026-000001"


def test_system_actors_and_arrival_notes_read_in_chinese():
    with translation.override("zh-hans"):
        assert actor_display("system:demo") == "系统（演示数据）"
        assert actor_display("system:portal:liq") == "单位门户用户 liq"
        assert actor_display("collector") == "collector"
        assert (
            arrival_note_display("reference N1 not found; the payer has 2 open cases")
            == "未找到编号 N1；缴款单位有 2 个未结案件"
        )
        assert arrival_note_display("matched by finance: phone call") == (
            "matched by finance: phone call"
        )
