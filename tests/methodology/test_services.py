"""Methodology services: create, clone, publish (freeze), retire; each error changes nothing."""
import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import translation

from audit.models import AuditEvent
from methodology.models import (
    Indicator,
    MethodologyFrozenError,
    MethodologyNode,
    MethodologyState,
    MethodologyVersion,
)
from methodology.selectors import methodology_document, methodology_next_free_label
from methodology.services import (
    methodology_clone,
    methodology_import,
    methodology_publish,
    methodology_retire,
)

pytestmark = pytest.mark.django_db


def test_it_builds_the_tree_from_the_document(draft_methodology):
    root = draft_methodology.root()
    assert root.code == "TEST"
    assert [node.code for node in root.children.all()] == ["A", "B"]
    assert list(Indicator.objects.filter(version=draft_methodology, kind="scored").order_by("code")
                .values_list("code", flat=True)) == ["A.1", "A.2", "B.1"]
    assert Indicator.objects.get(version=draft_methodology, code="POP").parent is None
    assert AuditEvent.objects.filter(event_type="methodology.create", object_id=str(draft_methodology.pk)).exists()


def test_publish_freezes_the_version(draft_methodology, methodologist):
    methodology_publish(version=draft_methodology, actor=methodologist)
    draft_methodology.refresh_from_db()
    assert draft_methodology.state == MethodologyState.PUBLISHED
    assert draft_methodology.published_by == methodologist

    indicator = Indicator.objects.get(version=draft_methodology, code="A.1")
    indicator.hard_max = 5
    with pytest.raises(MethodologyFrozenError, match="方法版本 TEST 1.0 已不是草稿（已发布），不可编辑。"):
        indicator.save()
    with pytest.raises(MethodologyFrozenError):
        MethodologyNode.objects.get(version=draft_methodology, code="A").delete()
    draft_methodology.notes = "changed"
    with pytest.raises(MethodologyFrozenError):
        draft_methodology.save()
    with pytest.raises(MethodologyFrozenError):
        draft_methodology.delete()

    assert Indicator.objects.get(version=draft_methodology, code="A.1").hard_max == 1000
    assert MethodologyVersion.objects.get(pk=draft_methodology.pk).notes == ""
    assert AuditEvent.objects.filter(event_type="methodology.publish", actor=methodologist).count() == 1


def test_publish_refuses_a_version_with_problems_and_leaves_it_a_draft(draft_methodology, methodologist):
    Indicator.objects.filter(version=draft_methodology, code="A.2").update(hard_min=None)
    MethodologyNode.objects.filter(version=draft_methodology, code="B").update(weight=0)

    with pytest.raises(ValidationError) as error:
        methodology_publish(version=draft_methodology, actor=methodologist)

    messages = error.value.messages
    assert messages[0] == "方法版本 TEST 1.0 无法发布："
    assert "tree.children[0].children[1].bounds.hard_min: A.2 缺少 hard_min" in messages
    assert "tree.children[1].weight: B 的权重必须为正数" in messages
    assert MethodologyVersion.objects.get(pk=draft_methodology.pk).state == MethodologyState.DRAFT
    assert not AuditEvent.objects.filter(event_type="methodology.publish").exists()


def test_errors_are_in_english_for_an_english_user(draft_methodology, methodologist):
    Indicator.objects.filter(version=draft_methodology, code="A.2").update(hard_min=None)
    with translation.override("en"), pytest.raises(ValidationError) as error:
        methodology_publish(version=draft_methodology, actor=methodologist)
    assert error.value.messages == [
        "Methodology TEST 1.0 cannot be published:",
        "tree.children[0].children[1].bounds.hard_min: A.2 has no hard_min",
    ]


def test_a_duplicate_code_in_a_draft_is_refused(draft_methodology):
    group = MethodologyNode.objects.get(version=draft_methodology, code="A")
    with pytest.raises(IntegrityError), transaction.atomic():
        Indicator.objects.create(version=draft_methodology, parent=group, code="A.1", name_zh="重复", name_en="Dup",
                                 unit_zh="个", unit_en="count")
    assert Indicator.objects.filter(version=draft_methodology, code="A.1").count() == 1


