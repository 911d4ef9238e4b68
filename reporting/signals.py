"""What the reporting app announces to the apps above it, which it does not import."""
from django.dispatch import Signal

# Sent inside the transaction that approves one or more returns of a period (``period_id``): the
# period's approved values have changed. indices.receivers recomputes the index after the commit.
period_values_approved = Signal()
