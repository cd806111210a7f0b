"""The third-party sections of the admin in the reader's language (issue 11, item 14).

django-auditlog, django-axes and django-otp ship no French, or only part of it, and write
some of their admin text as plain English. Wiring, not domain code:

- the strings they do pass through gettext are listed below with `gettext_noop`, so
  `make messages` keeps them in the portal's catalogue, where their French lives;
- their app names come from the AppConfig subclasses in `medicen_portal/apps.py`;
- what they hard-code in English (django-otp's fieldsets, columns and field labels,
  auditlog's "3 changes: …" column, axes' object names) is replaced here by admin classes
  and `__str__` methods that translate, registered in place of theirs once every app is
  ready (`install()`). Model fields are left alone: a changed verbose_name on a field would
  be a migration of a third-party app.
"""

from __future__ import annotations

from django.contrib import admin
from django.contrib.admin.filters import BooleanFieldListFilter, DateFieldListFilter
from django.utils.translation import gettext_lazy as _
from django.utils.translation import gettext_noop, ngettext, pgettext_lazy

THIRD_PARTY_STRINGS = (
    # django-auditlog
    gettext_noop("Audit log"),
    gettext_noop("Audit log: %s"),
    gettext_noop("Action"),
    gettext_noop("Changes"),
    gettext_noop("Click to filter by records with this correlation id"),
    gettext_noop("Correlation ID"),
    gettext_noop("Created"),
    gettext_noop("Created {repr:s}"),
    gettext_noop("Updated {repr:s}"),
    gettext_noop("Deleted {repr:s}"),
    gettext_noop("Logged {repr:s}"),
    gettext_noop("Field"),
    gettext_noop("From"),
    gettext_noop("To"),
    gettext_noop("Relationship"),
    gettext_noop("No field changes"),
    gettext_noop("No log entries found."),
    gettext_noop("Resource"),
    gettext_noop("Resource Type"),
    gettext_noop("system"),
    gettext_noop("create"),
    gettext_noop("update"),
    gettext_noop("delete"),
    gettext_noop("access"),
    gettext_noop("action"),
    gettext_noop("actor"),
    gettext_noop("actor email"),
    gettext_noop("additional data"),
    gettext_noop("object pk"),
    gettext_noop("object representation"),
    gettext_noop("remote address"),
    gettext_noop("remote port"),
    gettext_noop("timestamp"),
    # django-axes
    gettext_noop("Access Attempt"),
    gettext_noop("Attempt Remaining"),
    gettext_noop("Clean up expired attempts"),
    gettext_noop("Expires At"),
    gettext_noop("HTTP Accept"),
    gettext_noop("Locked Out"),
    gettext_noop("Not set"),
    gettext_noop("Session key hash (sha256)"),
    gettext_noop("The time when access attempt expires and is no longer valid."),
    gettext_noop("User Agent"),
    gettext_noop("access attempt expiration"),
    gettext_noop("access attempt expirations"),
    # Django's admin, whose French puts a breaking space before ":" (read out to screen readers)
    gettext_noop("Toggle theme (current theme: auto)"),
    gettext_noop("Toggle theme (current theme: light)"),
    gettext_noop("Toggle theme (current theme: dark)"),
    # django-otp
    gettext_noop("Incorrect authentication code. Please try again."),
    gettext_noop("Please enter your authentication code."),
    gettext_noop("Please select a device."),
)

# django-otp's TOTP device: its labels are plain English strings in the package.
TOTP_LABELS = {
    "user": (_("user"), _("The user that this device belongs to.")),
    "name": (_("name"), _("The human-readable name of this device.")),
    "confirmed": (_("confirmed"), _("Is this device ready for use?")),
    "key": (_("key"), _("A hex-encoded secret key of up to 40 bytes.")),
    "step": (_("step"), _("The time step in seconds.")),
    "t0": (_("t0"), _("The Unix time at which to begin counting steps.")),
    "digits": (_("digits"), _("The number of digits to expect in a token.")),
    "tolerance": (_("tolerance"), _("The number of time steps in the past or future to allow.")),
    "drift": (_("drift"), _("The number of time steps the prover is known to deviate from our clock.")),
    "last_t": (_("last t"), _("The t value of the latest verified token.")),
    "throttling_failure_timestamp": (
        _("last failure"),
        _("A timestamp of the last failed verification attempt. Null if last attempt succeeded."),
    ),
    "throttling_failure_count": (_("successive failures"), _("Number of successive failed attempts.")),
    "created_at": (_("created at"), _("The date and time when this device was initially created in the system.")),
    "last_used_at": (_("last used at"), _("The most recent date and time this device was used.")),
}
TOTP_FIELDSETS = {
    "Identity": _("Identity"),
    "Timestamps": _("Timestamps"),
    "Configuration": _("Configuration"),
    "State": _("State"),
    "Throttling": _("Throttling"),
}


