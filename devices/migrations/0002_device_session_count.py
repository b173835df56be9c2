"""A device's session count, kept on the device by the access logs' usage rollup
(it was summed from the daily usage at each read). Filled from the daily usage."""

from django.db import migrations, models
from django.db.models import OuterRef, Subquery, Sum


def count_from_usage(apps, schema_editor):
    Device = apps.get_model("devices", "Device")
    DailyUsage = apps.get_model("accesslogs", "DailyUsage")
    sessions = (
        DailyUsage.objects.filter(user_id=OuterRef("user_id"), mac=OuterRef("mac"))
        .order_by()
        .values("user_id", "mac")
        .annotate(n=Sum("sessions"))
        .values("n")
    )
    for_update = Device.objects.annotate(n=Subquery(sessions)).filter(n__gt=0).values_list("pk", "n")
    for pk, n in for_update.iterator():
        Device.objects.filter(pk=pk).update(session_count=n)


class Migration(migrations.Migration):
    dependencies = [
        ("devices", "0001_initial"),
        ("accesslogs", "0004_session_time_brin"),
    ]

    operations = [
        migrations.AddField(
            model_name="device",
            name="session_count",
            field=models.PositiveIntegerField(default=0, editable=False, verbose_name="sessions"),
        ),
        migrations.RunPython(count_from_usage, migrations.RunPython.noop),
    ]
