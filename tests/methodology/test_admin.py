"""The methodology admin: editing a draft's tree, the freeze, clone, publish, retire, export and diff."""
import json
import re
from http import HTTPStatus

import pytest
from django.apps import apps
from django.contrib import admin
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import translation

from audit.models import AuditEvent
from methodology.models import (
    Indicator,
    MethodologyFrozenError,
    MethodologyNode,
    MethodologyState,
    MethodologyVersion,
)
from methodology.selectors import methodology_document
from methodology.services import methodology_clone, methodology_publish, methodology_publish_problems

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def english(settings):
    """Pages in English, so that these assertions still hold once the Chinese catalogue is filled in."""
    settings.LANGUAGE_CODE = "en"


@pytest.fixture
def published_methodology(draft_methodology):
    return methodology_publish(version=draft_methodology, actor=None)


@pytest.fixture
def second_draft(published_methodology):
    return methodology_clone(version=published_methodology, actor=None, new_version="1.1")


def url(name: str, *args) -> str:
    return reverse(f"admin:methodology_{name}", args=args)


def frozen_text(version: MethodologyVersion) -> str:
    with translation.override("en"):
        return MethodologyFrozenError(MethodologyVersion.objects.get(pk=version.pk)).messages[0]


def page_text(response) -> str:
    """The response's text with tags removed and spaces collapsed, for phrases that span markup."""
    return " ".join(re.sub(r"<[^>]+>", " ", response.content.decode()).split())


def unchanged_post_data(response) -> dict:
    """What a browser posts back from a change page when nothing is edited: form, then inline formsets."""
    forms = [response.context["adminform"].form]
    for inline in response.context["inline_admin_formsets"]:
        forms += [inline.formset.management_form, *inline.formset.forms]
    data = {}
    for form in forms:
        for field in form:
            value = field.value()
            if value is not None and value is not False:
                data[field.html_name] = "on" if value is True else value
                if field.field.show_hidden_initial:  # fields with a callable default, e.g. JSONField(default=dict)
                    data[field.html_initial_name] = data[field.html_name]
    return data


def model_post_data(instance, fields: tuple[str, ...]) -> dict:
    """A change form's data built from the row itself, for pages that show no form (frozen ones)."""
    data = {}
    for name in fields:
        value = getattr(instance, instance._meta.get_field(name).attname)
        if isinstance(value, dict):
            value = json.dumps(value)
        if value is not None and value is not False:
            data[name] = "on" if value is True else value
    return data


INDICATOR_FIELDS = (
    "code", "kind", "parent", "position", "name_zh", "name_en", "unit_zh", "unit_en", "decimals",
    "definition_zh", "definition_en", "weight", "direction", "normalisation", "normalisation_params",
    "log_transform", "hard_min", "hard_max", "soft_min", "soft_max", "yoy_tolerance_pct",
)


@pytest.mark.parametrize("app_label", ["methodology", "indices"])
def test_it_registers_every_model_of_the_app(app_label):
    assert all(admin.site.is_registered(model) for model in apps.get_app_config(app_label).get_models())


# Pages render.

@pytest.mark.parametrize("model", ["methodologyversion", "methodologynode", "indicator"])
def test_it_renders_changelist_add_and_change_pages(admin_client, draft_methodology, model):
    obj = {
        "methodologyversion": draft_methodology,
        "methodologynode": draft_methodology.nodes.get(code="A"),
        "indicator": draft_methodology.indicators.get(code="A.1"),
    }[model]
    assert admin_client.get(url(f"{model}_changelist")).status_code == HTTPStatus.OK
    assert admin_client.get(url(f"{model}_add")).status_code == HTTPStatus.OK
    assert admin_client.get(url(f"{model}_change", obj.pk)).status_code == HTTPStatus.OK


@pytest.mark.parametrize(("model", "query", "count"), [
    ("methodologyversion", "?q=Test+methodology", 1),
    ("methodologyversion", "?state__exact=draft&code=TEST", 1),
    ("methodologyversion", "?state__exact=published", 0),
    ("methodologynode", "?q=Dimension", 2),
    ("methodologynode", "?aggregation__exact=geometric", 1),
    ("indicator", "?q=A.", 2),
    ("indicator", "?kind__exact=context", 1),
    ("indicator", "?direction__exact=-1&normalisation__exact=minmax", 1),
])
def test_it_searches_and_filters(admin_client, draft_methodology, model, query, count):
    response = admin_client.get(url(f"{model}_changelist") + query)

    assert response.status_code == HTTPStatus.OK
    assert response.context["cl"].result_count == count