def _titled(filter_class, title):
    """A list filter of `filter_class` whose title is `title` instead of the field's English name."""

    class Titled(filter_class):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self.title = title

    return Titled


def _totp_admin():
    from django_otp.plugins.otp_totp.admin import TOTPDeviceAdmin

    class TranslatedTOTPDeviceAdmin(TOTPDeviceAdmin):
        list_display = ["user", "name", "created", "last_used", "confirmed"]
        list_filter = [
            ("created_at", _titled(DateFieldListFilter, TOTP_LABELS["created_at"][0])),
            ("last_used_at", _titled(DateFieldListFilter, TOTP_LABELS["last_used_at"][0])),
            ("confirmed", _titled(BooleanFieldListFilter, TOTP_LABELS["confirmed"][0])),
        ]
        search_help_text = _("Search by the user's e-mail address")
        readonly_fields = ["created", "last_used", "qrcode_link"]

        @admin.display(description=TOTP_LABELS["created_at"][0], ordering="created_at")
        def created(self, obj):
            return obj.created_at

        @admin.display(description=TOTP_LABELS["last_used_at"][0], ordering="last_used_at")
        def last_used(self, obj):
            return obj.last_used_at

        def get_list_display(self, request):
            # The parent adds its "qrcode_link" column, labelled in English.
            return [column for column in super().get_list_display(request) if column != "qrcode_link"]

        def get_fieldsets(self, request, obj=None):
            fieldsets = []
            for title, options in super().get_fieldsets(request, obj):
                fields = [
                    {"created_at": "created", "last_used_at": "last_used"}.get(name, name) for name in options["fields"]
                ]
                fieldsets.append((TOTP_FIELDSETS.get(title, title), {**options, "fields": fields}))
            return fieldsets

        def formfield_for_dbfield(self, db_field, request, **kwargs):
            field = super().formfield_for_dbfield(db_field, request, **kwargs)
            if field is not None and db_field.name in TOTP_LABELS:
                field.label, field.help_text = TOTP_LABELS[db_field.name]
            return field

    return TranslatedTOTPDeviceAdmin


def _static_admin():
    """Backup codes (django-otp's static device): staff see who has them and may delete a set,
    never the codes themselves (the owner makes a new set at /accounts/two-factor/backup-codes/)."""

    class BackupCodesAdmin(admin.ModelAdmin):
        list_display = ["owner", "confirmed"]
        search_fields = ["user__email"]
        search_help_text = _("Search by the user's e-mail address")
        fields = ["owner", "confirmed"]
        readonly_fields = ["owner", "confirmed"]

        @admin.display(description=_("user"), ordering="user__email")
        def owner(self, obj):
            return obj.user

        def has_add_permission(self, request) -> bool:
            return False

        def has_change_permission(self, request, obj=None) -> bool:
            return False

    return BackupCodesAdmin


def _without_reverse_relations(entry):
    """The entry as shown: django-auditlog records a creation's reverse relations too ("events":
    None -> "projects.ProjectEvent.None"), under their English attribute names; they are not
    fields of the object, so they are left out of what staff read."""
    import copy

    model = entry.content_type.model_class()
    if model is None or not isinstance(entry.changes_dict, dict):
        return entry
    reverse = {f.name for f in model._meta.get_fields() if f.auto_created and not f.concrete}
    if not reverse & set(entry.changes_dict):
        return entry
    shown = copy.copy(entry)
    shown.changes = {name: change for name, change in entry.changes_dict.items() if name not in reverse}
    return shown


class _ObjectTypeFilter(admin.SimpleListFilter):
    """auditlog's "resource type" filter lists content types by their model's code name
    ("project", "strategicarea"): here by the model's name in the reader's language."""

    title = _("type of object")
    parameter_name = "resource_type"  # auditlog's, so its links keep working

    def lookups(self, request, model_admin):
        from django.contrib.contenttypes.models import ContentType
        from django.utils.text import capfirst

        ids = model_admin.get_queryset(request).values_list("content_type_id", flat=True).distinct()
        types = ContentType.objects.filter(pk__in=ids)
        return sorted(((t.pk, capfirst(t.name)) for t in types), key=lambda choice: str(choice[1]).casefold())

    def queryset(self, request, queryset):
        return queryset if self.value() is None else queryset.filter(content_type_id=self.value())


