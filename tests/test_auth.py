"""Staff authentication: sign-in, tokens (expired, tampered), disabled accounts, API keys, the CLI, settings."""

from __future__ import annotations

import subprocess
import sys
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import auth_helpers
import httpx
import jwt
import psycopg
import pytest
from pydantic import ValidationError
from typer.testing import CliRunner

from cli.main import app as cli
from geo import models
from geo import settings as settings_module
from geo.auth import roles, tokens
from geo.auth.tokens import issue_token
from geo.reports.intake import follow_token
from geo.reports.workflow import STEPS
from geo.settings import PROJECT_DIR, Settings, get_settings

CITADEL = (107.5795, 16.4680)  # Phường Phú Xuân


def unique(prefix: str) -> str:
    return f"{prefix}.{uuid.uuid4().hex[:8]}"


def sign_in(client: httpx.Client, username: str, password: str) -> httpx.Response:
    return client.post("/api/auth/token", data={"username": username, "password": password})


def test_every_workflow_action_has_a_permission() -> None:
    """A new workflow step without an entry in the role table would be refused as 'unknown action'."""
    assert set(roles.ACTION_PERMISSIONS) == set(STEPS)


def test_roles_agree_with_the_schema() -> None:
    assert roles.USER_ROLES == models.STAFF_ROLES and roles.KEY_ROLES == models.KEY_ROLES


def test_sign_in_issues_a_short_lived_token(client: httpx.Client, loaded: Settings, db: psycopg.Connection) -> None:
    name = auth_helpers.ensure_account(loaded, "city_leader", username=unique("leader"))
    response = sign_in(client, name, auth_helpers.PASSWORD)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["token_type"] == "bearer" and body["expires_in"] == loaded.access_token_ttl_s == 900
    claims = jwt.decode(body["access_token"], options={"verify_signature": False})
    assert claims["sub"] == name and claims["role"] == "city_leader" and claims["exp"] - claims["iat"] == 900
    me = client.get("/api/auth/me", headers={"Authorization": f"Bearer {body['access_token']}"})
    assert me.status_code == 200
    assert me.json()["username"] == name and me.json()["role"] == "city_leader" and me.json()["kind"] == "user"
    row = db.execute("SELECT actor, role FROM audit_log WHERE action = 'login' AND object_id = %s", (name,)).fetchone()
    assert row == (name, "city_leader")


def test_wrong_password_and_unknown_user_are_401_and_audited(client: httpx.Client, loaded: Settings,
                                                             db: psycopg.Connection) -> None:  # fmt: skip
    name = auth_helpers.ensure_account(loaded, "operator", username=unique("op"))
    for username, password in ((name, "not the password"), (unique("nobody"), auth_helpers.PASSWORD)):
        response = sign_in(client, username, password)
        assert response.status_code == 401 and response.headers["www-authenticate"] == "Bearer"
        assert "incorrect username or password" in response.json()["detail"]
    failed = db.execute(
        "SELECT details->>'reason' FROM audit_log WHERE action = 'login_failed' AND object_id = %s", (name,)
    ).fetchall()
    assert failed == [("wrong password",)]