def test_it_filters_parts_by_version(admin_client, second_draft):
    response = admin_client.get(url("indicator_changelist") + f"?version__id__exact={second_draft.pk}")

    assert {indicator.version_id for indicator in response.context["cl"].result_list} == {second_draft.pk}


def test_the_version_page_does_not_query_per_row(admin_client, draft_methodology):
    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            response = admin_client.get(url("methodologyversion_change", draft_methodology.pk))
        assert response.status_code == HTTPStatus.OK
        return len(captured)

    before = queries()
    group = draft_methodology.nodes.get(code="A")
    for number in range(3, 9):
        Indicator.objects.create(version=draft_methodology, code=f"A.{number}", parent=group, name_zh="新",
                                 name_en="New", unit_zh="个", unit_en="count", hard_min=0, hard_max=1)

    assert queries() == before


@pytest.mark.parametrize("model", ["methodologyversion", "methodologynode", "indicator"])
def test_changelists_do_not_query_per_row(admin_client, draft_methodology, model):
    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            response = admin_client.get(url(f"{model}_changelist"))
        assert response.status_code == HTTPStatus.OK
        return len(captured)

    before = queries()
    for label in ("1.1", "1.2"):
        methodology_clone(version=draft_methodology, actor=None, new_version=label)

    assert queries() == before


# Editing a draft.

def test_parent_choices_are_nodes_of_the_same_version(admin_client, draft_methodology, second_draft):
    own_nodes = set(second_draft.nodes.values_list("pk", flat=True))
    response = admin_client.get(url("methodologyversion_change", second_draft.pk))
    formsets = {inline.formset.prefix: inline.formset for inline in response.context["inline_admin_formsets"]}
    node_a = second_draft.nodes.get(code="A")
    standalone = admin_client.get(url("indicator_change", second_draft.indicators.get(code="A.1").pk))
    node_page = admin_client.get(url("methodologynode_change", node_a.pk))

    for form in [*formsets["indicators"].forms, formsets["indicators"].empty_form]:
        assert {pk for pk, _ in form.fields["parent"].choices if pk} == own_nodes
    for form in formsets["nodes"].forms:
        assert {pk for pk, _ in form.fields["parent"].choices if pk} == own_nodes - {form.instance.pk}
    assert set(standalone.context["adminform"].form.fields["parent"].queryset) == set(second_draft.nodes.all())
    assert node_a not in node_page.context["adminform"].form.fields["parent"].queryset


def test_it_saves_the_tree_inline(admin_client, draft_methodology):
    page = admin_client.get(url("methodologyversion_change", draft_methodology.pk))
    data = unchanged_post_data(page)
    weight_field = next(name for name, value in data.items()
                        if name.startswith("indicators-") and name.endswith("-code") and value == "B.1")
    data[weight_field.replace("-code", "-weight")] = "2.5"
    data["title_en"] = "Test methodology, revised"

    response = admin_client.post(url("methodologyversion_change", draft_methodology.pk), data)

    assert response.status_code == HTTPStatus.FOUND, response.context["errors"]
    assert Indicator.objects.get(version=draft_methodology, code="B.1").weight == 2.5
    assert MethodologyVersion.objects.get(pk=draft_methodology.pk).title_en == "Test methodology, revised"
    edit = AuditEvent.objects.get(event_type="methodology.edit")
    assert edit.actor.is_superuser
    assert (edit.object_id, edit.details["action"]) == (str(draft_methodology.pk), "change")
    assert {"changed": {"fields": ["Title (English)"]}} in edit.details["changes"]
    assert {"changed": {"name": "indicator", "object": "B.1 指标B.1", "fields": ["Weight"]}} in edit.details["changes"]


def test_model_validation_shows_as_form_errors(admin_client, draft_methodology):
    indicator = draft_methodology.indicators.get(code="A.1")
    data = model_post_data(indicator, INDICATOR_FIELDS) | {"hard_max": "-5", "normalisation": "goalposts"}

    response = admin_client.post(url("indicator_change", indicator.pk), data)

    assert response.status_code == HTTPStatus.OK
    errors = response.context["adminform"].form.errors
    assert "hard_max" in errors
    assert "normalisation_params" in errors
    assert Indicator.objects.get(pk=indicator.pk).hard_max == 1000


