"""Who sees what of labelling committees: staff everything; a committee member their own sessions.

Said once, as a queryset (`visible_sessions`): the list, the object check and the access helper
of every session page filter it (committees/tests/test_visibility.py).
"""

from __future__ import annotations

from django.db.models import QuerySet
from django.http import Http404

from committees.models import Session
from members.permissions import person_of


def visible_sessions(user) -> QuerySet[Session]:
    if not user.is_authenticated:
        return Session.objects.none()
    if user.is_staff:
        return Session.objects.all()
    person = person_of(user)
    return Session.objects.filter(members=person) if person else Session.objects.none()


def can_view_session(user, session: Session) -> bool:
    return visible_sessions(user).filter(pk=session.pk).exists()


def get_session_for_user(user, pk: int) -> Session:
    """The one access helper: the session if `user` sits on it (or is staff), else 404."""
    session = visible_sessions(user).select_related("area").filter(pk=pk).first()
    if session is None:
        raise Http404("No such session.")
    return session


def can_record_decisions(user) -> bool:
    return bool(user.is_authenticated and user.is_staff)
