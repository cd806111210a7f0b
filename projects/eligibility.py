"""Eligibility and completeness of a proposal, shown before submitting and enforced on submission.

Default rules of collaborative schemes (FUI-style): at least two independent companies and one
public research or clinical organisation, a company as lead, no partner above 70% of the budget.
A proposal for a call follows the call's rules instead (`Rules.of`), including its aid-rate
ceiling, its kinds of project and its internal deadline. Every proposal: one lead, shares adding
up to 100%, and requested aid within the targeted funder's aid-rate ceilings for the partners'
categories (the AidRateCeiling table staff keep). Each message says what is missing.
"""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from django.utils import timezone
from django.utils.formats import date_format, number_format
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from members.models import Organisation
from projects.models import AidRateCeiling, Partner, Project

MAX_SHARE = Decimal(70)
MIN_COMPANIES = 2
MIN_RESEARCH_CLINICAL = 1


@dataclass(frozen=True)
class Rules:
    """The consortium and aid rules a proposal is held to: its call's, or the defaults."""

    max_share: Decimal = MAX_SHARE
    min_companies: int = MIN_COMPANIES
    min_research_clinical: int = MIN_RESEARCH_CLINICAL
    lead_must_be_company: bool = True
    max_aid_rate: Decimal | None = None
    kinds: str = "any"

    @classmethod
    def of(cls, project: Project) -> Rules:
        call = project.call
        if call is None:
            return cls()
        return cls(
            max_share=call.max_partner_share,
            min_companies=call.min_companies,
            min_research_clinical=call.min_research_clinical,
            lead_must_be_company=call.lead_must_be_company,
            max_aid_rate=call.max_aid_rate,
            kinds=call.kinds,
        )


def _pct(value: Decimal) -> str:
    return f"{number_format(value.normalize() if value == value.to_integral() else value, use_l10n=True)} %"


def consortium_problems(project: Project, partners: Sequence[Partner], rules: Rules | None = None) -> list[str]:
    """What the consortium lacks, one sentence per rule broken (empty when eligible)."""
    rules = rules or Rules.of(project)
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
    if len(companies) < rules.min_companies:
        missing = rules.min_companies - len(companies)
        names = ", ".join(partner.display_name for partner in companies.values()) or _("none")
        problems.append(
            ngettext(
                "A collaborative project needs at least %(min)s independent companies; "
                "the consortium has %(count)s (%(names)s): add %(missing)s more company.",
                "A collaborative project needs at least %(min)s independent companies; "
                "the consortium has %(count)s (%(names)s): add %(missing)s more companies.",
                missing,
            )
            % {"min": rules.min_companies, "count": len(companies), "names": names, "missing": missing}
        )
    research = {partner.identity for partner in partners if partner.is_research_or_clinical}
    if not research and rules.min_research_clinical == 1:
        problems.append(
            _(
                "A collaborative project needs at least one public research or clinical organisation "
                "(research organisation, university or hospital); the consortium has none."
            )
        )
    elif len(research) < rules.min_research_clinical:
        problems.append(
            ngettext(
                "A collaborative project needs at least %(min)s public research or clinical organisation "
                "(research organisation, university or hospital); the consortium has %(count)s.",
                "A collaborative project needs at least %(min)s public research or clinical organisations "
                "(research organisation, university or hospital); the consortium has %(count)s.",
                rules.min_research_clinical,
            )
            % {"min": rules.min_research_clinical, "count": len(research)}
        )
    if len(leads) == 1 and rules.lead_must_be_company and not leads[0].is_company:
        problems.append(
            _("The lead of a collaborative project must be a company; %(name)s is a %(category)s.")
            % {
                "name": leads[0].display_name,
                "category": str(Organisation.Category(leads[0].effective_category).label).lower(),
            }
        )
    for partner in partners:
        if partner.budget_share is not None and partner.budget_share > rules.max_share:
            problems.append(
                _("No partner may hold more than %(max)s of the budget; %(name)s holds %(share)s.")
                % {"max": _pct(rules.max_share), "name": partner.display_name, "share": _pct(partner.budget_share)}
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


def call_problems(project: Project, rules: Rules, now: datetime.datetime | None = None) -> list[str]:
    """The call's own rules: its deadline, the kinds of project it takes, its aid-rate ceiling."""
    call = project.call
    if call is None:
        return []
    problems: list[str] = []
    now = now or timezone.now()
    # The deadline closes first submissions; a resubmission answers the cluster's own request.
    first_submission = project.status == Project.Status.DRAFT
    if first_submission and call.is_closed(now) and not project.deadline_extensions.filter(until__gt=now).exists():
        problems.append(
            _(
                "The call “%(call)s” closed on %(deadline)s (Paris time), the cluster's internal deadline: "
                "proposals can no longer be submitted for it. Ask the cluster's staff if you need it reopened."
            )
            % {
                "call": call.title,
                "deadline": date_format(timezone.localtime(call.internal_deadline), "DATETIME_FORMAT"),
            }
        )
    elif first_submission and not call.is_open(now) and not call.is_closed(now):
        problems.append(
            _("The call “%(call)s” opens on %(day)s: proposals can be submitted from then.")
            % {"call": call.title, "day": date_format(call.opens_on, "DATE_FORMAT")}
        )
    if rules.kinds != "any" and project.kind != rules.kinds:
        problems.append(
            _("The call “%(call)s” takes only %(kinds)s.")
            % {"call": call.title, "kinds": str(call.get_kinds_display()).lower()}
        )
    if rules.max_aid_rate is not None and project.total_budget and project.requested_aid is not None:
        rate = project.requested_aid * 100 / project.total_budget
        if rate > rules.max_aid_rate:
            problems.append(
                _("The call “%(call)s” funds at most %(max)s of the budget; the proposal asks for %(rate)s.")
                % {"call": call.title, "max": _pct(rules.max_aid_rate), "rate": _pct(rate.quantize(Decimal("0.01")))}
            )
    return problems


def submission_problems(project: Project, now: datetime.datetime | None = None) -> list[str]:
    """Everything that stops a proposal from being submitted (empty list: it may be submitted)."""
    partners = list(project.partners.select_related("organisation"))
    rules = Rules.of(project)
    return (
        call_problems(project, rules, now)
        + completeness_problems(project)
        + consortium_problems(project, partners, rules)
        + aid_rate_problems(project, partners)
    )
