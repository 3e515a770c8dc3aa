"""Schemathesis over the running test server's OpenAPI documents: generated requests, zero 5xx.

Budget: for each of our ~70 operations ``MAX_EXAMPLES`` = 4 valid and 4 invalid generated cases
(public operations; staff operations unauthenticated, which must answer 401; staff operations
signed in with a role allowed to use them, minute-long hot-spot runs left out), and
``OGC_MAX_EXAMPLES`` = 3 + 3 for each operation of pygeoapi's document on three collections. That is
at most ``N = 1000`` requests (a run makes about 570 and prints the count: Hypothesis stops early on
small input spaces). Each case checks ``not_a_server_error`` and, on our public API, that the
response conforms to the documented schema.

The operations are driven with Hypothesis directly (``APIOperation.as_strategy``): schemathesis'
pytest loader for fixture-provided schemas does not work with pytest 9.2."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from typing import Any

import httpx
import pytest
import schemathesis
from auth_helpers import staff_headers
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.result import Err
from schemathesis.specs.openapi.checks import response_schema_conformance

from geo.settings import Settings

MAX_EXAMPLES = 4
OGC_MAX_EXAMPLES = 3
N = 1000  # upper bound on the requests this module sends (the run prints the count)
# Staff operations that start minute-long computations: fuzzed unauthenticated only.
HEAVY = ("/api/hotspots/run", "/api/hotspots/backtest", "/ogc/processes/{process_id}/execution")
ROLES_BY_PATH = (("/api/disasters", "emergency_officer"), ("/api/hotspots", "gis_admin"), ("/api/layers", "gis_admin"),
                 ("/ogc/jobs", "gis_admin"))  # fmt: skip
OGC_COLLECTIONS = r"^/collections/(citizen_reports|schools|admin_units)(/items)?$"
FUZZ = settings(
    deadline=None,
    database=None,  # no .hypothesis directory in the repository
    phases=[Phase.explicit, Phase.generate],  # no shrinking: a failure is reported as generated
    suppress_health_check=list(HealthCheck),
)
sent: Counter[str] = Counter()
unreadable: Counter[str] = Counter()
seconds: Counter[str] = Counter()


def is_staff(ctx: Any) -> bool:
    """Operations that declare a security scheme: the staff API."""
    return bool(ctx.operation.definition.raw.get("security"))


def role_for(path: str) -> str:
    """A role allowed to use the operation at ``path``, so that fuzzing gets past the permission check."""
    return next((role for prefix, role in ROLES_BY_PATH if path.startswith(prefix)), "operator")


def fuzz(schema: Any, run: Callable[[Any], None], examples: int, label: str) -> list[str]:
    """Run ``examples`` valid and ``examples`` invalid cases of every operation; the failures, one line each."""
    failures = []
    for result in schema.get_all_operations():
        if isinstance(result, Err):  # an operation schemathesis cannot read: nothing to send
            unreadable[label] += 1
            continue
        operation = result.ok()
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):

            @settings(FUZZ, max_examples=examples)
            @given(case=operation.as_strategy(generation_mode=mode))
            def check(case: Any) -> None:
                sent[label] += 1
                started = time.monotonic()
                try:
                    run(case)
                finally:
                    seconds[f"{case.operation.method.upper()} {case.operation.path}"] += time.monotonic() - started

            try:
                check()
            except Unsatisfiable:  # nothing in the operation can be made invalid
                continue
            except (Exception, BaseExceptionGroup) as exc:  # one line per failing operation; the rest keep running
                failures.append(f"{operation.method.upper()} {operation.path} ({mode}): {str(exc)[:600]}")
    return failures


@pytest.fixture(scope="module")
def api(server: str) -> Any:
    return schemathesis.openapi.from_url(f"{server}/openapi.json")


@pytest.fixture(scope="module", autouse=True)
def budget() -> Any:
    yield
    print(f"\nschemathesis: {sum(sent.values())} requests {dict(sent)}; budget N = {N}; unreadable {dict(unreadable)}")
    print("slowest operations (s):", [(op, round(s, 1)) for op, s in seconds.most_common(8)])
    assert sum(sent.values()) <= N


def test_public_operations(api: Any) -> None:
    def run(case: Any) -> None:
        case.call_and_validate(checks=[not_a_server_error, response_schema_conformance])

    assert fuzz(api.exclude(is_staff), run, MAX_EXAMPLES, "public") == []
    assert sent["public"] > 300


def test_staff_operations_refuse_anonymous_callers(api: Any) -> None:
    """Every generated request, body or not, is a 401: credentials are checked before the body is read
    (it was a 400 "Invalid multipart data" now and then: the body was parsed first)."""

    def run(case: Any) -> None:
        response = case.call()
        assert response.status_code == 401, f"{response.status_code} {response.text[:300]}"

    assert fuzz(api.include(is_staff), run, MAX_EXAMPLES, "staff anonymous") == []


def test_staff_operations_signed_in(api: Any, loaded: Settings) -> None:
    headers = {role: staff_headers(loaded, role) for role in {"operator", *(r for _, r in ROLES_BY_PATH)}}

    def run(case: Any) -> None:
        case.call_and_validate(headers=headers[role_for(case.operation.path)], checks=[not_a_server_error])

    assert fuzz(api.include(is_staff).exclude(path=list(HEAVY)), run, MAX_EXAMPLES, "staff signed in") == []


def without_external_refs(node: Any) -> Any:
    """pygeoapi's document refers to OGC schemas on the internet (unreachable here): local stand-ins.

    An external parameter is left out; an external response or schema becomes "anything".
    """
    if isinstance(node, list):
        return [without_external_refs(item) for item in node if not _is_external(item)]
    if isinstance(node, dict):
        if _is_external(node):
            return {"description": f"defined in {node['$ref']}"}
        return {key: without_external_refs(value) for key, value in node.items()}
    return node


def _is_external(node: Any) -> bool:
    return isinstance(node, dict) and str(node.get("$ref", "")).startswith("http")


def test_pygeoapi_collections(server: str) -> None:
    document = httpx.get(f"{server}/ogc/openapi", params={"f": "json"}, timeout=60).json()
    ogc = schemathesis.openapi.from_dict(without_external_refs(document))

    def run(case: Any) -> None:
        case.call_and_validate(base_url=f"{server}/ogc", checks=[not_a_server_error])

    assert fuzz(ogc.include(path_regex=OGC_COLLECTIONS, method="GET"), run, OGC_MAX_EXAMPLES, "ogc") == []
    assert sent["ogc"] > 10 and not unreadable["ogc"]


def test_grid_refuses_a_huge_cell_size(client: Any) -> None:
    """Regression (found by this fuzzing): cell_m=6e16 overflowed the hexagon indices, a 500."""
    response = client.get("/api/hotspots/grid", params={"cell_m": 6.06e16, "period": "month"})
    assert response.status_code == 400 and "cell_m" in response.json()["detail"], response.text


def test_huge_offsets_and_ids_are_refused(client: Any, loaded: Settings) -> None:
    """Regression (found by this fuzzing): an offset past 2**63 or a run id past int4 was a 500."""
    response = client.get("/api/reports", params={"offset": 10**31})
    assert response.status_code == 400 and "offset" in response.json()["detail"], response.text
    queue = client.get("/api/staff/queue", params={"offset": 10**31}, headers=staff_headers(loaded, "operator"))
    assert queue.status_code == 400 and "offset" in queue.json()["detail"], queue.text
    assert client.get("/api/hotspots/runs/25776307990").status_code == 422


@pytest.mark.parametrize(
    "params",
    [{"bbox": "107.5,16.4,0,107.6,16.5,10"}, {"rating": "null"}, {"received_at": "yesterday"}],
    ids=["bbox-with-heights", "int-property", "time-property"],
)
def test_pygeoapi_refuses_values_its_columns_cannot_hold(client: Any, params: dict[str, str]) -> None:
    """Regression (found by this fuzzing): pygeoapi 0.21 sent these to PostgreSQL and answered 500."""
    response = client.get("/ogc/collections/citizen_reports/items", params={**params, "f": "json"})
    assert response.status_code == 400, response.text
