"""POST /lifecycle/personal-data: Forge's daily trigger; report the accounts held, erase or refresh them.

Its operators' twin, POST /ops/tenants/{tenantId}/personal-data, acts on one account an operator names.
"""

import api_info.startup  # noqa: F401 - first: no cycle collection while the function loads

# isort: split
from aws_lambda_powertools.event_handler import Response, content_types

from api_info import privacy, wiring
from api_info.api import OPS_ROUTE_PREFIX, create_app, current_caller, handler
from api_info.models import PersonalDataRequest, PersonalDataResponse
from api_info.observability import tracer

app = create_app()
ACCEPTED = {202: {"description": "What this call reported, erased and refreshed"}}


def _accepted(answer: PersonalDataResponse) -> Response[PersonalDataResponse]:
    return Response(status_code=202, content_type=content_types.APPLICATION_JSON, body=answer)


@app.post("/lifecycle/personal-data", responses=ACCEPTED)
@tracer.capture_method
def report() -> Response[PersonalDataResponse]:
    queue = wiring.check_services().queue  # for a long history's rewrite
    context = app.lambda_context

    def time_left() -> float:
        return float(context.get_remaining_time_in_millis()) / 1000

    return _accepted(privacy.report_cycle(wiring.services(), current_caller(app), queue, time_left))


@app.post(
    OPS_ROUTE_PREFIX + "/personal-data",
    summary="act on one account as Atlassian's answer would: closed erases it now, updated reports it next",
    responses=ACCEPTED,
)
@tracer.capture_method
def act_for_operator(request: PersonalDataRequest) -> Response[PersonalDataResponse]:
    queue = wiring.check_services().queue
    return _accepted(privacy.apply_for_operator(wiring.services(), current_caller(app), queue, request))


lambda_handler = handler(app)
