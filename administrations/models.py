from decimal import Decimal
from zoneinfo import ZoneInfo, available_timezones

from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q

from common.models import IdField, TimestampedModel
from common.querysets import TenantManager


def validate_time_zone(value: str) -> None:
    if value not in available_timezones():
        raise ValidationError(f"{value!r} is not a known time zone")


class UserManager(BaseUserManager):
    use_in_migrations = True

    def create_user(self, email: str, password: str | None = None, **extra):
        # Used by Django's own tooling (createsuperuser); our code goes through services.
        user = self.model(email=self.normalize_email(email).lower(), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_superuser(self, email: str, password: str | None = None, **extra):
        extra.setdefault("is_staff", True)
        extra.setdefault("is_superuser", True)
        return self.create_user(email, password, **extra)


class User(AbstractBaseUser, PermissionsMixin):
    """A person (or an API user); belongs to administrations through memberships."""

    entity_type = "User"

    id = IdField()
    email = models.EmailField(unique=True)
    name = models.CharField(max_length=255, blank=True)
    avatar_url = models.URLField(blank=True)
    is_staff = models.BooleanField(default=False)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []

    class Meta:
        ordering = ["email"]

    def __str__(self) -> str:
        return self.name or self.email

    @property
    def display_name(self) -> str:
        return self.name_to_show(self.name, self.email)

    @staticmethod
    def name_to_show(name: str, email: str) -> str:
        """The name, or else the email address's local part; for renderings from plain rows."""
        return name or email.split("@")[0]


class Administration(TimestampedModel):
    """The tenant: everything else belongs to exactly one administration."""

    entity_type = "Administration"

    name = models.CharField(max_length=255)
    language = models.CharField(max_length=8, default="nl")
    currency = models.CharField(max_length=3, default="EUR")
    country = models.CharField(max_length=2, default="NL")
    time_zone = models.CharField(
        max_length=64, default="Europe/Amsterdam", validators=[validate_time_zone]
    )
    period_locked_until = models.DateField(null=True, blank=True)
    suspended = models.BooleanField(default=False)
    # When on, one person's entries may not overlap (timeentries.services._refuse_overlap).
    prevent_overlapping_entries = models.BooleanField(
        default=False,
        help_text="Refuse entries that overlap another entry of the same person "
        "(entries that only touch are fine).",
    )
    # Whether an active webhook listens (kept by webhooks.services): a write of an
    # administration without one then costs no webhook lookup at all.
    webhooks_active = models.BooleanField(default=False, editable=False)
    members = models.ManyToManyField(User, through="Membership", related_name="administrations")

    class Meta:
        ordering = ["name", "id"]

    def __str__(self) -> str:
        return self.name

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.time_zone)


class Membership(models.Model):
    class Role(models.TextChoices):
        OWNER = "owner"
        ADMIN = "admin"
        MEMBER = "member"

    id = IdField()
    administration = models.ForeignKey(
        Administration, on_delete=models.CASCADE, related_name="memberships"
    )
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.MEMBER)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = TenantManager()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["administration", "user"], name="membership_unique_per_administration"
            ),
            models.CheckConstraint(
                condition=Q(role__in=["owner", "admin", "member"]), name="membership_role_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} in {self.administration} ({self.role})"


class Contact(TimestampedModel):
    """A customer or supplier, with the attributes Moneybird's contacts carry. Text attributes
    are "" when empty, never NULL; the SEPA fields describe a direct-debit mandate."""

    entity_type = "Contact"

    class DeliveryMethod(models.TextChoices):
        EMAIL = "Email"
        SIMPLERINVOICING = "Simplerinvoicing"
        PEPPOL = "Peppol"
        MANUAL = "Manual"
        POST = "Post"

    class SepaSequenceType(models.TextChoices):
        RECURRING = "RCUR"
        FIRST = "FRST"
        ONE_OFF = "OOFF"
        FINAL = "FNAL"

    administration = models.ForeignKey(
        Administration, on_delete=models.CASCADE, related_name="contacts"
    )
    company_name = models.CharField(max_length=255, blank=True)
    firstname = models.CharField(max_length=255, blank=True)
    lastname = models.CharField(max_length=255, blank=True)
    attention = models.CharField(max_length=255, blank=True)
    email = models.EmailField(blank=True)
    phone = models.CharField(max_length=64, blank=True)
    address1 = models.CharField(max_length=255, blank=True)
    address2 = models.CharField(max_length=255, blank=True)
    zipcode = models.CharField(max_length=32, blank=True)
    city = models.CharField(max_length=255, blank=True)
    country = models.CharField(max_length=2, blank=True, default="NL")
    customer_id = models.CharField(max_length=64)
    tax_number = models.CharField(max_length=64, blank=True)
    chamber_of_commerce = models.CharField(max_length=64, blank=True)
    bank_account = models.CharField(max_length=64, blank=True)
    delivery_method = models.CharField(
        max_length=16, choices=DeliveryMethod.choices, default=DeliveryMethod.EMAIL
    )
    email_ubl = models.BooleanField(default=True)
    # One or more addresses, separated by commas.
    send_invoices_to_attention = models.CharField(max_length=255, blank=True)
    send_invoices_to_email = models.CharField(max_length=1000, blank=True)
    send_estimates_to_attention = models.CharField(max_length=255, blank=True)
    send_estimates_to_email = models.CharField(max_length=1000, blank=True)
    direct_debit = models.BooleanField(default=False)
    sepa_active = models.BooleanField(default=False)
    sepa_iban = models.CharField(max_length=34, blank=True)
    sepa_iban_account_name = models.CharField(max_length=255, blank=True)
    sepa_bic = models.CharField(max_length=11, blank=True)
    sepa_mandate_id = models.CharField(max_length=35, blank=True)
    sepa_mandate_date = models.DateField(null=True, blank=True)
    sepa_sequence_type = models.CharField(
        max_length=4, choices=SepaSequenceType.choices, default=SepaSequenceType.RECURRING
    )
    # Peppol / e-invoicing identifier and its scheme (e.g. "0106" or "NL:KVK").
    si_identifier = models.CharField(max_length=255, blank=True)
    si_identifier_type = models.CharField(max_length=16, blank=True)
    archived = models.BooleanField(default=False)

    objects = TenantManager()

    class Meta:
        ordering = ["company_name", "lastname", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["administration", "customer_id"], name="contact_customer_id_unique"
            ),
            models.CheckConstraint(
                condition=Q(
                    delivery_method__in=["Email", "Simplerinvoicing", "Peppol", "Manual", "Post"]
                ),
                name="contact_delivery_method_valid",
            ),
            models.CheckConstraint(
                condition=Q(sepa_sequence_type__in=["RCUR", "FRST", "OOFF", "FNAL"]),
                name="contact_sepa_sequence_type_valid",
            ),
        ]
        indexes = [models.Index(fields=["administration", "archived"], name="contact_adm_archived")]

    def __str__(self) -> str:
        return self.display_name

    @property
    def display_name(self) -> str:
        person = f"{self.firstname} {self.lastname}".strip()
        return self.company_name or person or self.customer_id


