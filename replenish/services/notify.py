"""SEAM for the notifications branch: the messages the collection workflow sends.

Each function is scheduled with `transaction.on_commit` by the service whose change it reports,
takes primary keys only, and only logs for now. After the notifications service is merged, each
body becomes a call to it (with the dedupe key named in the docstring), nothing else changes.
"""

import logging

logger = logging.getLogger("replenish.notify")


def finance_collect_request(*, payment_id: int) -> None:
    """The collection department accepted a payment: tell the finance department to collect it
    (seed 003, step 3). Dedupe key: `collect:payment:<payment_id>`."""
    logger.info("finance asked to collect payment %s", payment_id)
