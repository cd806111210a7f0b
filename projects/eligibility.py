"""Eligibility and completeness of a proposal, shown before submitting and enforced on submission.

Rules of collaborative schemes (FUI-style): at least two independent companies and one public
research or clinical organisation, a company as lead, no partner above 70% of the budget.
Every proposal: one lead, shares adding up to 100%, and requested aid within the targeted
funder's aid-rate ceilings for the partners' categories (the AidRateCeiling table staff keep).
Each message says what is missing.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from django.utils.formats import number_format
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from members.models import Organisation
from projects.models import AidRateCeiling, Partner, Project

MAX_SHARE = Decimal(70)
MIN_COMPANIES = 2
MIN_RESEARCH_CLINICAL = 1


def _pct(value: Decimal) -> str:
    return f"{number_format(value.normalize() if value == value.to_integral() else value, use_l10n=True)} %"


def consortium_problems(project: Project, partners: Sequence[Partner]) -> list[str]:
    """What the consortium lacks, one sentence per rule broken (empty when eligible)."""
    problems: list[str] = []
    leads = [partner for partner in partners if partner.role == Partner.Role.LEAD]
    if not partners:
        return [_("The consortium is empty: add at least the organisation that leads the project.")]
    if not leads:
        problems.append(_("No partner leads the project: give one partner the role “Lead”."))
    elif len(leads) > 1:
        problems.append(
            _("Only one partner can lead the project; %(names)s are all marked “Lead”.")
            % {"names": ", ".join(partner.display_name for partner in leads)}
        )

    shares = [partner.budget_share for partner in partners]
    missing_shares = [partner.display_name for partner in partners if partner.budget_share is None]
    if missing_shares:
        problems.append(
            _("Give the budget share of: %(names)s.") % {"names": ", ".join(missing_shares)},
        )
    else:
        total = sum(shares, Decimal(0))
        if total != Decimal(100):
            if total < 100:
                problems.append(
                    _("Budget shares add up to %(total)s instead of 100 %%: %(gap)s is not allocated.")
                    % {"total": _pct(total), "gap": _pct(Decimal(100) - total)}
                )
            else:
                problems.append(
                    _("Budget shares add up to %(total)s instead of 100 %%: remove %(gap)s.")
                    % {"total": _pct(total), "gap": _pct(total - Decimal(100))}
                )

    if not project.is_collaborative:
        if len(partners) > 1:
            problems.append(
                _(
                    "An individual project has one organisation; this one has %(count)s. "
                    "Choose “Collaborative” or remove the other partners."
                )
                % {"count": len(partners)}
            )
        return problems

    companies = {partner.identity: partner for partner in partners if partner.is_company}
    if len(companies) < MIN_COMPANIES:
        missing = MIN_COMPANIES - len(companies)
        names = ", ".join(partner.display_name for partner in companies.values()) or _("none")
        problems.append(
            ngettext(
                "A collaborative project needs at least %(min)s independent companies; "
                "the consortium has %(count)s (%(names)s): add %(missing)s more company.",
                "A collaborative project needs at least %(min)s independent companies; "
                "the consortium has %(count)s (%(names)s): add %(missing)s more companies.",
                missing,
            )
            % {"min": MIN_COMPANIES, "count": len(companies), "names": names, "missing": missing}
        )
    research = {partner.identity for partner in partners if partner.is_research_or_clinical}
    if len(research) < MIN_RESEARCH_CLINICAL:
        problems.append(
            _(
                "A collaborative project needs at least one public research or clinical organisation "
                "(research organisation, university or hospital); the consortium has none."
            )
        )
    if len(leads) == 1 and not leads[0].is_company:
        problems.append(
            _("The lead of a collaborative project must be a company; %(name)s is a %(category)s.")
            % {
                "name": leads[0].display_name,
                "category": str(Organisation.Category(leads[0].effective_category).label).lower(),
            }
        )
    for partner in partners:
        if partner.budget_share is not None and partner.budget_share > MAX_SHARE:
            problems.append(
                _("No partner may hold more than %(max)s of the budget; %(name)s holds %(share)s.")
                % {"max": _pct(MAX_SHARE), "name": partner.display_name, "share": _pct(partner.budget_share)}
            )
    return problems


REQUIRED_FOR_SUBMISSION = (
    "acronym",
    "summary",
    "objectives",
    "primary_area",
    "trl_start",
    "trl_target",
    "duration_months",
    "total_budget",
    "requested_aid",
    "target_funder",
    "target_scope",
)


def completeness_problems(project: Project) -> list[str]:
    """Fields a draft may leave empty but a submitted proposal must fill."""
    empty = [
        str(Project._meta.get_field(name).verbose_name)
        for name in REQUIRED_FOR_SUBMISSION
        if getattr(project, name) in (None, "")
    ]
    if not empty:
        return []
    return [_("Fill in before submitting: %(fields)s.") % {"fields": ", ".join(empty)}]


def _euros(value: Decimal) -> str:
    return f"{number_format(value.quantize(Decimal(1)), decimal_pos=0, use_l10n=True, force_grouping=True)} €"


def aid_rate_problems(project: Project, partners: Sequence[Partner]) -> list[str]:
    """The requested aid against the targeted funder's ceilings for the partners' categories.

    The most the funder grants is the sum over the partners of budget * share * the ceiling
    of the partner's category (a category with no ceiling counts at 100 %). Checked only once
    the funder, budget, aid and every share are known: the other rules ask for those.
    """
    if not (project.target_funder and project.total_budget and project.requested_aid is not None and partners):
        return []
    if any(partner.budget_share is None for partner in partners):
        return []
    ceilings = dict(AidRateCeiling.objects.filter(funder=project.target_funder).values_list("category", "max_rate"))
    if not ceilings:
        return []
    hundred = Decimal(100)
    allowed = sum(
        (
            project.total_budget
            * partner.budget_share
            / hundred
            * ceilings.get(partner.effective_category, hundred)
            / hundred
            for partner in partners
        ),
        Decimal(0),
    )
    if project.requested_aid <= allowed.quantize(Decimal("0.01")):
        return []
    limits = ", ".join(
        f"{str(Organisation.Category(category).label).lower()} {_pct(ceilings[category])}"
        for category in sorted({partner.effective_category for partner in partners})
        if category in ceilings
    )
    return [
        _(
            "The requested aid (%(aid)s) is above what %(funder)s grants this consortium: at most %(allowed)s "
            "(%(rate)s of the budget, from each partner's share and the ceiling of its category: %(limits)s)."
        )
        % {
            "aid": _euros(project.requested_aid),
            "funder": project.get_target_funder_display(),
            "allowed": _euros(allowed),
            "rate": _pct((allowed * hundred / project.total_budget).quantize(Decimal("0.1"))),
            "limits": limits,
        }
    ]


def submission_problems(project: Project) -> list[str]:
    """Everything that stops a proposal from being submitted (empty list: it may be submitted)."""
    partners = list(project.partners.select_related("organisation"))
    return (
        completeness_problems(project) + consortium_problems(project, partners) + aid_rate_problems(project, partners)
    )
