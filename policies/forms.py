from allauth.account.forms import SignupForm
from django import forms
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from cloudportal.http import client_ip

from .selectors import statement_in_force
from .services import statement_accept


class AcceptForm(forms.Form):
    """The version the customer read; it must still be the one in force."""

    version = forms.IntegerField(widget=forms.HiddenInput)
    next = forms.CharField(required=False, widget=forms.HiddenInput)


class StatementSignupForm(SignupForm):
    """allauth's sign-up, plus accepting the privacy statement in force, if there is
    one: the acceptance is recorded with the new account (settings.ACCOUNT_FORMS)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.statement = statement_in_force()
        if self.statement is not None:
            self.fields["accept_statement"] = forms.BooleanField(
                label=_("I have read the privacy statement (version %(version)s) and accept it.")
                % {"version": self.statement.version},
                help_text=format_html(
                    _(
                        'Read <a href="{url}" target="_blank" rel="noopener">the privacy statement</a> '
                        "(it opens in a new tab)."
                    ),
                    url=reverse("privacy"),
                ),
                error_messages={"required": _("Please accept the privacy statement to create your account.")},
            )

    def save(self, request):
        user = super().save(request)
        if user is not None and self.statement is not None:
            statement_accept(
                user=user,
                version=self.statement,
                ip_address=client_ip(request),
                user_agent=request.headers.get("user-agent", ""),
                language=get_language(),
            )
        return user