def test_missing_expired_and_tampered_tokens_are_401(client: httpx.Client, loaded: Settings) -> None:
    name = auth_helpers.ensure_account(loaded, "city_leader", username=unique("leader"))
    assert client.get("/api/staff/queue").headers["www-authenticate"] == "Bearer"
    past = datetime.now(UTC) - timedelta(hours=1)
    expired = issue_token(username=name, role="city_leader", version=0, settings=loaded, now=past).access_token
    response = client.get("/api/staff/queue", headers={"Authorization": f"Bearer {expired}"})
    assert response.status_code == 401 and "expired" in response.json()["detail"]
    good = issue_token(username=name, role="city_leader", version=0, settings=loaded).access_token
    header, _, signature = good.split(".")
    claims = jwt.decode(good, options={"verify_signature": False})
    forged_payload = jwt.encode({**claims, "sub": "someone.else"}, "k" * 32).split(".")[1]
    for tampered in (f"{header}.{forged_payload}.{signature}", good[:-4] + "AAAA", "not-a-jwt"):
        response = client.get("/api/staff/queue", headers={"Authorization": f"Bearer {tampered}"})
        assert response.status_code == 401 and "invalid access token" in response.json()["detail"]
    # Signed with another secret: refused too.
    other = Settings(secret_key="another-secret-of-at-least-thirty-two-chars")
    foreign = issue_token(username=name, role="city_leader", version=0, settings=other).access_token
    assert client.get("/api/staff/queue", headers={"Authorization": f"Bearer {foreign}"}).status_code == 401
    assert client.get("/api/staff/queue", headers={"Authorization": f"Bearer {good}"}).status_code == 200


def test_a_disabled_account_is_refused_at_once(client: httpx.Client, loaded: Settings,
                                               db: psycopg.Connection) -> None:  # fmt: skip
    name = auth_helpers.ensure_account(loaded, "city_leader", username=unique("leader"))
    headers = auth_helpers.bearer(loaded, name, "city_leader")
    assert client.get("/api/staff/queue", headers=headers).status_code == 200
    db.execute("UPDATE staff_users SET disabled = true WHERE username = %s", (name,))
    response = client.get("/api/staff/queue", headers=headers)  # the token has not expired
    assert response.status_code == 401 and "disabled" in response.json()["detail"]
    assert sign_in(client, name, auth_helpers.PASSWORD).status_code == 401


def forge(settings: Settings, username: str, lifetime: timedelta, secret: str | None = None, **extra: object) -> str:
    """A token signed like the app's (or with ``secret``), with any lifetime and claims."""
    now = datetime.now(UTC)
    claims = {"sub": username, "role": "city_leader", "ver": 0, "iss": "huegis", "iat": now, "exp": now + lifetime}
    other = Settings.model_construct(secret_key=secret) if secret else settings
    return jwt.encode({**claims, **extra}, tokens._signing_key(other), algorithm="HS256")


def test_a_token_lasting_longer_than_the_configured_lifetime_is_refused(client: httpx.Client,
                                                                       loaded: Settings) -> None:  # fmt: skip
    """Finding: a correctly signed token with a 10-year exp was accepted."""
    name = auth_helpers.ensure_account(loaded, "city_leader", username=unique("leader"))
    decade = forge(loaded, name, timedelta(days=3650))
    response = client.get("/api/staff/queue", headers={"Authorization": f"Bearer {decade}"})
    assert response.status_code == 401 and "at most 900 s" in response.json()["detail"], response.text
    fine = forge(loaded, name, timedelta(seconds=900))
    assert client.get("/api/staff/queue", headers={"Authorization": f"Bearer {fine}"}).status_code == 200
    now = datetime.now(UTC)
    claims = {"sub": name, "role": "city_leader", "iss": "huegis", "iat": now, "exp": now + timedelta(minutes=5)}
    unversioned = jwt.encode(claims, tokens._signing_key(loaded))
    assert client.get("/api/staff/queue", headers={"Authorization": f"Bearer {unversioned}"}).status_code == 401


