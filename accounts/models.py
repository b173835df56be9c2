from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from cloudportal.crypto import EncryptedTextField, mask
from cloudportal.privacy import category_label


class UserManager(BaseUserManager):
    use_in_migrations = True

    def _create_user(self, email: str, password: str | None, **extra):
        if not email:
            raise ValueError("An email address is required.")
        user = self.model(email=self.normalize_email(email).lower(), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email: str, password: str | None = None, **extra):
        extra.setdefault("is_staff", False)
        extra.setdefault("is_superuser", False)
        return self._create_user(email, password, **extra)

    def create_superuser(self, email: str, password: str | None = None, **extra):
        extra["is_staff"] = True
        extra["is_superuser"] = True
        return self._create_user(email, password, **extra)

    def get_by_natural_key(self, email: str):
        return self.get(email__iexact=email)


class User(AbstractBaseUser, PermissionsMixin):
    """A customer or a staff member, known by email address."""

    email = models.EmailField(_("email address"), unique=True)
    is_active = models.BooleanField(_("active"), default=True)
    is_staff = models.BooleanField(
        _("staff status"), default=False, help_text=_("Whether the user can sign in to the admin site.")
    )
    date_joined = models.DateTimeField(_("joined"), default=timezone.now)
    suspended_at = models.DateTimeField(
        _("suspended since"),
        null=True,
        blank=True,
        editable=False,
        help_text=_(
            "Set by staff: the customer can still sign in, but only to export their data or delete the account."
        ),
    )
    language = models.CharField(_("language"), max_length=8, choices=settings.LANGUAGES, default=settings.LANGUAGE_CODE)
    email_service_improvement = models.BooleanField(
        _("service-improvement emails"),
        default=False,
        help_text=_("Occasional emails about improvements to the service."),
    )
    email_deletion_notices = models.BooleanField(
        _("deletion notices"),
        default=True,
        help_text=_("An email each time some of your data is deleted."),
    )

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []

    class Meta:
        verbose_name = _("customer")
        verbose_name_plural = _("customers")
        permissions = [("suspend_user", _("Can suspend and reinstate customers"))]
        constraints = [
            models.UniqueConstraint(
                Lower("email"),
                name="user_email_ci_unique",
                violation_error_message=_("An account with this email address already exists."),
            ),
        ]

    def __str__(self) -> str:
        return self.email

    def clean(self) -> None:
        super().clean()
        self.email = self.__class__.objects.normalize_email(self.email).lower()


class Profile(models.Model):
    """What the customer tells us about themselves. ID number and IBAN are encrypted
    at rest and shown masked everywhere but the form that edits them."""

    class IdDocumentType(models.TextChoices):
        PASSPORT = "passport", _("Passport")
        NATIONAL_ID = "national_id", _("National identity card")
        RESIDENCE_PERMIT = "residence_permit", _("Residence permit")
        DRIVING_LICENCE = "driving_licence", _("Driving licence")

    user = models.OneToOneField(User, on_delete=models.CASCADE, related_name="profile", verbose_name=_("customer"))
    full_name = models.CharField(_("full name"), max_length=200, blank=True)
    company = models.CharField(_("company"), max_length=200, blank=True)
    street = models.CharField(_("street address"), max_length=300, blank=True)
    postal_code = models.CharField(_("postal code"), max_length=20, blank=True)
    city = models.CharField(_("city"), max_length=100, blank=True)
    country = models.CharField(_("country"), max_length=2, blank=True, help_text=_("Two-letter code, e.g. FR"))
    phone = models.CharField(_("phone"), max_length=32, blank=True, help_text=_("Stored in international form"))
    id_document_type = models.CharField(
        _("ID document type"), max_length=20, choices=IdDocumentType.choices, blank=True
    )
    id_number = EncryptedTextField(_("ID document number"), blank=True)
    iban = EncryptedTextField(_("bank account (IBAN)"), blank=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    #: Fields shown masked; their clear values appear only in the editing form.
    SENSITIVE_FIELDS = ("id_number", "iban")
    EDITABLE_FIELDS = (
        "full_name",
        "company",
        "street",
        "postal_code",
        "city",
        "country",
        "phone",
        "id_document_type",
        "id_number",
        "iban",
    )

    class Meta:
        verbose_name = _("profile")
        verbose_name_plural = _("profiles")
        permissions = [("view_sensitive_profile", _("Can see ID numbers and IBANs in clear"))]

    def __str__(self) -> str:
        return str(_("Profile of customer #%(id)s") % {"id": self.user_id})

    def masked(self, field_name: str) -> str:
        return mask(getattr(self, field_name))


class ActivityEvent(models.Model):
    """One entry of a customer's activity history: a change to their data or a staff
    view of it. Holds field names, never the values."""

    class Actor(models.TextChoices):
        CUSTOMER = "customer", _("you")
        STAFF = "staff", _("staff")
        JOB = "job", _("automatic job")

    class Action(models.TextChoices):
        CREATED = "created", _("added")
        CHANGED = "changed", _("changed")
        DELETED = "deleted", _("deleted")
        VIEWED = "viewed", _("viewed")
        REQUESTED = "requested", _("requested")
        ANSWERED = "answered", _("answered")

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="activity", verbose_name=_("customer"))
    actor_kind = models.CharField(_("by"), max_length=10, choices=Actor.choices)
    actor = models.ForeignKey(
        User,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("staff member"),
    )
    action = models.CharField(_("action"), max_length=10, choices=Action.choices)
    category = models.CharField(_("category"), max_length=40)
    fields = models.JSONField(_("fields"), default=list, blank=True)
    note = models.CharField(_("note"), max_length=200, blank=True)
    created_at = models.DateTimeField(_("when"), default=timezone.now, db_index=True)

    class Meta:
        verbose_name = _("activity event")
        verbose_name_plural = _("activity history")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["user", "-created_at", "-id"], name="activity_user_recent_idx")]

    def __str__(self) -> str:
        return f"{self.get_action_display()} {self.category}"


