"""The staff back office (Django admin), one module per screen:

- `cases`: the case list and page (inlines, transition buttons, file import and export);
- `case_list`: the case list's filters, search and paginator;
- `case_actions`: the transition buttons, their confirmation pages, the dashboard view;
- `files`: arrears import (upload, preview, confirm) and case list export (CSV, Excel);
- `agreements`: agreements, installments, successor cases;
- `collection`: payments, arrivals and their import, credit;
- `writeoff`: write-off applications and their documents;
- `helpers`: what the screens share (read-only lists, actions, refusals on forms, audit trail).
- `corrections`: corrections of imported lines (record, upload, approve, reject).

Every action calls a service; no screen sets a state or writes the ledger.
"""

from backoffice.admin import (  # noqa: F401  (registration)
    agreements,
    cases,
    collection,
    corrections,
    credit,
    enforcement,
    notices,
    portal,
    records,
    units,
    writeoff,
)