@pytest.mark.parametrize("change", ["password", "disable_enable", "role", "scope"])
def test_earlier_tokens_end_when_the_account_changes(cli_db: CliRunner, client: httpx.Client, loaded: Settings,
                                                     db: psycopg.Connection, change: str) -> None:  # fmt: skip
    """Finding: a token outlived a password change. Any change of password, role, scope or state ends it."""
    name = auth_helpers.ensure_account(loaded, "ward_officer", unit="19753", username=unique("officer"))
    before = sign_in(client, name, auth_helpers.PASSWORD).json()["access_token"]
    old = {"Authorization": f"Bearer {before}"}
    assert client.get("/api/staff/queue", headers=old).status_code == 200
    commands = {
        "password": [["users", "password", name, "--password-stdin"]],
        "disable_enable": [["users", "disable", name], ["users", "enable", name]],
        "role": [["users", "role", name, "unit_head", "--unit", "19753"]],
        "scope": [["users", "role", name, "ward_officer", "--unit", "19774"]],
    }[change]
    for command in commands:
        result = cli_db.invoke(cli, command, input="a brand new password\n")
        assert result.exit_code == 0, result.output
    response = client.get("/api/staff/queue", headers=old)
    assert response.status_code == 401 and "before the account" in response.json()["detail"], response.text
    password = "a brand new password" if change == "password" else auth_helpers.PASSWORD
    after = sign_in(client, name, password)
    assert after.status_code == 200, after.text
    fresh = {"Authorization": f"Bearer {after.json()['access_token']}"}
    assert client.get("/api/auth/me", headers=fresh).status_code == 200


def test_a_role_change_takes_effect_at_once(client: httpx.Client, loaded: Settings, db: psycopg.Connection) -> None:
    name = auth_helpers.ensure_account(loaded, "city_leader", username=unique("leader"))
    headers = auth_helpers.bearer(loaded, name, "city_leader")
    assert client.get("/api/staff/queue", headers=headers).status_code == 200
    db.execute("UPDATE staff_users SET role = 'gis_admin' WHERE username = %s", (name,))  # even by hand in SQL
    assert client.get("/api/staff/queue", headers=headers).status_code == 401  # the old token ended
    response = client.get("/api/staff/queue", headers=auth_helpers.bearer(loaded, name, "gis_admin"))
    assert response.status_code == 403 and "reports.read" in response.json()["detail"]


def test_api_keys_work_until_revoked(client: httpx.Client, loaded: Settings, db: psycopg.Connection) -> None:
    key = auth_helpers.create_api_key(loaded, "hotline_system", name=unique("pbx"))
    headers = {"X-API-Key": key}
    me = client.get("/api/auth/me", headers=headers).json()
    assert me["role"] == "hotline_system" and me["kind"] == "api_key"
    assert client.get("/api/hotline/calls", headers=headers).status_code == 200
    assert client.get("/api/staff/queue", headers=headers).status_code == 403  # a hotline key reads no queues
    used = db.execute("SELECT last_used_at FROM api_keys WHERE key_hash = encode(sha256(%s::bytea), 'hex')",
                      (key.encode(),)).fetchone()  # fmt: skip
    assert used is not None and used[0] is not None
    assert db.execute("SELECT count(*) FROM api_keys WHERE key_hash = %s", (key,)).fetchone() == (0,)  # hashed
    db.execute("UPDATE api_keys SET revoked_at = now() WHERE key_hash = encode(sha256(%s::bytea), 'hex')",
               (key.encode(),))  # fmt: skip
    response = client.get("/api/hotline/calls", headers=headers)
    assert response.status_code == 401 and "revoked" in response.json()["detail"]
    assert client.get("/api/hotline/calls", headers={"X-API-Key": "hgk_made_up"}).status_code == 401


def test_open311_accepts_database_keys_of_its_role_only(client: httpx.Client, loaded: Settings) -> None:
    def post(key: str) -> httpx.Response:
        data = {"api_key": key, "service_code": "garbage", "lat": CITADEL[1], "long": CITADEL[0],
                "description": "Rác tồn đọng ở góc đường (khóa API)"}  # fmt: skip
        return client.post("/open311/v2/requests.json", data=data)

    assert post(auth_helpers.create_api_key(loaded, "open311_client")).status_code == 200
    wrong_role = post(auth_helpers.create_api_key(loaded, "hotline_system"))
    assert wrong_role.status_code == 403 and "open311.create" in wrong_role.json()[0]["description"]
    assert post("hgk_not_a_key").status_code == 403
    assert post(loaded.open311_api_keys[0]).status_code == 200  # the static key from the settings still works


