from django.urls import reverse
from rest_framework import serializers
from rest_framework.fields import ProhibitNullCharactersValidator

from accounts.models import City
from reporting.models import ReasonCode
from reporting.validation import number_text

# Ids and counters are 64-bit in the database: a larger number is a 400, not an overflow in the driver.
MAX_ID = 2**63 - 1

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
    submitted_at = serializers.DateTimeField(allow_null=True)
    approved_at = serializers.DateTimeField(allow_null=True)


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
    edit_version = serializers.IntegerField(min_value=0, max_value=MAX_ID,
                                            help_text="The edit version the client last read; a stale one is refused.")
    values = serializers.DictField(child=ValueInputSerializer())


class ReturnStartInputSerializer(serializers.Serializer):
    data_year = serializers.IntegerField(min_value=1900, max_value=2999,
                                         help_text="The reporting period's data year, e.g. 2025.")


# Evidence.

class EvidenceSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    indicator = serializers.CharField(source="indicator.code", allow_null=True, default=None,
                                      help_text="The indicator the file supports; null for the whole return.")
    name = serializers.CharField(source="original_name")
    content_type = serializers.CharField()
    size = serializers.IntegerField(help_text="Bytes.")
    sha256 = serializers.CharField()
    description = serializers.CharField()
    uploaded_by = serializers.CharField(source="uploaded_by.username")
    uploaded_at = serializers.DateTimeField()
    download = serializers.SerializerMethodField(help_text="The file (the portal's download page, audited).")

    def get_download(self, obj) -> str:
        return reverse("reporting:evidence_download", args=[obj.pk])


class EvidenceUploadInputSerializer(serializers.Serializer):
    """The multipart form, for the schema: the view checks it with the web's EvidenceForm (same rules)."""

    file = serializers.FileField(help_text="PDF, XLSX, PNG or JPEG (the type is read from the content), at most "
                                           "REPORTING_EVIDENCE_MAX_BYTES (10 MB by default).")
    indicator = serializers.CharField(required=False, allow_blank=True,
                                      help_text="An indicator code of the return's methodology; empty: the return.")
    description = serializers.CharField(required=False, allow_blank=True, max_length=300)


# Answering a send-back, amendments.

class AnswerInputSerializer(serializers.Serializer):
    edit_version = serializers.IntegerField(min_value=0, max_value=MAX_ID,
                                            help_text="The edit version the client last read; a stale one is refused.")
    explanations = serializers.DictField(
        child=EnteredTextField(allow_blank=True),
        help_text="Per indicator code, the explanation answering the reviewer's comments or the value's flags.")
    resubmit = serializers.BooleanField(default=False, help_text="Submit the return again after saving.")


class AnswerSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    state = serializers.CharField()
    edit_version = serializers.IntegerField()
    changed = serializers.IntegerField(help_text="Fields changed.")
    findings = serializers.ListField(child=serializers.DictField())


class AmendInputSerializer(serializers.Serializer):
    reason = EnteredTextField(allow_blank=True, help_text="Why the approved return is amended (in the audit trail).")


# Review.

class ReviewQueueItemSerializer(IndicatorReturnSerializer):
    filled = serializers.IntegerField(help_text="Values filled in.")
    warnings = serializers.IntegerField(help_text="Values with a warning or error flag.")
    clean = serializers.BooleanField(help_text="Submitted with no flag: may be approved in bulk.")


class CommentSerializer(serializers.Serializer):
    indicator = serializers.CharField(source="indicator.code", allow_null=True, default=None)
    reason = serializers.CharField(source="reason_code")
    text = serializers.CharField()
    author = serializers.CharField(source="author.username")
    created_at = serializers.DateTimeField()
    submission = serializers.IntegerField(source="submission_round")


class PeersSerializer(serializers.Serializer):
    count = serializers.IntegerField()
    min = serializers.CharField()
    median = serializers.CharField()
    max = serializers.CharField()
    unusual = serializers.BooleanField(help_text="Outside the other cities' range or beyond the robust z-score limit.")


class ReviewRowSerializer(serializers.Serializer):
    code = serializers.CharField()
    value = serializers.CharField(allow_null=True)
    observation_status = serializers.CharField()
    source_note = serializers.CharField()
    explanation = serializers.CharField()
    last_year = serializers.CharField(allow_null=True, help_text="The city's approved value of the year before.")
    change = serializers.CharField(help_text="Against last year, in per cent; blank without a base.")
    peers = PeersSerializer(allow_null=True, help_text="The other cities' submitted or approved values.")
    flags = serializers.ListField(child=serializers.DictField())
    comments = CommentSerializer(many=True)
    evidence = serializers.ListField(child=serializers.IntegerField(), help_text="Ids of the value's evidence files.")
    changed = serializers.BooleanField(help_text="Changed since the previous submission (or the amended revision).")


class DiffRowSerializer(serializers.Serializer):
    code = serializers.CharField()
    field = serializers.CharField()
    old = serializers.CharField()
    new = serializers.CharField()


class ReviewDataSerializer(serializers.Serializer):
    indicator_return = IndicatorReturnSerializer(source="return")
    rows = ReviewRowSerializer(many=True)
    comments = CommentSerializer(many=True, help_text="Comments on the whole return.")
    evidence = EvidenceSerializer(many=True, help_text="Every evidence file of the return.")
    diff_basis = serializers.CharField(help_text='"submission", "approved" (an amendment) or "" (nothing to compare).')
    diff = DiffRowSerializer(many=True)
    clean = serializers.BooleanField()


class IndicatorCommentInputSerializer(serializers.Serializer):
    text = EnteredTextField(allow_blank=True)
    reason = serializers.ChoiceField(choices=ReasonCode.choices, default=ReasonCode.OTHER)


class SendBackInputSerializer(serializers.Serializer):
    comment = EnteredTextField(required=False, allow_blank=True, help_text="A comment on the whole return.")
    reason = serializers.ChoiceField(choices=ReasonCode.choices, default=ReasonCode.OTHER)
    comments = serializers.DictField(child=IndicatorCommentInputSerializer(), required=False,
                                     help_text="Per indicator code, what must change.")


class BulkApproveInputSerializer(serializers.Serializer):
    returns = serializers.ListField(child=serializers.IntegerField(min_value=1, max_value=MAX_ID), max_length=1000,
                                    help_text="Ids of submitted returns.")


class SkippedSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    city = serializers.CharField()
    reason = serializers.CharField()


class BulkApproveSerializer(serializers.Serializer):
    approved = IndicatorReturnSerializer(many=True)
    skipped = SkippedSerializer(many=True, help_text="Returns not approved, with the reason.")
