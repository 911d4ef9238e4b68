from rest_framework import serializers
from rest_framework.fields import ProhibitNullCharactersValidator

from accounts.models import City
from reporting.validation import number_text


class CitySerializer(serializers.ModelSerializer):
    class Meta:
        model = City
        fields = ["code", "name_zh", "name_en", "province_zh", "province_en"]


class ReturnValueSerializer(serializers.Serializer):
    code = serializers.CharField(source="indicator.code")
    value = serializers.SerializerMethodField()
    observation_status = serializers.CharField()
    source_note = serializers.CharField()
    explanation = serializers.CharField()
    flags = serializers.SerializerMethodField()

    def get_value(self, obj) -> str | None:
        return number_text(obj.value) if obj.value is not None else None

    def get_flags(self, obj) -> list[dict]:
        return [{"check": flag.check_code, "severity": flag.severity, "message": flag.render(),
                 "decision": flag.decision} for flag in obj.flags.all()]


class IndicatorReturnSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    city = serializers.CharField(source="city.code")
    data_year = serializers.IntegerField(source="period.data_year")
    revision = serializers.IntegerField()
    state = serializers.CharField()
    edit_version = serializers.IntegerField()
    submitted_at = serializers.DateTimeField()
    approved_at = serializers.DateTimeField()


class IndicatorReturnDetailSerializer(IndicatorReturnSerializer):
    values = ReturnValueSerializer(many=True, source="review_values")


class EnteredTextField(serializers.CharField):
    """Text passed on as entered: the values service refuses control characters, NUL among them, with
    the same message (naming the indicator and the field) as for the form and the import."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.validators = [item for item in self.validators if not isinstance(item, ProhibitNullCharactersValidator)]


class ValueInputSerializer(serializers.Serializer):
    value = EnteredTextField(required=False, allow_blank=True, allow_null=True)
    observation_status = EnteredTextField(required=False, allow_blank=True)
    source_note = EnteredTextField(required=False, allow_blank=True)
    explanation = EnteredTextField(required=False, allow_blank=True)


class ValuesSaveInputSerializer(serializers.Serializer):
    edit_version = serializers.IntegerField(help_text="The edit version the client last read; a stale one is refused.")
    values = serializers.DictField(child=ValueInputSerializer())


class ReturnStartInputSerializer(serializers.Serializer):
    data_year = serializers.IntegerField(help_text="The reporting period's data year, e.g. 2025.")
