from django.conf import settings


def portal(request):
    return {"OPERATOR_NAME": settings.OPERATOR_NAME}
