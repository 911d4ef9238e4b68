from rest_framework import serializers

from methodology.models import MethodologyVersion


class MethodologyVersionSerializer(serializers.ModelSerializer):
    class Meta:
        model = MethodologyVersion
        fields = ["id", "code", "version", "title_zh", "title_en", "state", "published_at", "notes"]
