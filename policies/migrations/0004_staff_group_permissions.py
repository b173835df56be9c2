"""Privacy officers publish statements, keep the processors list and write
announcements (accounts.groups); the groups get the new permissions."""

from django.db import migrations


class Migration(migrations.Migration):
    # The staff groups and their permissions are kept by accounts' post_migrate
    # handler (accounts/apps.py, accounts/groups.py) after every migrate; this
    # migration once synchronised them itself with the code of its day.

    dependencies = [
        ("policies", "0003_published_versions_frozen"),
        ("accounts", "0003_staff_groups"),
    ]

    operations = []