class Project(TimestampedModel):
    entity_type = "Project"

    class State(models.TextChoices):
        ACTIVE = "active"
        ARCHIVED = "archived"

    administration = models.ForeignKey(
        Administration, on_delete=models.CASCADE, related_name="projects"
    )
    name = models.CharField(max_length=255)
    state = models.CharField(max_length=16, choices=State.choices, default=State.ACTIVE)
    budget = models.PositiveIntegerField(null=True, blank=True, help_text="Budget in hours")
    contact = models.ForeignKey(
        Contact, null=True, blank=True, on_delete=models.PROTECT, related_name="projects"
    )
    hourly_rate = models.DecimalField(
        max_digits=12, decimal_places=2, null=True, blank=True, default=None
    )
    currency = models.CharField(max_length=3, default="EUR")

    objects = TenantManager()

    class Meta:
        ordering = ["name", "id"]
        constraints = [
            models.UniqueConstraint(fields=["administration", "name"], name="project_name_unique"),
            models.CheckConstraint(
                condition=Q(state__in=["active", "archived"]), name="project_state_valid"
            ),
            models.CheckConstraint(
                condition=Q(hourly_rate__isnull=True) | Q(hourly_rate__gte=Decimal("0")),
                name="project_hourly_rate_not_negative",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class ApiToken(models.Model):
    """A bearer token. Only a SHA-256 of the secret is stored; the secret is shown once."""

    entity_type = "ApiToken"

    id = IdField()
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    # Optional restriction to one administration; without it the token reaches exactly the
    # administrations its user is a member of.
    administration = models.ForeignKey(
        Administration, null=True, blank=True, on_delete=models.CASCADE, related_name="api_tokens"
    )
    name = models.CharField(max_length=255, blank=True)
    key_hash = models.CharField(max_length=64, unique=True, editable=False)
    prefix = models.CharField(max_length=8, editable=False)
    scopes = models.JSONField(default=list)
    created_at = models.DateTimeField(auto_now_add=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.name or 'token'} ({self.prefix}…) for {self.user}"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None


class ContactPerson(TimestampedModel):
    """A person at a contact (Moneybird's contact_people). Optional text attributes are "" when
    empty, never NULL; the API renders them as null."""

    entity_type = "ContactPerson"

    # The contact's administration, kept on the row so that every tenant read filters on it
    # without a join.
    administration = models.ForeignKey(
        Administration, on_delete=models.CASCADE, related_name="contact_people"
    )
    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="contact_people")
    firstname = models.CharField(max_length=255)
    lastname = models.CharField(max_length=255)
    phone = models.CharField(max_length=64, blank=True)
    email = models.EmailField(blank=True)
    department = models.CharField(max_length=255, blank=True)

    objects = TenantManager()

    class Meta:
        ordering = ["contact", "id"]
        indexes = [models.Index(fields=["administration", "contact"], name="contactperson_contact")]

    def __str__(self) -> str:
        return f"{self.firstname} {self.lastname}".strip()
