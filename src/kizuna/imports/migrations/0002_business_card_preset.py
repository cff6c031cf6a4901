from django.db import migrations

NAME = "名刺アプリ (Sansan/Eight 形式)"
MAPPING = {
    "会社名": "company",
    "部署名": "department",
    "部署": "department",
    "役職": "title",
    "姓": "family_name",
    "名": "given_name",
    "氏名": "full_name",
    "姓(カナ)": "family_name_reading",
    "名(カナ)": "given_name_reading",
    "セイ": "family_name_reading",
    "メイ": "given_name_reading",
    "フリガナ": "reading",
    "氏名(カナ)": "reading",
    "メールアドレス": "email",
    "電話番号": "phone",
    "会社電話番号": "phone",
    "携帯電話": "phone",
    "携帯電話番号": "phone",
    "郵便番号": "postal_code",
    "住所": "address",
    "会社住所": "address",
    "名刺交換日": "met_on",
    "法人番号": "corporate_number",
    "メモ": "notes",
}


def add_preset(apps, schema_editor):
    MappingPreset = apps.get_model("imports", "MappingPreset")
    MappingPreset.objects.get_or_create(entity="contact", name=NAME, defaults={"mapping": MAPPING})


def remove_preset(apps, schema_editor):
    MappingPreset = apps.get_model("imports", "MappingPreset")
    MappingPreset.objects.filter(entity="contact", name=NAME, created_by=None).delete()


class Migration(migrations.Migration):
    dependencies = [("imports", "0001_import_batches_rows_presets")]

    operations = [migrations.RunPython(add_preset, remove_preset)]