# --- the CLI --------------------------------------------------------------------------------------


@pytest.fixture
def cli_db(loaded: Settings, monkeypatch: pytest.MonkeyPatch) -> Iterator[CliRunner]:
    """The CLI pointed at the test database."""
    monkeypatch.setenv("HUEGIS_DB_NAME", loaded.db_name)
    get_settings.cache_clear()
    yield CliRunner()
    get_settings.cache_clear()


def test_cli_manages_accounts(cli_db: CliRunner, client: httpx.Client, db: psycopg.Connection) -> None:
    name = unique("ward.officer")
    added = cli_db.invoke(cli, ["users", "add", name, "--role", "ward_officer", "--unit", "19753", "--password-stdin"],
                          input="a long enough password\n")  # fmt: skip
    assert added.exit_code == 0, added.output
    assert sign_in(client, name, "a long enough password").status_code == 200
    listed = cli_db.invoke(cli, ["users", "list"])
    assert any(name in line and "ward_officer" in line and "19753" in line for line in listed.output.splitlines())
    assert cli_db.invoke(cli, ["users", "role", name, "unit_head", "--department", "hepco"]).exit_code == 0
    assert db.execute("SELECT role, unit_code, department FROM staff_users WHERE username = %s",
                      (name,)).fetchone() == ("unit_head", None, "hepco")  # fmt: skip
    assert cli_db.invoke(cli, ["users", "disable", name]).exit_code == 0
    assert sign_in(client, name, "a long enough password").status_code == 401
    actions = db.execute("SELECT action, actor, role FROM audit_log WHERE object_id = %s "
                         "AND object_type = 'staff_user' AND action LIKE 'user_%%' ORDER BY id",
                         (name,)).fetchall()  # fmt: skip
    assert [a[0] for a in actions] == ["user_create", "user_role", "user_disable"]
    assert all(a[1].startswith("cli:") and a[2] == "cli" for a in actions)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--role", "mayor"], "role 'mayor' is unknown"),
        (["--role", "ward_officer"], "needs --unit"),
        (["--role", "ward_officer", "--unit", "99999"], "not a ward or commune"),
        (["--role", "ward_officer", "--unit", "46"], "not a ward or commune"),  # the city itself
        (["--role", "department_officer", "--department", "nasa"], "unknown department"),
        (["--role", "city_leader", "--unit", "19753"], "give no unit"),
        (["--role", "open311_client"], "machine role"),
    ],
)
def test_cli_refuses_bad_roles_and_scopes_and_writes_nothing(cli_db: CliRunner, db: psycopg.Connection,
                                                             args: list[str], message: str) -> None:  # fmt: skip
    name = unique("bad")
    result = cli_db.invoke(cli, ["users", "add", name, *args, "--password-stdin"], input="a long enough password\n")
    assert result.exit_code == 2, result.output
    assert message in result.output
    assert db.execute("SELECT count(*) FROM staff_users WHERE username = %s", (name,)).fetchone() == (0,)


def test_cli_refuses_a_short_password(cli_db: CliRunner) -> None:
    result = cli_db.invoke(
        cli, ["users", "add", unique("x"), "--role", "gis_admin", "--password-stdin"], input="short\n"
    )
    assert result.exit_code == 2 and "at least" in result.output


def test_cli_keys_are_shown_once_and_revocable(cli_db: CliRunner, client: httpx.Client,
                                               db: psycopg.Connection) -> None:  # fmt: skip
    name = unique("pbx")
    added = cli_db.invoke(cli, ["keys", "add", name, "--role", "hotline_system"])
    assert added.exit_code == 0, added.output
    key = added.stdout.strip().splitlines()[-1]
    assert key.startswith("hgk_")
    assert client.get("/api/hotline/calls", headers={"X-API-Key": key}).status_code == 200
    listed = cli_db.invoke(cli, ["keys", "list"]).output
    assert name in listed and key not in listed
    assert cli_db.invoke(cli, ["keys", "revoke", name]).exit_code == 0
    assert client.get("/api/hotline/calls", headers={"X-API-Key": key}).status_code == 401
    assert cli_db.invoke(cli, ["keys", "revoke", name]).exit_code == 1  # no live key of that name
    assert cli_db.invoke(cli, ["keys", "add", unique("k"), "--role", "operator"]).exit_code == 2
    rows = db.execute("SELECT action FROM audit_log WHERE object_type = 'api_key' AND object_id = %s ORDER BY id",
                      (name,)).fetchall()  # fmt: skip
    assert rows == [("key_create",), ("key_revoke",)]


