from rest_framework import serializers

from methodology.models import MethodologyVersion


class MethodologyVersionSerializer(serializers.ModelSerializer):
    class Meta:
        model = MethodologyVersion
        fields = ["id", "code", "version", "title_zh", "title_en", "state", "published_at", "notes"]


class MethodologyImportSerializer(serializers.Serializer):
    document = serializers.JSONField(help_text="The methodology document (docs/methodology-schema.md).")
    as_version = serializers.CharField(required=False, allow_blank=True, max_length=20,
                                       help_text="Import under this version label instead of the document's.")
