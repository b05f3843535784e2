"""CommunicationTokenCredential: a static token, and a token_refresher that gets fresh tokens from Parley.

Needs, besides the usual variables, a real Parley token that expires within two minutes and its user
(the Node test issues it with the server's own key; Parley's identity API only issues 60-1440 minutes):
  PARLEY_SHORT_TOKEN, PARLEY_SHORT_TOKEN_USER
"""
from datetime import datetime, timedelta

from azure.core.credentials import AccessToken
from azure.communication.identity import CommunicationTokenScope, CommunicationUserIdentifier
from azure.communication.chat import ChatClient, CommunicationTokenCredential

from _parley import ENDPOINT, CLIENT_OPTIONS, done, env, identity_client, jwt_claims, step
from azure.communication.chat._shared.utils import get_current_utc_as_int

identity = identity_client()

# 1. A static credential: get_token() returns the token and its exp, calls work.
user, issued = identity.create_user_and_token(scopes=[CommunicationTokenScope.CHAT])
static = CommunicationTokenCredential(issued.token)
access = static.get_token()
assert access.token == issued.token, "a static credential hands out the token it was given"
assert access.expires_on == jwt_claims(issued.token)["exp"], f"expires_on {access.expires_on} is not the exp claim"
chat = ChatClient(ENDPOINT, static, **CLIENT_OPTIONS)
thread_id = chat.create_chat_thread("static credential").chat_thread.id
assert chat.get_chat_thread_client(thread_id).get_properties().topic == "static credential"
step("CommunicationTokenCredential(token): get_token() and chat calls work")


def make_refresher(identifier, calls):
    """What an application writes: ask the identity API for a new token.

    identity 1.3.2 returns AccessToken.expires_on as the raw ISO string from the response, while the
    credential compares it with an int, so the refresher converts it.
    """
    def refresh():
        fresh = identity.get_token(identifier, [CommunicationTokenScope.CHAT], token_expires_in=timedelta(hours=1))
        calls.append(fresh.token)
        expires = datetime.fromisoformat(fresh.expires_on.replace("Z", "+00:00"))
        return AccessToken(fresh.token, int(expires.timestamp()))
    return refresh


# 2. A refresher with a token that is far from expiry: never called.
calls = []
credential = CommunicationTokenCredential(issued.token, token_refresher=make_refresher(user, calls))
with ChatClient(ENDPOINT, credential, **CLIENT_OPTIONS) as chat:
    thread = chat.get_chat_thread_client(thread_id)
    thread.send_message("hello from a refreshable credential")
    assert [m.content.message for m in thread.list_messages() if m.type == "text"] == ["hello from a refreshable credential"]
assert calls == [], f"the refresher ran {len(calls)} time(s) for a 24 h token"
step("token_refresher is not called while the token has more than 2 minutes left")

# 3. A real Parley token that expires within 2 minutes: the credential calls the refresher before the
#    first request, uses the new token from then on, and does not call it again.
short_token = env("PARLEY_SHORT_TOKEN")
short_user = CommunicationUserIdentifier(env("PARLEY_SHORT_TOKEN_USER"))
remaining = jwt_claims(short_token)["exp"] - get_current_utc_as_int()
assert 0 < remaining < 120, f"PARLEY_SHORT_TOKEN should expire within 2 minutes, it has {remaining}s left"

# The short token is valid on its own: the refresh below is not covering up a bad token.
own_thread = ChatClient(ENDPOINT, CommunicationTokenCredential(short_token), **CLIENT_OPTIONS).create_chat_thread("short")
step(f"the short-lived token ({remaining}s left) is accepted as it is")

calls = []
credential = CommunicationTokenCredential(short_token, token_refresher=make_refresher(short_user, calls))
with ChatClient(ENDPOINT, credential, **CLIENT_OPTIONS) as chat:
    created = chat.create_chat_thread("refreshed")
    assert len(calls) == 1, f"the refresher should run once before the first request, ran {len(calls)} times"
    thread = chat.get_chat_thread_client(created.chat_thread.id)
    thread.send_message("one")
    thread.send_message("two")
    threads = [t.id for t in chat.list_chat_threads()]
    assert created.chat_thread.id in threads and own_thread.chat_thread.id in threads, threads
    assert len(calls) == 1, f"a fresh 1 h token needs no further refresh, but the refresher ran {len(calls)} times"
current = credential.get_token()
assert current.token == calls[0] and current.token != short_token, "the credential now holds the refreshed token"
assert current.expires_on - get_current_utc_as_int() > 55 * 60, "the refreshed token lasts about an hour"
step("token_refresher runs once for a token about to expire; its token is used for every later call")

done()
