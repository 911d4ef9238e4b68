from django.urls import reverse
from rest_framework import serializers

from methodology.api.serializers import MethodologyVersionSerializer


class IndexScoreSerializer(serializers.Serializer):
    city = serializers.CharField(source="city.code")
    city_name_zh = serializers.CharField(source="city.name_zh")
    city_name_en = serializers.CharField(source="city.name_en")
    value = serializers.FloatField(allow_null=True)
    rank = serializers.IntegerField(allow_null=True)
    imputed = serializers.BooleanField()


class IndexRunSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    data_year = serializers.IntegerField(source="period.data_year")
    methodology = serializers.SerializerMethodField()
    is_provisional = serializers.BooleanField()
    units = serializers.IntegerField()
    published_at = serializers.DateTimeField()

    def get_methodology(self, obj) -> str:
        return f"{obj.methodology.code} {obj.methodology.version}"


class IndexRunDetailSerializer(IndexRunSerializer):
    scores = IndexScoreSerializer(many=True, source="index_scores")


class RunMethodologySerializer(MethodologyVersionSerializer):
    """A run's methodology version, with the link to its JSON document."""

    document_url = serializers.SerializerMethodField()

    class Meta(MethodologyVersionSerializer.Meta):
        fields = [*MethodologyVersionSerializer.Meta.fields, "document_url"]

    def get_document_url(self, obj) -> str:
        return self.context["request"].build_absolute_uri(reverse("methodology-document", args=[obj.pk]))


class ReportingPeriodSerializer(serializers.Serializer):
    data_year = serializers.IntegerField()
    opens_on = serializers.DateField()
    due_on = serializers.DateField()
    locks_on = serializers.DateField(allow_null=True)
    state = serializers.CharField()
    phase = serializers.CharField(help_text="open, past_due, locked or closed: where the period stands by its dates.")
    phase_label = serializers.SerializerMethodField()
    methodology = serializers.SerializerMethodField()

    def get_phase_label(self, obj) -> str:
        return str(obj.phase.label)

    def get_methodology(self, obj) -> str:
        return f"{obj.methodology.code} {obj.methodology.version}"


class ScoreSerializer(serializers.Serializer):
    """One city's score, rank and rank band at one node of a published run's tree."""

    run = serializers.IntegerField(source="run_id")
    data_year = serializers.IntegerField(source="run.period.data_year")
    node = serializers.CharField(source="code")
    level = serializers.IntegerField(help_text="0 is the index, then dimensions, groups, indicators.")
    city = serializers.CharField(source="city.code")
    city_name_zh = serializers.CharField(source="city.name_zh")
    city_name_en = serializers.CharField(source="city.name_en")
    score = serializers.FloatField(source="value", allow_null=True)
    rank = serializers.IntegerField(allow_null=True)
    rank_p05 = serializers.FloatField(allow_null=True, help_text="Rank band: 5th percentile over the samples.")
    rank_median = serializers.FloatField(allow_null=True)
    rank_p95 = serializers.FloatField(allow_null=True)
    imputed = serializers.BooleanField()


class HistoryPointSerializer(serializers.Serializer):
    data_year = serializers.IntegerField()
    run = serializers.IntegerField(source="run.pk")
    score = serializers.FloatField(allow_null=True)
    rank = serializers.IntegerField(allow_null=True)
    cities = serializers.IntegerField(help_text="Cities ranked that year.")


class CityHistorySerializer(serializers.Serializer):
    city = serializers.CharField(source="city.code")
    node = serializers.CharField(allow_null=True, help_text="The node asked for; null: the index.")
    history = HistoryPointSerializer(many=True)


class ReportSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    data_year = serializers.IntegerField(source="run.period.data_year")
    run = serializers.IntegerField(source="run_id")
    kind = serializers.CharField()
    language = serializers.CharField()
    city = serializers.CharField(source="city.code", allow_null=True, default=None)
    size = serializers.IntegerField()
    pages = serializers.IntegerField()
    sha256 = serializers.CharField()
    built_at = serializers.DateTimeField(allow_null=True)
    download_url = serializers.SerializerMethodField()

    def get_download_url(self, obj) -> str:
        return self.context["request"].build_absolute_uri(reverse("reports:download", args=[obj.pk]))


