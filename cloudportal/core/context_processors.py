from django.conf import settings


def portal(request):
    return {
        "OPERATOR_NAME": settings.OPERATOR_NAME,
        "ACCESS_LOG_RETENTION_MONTHS": settings.ACCESS_LOG_RETENTION_MONTHS,
    }
