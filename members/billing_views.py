"""Members serving themselves: their invoices and what is due, their billing details, their colleagues.

Who may do what (members/permissions.py): anyone outside the organisation gets 404 (it must not
learn what exists); a contact of the organisation without the role gets 403; staff may do all.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from members import billing, contacts
from members.billing_forms import BillingDetailsForm, ContactAddForm, ContactRolesForm
from members.invoice_pdf import invoice_pdf, pdf_filename
from members.models import Invoice, Organisation, Person
from members.permissions import (
    can_edit_billing_details,
    can_manage_contacts,
    can_see_billing,
    get_organisation_for_user,
)


def _organisation(request: HttpRequest, slug: str, allowed) -> Organisation:
    organisation = get_organisation_for_user(request.user, slug)  # 404 outside the organisation
    if not allowed(request.user, organisation):
        raise PermissionDenied
    return organisation


@login_required
def billing_overview(request: HttpRequest, slug: str) -> HttpResponse:
    """The organisation's invoices and credit notes, what is due, and its billing details."""
    organisation = _organisation(request, slug, can_see_billing)
    documents = organisation.invoices.select_related("credited_invoice", "membership_year").order_by(
        "-year", "-sequence"
    )
    return render(
        request,
        "members/billing/overview.html",
        {
            "organisation": organisation,
            "documents": documents,
            "amount_due": billing.amounts_due(organisation),
            "profile": billing.billing_profile_of(organisation),
            "can_edit": can_edit_billing_details(request.user, organisation),
        },
    )


@login_required
def invoice_download(request: HttpRequest, slug: str, number: str) -> HttpResponse:
    """An invoice's or credit note's Factur-X PDF, for whoever sees the organisation's invoices."""
    organisation = _organisation(request, slug, can_see_billing)
    invoice = Invoice.objects.filter(organisation=organisation, number=number).first()
    if invoice is None:
        raise Http404
    response = HttpResponse(invoice_pdf(invoice), content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{pdf_filename(invoice)}"'
    response["Cache-Control"] = "private, no-store"
    return response


@login_required
@require_http_methods(["GET", "POST"])
def billing_edit(request: HttpRequest, slug: str) -> HttpResponse:
    """The billing address and purchase-order number printed on the next invoices."""
    organisation = _organisation(request, slug, can_edit_billing_details)
    profile = billing.billing_profile_of(organisation)
    form = BillingDetailsForm(request.POST or None, instance=profile)
    if request.method == "POST" and form.is_valid():
        try:
            billing.billing_profile_update(organisation=organisation, by=request.user, **form.cleaned_data)
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, _("The billing details were saved; they apply to the next invoices."))
            return redirect("members:billing", slug=organisation.slug)
    return render(request, "members/billing/edit.html", {"organisation": organisation, "form": form})


# --- Colleagues -------------------------------------------------------------------------------


def _colleague(organisation: Organisation, pk: int) -> Person:
    person = Person.objects.filter(pk=pk, organisation=organisation, anonymised_at__isnull=True).first()
    if person is None:
        raise Http404
    return person


@login_required
@require_http_methods(["GET", "POST"])
def contacts_manage(request: HttpRequest, slug: str) -> HttpResponse:
    """The primary contact's page: colleagues with their roles, and a form to add and invite one."""
    organisation = _organisation(request, slug, can_manage_contacts)
    form = ContactAddForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            person = contacts.contact_add(
                organisation=organisation,
                by=request.user,
                first_name=form.cleaned_data["first_name"],
                last_name=form.cleaned_data["last_name"],
                email=form.cleaned_data["email"],
                roles=form.roles(),
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(
                request, _("%(person)s was added and invited by e-mail to an account.") % {"person": person}
            )
            return redirect("members:contacts", slug=organisation.slug)
    people = (
        organisation.people.filter(anonymised_at__isnull=True)
        .select_related("user")
        .order_by("last_name", "first_name")
    )
    rows = [(person, ContactRolesForm(instance=person, prefix=f"p{person.pk}")) for person in people]
    return render(request, "members/billing/contacts.html", {"organisation": organisation, "rows": rows, "form": form})


@login_required
@require_POST
def contact_roles(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    organisation = _organisation(request, slug, can_manage_contacts)
    person = _colleague(organisation, pk)
    form = ContactRolesForm(request.POST, instance=person, prefix=f"p{person.pk}")
    if form.is_valid():
        try:
            contacts.contact_set_roles(person=person, by=request.user, roles=form.roles())
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(request, _("The roles of %(person)s were saved.") % {"person": person})
    return redirect("members:contacts", slug=organisation.slug)


@login_required
@require_POST
def contact_remove(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    organisation = _organisation(request, slug, can_manage_contacts)
    person = _colleague(organisation, pk)
    try:
        contacts.contact_remove(person=person, by=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(
            request,
            _("%(person)s is no longer a contact of %(organisation)s.")
            % {
                "person": person,
                "organisation": organisation,
            },
        )
    if person.user_id == request.user.pk and not request.user.is_staff:
        return redirect("das:home")
    return redirect("members:contacts", slug=organisation.slug)


@login_required
@require_POST
def contact_invite(request: HttpRequest, slug: str, pk: int) -> HttpResponse:
    organisation = _organisation(request, slug, can_manage_contacts)
    person = _colleague(organisation, pk)
    try:
        contacts.contact_invite(person=person, by=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, _("An invitation was sent to %(person)s.") % {"person": person})
    return redirect("members:contacts", slug=organisation.slug)
