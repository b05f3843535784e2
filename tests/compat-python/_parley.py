"""Shared helpers for the Python compatibility scenarios.

Every scenario is a plain script that drives the official, unmodified Python SDKs
(Debian's python3-azure: azure-communication-chat 1.2.0, azure-communication-identity 1.3.2)
against a running Parley. It reads its configuration from the environment:

  PARLEY_CONNECTION_STRING  endpoint=https://...;accesskey=...   (required)
  PARLEY_ENDPOINT           https://127.0.0.1:<port>/             (required)
  REQUESTS_CA_BUNDLE        the dev CA, so the sync clients trust the server
  PARLEY_HTTP_ENDPOINT      the plain-http listener (hmac_http.py only)
  PARLEY_ACCESS_KEY         the access key on its own (hmac_http.py only)
  PARLEY_PY_DEBUG=1         log every request and response (azure-core logging)

A scenario passes when it exits 0. Checks are plain `assert`s with messages; progress goes to
stdout one line per step, so a failure shows how far the scenario got.
"""
import base64
import json
import logging
import os
import sys
import time
import uuid
from datetime import datetime, timedelta, timezone

if not __debug__:
    sys.exit("these scenarios check with `assert`: do not run them with python -O")

from azure.core.exceptions import HttpResponseError
from azure.communication.identity import CommunicationIdentityClient, CommunicationTokenScope
from azure.communication.chat import ChatClient, CommunicationTokenCredential, ChatParticipant

DEBUG = os.environ.get("PARLEY_PY_DEBUG") == "1"
if DEBUG:
    logging.basicConfig(level=logging.DEBUG, stream=sys.stderr)

# Passed to every client: with PARLEY_PY_DEBUG=1 azure-core logs each request and response.
CLIENT_OPTIONS = {"logging_enable": True} if DEBUG else {}


def env(name):
    value = os.environ.get(name)
    assert value, f"environment variable {name} is not set (see tests/compat-python/README.md)"
    return value


CONNECTION_STRING = env("PARLEY_CONNECTION_STRING")
ENDPOINT = env("PARLEY_ENDPOINT")

_started = time.monotonic()


def step(text):
    """One line of progress, so a failing run shows the last step that worked."""
    print(f"ok {time.monotonic() - _started:6.2f}s  {text}", flush=True)


def now():
    return datetime.now(timezone.utc)


# ---------------------------------------------------------------------------------------------
# Clients and users


def identity_client(**kwargs):
    return CommunicationIdentityClient.from_connection_string(CONNECTION_STRING, **CLIENT_OPTIONS, **kwargs)


def chat_client(token, **kwargs):
    credential = token if isinstance(token, CommunicationTokenCredential) else CommunicationTokenCredential(token)
    return ChatClient(ENDPOINT, credential, **CLIENT_OPTIONS, **kwargs)


class User:
    """A Parley user: its CommunicationUserIdentifier, id string, token and a ChatClient."""

    def __init__(self, identifier, token):
        self.identifier = identifier
        self.id = identifier.properties["id"]
        self.token = token
        self.chat = chat_client(token)

    def participant(self, display_name=None, share_history_time=None):
        return ChatParticipant(identifier=self.identifier, display_name=display_name, share_history_time=share_history_time)

    def thread(self, thread_id):
        return self.chat.get_chat_thread_client(thread_id)


def new_user(identity):
    identifier, token = identity.create_user_and_token(scopes=[CommunicationTokenScope.CHAT])
    return User(identifier, token.token)


def resource_id(user_id):
    """'8:acs:<resourceId>_<uuid>' -> '<resourceId>'."""
    assert user_id.startswith("8:acs:"), f"not an ACS user id: {user_id!r}"
    return user_id[len("8:acs:"):].rsplit("_", 1)[0]


def ghost_id(like_user_id):
    """A well-formed user id on the same resource that was never created."""
    return f"8:acs:{resource_id(like_user_id)}_{uuid.uuid4()}"


def participant_ids(participants):
    return [p.identifier.properties["id"] for p in participants]


# ---------------------------------------------------------------------------------------------
# Tokens


def jwt_claims(token):
    """The payload of a JWT, decoded the tolerant way (base64url) for our own checks."""
    parts = token.split(".")
    assert len(parts) == 3, f"token has {len(parts)} segments, expected 3"
    segment = parts[1] + "=" * (-len(parts[1]) % 4)
    return json.loads(base64.urlsafe_b64decode(segment))


def expires_in_minutes(access_token):
    """Minutes from now until an identity AccessToken's expiresOn (which Python leaves as the raw string)."""
    expires_on = access_token.expires_on
    assert isinstance(expires_on, str), f"identity 1.3.2 returns expiresOn as the raw string, got {expires_on!r}"
    parsed = datetime.fromisoformat(expires_on.replace("Z", "+00:00"))
    return (parsed - now()).total_seconds() / 60


# ---------------------------------------------------------------------------------------------
# Errors and wire capture


def raises(expected, call, status=None, what=None):
    """Runs call(); it must raise `expected` (and carry `status`, if given). Returns the exception."""
    label = what or getattr(call, "__name__", "call")
    try:
        result = call()
    except expected as error:
        if status is not None:
            got = getattr(error, "status_code", None)
            assert got == status, f"{label}: expected HTTP {status}, got {got}: {error}"
        return error
    except Exception as error:  # the wrong kind of failure is reported with its details
        raise AssertionError(
            f"{label}: expected {expected.__name__}{f' ({status})' if status else ''}, "
            f"got {type(error).__name__} (HTTP {getattr(error, 'status_code', None)}): {error}"
        ) from error
    raise AssertionError(f"{label}: expected {expected.__name__}{f' ({status})' if status else ''}, but it returned {result!r}")


def http_status(error):
    assert isinstance(error, HttpResponseError), f"not an HttpResponseError: {error!r}"
    return error.status_code


class Wire:
    """A raw_response_hook that records what the server answered (status, JSON body).

    Pass `raw_response_hook=wire` to any SDK call; then read `wire.last`.
    """

    def __init__(self):
        self.exchanges = []

    def __call__(self, pipeline_response):
        request = pipeline_response.http_request
        response = pipeline_response.http_response
        text = response.text() if response.status_code != 204 else ""
        try:
            body = json.loads(text) if text else None
        except ValueError:
            body = text
        self.exchanges.append({"method": request.method, "url": request.url, "status": response.status_code, "body": body})

    @property
    def last(self):
        assert self.exchanges, "no response was recorded"
        return self.exchanges[-1]


def pages(pager):
    """An ItemPaged walked page by page: a list of lists."""
    return [list(page) for page in pager.by_page()]


def wait_for_clock_tick(seconds=0.02):
    """Sleep long enough that the next server timestamp is strictly later (ms resolution)."""
    time.sleep(seconds)


def done():
    step("scenario passed")
