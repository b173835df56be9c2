from django.contrib import admin

from .models import StatementVersion


@admin.register(StatementVersion)
class StatementVersionAdmin(admin.ModelAdmin):
    list_display = ["version", "title", "material", "effective_at", "published_at"]
    list_filter = ["material"]
    search_fields = ["version", "title"]
    readonly_fields = ["published_at"]
