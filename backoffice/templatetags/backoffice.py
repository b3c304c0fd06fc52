"""The admin index's work queues: for each queue the user works, how many items wait and since
when the oldest waits (one aggregate query per queue, whatever is waiting)."""

from django import template
from django.db.models import Count, Min

from backoffice.queues import queues_for

register = template.Library()


@register.inclusion_tag("admin/replenish/work_queues.html", takes_context=True)
def work_queues(context):
    request = context["request"]
    rows = []
    for queue in queues_for(request.user):
        found = queue.queryset().aggregate(waiting=Count("pk"), oldest=Min(queue.oldest_first))
        rows.append({"queue": queue, "url": queue.url(), **found})
    return {"rows": rows}
