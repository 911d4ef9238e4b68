"""The methodology admin made usable (issue 13): the tree in tree order with effective weights, engine
settings as typed fields, effective-weight changes in the diff, weights as percentages."""
import math
import re
from http import HTTPStatus

import pytest
from django.urls import reverse

from indices.demo import demo_methodology_path
from indices.engine.settings import EngineSettings
from indices.engine.spec import engine_from_document
from methodology.admin.forms import ENGINE_FIELDS, MethodologyVersionForm, engine_form_initial
from methodology.models import MethodologyNode, MethodologyVersion
from methodology.selectors import methodology_spec, methodology_tree, methodology_weight_diff
from methodology.services import methodology_clone, methodology_import, methodology_publish

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def english(settings):
    settings.LANGUAGE_CODE = "en"


@pytest.fixture
def ccfi(db) -> MethodologyVersion:
    version = methodology_import(text=demo_methodology_path().read_text(encoding="utf-8"), actor=None)
    return methodology_publish(version=version, actor=None)


@pytest.fixture
def ccfi_draft(ccfi) -> MethodologyVersion:
    return methodology_clone(version=ccfi, actor=None, new_version="2025.2")


def flatten(row):
    yield row
    for child in row.children:
        yield from flatten(child)


def page_text(response) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", response.content.decode()).split())


# The tree.

def test_the_tree_is_in_tree_order_not_by_position_alone(ccfi):
    rows = list(flatten(methodology_tree(version=ccfi)))
    codes = [row.code for row in rows]
    assert codes == [item.code for _, _, item in methodology_spec(version=ccfi).walk()]
    assert codes[:4] == ["CCFI", "M", "M1", "M1.1"]
    assert codes.index("E") > codes.index("M4.3") and codes.index("E1") == codes.index("E") + 1
    assert [row.level for row in rows[:4]] == [0, 1, 2, 3]


def test_effective_weights_are_products_of_shares_and_sum_to_one_per_level(ccfi):
    tree = methodology_tree(version=ccfi)
    rows = list(flatten(tree))
    assert tree.effective == 1
    for row in rows:
        if row.children:  # the children share their parent's weight
            assert math.isclose(sum(child.effective for child in row.children), row.effective)
            assert math.isclose(sum(child.share for child in row.children), 1)
    for level in (1, 2, 3):  # every indicator is three levels down in this tree
        assert math.isclose(sum(row.effective for row in rows if row.level == level), 1)
    assert math.isclose(sum(row.effective for row in rows if row.is_indicator), 1)
    assert math.isclose(rows[1].effective, 1 / 3)


def test_a_tree_the_engine_refuses_is_shown_without_weights(draft_methodology):
    MethodologyNode.objects.filter(version=draft_methodology).exclude(parent=None).update(weight=0)
    tree = methodology_tree(version=draft_methodology)
    assert tree.code and tree.effective is None


def test_the_version_page_shows_the_folded_tree_with_percentages(admin_client, ccfi_draft):
    response = admin_client.get(reverse("admin:methodology_methodologyversion_change", args=[ccfi_draft.pk]))
    content = response.content.decode()
    assert response.status_code == HTTPStatus.OK
    assert "Tree and effective weights" in content
    assert '<details class="tree-node" data-code="M" open>' in content
    assert '<details class="tree-node" data-code="M1">' in content  # groups folded
    assert 'data-testid="effective-M">33.33%</strong>' in content and "0.3333" not in content
    # The part tables are folded too (details/summary, no script) and the page carries no inline style.
    assert content.count("<details><summary>") >= 3 and "style=" not in content


def test_the_part_tables_list_nodes_and_indicators_in_tree_order(admin_client, ccfi_draft):
    response = admin_client.get(reverse("admin:methodology_methodologyversion_change", args=[ccfi_draft.pk]))
    walk = [item.code for _, _, item in methodology_spec(version=ccfi_draft).walk()]
    nodes, indicators = ([form.instance.code for form in inline.formset.forms]
                         for inline in response.context["inline_admin_formsets"][:2])
    assert nodes == [code for code in walk if code in set(nodes)]
    assert nodes[:4] == ["CCFI", "M", "M1", "M2"] and indicators[:2] == ["M1.1", "M1.2"]
    scored = [code for code in indicators if code in set(walk)]
    assert scored == [code for code in walk if code in set(scored)]
    assert indicators[len(scored):] == [item.code for item in methodology_spec(version=ccfi_draft).context_variables]


def test_the_page_renders_for_the_methodologist(client, methodologist, ccfi_draft, ccfi):
    client.force_login(methodologist)
    for version in (ccfi_draft, ccfi):
        response = client.get(reverse("admin:methodology_methodologyversion_change", args=[version.pk]))
        assert response.status_code == HTTPStatus.OK
        assert "effective-V" in response.content.decode()
    response = client.get(reverse("admin:methodology_methodologyversion_diff"), {"old": ccfi.pk, "new": ccfi_draft.pk})
    assert response.status_code == HTTPStatus.OK


