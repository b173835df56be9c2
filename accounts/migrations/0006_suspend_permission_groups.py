from django.db import migrations


class Migration(migrations.Migration):
    """Support (and so Privacy officers) may suspend and reinstate customers."""

    # The staff groups and their permissions are kept by accounts' post_migrate
    # handler (accounts/apps.py, accounts/groups.py) after every migrate; this
    # migration once synchronised them itself with the code of its day.

    dependencies = [
        ("accounts", "0005_user_suspended"),
        ("erasure", "0002_staff_groups"),
        ("compliance", "0002_privacy_officer_permissions"),
    ]

    operations = []