def test_a_duplicate_code_is_a_form_error(admin_client, draft_methodology):
    indicator = draft_methodology.indicators.get(code="A.2")
    data = model_post_data(indicator, INDICATOR_FIELDS) | {"code": "A.1"}

    response = admin_client.post(url("indicator_change", indicator.pk), data)

    assert response.status_code == HTTPStatus.OK
    assert "already exists" in " ".join(response.context["adminform"].form.errors["code"])
    assert Indicator.objects.get(pk=indicator.pk).code == "A.2"


def test_a_duplicate_code_in_the_inline_is_a_form_error(admin_client, draft_methodology):
    page = admin_client.get(url("methodologyversion_change", draft_methodology.pk))
    data = unchanged_post_data(page)
    code_field = next(name for name, value in data.items()
                      if name.startswith("indicators-") and name.endswith("-code") and value == "A.2")
    data[code_field] = "A.1"

    response = admin_client.post(url("methodologyversion_change", draft_methodology.pk), data)

    assert response.status_code == HTTPStatus.OK
    assert "Please correct the duplicate data for code." in page_text(response)
    assert sorted(draft_methodology.indicators.values_list("code", flat=True)) == ["A.1", "A.2", "B.1", "POP"]


def test_a_duplicate_code_on_the_add_page_is_a_form_error(admin_client, draft_methodology):
    node = draft_methodology.nodes.get(code="B")
    data = {"version": draft_methodology.pk, "code": "B", "name_zh": "重复", "name_en": "Twice", "weight": "1",
            "aggregation": "arithmetic", "position": "0", "parent": draft_methodology.root().pk}

    response = admin_client.post(url("methodologynode_add"), data)

    assert response.status_code == HTTPStatus.OK
    assert "already exists" in page_text(response)
    assert list(draft_methodology.nodes.filter(code="B")) == [node]


# The freeze.

def test_a_published_version_is_read_only_with_a_notice(admin_client, published_methodology):
    response = admin_client.get(url("methodologyversion_change", published_methodology.pk))
    content = response.content.decode()

    assert response.status_code == HTTPStatus.OK
    assert frozen_text(published_methodology) in page_text(response)
    assert 'name="title_en"' not in content
    assert 'name="indicators-0-weight"' not in content
    assert 'name="nodes-0-code"' not in content


def test_its_parts_are_read_only_with_a_notice(admin_client, published_methodology):
    indicator = published_methodology.indicators.get(code="A.1")
    node = published_methodology.nodes.get(code="A")

    for page in (url("indicator_change", indicator.pk), url("methodologynode_change", node.pk)):
        response = admin_client.get(page)
        assert frozen_text(published_methodology) in page_text(response)
        assert 'name="weight"' not in response.content.decode()


def test_the_notice_is_in_the_active_language(settings, admin_client, published_methodology):
    settings.LANGUAGE_CODE = "zh-hans"
    with translation.override("zh-hans"):
        expected = MethodologyFrozenError(published_methodology).messages[0]

    response = admin_client.get(url("methodologyversion_change", published_methodology.pk))

    assert 'lang="zh-hans"' in response.content.decode()
    assert expected in page_text(response)


def test_posting_a_change_to_a_published_version_changes_nothing(admin_client, published_methodology):
    before = methodology_document(version=published_methodology)
    data = model_post_data(published_methodology, ("code", "version", "title_zh", "title_en", "notes"))
    data |= {"title_en": "Changed", "nodes-TOTAL_FORMS": "0", "nodes-INITIAL_FORMS": "0",
             "indicators-TOTAL_FORMS": "0", "indicators-INITIAL_FORMS": "0"}

    response = admin_client.post(url("methodologyversion_change", published_methodology.pk), data, follow=True)

    assert response.status_code == HTTPStatus.OK
    assert response.redirect_chain[-1][0] == url("methodologyversion_change", published_methodology.pk)
    assert f"{frozen_text(published_methodology)} Nothing was changed." in page_text(response)
    assert methodology_document(version=published_methodology) == before
    assert MethodologyVersion.objects.get(pk=published_methodology.pk).title_en == "Test methodology"


def test_posting_a_change_to_an_indicator_of_a_published_version_changes_nothing(admin_client, published_methodology):
    indicator = published_methodology.indicators.get(code="A.1")
    data = model_post_data(indicator, INDICATOR_FIELDS) | {"weight": "9", "hard_max": "5"}

    response = admin_client.post(url("indicator_change", indicator.pk), data, follow=True)

    assert f"{frozen_text(published_methodology)} Nothing was changed." in page_text(response)
    indicator.refresh_from_db()
    assert (indicator.weight, indicator.hard_max) == (1, 1000)


