from rest_framework import serializers

from reporting.models import City


class CitySerializer(serializers.ModelSerializer):
    class Meta:
        model = City
        fields = ["code", "name_zh", "name_en", "province_zh", "province_en"]
