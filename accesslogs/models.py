from django.conf import settings
from django.db import models
from django.db.models.functions import Upper
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _


class Collector(models.Model):
    """A piece of network equipment (or its relay) allowed to report sessions.

    Only a SHA-256 of its token is stored: tokens are long random strings, so a fast
    hash is enough, and a leaked database does not leak working tokens."""

    name = models.CharField(_("name"), max_length=100, unique=True)
    token_prefix = models.CharField(_("token starts with"), max_length=12, editable=False)
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True, editable=False)
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True, editable=False)

    class Meta:
        verbose_name = _("collector")
        verbose_name_plural = _("collectors")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None


class Site(models.Model):
    """Where a session took place: a hotspot, a building, a data centre."""

    name = models.CharField(_("site"), max_length=200)
    address = models.CharField(_("site address"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("site")
        verbose_name_plural = _("sites")
        constraints = [models.UniqueConstraint(fields=["name", "address"], name="accesslogs_site_unique")]

    def __str__(self) -> str:
        return f"{self.name}, {self.address}" if self.address else self.name


def subscriber_detach(collector, field, sub_objs, using) -> None:
    """`on_delete` of Subscriber.user: an account deleted by any path leaves its
    subscribers detached (no account, no email), never pointing at nobody. The holds
    on the account have pinned them just before (`accesslogs.holds.holds_pin_before_delete`),
    so they keep holding the sessions."""
    collector.add_field_update(field, None, sub_objs)
    collector.add_field_update(Subscriber._meta.get_field("email"), "", sub_objs)


class Subscriber(models.Model):
    """The account a session was attributed to, as it was when the session was recorded.

    Sessions point here instead of carrying the account and its email themselves: a
    customer's million sessions share one or a few of these rows (a new one when the
    account's email changes, so each session keeps the email it was recorded with).
    Erasing the account detaches them all by clearing these rows, whatever the number
    of sessions, and a detached subscriber still groups its sessions, which is what a
    legal hold on the former account needs."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=subscriber_detach,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("customer"),
    )
    email = models.CharField(_("account email as recorded"), max_length=254, blank=True)
    created_at = models.DateTimeField(_("first recorded"), auto_now_add=True)
    detached_at = models.DateTimeField(_("detached"), null=True, blank=True)

    class Meta:
        verbose_name = _("subscriber")
        verbose_name_plural = _("subscribers")
        # Authority lookups of an account by its email as recorded (any case).
        indexes = [models.Index(Upper("email"), name="accesslogs_subscriber_email")]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "email"], name="accesslogs_subscriber_unique", condition=models.Q(user__isnull=False)
            )
        ]

    def __str__(self) -> str:
        return self.email or gettext("detached")


class NetworkSession(models.Model):
    """One finished network session, as reported by a collector.

    On PostgreSQL the table is partitioned by month of `started_at` (see
    accesslogs/partitions.py); its primary key there is (id, started_at). The
    session is attributed when it is recorded: `subscriber` is the account that held
    the MAC address at that moment, with its email then, and never changes afterwards
    (erasing the account detaches the subscriber, not the session).

    The foreign keys carry no database constraint: checking three of them per row
    would slow bulk loading, and the services that write here resolve them first.
    """

    id = models.BigAutoField(primary_key=True)
    collector = models.ForeignKey(
        Collector, on_delete=models.DO_NOTHING, db_constraint=False, related_name="+", verbose_name=_("collector")
    )
    session_id = models.CharField(_("session id"), max_length=64)
    subscriber = models.ForeignKey(
        Subscriber,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        db_index=False,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("customer as recorded"),
    )
    mac = models.CharField(_("MAC address"), max_length=17)
    ip = models.GenericIPAddressField(_("IP address"))
    site = models.ForeignKey(
        Site, on_delete=models.DO_NOTHING, db_constraint=False, related_name="+", verbose_name=_("site")
    )
    started_at = models.DateTimeField(_("started"))
    ended_at = models.DateTimeField(_("ended"))
    bytes_in = models.PositiveBigIntegerField(_("bytes in"))
    bytes_out = models.PositiveBigIntegerField(_("bytes out"))

    class Meta:
        verbose_name = _("session")
        verbose_name_plural = _("sessions")
        constraints = [
            models.UniqueConstraint(
                fields=["collector", "session_id", "started_at"], name="accesslogs_session_collector_unique"
            ),
            models.CheckConstraint(
                condition=models.Q(ended_at__gte=models.F("started_at")), name="accesslogs_session_ends_after_start"
            ),
        ]
        indexes = [
            models.Index(
                fields=["subscriber", "started_at", "id"],
                name="accesslogs_session_sub",
                condition=models.Q(subscriber__isnull=False),
            ),
            models.Index(
                fields=["subscriber", "mac", "started_at", "id"],
                name="accesslogs_session_sub_mac",
                condition=models.Q(subscriber__isnull=False),
            ),
            models.Index(
                fields=["subscriber", "ip", "started_at", "id"],
                name="accesslogs_session_sub_ip",
                condition=models.Q(subscriber__isnull=False),
            ),
            # Authority lookups: an address in a window (authorities/lookups.py). Made
            # per partition without blocking ingest (migrations/0005_lookup_indexes.py).
            models.Index(fields=["ip", "ended_at", "started_at"], name="accesslogs_session_ip_time"),
            models.Index(fields=["mac", "ended_at", "started_at"], name="accesslogs_session_mac_time"),
        ]

    def __str__(self) -> str:
        return f"{self.session_id} ({self.mac})"

    @property
    def duration_seconds(self) -> int:
        return int((self.ended_at - self.started_at).total_seconds())


class DailyUsage(models.Model):
    """Per customer, MAC address and local day: how many sessions, how long, how much
    data. Kept up to date by ingest in the same transaction, so totals on /logs/ and
    /devices/ read a few hundred rows instead of a customer's million sessions."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    mac = models.CharField(_("MAC address"), max_length=17)
    day = models.DateField(_("day"))
    sessions = models.PositiveIntegerField(_("sessions"), default=0)
    seconds = models.PositiveBigIntegerField(_("seconds"), default=0)
    bytes_in = models.PositiveBigIntegerField(_("bytes in"), default=0)
    bytes_out = models.PositiveBigIntegerField(_("bytes out"), default=0)
    #: Of the day's sessions, those the retention sweep erased while the day was on
    #: the cutoff (part of it past, part not), counted as they were deleted.
    erased = models.PositiveIntegerField(_("erased so far"), default=0, db_default=0)
    #: Of the day's sessions, those the customer was told were erased.
    announced = models.PositiveIntegerField(_("announced as erased"), default=0, db_default=0)

    class Meta:
        verbose_name = _("daily usage")
        verbose_name_plural = _("daily usage")
        constraints = [models.UniqueConstraint(fields=["user", "mac", "day"], name="accesslogs_dailyusage_unique")]

    def __str__(self) -> str:
        return f"{self.mac} {self.day:%Y-%m-%d}"


class IngestBatch(models.Model):
    """A stored batch of sessions, until its sums are in the daily usage.

    Ingest writes the sessions and this row in one transaction; the rollup task adds
    the batch's sessions to DailyUsage and the devices' last seen after it commits,
    then sets `rolled_up_at`, in one transaction of its own: a batch is added once,
    even when the task runs twice, and a batch whose task never ran (a broker outage)
    is caught up by beat. The batch's rows are those of its collector with an id in
    (`after_id`, `last_id`]: batches of one collector are written one at a time, so
    no other batch of the collector has ids in that range."""

    collector = models.ForeignKey(Collector, on_delete=models.PROTECT, related_name="+")
    after_id = models.BigIntegerField()
    last_id = models.BigIntegerField()
    started_from = models.DateTimeField()
    started_until = models.DateTimeField()
    sessions = models.PositiveIntegerField()
    stored_at = models.DateTimeField(auto_now_add=True)
    rolled_up_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("ingest batch")
        verbose_name_plural = _("ingest batches")
        indexes = [
            models.Index(fields=["stored_at"], name="accesslogs_batch_pending", condition=models.Q(rolled_up_at=None))
        ]

    def __str__(self) -> str:
        return f"{self.collector_id}:{self.after_id + 1}-{self.last_id}"