def test_parts_of_a_published_version_cannot_be_deleted(admin_client, published_methodology):
    indicator = published_methodology.indicators.get(code="A.1")

    single = admin_client.post(url("indicator_delete", indicator.pk), {"post": "yes"}, follow=True)
    bulk = admin_client.post(url("indicator_changelist"), {
        "action": "delete_selected", "_selected_action": [indicator.pk], "post": "yes"}, follow=True)
    version = admin_client.post(url("methodologyversion_delete", published_methodology.pk), {"post": "yes"},
                                follow=True)

    for response in (single, bulk, version):
        assert frozen_text(published_methodology) in page_text(response)
    assert Indicator.objects.filter(pk=indicator.pk).exists()
    assert MethodologyVersion.objects.filter(pk=published_methodology.pk).exists()


def test_a_version_published_meanwhile_is_caught_in_the_save(admin_client, draft_methodology, monkeypatch):
    """The model's freeze still holds when the page's own check passed: the save rolls back."""
    indicator = draft_methodology.indicators.get(code="A.1")
    data = model_post_data(indicator, INDICATOR_FIELDS) | {"weight": "9"}
    admin_class = type(admin.site.get_model_admin(Indicator))
    monkeypatch.setattr(admin_class, "frozen_version", lambda self, obj: None)
    methodology_publish(version=draft_methodology, actor=None)

    response = admin_client.post(url("indicator_change", indicator.pk), data, follow=True)

    assert frozen_text(draft_methodology) in page_text(response)
    assert Indicator.objects.get(pk=indicator.pk).weight == 1


def test_a_bulk_delete_raced_by_a_publish_deletes_nothing(admin_client, draft_methodology, monkeypatch):
    codes = ["A.1", "POP"]
    selected = list(draft_methodology.indicators.filter(code__in=codes).values_list("pk", flat=True))
    admin_class = type(admin.site.get_model_admin(Indicator))
    monkeypatch.setattr(admin_class, "frozen_in", lambda self, queryset: MethodologyVersion.objects.none())
    monkeypatch.setattr(admin_class, "frozen_version", lambda self, obj: None)
    methodology_publish(version=draft_methodology, actor=None)

    response = admin_client.post(url("indicator_changelist"), {
        "action": "delete_selected", "_selected_action": selected, "post": "yes"}, follow=True)

    assert frozen_text(draft_methodology) in page_text(response)
    assert Indicator.objects.filter(pk__in=selected).count() == 2


def test_drafts_can_still_be_deleted(admin_client, draft_methodology):
    indicator = draft_methodology.indicators.get(code="POP")

    response = admin_client.post(url("indicator_changelist"), {
        "action": "delete_selected", "_selected_action": [indicator.pk], "post": "yes"})

    assert response.status_code == HTTPStatus.FOUND
    assert not Indicator.objects.filter(pk=indicator.pk).exists()


# Clone, publish, retire, export.

def test_cloning_through_the_intermediate_form(admin_client, published_methodology):
    page = admin_client.get(url("methodologyversion_clone", published_methodology.pk))
    assert page.context["form"].initial["new_version"] == "1.1"

    response = admin_client.post(url("methodologyversion_clone", published_methodology.pk), {"new_version": "1.1"})

    clone = MethodologyVersion.objects.get(code="TEST", version="1.1")
    assert response.status_code == HTTPStatus.FOUND
    assert response.url == url("methodologyversion_change", clone.pk)
    assert clone.state == MethodologyState.DRAFT
    assert clone.cloned_from == published_methodology
    assert methodology_document(version=clone).replace('"version": "1.1"', '"version": "1.0"', 1) == (
        methodology_document(version=published_methodology))


def test_the_clone_action_opens_the_intermediate_form(admin_client, published_methodology):
    response = admin_client.post(url("methodologyversion_changelist"), {
        "action": "clone_selected", "_selected_action": [published_methodology.pk]})

    assert response.status_code == HTTPStatus.FOUND
    assert response.url == url("methodologyversion_clone", published_methodology.pk)


def test_a_taken_clone_label_is_a_form_error(admin_client, draft_methodology):
    response = admin_client.post(url("methodologyversion_clone", draft_methodology.pk), {"new_version": "1.0"})

    assert response.status_code == HTTPStatus.OK
    assert response.context["form"].errors["new_version"] == ["Methodology TEST 1.0 already exists."]
    assert MethodologyVersion.objects.count() == 1


