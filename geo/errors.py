"""Domain errors raised by the library; the web layer maps each to one HTTP status."""


class HueGISError(Exception):
    """Base of every error the platform raises on purpose.

    ``code`` (optional) names the problem for programs, e.g. ``outside_city``: the portal shows
    its own Vietnamese or English text for it, while the message stays for people reading the API.
    """

    def __init__(self, *args: object, code: str | None = None) -> None:
        super().__init__(*args)
        self.code = code


class ClusterError(HueGISError):
    """The local PostGIS cluster cannot be set up or started."""


class DatabaseUnavailable(HueGISError):
    """The database cannot be reached right now (maps to 503)."""


class NotFound(HueGISError):
    """The named object does not exist (maps to 404)."""


class InvalidInput(HueGISError):
    """A request parameter or body is malformed (maps to 400/422); ``field``: the one at fault, if known."""

    def __init__(self, *args: object, code: str | None = None, field: str | None = None) -> None:
        super().__init__(*args, code=code)
        self.field = field


class InvalidInputs(InvalidInput):
    """Several problems with one request, reported together (each an ``InvalidInput`` with its code)."""

    def __init__(self, problems: list[InvalidInput]) -> None:
        super().__init__("; ".join(map(str, problems)), code=problems[0].code, field=problems[0].field)
        self.problems = problems


class Conflict(HueGISError):
    """The request conflicts with the current state (maps to 409)."""


class PayloadTooLarge(InvalidInput):
    """An upload is larger than allowed (maps to 413)."""


class Forbidden(HueGISError):
    """The caller may not do this to this object (maps to 403)."""


class PreconditionRequired(HueGISError):
    """A conditional request was required and the condition (``If-Match``) is missing (maps to 428)."""


class PreconditionFailed(Conflict):
    """The object changed since the client read it: its ``If-Match`` no longer matches (maps to 412)."""


class MethodNotAllowed(HueGISError):
    """The object never accepts this method, whoever asks (maps to 405 with ``Allow``)."""

    def __init__(self, message: str, allow: tuple[str, ...]) -> None:
        super().__init__(message)
        self.headers = {"Allow": ", ".join(allow)}


class NotReady(HueGISError):
    """Not there yet but being computed: ask again after ``retry_after_s`` (maps to 503 with ``Retry-After``)."""

    def __init__(self, message: str, retry_after_s: int, *, code: str | None = None) -> None:
        super().__init__(message, code=code)
        self.headers = {"Retry-After": str(retry_after_s)}
