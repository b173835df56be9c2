"""`{% usage_charts user %}`: the customer's usage charts (accesslogs/charts.py), for
pages of apps that may not import the access logs (the devices page) and for the
dashboard. Kept rendered in the cache while nothing they show has changed
(cloudportal/fragments.py: the rollup, the devices' saves and deletes replace the
customer's token)."""

from django import template
from django.template.loader import render_to_string

from cloudportal.fragments import customer_fragment

from ..charts import usage_charts_for

register = template.Library()


@register.simple_tag
def usage_charts(user) -> str:
    return customer_fragment(
        "usage-charts",
        user_id=user.pk,
        parts=(),
        build=lambda: render_to_string("accesslogs/usage_charts.html", {"charts": usage_charts_for(user=user)}),
    )
