from django.db import migrations


class Migration(migrations.Migration):
    """Support views exports and deletion requests; Privacy officers also the ledger."""

    # The staff groups and their permissions are kept by accounts' post_migrate
    # handler (accounts/apps.py, accounts/groups.py) after every migrate; this
    # migration once synchronised them itself with the code of its day.

    dependencies = [
        ("erasure", "0001_initial"),
        ("exports", "0001_initial"),
        ("accounts", "0004_email_unique_message"),
    ]

    operations = []
