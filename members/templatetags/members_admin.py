"""`{% fast_result_list cl %}`: the organisations' changelist rows, rendered by common.admin_list."""

from django import template
from django.contrib.admin.templatetags.base import InclusionAdminNode

from common.admin_list import fast_result_list

register = template.Library()


@register.tag(name="fast_result_list")
def fast_result_list_tag(parser, token):
    # The same template lookup as Django's {% result_list %} (admin/<app>/<model>/change_list_results.html first).
    return InclusionAdminNode(
        parser, token, func=fast_result_list, template_name="change_list_results.html", takes_context=False
    )