# The secretariat's.

class SecretariatRunSerializer(IndexRunSerializer):
    """A run of any state, as the run list shows it."""

    state = serializers.CharField()
    input_hash = serializers.CharField()
    engine_version = serializers.CharField()
    edition = serializers.IntegerField(allow_null=True)
    created_at = serializers.DateTimeField()
    started_at = serializers.DateTimeField(allow_null=True)
    finished_at = serializers.DateTimeField(allow_null=True)
    timings = serializers.DictField(child=serializers.FloatField())
    error = serializers.CharField(source="error_display")


class RunDiagnosticsSerializer(serializers.Serializer):
    """What the run page explains: the statistical audit, sensitivity, treatments and imputations, names added."""

    indicators = serializers.ListField(child=serializers.DictField())
    groups = serializers.ListField(child=serializers.DictField())
    correlation_flags = serializers.ListField(child=serializers.DictField())
    sensitivity = serializers.ListField(child=serializers.DictField())
    treatments = serializers.ListField(child=serializers.DictField())
    imputed_cells = serializers.ListField(child=serializers.DictField())


class WorkRequestSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    task = serializers.CharField()
    state = serializers.CharField()
    data_year = serializers.IntegerField(source="period.data_year", allow_null=True, default=None)
    run = serializers.IntegerField(source="run_id", allow_null=True)
    created_at = serializers.DateTimeField()


class ReportBuildSerializer(serializers.Serializer):
    kind = serializers.CharField()
    language = serializers.CharField()
    city = serializers.CharField(source="city.code", allow_null=True, default=None)
    state = serializers.CharField()
    error = serializers.CharField()
    built_at = serializers.DateTimeField(allow_null=True)


class ReportBuildsSerializer(serializers.Serializer):
    white_papers = ReportBuildSerializer(many=True)
    city_reports_built = serializers.IntegerField()
    city_reports_failed = ReportBuildSerializer(many=True)


class SecretariatRunDetailSerializer(SecretariatRunSerializer):
    """The run page's content: diagnostics, and for the secretariat its background work and report builds."""

    diagnostics = RunDiagnosticsSerializer(source="explanation")
    work = WorkRequestSerializer(many=True, source="work_items")
    report_builds = ReportBuildsSerializer(allow_null=True, help_text="Of a published run; null otherwise.")


class RecomputeInputSerializer(serializers.Serializer):
    data_year = serializers.IntegerField(min_value=1900, max_value=2999)


class WhatIfInputSerializer(serializers.Serializer):
    methodology = serializers.IntegerField(help_text="The id of the methodology version to try (a draft, usually).")


class WhatIfRowSerializer(serializers.Serializer):
    city = serializers.CharField(source="city.code")
    base_score = serializers.FloatField(allow_null=True)
    base_rank = serializers.IntegerField(allow_null=True)
    new_score = serializers.FloatField(allow_null=True)
    new_rank = serializers.IntegerField(allow_null=True)
    rank_change = serializers.IntegerField(allow_null=True, help_text="Places gained (positive = up).")


class WeightChangeSerializer(serializers.Serializer):
    code = serializers.CharField()
    name_zh = serializers.CharField()
    name_en = serializers.CharField()
    base = serializers.FloatField(allow_null=True)
    new = serializers.FloatField(allow_null=True)


class WhatIfSerializer(serializers.Serializer):
    run = serializers.IntegerField(source="base_run.pk")
    methodology = serializers.SerializerMethodField()
    error = serializers.CharField(help_text="The engine's refusal of the version; empty when it computed.")
    moved = serializers.IntegerField()
    rows = WhatIfRowSerializer(many=True)
    weight_changes = WeightChangeSerializer(many=True)

    def get_methodology(self, obj) -> str:
        return f"{obj.methodology.code} {obj.methodology.version}"
