"""Who sees which call: staff every call, drafts included; everyone else the published ones.

Said once, as a queryset (`visible_calls`); the call page and the object check filter it. The
public lists (`selectors.accepting_calls`, the feeds) show published calls only, a subset of it.
"""

from __future__ import annotations

from django.db.models import QuerySet
from django.http import Http404
from django.utils.translation import gettext as _

from calls.models import Call


def visible_calls(user) -> QuerySet[Call]:
    """Staff see every call, drafts of calls included; everyone else the published ones."""
    return Call.objects.all() if getattr(user, "is_staff", False) else Call.objects.published()


def can_view_call(user, call: Call) -> bool:
    return visible_calls(user).filter(pk=call.pk).exists()


def get_call_for_user(user, pk: int) -> Call:
    """The one access helper: the call if `user` may see it, else 404."""
    call = visible_calls(user).prefetch_related("areas").filter(pk=pk).first()
    if call is None:
        raise Http404(_("No such call."))
    return call
