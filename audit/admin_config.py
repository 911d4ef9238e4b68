"""The admin app with the audited admin site (audit.admin_site) as its default site; INSTALLED_APPS names
this instead of django.contrib.admin. Separate from audit.admin_site: an AppConfig's module is imported
before models may be."""
from django.contrib.admin.apps import AdminConfig


class AuditedAdminConfig(AdminConfig):
    default_site = "audit.admin_site.AuditedAdminSite"