# Engine settings as form fields.

def engine_data(settings: EngineSettings, **changes) -> dict:
    data = {}
    for name, value in engine_form_initial(settings).items():
        if value is None or value is False:
            continue
        data[name] = value
    data.update(changes)
    return data


def version_form(version, **changes):
    data = {"code": version.code, "version": version.version, "title_zh": version.title_zh,
            "title_en": version.title_en, "notes": version.notes, "check_severities": "{}",
            **engine_data(engine_from_document(version.engine_settings or {}), **changes)}
    return MethodologyVersionForm(data, instance=version)


def test_the_settings_form_round_trips_the_document(ccfi_draft):
    before = engine_from_document(ccfi_draft.engine_settings)
    form = version_form(ccfi_draft)
    assert form.is_valid(), form.errors
    assert engine_from_document(form.instance.engine_settings) == before
    assert form.instance.engine_settings == before.to_document()  # every key written out, readable


def test_the_settings_form_writes_typed_values_back_to_the_json(ccfi_draft):
    form = version_form(ccfi_draft, engine_weighting="equal", engine_normalisation_range="0,1",
                        engine_reference_year="2024", engine_outlier_treatment="on",
                        engine_uncertainty_aggregations=["arithmetic", "geometric"])
    assert form.is_valid(), form.errors
    form.save()
    ccfi_draft.refresh_from_db()
    settings = engine_from_document(ccfi_draft.engine_settings)
    assert (settings.weighting, settings.normalisation_range, settings.reference_year) == ("equal", (0, 1), 2024)
    assert settings.outlier_treatment is True
    assert settings.uncertainty.aggregations == ("arithmetic", "geometric")
    assert ccfi_draft.engine_settings["normalisation_range"] == [0.0, 1.0]


@pytest.mark.parametrize("field, value", [
    ("engine_availability_threshold", "1.5"), ("engine_weighting", "random"), ("engine_reference_year", "1999"),
    ("engine_uncertainty_normalisations", []), ("engine_uncertainty_samples", "0"), ("engine_winsorise_max", "x"),
])
def test_the_settings_form_refuses_bad_values_field_by_field(ccfi_draft, field, value):
    form = version_form(ccfi_draft, **{field: value})
    assert not form.is_valid()
    assert field in form.errors


def test_the_admin_saves_the_typed_settings(admin_client, ccfi_draft):
    url = reverse("admin:methodology_methodologyversion_change", args=[ccfi_draft.pk])
    response = admin_client.get(url)
    for name in ENGINE_FIELDS:
        assert f'name="{name}"' in response.content.decode()
    assert 'name="engine_settings"' not in response.content.decode()
    from tests.methodology.test_admin import unchanged_post_data

    data = unchanged_post_data(response) | {"engine_weighting": "equal"}
    response = admin_client.post(url, data)
    assert response.status_code == HTTPStatus.FOUND, response.context["adminform"].form.errors
    ccfi_draft.refresh_from_db()
    assert ccfi_draft.engine_settings["weighting"] == "equal"


def test_a_frozen_version_shows_its_settings_document(admin_client, ccfi):
    content = admin_client.get(reverse("admin:methodology_methodologyversion_change", args=[ccfi.pk])).content.decode()
    assert "availability_threshold" in content and 'name="engine_weighting"' not in content


# The diff.

def test_the_diff_lists_effective_weight_changes_per_node(admin_client, ccfi, ccfi_draft):
    MethodologyNode.objects.filter(version=ccfi_draft, code="M").update(weight=2)
    changes = {change.code: change for change in methodology_weight_diff(old=ccfi, new=ccfi_draft)}
    # M goes from a third to a half, E and V to a quarter, and everything below them with them.
    assert math.isclose(changes["M"].old, 1 / 3) and math.isclose(changes["M"].new, 1 / 2)
    assert math.isclose(changes["E"].new, 1 / 4) and math.isclose(changes["V1"].new, 1 / 16)
    assert "CCFI" not in changes and "M1.1" in changes
    response = admin_client.get(reverse("admin:methodology_methodologyversion_diff"),
                                {"old": ccfi.pk, "new": ccfi_draft.pk})
    content = response.content.decode()
    assert 'id="diff-effective-weights"' in content
    assert "33.33%" in content and "50.00%" in content and "25.00%" in content


def test_the_same_weights_list_no_effective_change(ccfi, ccfi_draft):
    assert methodology_weight_diff(old=ccfi, new=ccfi_draft) == []
