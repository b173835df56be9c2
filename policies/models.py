from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _


class StatementVersion(models.Model):
    """One version of the privacy statement. Published versions never change."""

    version = models.CharField(_("version"), max_length=20, unique=True)
    title = models.CharField(_("title"), max_length=200)
    body = models.TextField(_("statement (Markdown)"))
    changelog = models.TextField(_("what changed"), blank=True)
    material = models.BooleanField(_("material change"), default=False)
    effective_at = models.DateTimeField(_("takes effect"))
    published_at = models.DateTimeField(_("published"), null=True, blank=True, editable=False)

    class Meta:
        verbose_name = _("statement version")
        verbose_name_plural = _("statement versions")
        ordering = ["-effective_at"]

    def __str__(self) -> str:
        return self.version

    def clean(self) -> None:
        if self.pk and self.published_at:
            raise ValidationError(_("A published version cannot be changed."))
