from django.db import migrations


class Migration(migrations.Migration):
    # The staff groups and their permissions are kept by accounts' post_migrate
    # handler (accounts/apps.py, accounts/groups.py) after every migrate; this
    # migration once synchronised them itself with the code of its day.

    dependencies = [
        ("accounts", "0002_profile_activity_requests"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("policies", "0001_initial"),
    ]

    operations = []
