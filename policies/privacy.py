"""The statement acceptances in the privacy registry (SPEC §2: Policy acceptances)."""

from django.utils.translation import gettext_lazy as _

from cloudportal.dates import day_shown
from cloudportal.privacy import EU_DATABASE, HOSTING, LIFE_OF_ACCOUNT, Category, Count, erase_rows, noun, register

from .models import StatementAcceptance


def _acceptances(user):
    return StatementAcceptance.objects.filter(user=user).select_related("version").order_by("accepted_at", "id")


def _export(user) -> list[dict]:
    return [
        {
            "version": a.version.version,
            "accepted": a.accepted_at.isoformat(),
            "language": a.language or "en",
            "ip_address": a.ip_address,
            "user_agent": a.user_agent,
        }
        for a in _acceptances(user).iterator()
    ]


def _sample(user) -> list[str]:
    return [f"{day_shown(a.accepted_at)} · {a.version.version}" for a in _acceptances(user).reverse()[:3]]


register(
    Category(
        key="acceptances",
        label=_("Policy acceptances"),
        description=_(
            "Each version of our privacy statement you accepted: which version, in which language, when, and the "
            "IP address and browser you accepted it from."
        ),
        fields=(_("statement version"), _("language"), _("time"), _("IP address"), _("browser (user agent)")),
        purpose=_("To show which terms you agreed to, and when, if that is ever questioned."),
        legal_basis=_("Legal obligation (being able to show consent and information given); our legitimate interest"),
        retention=LIFE_OF_ACCOUNT,
        storage=EU_DATABASE,
        processors=(HOSTING,),
        correction=_("These records say what happened and are not corrected; ask our privacy team if one is wrong."),
        correct_url="me:requests",
        models=("policies.StatementAcceptance",),
        columns=("version", "accepted", "language", "ip_address", "user_agent"),
        counts=lambda user: [Count(noun("acceptance", "acceptances"), StatementAcceptance.objects.filter(user=user))],
        sample=_sample,
        export=_export,
        erase=lambda user: erase_rows(
            noun("statement acceptance", "statement acceptances"), StatementAcceptance.objects.filter(user=user)
        ),
        order=60,
    )
)
