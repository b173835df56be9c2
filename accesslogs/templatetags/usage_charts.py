"""`{% usage_charts user %}`: the customer's usage charts (accesslogs/charts.py), for
pages of apps that may not import the access logs (the devices page) and for the
dashboard."""

from django import template

from ..charts import usage_charts_for

register = template.Library()


@register.inclusion_tag("accesslogs/usage_charts.html")
def usage_charts(user) -> dict:
    return {"charts": usage_charts_for(user=user)}