def test_cli_help_lists_the_roles(cli_db: CliRunner) -> None:
    result = cli_db.invoke(cli, ["users", "--help"])
    assert result.exit_code == 0
    assert all(role in result.output for role in roles.USER_ROLES)


# --- settings -------------------------------------------------------------------------------------


@pytest.mark.parametrize("environment", ["production", "test"])
def test_outside_development_a_secret_must_be_set(environment: str, tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="HUEGIS_SECRET_KEY"):
        Settings(environment=environment, data_dir=tmp_path)
    with pytest.raises(ValidationError, match="HUEGIS_SECRET_KEY"):
        Settings(environment=environment, secret_key="short", data_dir=tmp_path)
    settings = Settings(environment=environment, secret_key="s" * 40, data_dir=tmp_path)
    assert settings.open311_api_keys == [] and list(tmp_path.iterdir()) == []  # nothing generated there


def test_development_secrets_are_generated_once_private_and_random(tmp_path: Path) -> None:
    """Finding: `make run` signed with the published 'dev-secret-change-me' and accepted 'dev-open311-key'."""
    first = Settings(data_dir=tmp_path / "a")
    again = Settings(data_dir=tmp_path / "a")
    other = Settings(data_dir=tmp_path / "b")
    assert first.secret_key == again.secret_key != other.secret_key and len(first.secret_key) >= 48
    assert first.open311_api_keys == again.open311_api_keys != other.open311_api_keys
    for name in ("secret_key", "open311_dev_key"):
        assert (tmp_path / "a" / name).stat().st_mode & 0o777 == 0o600
    assert Settings(data_dir=tmp_path / "a", open311_api_keys=[]).open311_api_keys == []  # explicit: kept
    assert not hasattr(settings_module, "DEFAULT_SECRET_KEY") and not hasattr(settings_module, "DEFAULT_OPEN311_KEY")


def test_the_old_well_known_secrets_prove_nothing(client: httpx.Client, loaded: Settings) -> None:
    name = auth_helpers.ensure_account(loaded, "city_leader", username=unique("leader"))
    token = forge(loaded, name, timedelta(minutes=5), secret="dev-secret-change-me")
    assert client.get("/api/staff/queue", headers={"Authorization": f"Bearer {token}"}).status_code == 401
    data = {"api_key": "dev-open311-key", "service_code": "garbage", "lat": CITADEL[1], "long": CITADEL[0],
            "description": "Rác tồn đọng ở góc đường (khóa cũ)"}  # fmt: skip
    assert client.post("/open311/v2/requests.json", data=data).status_code == 403
    code = client.get("/api/reports", params={"limit": 1}).json()["features"][0]["id"]
    rating = client.post(f"/api/reports/{code}/rating",
                         json={"token": follow_token(code, "dev-secret-change-me"), "rating": 5})  # fmt: skip
    assert rating.status_code == 403


def test_the_app_refuses_to_start_in_production_with_the_default_secret(tmp_path: Path) -> None:
    env = {"HUEGIS_ENVIRONMENT": "production", "PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}
    result = subprocess.run([sys.executable, "-c", "from api.main import create_app; create_app()"],
                            env=env, capture_output=True, text=True, cwd=PROJECT_DIR)  # fmt: skip
    assert result.returncode != 0 and "HUEGIS_SECRET_KEY" in result.stderr