def test_clone_is_a_deep_copy_as_a_new_draft(draft_methodology, methodologist):
    methodology_publish(version=draft_methodology, actor=methodologist)
    label = methodology_next_free_label(code="TEST", version="1.0")
    assert label == "1.1"

    clone = methodology_clone(version=draft_methodology, actor=methodologist, new_version=label)

    assert clone.state == MethodologyState.DRAFT
    assert clone.cloned_from == draft_methodology
    assert methodology_document(version=clone) == methodology_document(version=draft_methodology).replace(
        '"version": "1.0"', '"version": "1.1"')
    edited = Indicator.objects.get(version=clone, code="A.1")
    edited.weight = 3
    edited.save()
    assert Indicator.objects.get(version=draft_methodology, code="A.1").weight == 1
    assert methodology_next_free_label(code="TEST", version="1.0") == "1.2"


def test_retire_only_a_published_version(draft_methodology, methodologist):
    with pytest.raises(ValidationError, match="只有已发布的方法版本可以停用；TEST 1.0 当前状态为“草稿”。"):
        methodology_retire(version=draft_methodology, actor=methodologist)
    methodology_publish(version=draft_methodology, actor=methodologist)
    retired = methodology_retire(version=draft_methodology, actor=methodologist)
    assert retired.state == MethodologyState.RETIRED
    with pytest.raises(MethodologyFrozenError):
        methodology_publish(version=retired, actor=methodologist)


def test_importing_an_existing_label_is_refused_and_changes_nothing(draft_methodology):
    text = methodology_document(version=draft_methodology)
    before = (MethodologyVersion.objects.count(), Indicator.objects.count(), MethodologyNode.objects.count())
    with pytest.raises(ValidationError, match="方法版本 TEST 1.0 已存在。"):
        methodology_import(text=text, actor=None)
    assert (MethodologyVersion.objects.count(), Indicator.objects.count(), MethodologyNode.objects.count()) == before


def test_a_node_cannot_be_moved_below_itself(draft_methodology):
    group_a = MethodologyNode.objects.get(version=draft_methodology, code="A")
    child = MethodologyNode.objects.create(version=draft_methodology, parent=group_a, code="A-sub",
                                           name_zh="子组", name_en="Subgroup")
    group_a.parent = child
    with pytest.raises(ValidationError) as error:
        group_a.full_clean()
    assert error.value.message_dict["parent"] == ["节点不能位于其自身之下。"]


def test_publish_refuses_rows_the_root_cannot_reach(draft_methodology):
    first = MethodologyNode.objects.create(version=draft_methodology, code="Z1", name_zh="环甲", name_en="Loop 1")
    second = MethodologyNode.objects.create(version=draft_methodology, code="Z2", name_zh="环乙", name_en="Loop 2",
                                            parent=first)
    # A cycle written past clean(), as a bulk update or a database edit could.
    MethodologyNode.objects.filter(pk=first.pk).update(parent=second)
    Indicator.objects.create(version=draft_methodology, parent=second, code="Z.1", name_zh="环中指标",
                             name_en="Indicator in the loop", unit_zh="个", unit_en="count", hard_min=0, hard_max=1)

    with pytest.raises(ValidationError) as error:
        methodology_publish(version=draft_methodology, actor=None)

    assert error.value.messages[1:] == ["从指标树根节点无法到达：Z.1, Z1, Z2"]


def test_the_audit_trail_stores_names_in_the_portals_language_whoever_acts(draft_methodology, methodologist):
    """The portal's first language (the auditor reads Chinese), not the language of whoever caused the event."""
    with translation.override("en"):
        methodology_publish(version=draft_methodology, actor=methodologist)
    assert AuditEvent.objects.get(event_type="methodology.publish").object_repr == "TEST 1.0 (已发布)"


def test_a_version_with_bad_engine_settings_does_not_validate(draft_methodology):
    draft_methodology.engine_settings = {"weighting": "by feel"}
    with pytest.raises(ValidationError) as error:
        draft_methodology.full_clean()
    assert error.value.message_dict["engine_settings"] == [
        "engine.weighting: 必须是以下之一：explicit, equal, entropy"]


def test_rules_are_cloned_with_the_version(methodologist):
    from indices.demo import demo_methodology_path

    version = methodology_import(text=demo_methodology_path().read_text(encoding="utf-8"), actor=methodologist)
    clone = methodology_clone(version=version, actor=methodologist, new_version="2025.2")
    assert list(clone.rules.values_list("code", "target", "severity")) == [
        ("R-M2.3", "M2.3", "warning"), ("R-M2.2", "M2.2", "warning")]