class DataRequest(models.Model):
    """A customer's request to staff, under one of the rights the privacy statement
    names, or a question. Due one month after it is filed; staff may extend by up to
    two months with a reason the customer is told. Its reference (`DR-2026-000123`:
    the year it was filed, then its number) is given at filing and never changes."""

    class Kind(models.TextChoices):
        ACCESS = "access", _("Tell me what you hold about me and what you do with it")
        CORRECTION = "correction", _("Correct data I cannot change myself")
        ERASURE = "erasure", _("Delete some of my data (not the whole account)")
        RESTRICTION = "restriction", _("Restrict how you use my data")
        OBJECTION = "objection", _("Object to a use of my data")
        PORTABILITY = "portability", _("Send my data to me or to another provider")
        INFORMATION = "information", _("How is my data used?")

    class Status(models.TextChoices):
        OPEN = "open", _("Received")
        IN_PROGRESS = "in_progress", _("In progress")
        ANSWERED = "answered", _("Answered")

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="data_requests", verbose_name=_("customer"))
    reference = models.CharField(_("reference"), max_length=20, unique=True, null=True, editable=False)
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    category = models.CharField(_("about"), max_length=40, blank=True)
    message = models.TextField(_("request"))
    status = models.CharField(_("status"), max_length=20, choices=Status.choices, default=Status.OPEN)
    created_at = models.DateTimeField(_("filed"), default=timezone.now)
    due_at = models.DateTimeField(_("due"))
    extension_reason = models.TextField(_("reason for the extension"), blank=True)
    extended_at = models.DateTimeField(_("extended"), null=True, blank=True)
    assigned_to = models.ForeignKey(
        User,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="assigned_data_requests",
        limit_choices_to={"is_staff": True},
        verbose_name=_("assigned to"),
    )
    answer = models.TextField(_("answer"), blank=True)
    answered_at = models.DateTimeField(_("answered"), null=True, blank=True)
    answered_by = models.ForeignKey(
        User,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("answered by"),
    )
    reminded_at = models.DateTimeField(_("staff last reminded"), null=True, blank=True)

    class Meta:
        verbose_name = _("data request")
        verbose_name_plural = _("data requests")
        ordering = ["due_at", "id"]
        indexes = [
            models.Index(fields=["user", "-created_at"], name="datarequest_user_idx"),
            models.Index(fields=["due_at"], name="datarequest_open_due_idx", condition=~models.Q(status="answered")),
        ]

    def __str__(self) -> str:
        return self.reference or str(_("Request #%(id)s") % {"id": self.pk})

    def reference_for(self) -> str:
        """The reference this request gets once it has its number."""
        return f"DR-{timezone.localtime(self.created_at).year}-{self.pk:06d}"

    @property
    def category_label(self):
        """The registry category the request is about, as people read it."""
        return category_label(self.category) if self.category else _("Not sure / several")

    @property
    def is_open(self) -> bool:
        return self.status != self.Status.ANSWERED

    @property
    def is_overdue(self) -> bool:
        return self.is_open and self.due_at < timezone.now()
