"""The OpenAPI schema (/api/v1/openapi.json): drf-spectacular's, plus the error answers.

Each view's @extend_schema names its own answers (success, 404, 409, 422, 429...). Added here to
every operation, so none can be forgotten, are those any of them may give: 401 for a wrong or
expired token, 503 while the database is down; and to every operation that takes a body, those
of the body itself (400, 408, 413, 415). All of them have the body of api.errors: the `Error`
component.
"""

from drf_spectacular.openapi import AutoSchema as SpectacularAutoSchema
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse

from api.serializers import ErrorSerializer


def error(description: str) -> OpenApiResponse:
    """An error answer of an operation, for its @extend_schema(responses=...)."""
    return OpenApiResponse(ErrorSerializer, description=description)


EVERY_OPERATION = {
    401: error(
        "The token in the Authorization header is wrong, expired or revoked (operations open to "
        "anyone need none), or the operation is for organizers and none was sent."
    ),
    503: error(
        "The database or the disk is briefly unavailable: try again after Retry-After seconds."
    ),
}
WITH_A_BODY = {
    400: error("The body could not be read, or a field was refused: `errors` says which."),
    408: error("The body stopped arriving (nothing for 60 s); the connection is closed."),
    413: error(
        "The body is too large: an upload over max_upload_mb, any other body over 2.5 MB. "
        "Refused from Content-Length before the body is read, or once a chunked body passes it."
    ),
    415: error("The body's Content-Type is not one this operation takes."),
}
RETRY_AFTER = OpenApiParameter(
    "Retry-After",
    OpenApiTypes.INT,
    OpenApiParameter.HEADER,
    response=[429, 503],
    description="Seconds to wait before trying again.",
)


class AutoSchema(SpectacularAutoSchema):
    def _get_response_bodies(self, direction="response"):
        # After @extend_schema's answers, which a decorated view's schema class returns from
        # get_response_serializers without asking this class.
        responses = super()._get_response_bodies(direction)
        common = {**EVERY_OPERATION, **(WITH_A_BODY if self.takes_a_body() else {})}
        for code, answer in common.items():
            if str(code) not in responses:
                responses[str(code)] = self._get_response_for_code(answer, str(code))
        return dict(sorted(responses.items()))

    def get_override_parameters(self):
        return [*super().get_override_parameters(), RETRY_AFTER]

    def takes_a_body(self) -> bool:
        return self.method in ("POST", "PUT", "PATCH") and self.get_request_serializer() is not None


# OpenAPI links: which operation an answer's fields lead to (clients and stateful tests follow
# them). (path, method, status) -> {link name: (operationId, {parameter: expression})}
LINKS = {
    ("/api/v1/contests", "post", "201"): {
        "GetContest": ("contests_retrieve", {"slug": "$response.body#/slug"}),
        "ChangeContest": ("contests_partial_update", {"slug": "$response.body#/slug"}),
        "DeleteContest": ("contests_destroy", {"slug": "$response.body#/slug"}),
        "ListEntries": ("contests_videos_list", {"slug": "$response.body#/slug"}),
        "EnterVideo": ("contests_videos_create", {"slug": "$response.body#/slug"}),
    },
    ("/api/v1/contests/{slug}", "patch", "200"): {
        "GetContest": ("contests_retrieve", {"slug": "$response.body#/slug"}),
        "ListEntries": ("contests_videos_list", {"slug": "$response.body#/slug"}),
    },
    ("/api/v1/contests/{slug}/videos", "post", "202"): {
        "GetEntry": ("videos_retrieve", {"video_id": "$response.body#/id"}),
        "HideEntry": ("videos_partial_update", {"video_id": "$response.body#/id"}),
        "GetOriginal": ("videos_original_retrieve", {"video_id": "$response.body#/id"}),
        "SetCaptions": ("videos_captions_update", {"video_id": "$response.body#/id"}),
        "RemoveCaptions": ("videos_captions_destroy", {"video_id": "$response.body#/id"}),
    },
}


def add_links(result, generator, request, public):
    """drf-spectacular postprocessing hook (SPECTACULAR_SETTINGS): the LINKS above."""
    for (path, method, code), links in LINKS.items():
        response = result["paths"][path][method]["responses"][code]
        response["links"] = {
            name: {"operationId": operation, "parameters": parameters}
            for name, (operation, parameters) in links.items()
        }
    return result
