from django.db import migrations


class Migration(migrations.Migration):
    """Privacy officers (only) get the legal hold, disclosure and sweep permissions."""

    # The staff groups and their permissions are kept by accounts' post_migrate
    # handler (accounts/apps.py, accounts/groups.py) after every migrate; this
    # migration once synchronised them itself with the code of its day.

    dependencies = [
        ("compliance", "0001_initial"),
        ("accounts", "0003_staff_groups"),
    ]

    operations = []
