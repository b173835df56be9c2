from django import forms


class AcceptForm(forms.Form):
    """The version the customer read; it must still be the one in force."""

    version = forms.IntegerField(widget=forms.HiddenInput)
    next = forms.CharField(required=False, widget=forms.HiddenInput)