def test_publishing_a_valid_draft_with_the_action_freezes_it(admin_client, draft_methodology):
    response = admin_client.post(url("methodologyversion_changelist"), {
        "action": "publish_selected", "_selected_action": [draft_methodology.pk]}, follow=True)

    draft_methodology.refresh_from_db()
    assert draft_methodology.state == MethodologyState.PUBLISHED
    assert draft_methodology.published_at is not None
    assert "Methodology TEST 1.0 is published; it can no longer be changed." in page_text(response)


def test_publishing_an_invalid_draft_lists_every_problem(admin_client, draft_methodology):
    Indicator.objects.filter(version=draft_methodology, code__in=["A.1", "POP"]).update(hard_max=None)
    with translation.override("en"):
        problems = methodology_publish_problems(version=draft_methodology)
    assert len(problems) == 2

    response = admin_client.post(url("methodologyversion_changelist"), {
        "action": "publish_selected", "_selected_action": [draft_methodology.pk]}, follow=True)

    text = page_text(response)
    assert "Methodology TEST 1.0 cannot be published:" in text
    assert all(problem in text for problem in problems)
    assert MethodologyVersion.objects.get(pk=draft_methodology.pk).state == MethodologyState.DRAFT


def test_the_publish_button_confirms_then_publishes(admin_client, draft_methodology):
    confirm = admin_client.get(url("methodologyversion_publish", draft_methodology.pk))
    assert confirm.status_code == HTTPStatus.OK
    assert confirm.context["allowed"] is True

    response = admin_client.post(url("methodologyversion_publish", draft_methodology.pk))

    assert response.url == url("methodologyversion_change", draft_methodology.pk)
    assert MethodologyVersion.objects.get(pk=draft_methodology.pk).state == MethodologyState.PUBLISHED


def test_the_publish_page_shows_the_problems_first(admin_client, draft_methodology):
    Indicator.objects.filter(version=draft_methodology, code="B.1").update(hard_min=None)

    response = admin_client.get(url("methodologyversion_publish", draft_methodology.pk))

    assert response.context["allowed"] is False
    assert "B.1 has no hard_min" in page_text(response)


def test_the_change_page_offers_the_life_cycle_buttons(admin_client, published_methodology):
    content = admin_client.get(url("methodologyversion_change", published_methodology.pk)).content.decode()

    for name in ("clone", "retire", "export"):
        assert url(f"methodologyversion_{name}", published_methodology.pk) in content
    assert url("methodologyversion_publish", published_methodology.pk) not in content
    assert url("methodologyversion_diff") in content


def test_retiring_a_published_version(admin_client, published_methodology):
    response = admin_client.post(url("methodologyversion_retire", published_methodology.pk), follow=True)

    assert MethodologyVersion.objects.get(pk=published_methodology.pk).state == MethodologyState.RETIRED
    assert "Methodology TEST 1.0 is retired." in page_text(response)
    assert frozen_text(published_methodology) in page_text(response)


def test_a_draft_cannot_be_retired(admin_client, draft_methodology):
    response = admin_client.post(url("methodologyversion_changelist"), {
        "action": "retire_selected", "_selected_action": [draft_methodology.pk]}, follow=True)

    assert "Only a published methodology can be retired" in page_text(response)
    assert MethodologyVersion.objects.get(pk=draft_methodology.pk).state == MethodologyState.DRAFT


def test_export_downloads_the_exact_document(admin_client, published_methodology):
    expected = methodology_document(version=published_methodology)

    button = admin_client.get(url("methodologyversion_export", published_methodology.pk))
    action = admin_client.post(url("methodologyversion_changelist"), {
        "action": "export_selected", "_selected_action": [published_methodology.pk]})

    for response in (button, action):
        assert response.status_code == HTTPStatus.OK
        assert response["Content-Type"] == "application/json; charset=utf-8"
        assert response["Content-Disposition"] == 'attachment; filename="TEST-1.0.json"'
        assert response.content.decode("utf-8") == expected


def test_single_version_actions_want_one_version(admin_client, published_methodology, second_draft):
    response = admin_client.post(url("methodologyversion_changelist"), {
        "action": "export_selected", "_selected_action": [published_methodology.pk, second_draft.pk]}, follow=True)

    assert "Select exactly one methodology version." in page_text(response)


# The diff page.

