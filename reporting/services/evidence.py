"""Evidence: files attached to a return or to one of its values."""
from __future__ import annotations

from django.db import transaction
from django.utils.translation import gettext_lazy as _

from audit.services import audit_record
from reporting.models import EvidenceFile, IndicatorReturn
from reporting.selectors import return_edit_refusal
from reporting.services.guards import checked_text, lock_return, raise_refusal
from reporting.uploads import EVIDENCE_TYPES, check_upload, limit


@transaction.atomic(durable=True)
def evidence_upload(*, indicator_return: IndicatorReturn, actor, upload, indicator_code: str | None = None,
                    description: str = "", ip_address: str | None = None) -> EvidenceFile:
    """Attach a PDF, XLSX, PNG or JPEG to the return or to one of its values (type read from content)."""
    indicator_return = lock_return(indicator_return)
    raise_refusal(return_edit_refusal(actor, indicator_return))
    description = checked_text(description, field=_("description"), limit=300)
    checked = check_upload(upload, allowed=EVIDENCE_TYPES, max_bytes=limit("REPORTING_EVIDENCE_MAX_BYTES"))
    indicator = None
    if indicator_code:
        indicator = indicator_return.period.methodology.indicators.get(code=indicator_code)
    evidence = EvidenceFile(indicator_return=indicator_return, indicator=indicator, original_name=checked.name,
                            content_type=checked.content_type, size=checked.size, sha256=checked.sha256,
                            description=description, uploaded_by=actor)
    evidence.file.save(checked.name, upload, save=False)
    evidence.save()
    audit_record(actor=actor, event_type="evidence.upload", obj=indicator_return, ip_address=ip_address,
                 details={"evidence": evidence.pk, "name": checked.name, "size": checked.size,
                          "sha256": checked.sha256, "indicator": indicator_code or ""})
    return evidence
