from rest_framework import serializers


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