@pytest.fixture
def changed_draft(second_draft):
    """1.1 differs from 1.0: A.2 removed, A.3 added, B.1 reweighted and its hard maximum raised."""
    Indicator.objects.get(version=second_draft, code="A.2").delete()
    Indicator.objects.create(version=second_draft, code="A.3", parent=second_draft.nodes.get(code="A"),
                             name_zh="指标A.3", name_en="Indicator A.3", unit_zh="个", unit_en="count",
                             hard_min=0, hard_max=100)
    Indicator.objects.filter(version=second_draft, code="B.1").update(weight=3, hard_max=2000)
    return second_draft


def test_the_diff_page_shows_added_removed_and_changed_items(admin_client, published_methodology, changed_draft):
    response = admin_client.get(url("methodologyversion_diff") + f"?old={published_methodology.pk}"
                                f"&new={changed_draft.pk}")
    content = response.content.decode()

    assert response.status_code == HTTPStatus.OK
    assert response.context["totals"] == {"added": 1, "removed": 1, "changed": 1}
    assert "3 differences: 1 added, 1 removed, 1 changed." in page_text(response)
    indicators = response.context["groups"][0]
    assert [(section["status"], [row["code"] for row in section["rows"]]) for section in indicators["sections"]] == [
        ("added", ["A.3"]), ("removed", ["A.2"]), ("changed", ["B.1"])]
    for field, old, new in (("weight", "1", "3"), ("hard_max", "1000", "2000")):
        row = re.search(rf'<tr class="key-change" data-code="B.1" data-field="{field}">.*?</tr>', content)
        assert row is not None
        assert f'<td class="old"><del>{old}</del></td><td class="new"><ins>{new}</ins></td>' in row.group(0)
    assert "Weight" in page_text(response)
    assert "Hard maximum" in page_text(response)


def test_the_compare_action_opens_the_diff_page(admin_client, published_methodology, second_draft):
    response = admin_client.post(url("methodologyversion_changelist"), {
        "action": "compare_selected", "_selected_action": [second_draft.pk, published_methodology.pk]})

    assert response.url == (url("methodologyversion_diff") + f"?old={published_methodology.pk}"
                            f"&new={second_draft.pk}")


def test_the_diff_page_without_a_choice_shows_the_form(admin_client, draft_methodology):
    response = admin_client.get(url("methodologyversion_diff") + f"?new={draft_methodology.pk}")

    assert response.status_code == HTTPStatus.OK
    assert response.context["groups"] is None
    assert "Home" in page_text(response)  # breadcrumbs of the admin


def test_the_same_version_twice_has_no_differences(admin_client, draft_methodology):
    pk = draft_methodology.pk
    response = admin_client.get(url("methodologyversion_diff") + f"?old={pk}&new={pk}")

    assert "The two versions do not differ." in page_text(response)


# Who may do what.

def test_a_methodologist_manages_methodology_but_cannot_read_the_audit_trail(client, methodologist,
                                                                            draft_methodology):
    client.force_login(methodologist)
    node = draft_methodology.nodes.get(code="B")

    assert client.get(url("methodologyversion_changelist")).status_code == HTTPStatus.OK
    assert client.get(url("methodologyversion_change", draft_methodology.pk)).status_code == HTTPStatus.OK
    assert client.get(url("methodologyversion_diff")).status_code == HTTPStatus.OK
    page = client.get(url("methodologynode_change", node.pk))
    data = unchanged_post_data(page) | {"weight": "4"}
    assert client.post(url("methodologynode_change", node.pk), data).status_code == HTTPStatus.FOUND
    assert MethodologyNode.objects.get(pk=node.pk).weight == 4
    assert client.get(reverse("admin:audit_auditevent_changelist")).status_code == HTTPStatus.FORBIDDEN
    assert b"auditevent" not in client.get(reverse("admin:index")).content


def test_people_without_methodology_rights_cannot_use_its_views(client, audit_admin, draft_methodology):
    client.force_login(audit_admin)

    for page in (url("methodologyversion_diff"), url("methodologyversion_export", draft_methodology.pk),
                 url("methodologyversion_clone", draft_methodology.pk)):
        assert client.get(page).status_code == HTTPStatus.FORBIDDEN
    assert client.post(url("methodologyversion_publish", draft_methodology.pk)).status_code == HTTPStatus.FORBIDDEN
    assert MethodologyVersion.objects.get(pk=draft_methodology.pk).state == MethodologyState.DRAFT