def _auditlog_admin():
    from auditlog.admin import LogEntryAdmin
    from auditlog.filters import CIDFilter, ResourceTypeFilter
    from auditlog.models import LogEntry

    class CorrelationFilter(CIDFilter):
        title = _("correlation ID")  # after "By": "Par identifiant de corrélation"

    class TranslatedLogEntryAdmin(LogEntryAdmin):
        list_filter = [
            {ResourceTypeFilter: _ObjectTypeFilter, CIDFilter: CorrelationFilter}.get(f, f)
            for f in LogEntryAdmin.list_filter
        ]

        @admin.display(description=_("Correlation ID"))  # a plain English string in auditlog
        def cid_url(self, obj):
            return super().cid_url(obj)

        @admin.display(description=_("Changes"))
        def msg(self, obj):
            return super().msg(_without_reverse_relations(obj))

        @admin.display(description=_("Changes"))
        def msg_short(self, obj):
            if obj.action in (LogEntry.Action.DELETE, LogEntry.Action.ACCESS):
                return ""
            changes = _without_reverse_relations(obj).changes_display_dict  # keyed by translated names
            fields = ", ".join(str(name) for name in changes)
            if len(fields) > 60:
                fields = fields[: fields.rfind(" ", 0, 60)] + " …"
            return ngettext("%(n)d change: %(fields)s", "%(n)d changes: %(fields)s", len(changes)) % {
                "n": len(changes),
                "fields": fields,
            }

    return TranslatedLogEntryAdmin


def _axes_names() -> None:
    """axes' objects name themselves in English (breadcrumbs, page titles): translated here."""
    from axes.models import AccessAttempt, AccessFailureLog, AccessLog
    from django.utils.formats import localize
    from django.utils.timezone import localtime
    from django.utils.translation import gettext

    def when(moment):
        return localize(localtime(moment)) if moment else ""

    AccessLog.__str__ = lambda self: (
        gettext("Login of %(username)s on %(time)s")
        % {
            "username": self.username,
            "time": when(self.attempt_time),
        }
    )
    AccessAttempt.__str__ = lambda self: gettext("Login attempt on %(time)s") % {"time": when(self.attempt_time)}
    AccessFailureLog.__str__ = lambda self: (
        gettext("Failed login of %(username)s on %(time)s")
        % {
            "username": self.username,
            "time": when(self.attempt_time),
        }
    )


PERMISSION_ACTIONS = {
    "add": _("Can add %(model)s"),
    "change": _("Can change %(model)s"),
    "delete": _("Can delete %(model)s"),
    "view": _("Can view %(model)s"),
}


def _permission_names() -> None:
    """Permissions are stored with English names ("Can add agenda item"); show the default
    ones from the model's translated name (the user and group forms list them all)."""
    from django.contrib.auth.models import Permission

    def label(self) -> str:
        action, _sep, model = self.codename.partition("_")
        model_class = self.content_type.model_class()
        if action in PERMISSION_ACTIONS and model_class is not None and model == model_class._meta.model_name:
            name = PERMISSION_ACTIONS[action] % {"model": model_class._meta.verbose_name}
        else:
            name = self.name
        return f"{self.content_type} | {name}"

    Permission.__str__ = label


# French agrees the participle with the noun: "les organisations sélectionnées", "les projets
# sélectionnés". Django has one string for every model; these models' names are feminine.
FEMININE = {
    "axes.accessattempt",
    "axes.accesslog",
    "members.organisation",
    "members.person",
    "members.membershipyear",
    "das.meeting",
    "das.invitation",
    "das.topic",
    "projects.notification",
    "projects.review",
    "projects.fundingdecision",
    "otp_totp.totpdevice",
    "auditlog.logentry",
}
DELETE_SELECTED_FEMININE = pgettext_lazy("feminine", "Delete selected %(verbose_name_plural)s")


def _agreeing_delete_action() -> None:
    from django.contrib.admin.utils import model_format_dict

    original = admin.ModelAdmin.get_action_choices

    def get_action_choices(self, request, *args, **kwargs):
        choices = original(self, request, *args, **kwargs)
        if self.opts.label_lower not in FEMININE:
            return choices
        return [
            (name, DELETE_SELECTED_FEMININE % model_format_dict(self.opts) if name == "delete_selected" else label)
            for name, label in choices
        ]

    admin.ModelAdmin.get_action_choices = get_action_choices


def install() -> None:
    """Replace the third-party admin classes and names by translated ones (after every app is ready)."""
    from auditlog.models import LogEntry
    from django_otp.plugins.otp_static.models import StaticDevice
    from django_otp.plugins.otp_totp.models import TOTPDevice

    TOTPDevice._meta.verbose_name = _("authenticator app")
    TOTPDevice._meta.verbose_name_plural = _("authenticator apps")
    StaticDevice._meta.verbose_name = _("set of backup codes")
    StaticDevice._meta.verbose_name_plural = _("backup codes")
    StaticDevice._meta.get_field("confirmed").verbose_name = _("confirmed")
    for model, admin_class in (
        (TOTPDevice, _totp_admin()),
        (StaticDevice, _static_admin()),
        (LogEntry, _auditlog_admin()),
    ):
        if admin.site.is_registered(model):
            admin.site.unregister(model)
        admin.site.register(model, admin_class)
    _axes_names()
    _permission_names()
    _agreeing_delete_action()
