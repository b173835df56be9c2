"""The staff groups of SPEC §4 and their permissions.

Support works with customers' records with sensitive fields masked and answers data
requests. Privacy officers can also see sensitive fields in clear, correct profiles
publish privacy statements, and keep legal holds, disclosures, authority requests and
the retention sweep's record (Support sees none of those).
"""

SUPPORT = "Support"
PRIVACY_OFFICER = "Privacy officer"

_SUPPORT_PERMISSIONS = [
    "accounts.view_user",
    "accounts.view_profile",
    "accounts.view_activityevent",
    "accounts.view_datarequest",
    "accounts.change_datarequest",
    "devices.view_device",
    "accesslogs.view_networksession",
    "accesslogs.view_site",
    "exports.view_dataexport",
    "erasure.view_erasurerequest",
    "accounts.suspend_user",
]

GROUP_PERMISSIONS: dict[str, list[str]] = {
    SUPPORT: _SUPPORT_PERMISSIONS,
    PRIVACY_OFFICER: [
        *_SUPPORT_PERMISSIONS,
        "accounts.change_profile",
        "accounts.view_sensitive_profile",
        "policies.view_statementversion",
        "policies.add_statementversion",
        "policies.change_statementversion",
        "compliance.view_legalhold",
        "compliance.add_legalhold",
        "compliance.change_legalhold",
        "compliance.view_legalholdevent",
        "compliance.view_disclosure",
        "compliance.add_disclosure",
        "compliance.change_disclosure",
        "compliance.view_sweeprun",
        "policies.publish_statementversion",
        "policies.view_statementacceptance",
        "policies.view_processor",
        "policies.add_processor",
        "policies.change_processor",
        "policies.delete_processor",
        "policies.view_announcement",
        "policies.add_announcement",
        "policies.change_announcement",
        "erasure.view_erasureledgerentry",
        "authorities.view_authorityrequest",
        "authorities.add_authorityrequest",
        "authorities.change_authorityrequest",
        "authorities.view_requestevent",
        "authorities.view_lookup",
        "authorities.view_lookupmatch",
        "authorities.view_disclosurepackage",
    ],
}


def groups_sync(apps=None) -> None:
    """Create the groups and give them exactly their permissions. Idempotent."""
    from django.apps import apps as global_apps
    from django.contrib.auth.management import create_permissions

    apps = apps or global_apps
    for app_config in global_apps.get_app_configs():
        create_permissions(app_config, verbosity=0, apps=apps)
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for name, codenames in GROUP_PERMISSIONS.items():
        group, _created = Group.objects.get_or_create(name=name)
        wanted = []
        for dotted in codenames:
            app_label, codename = dotted.split(".")
            perm = Permission.objects.filter(content_type__app_label=app_label, codename=codename).first()
            if perm is not None:
                wanted.append(perm)
        group.permissions.set(wanted)
