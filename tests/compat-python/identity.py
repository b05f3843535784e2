"""Identity: every call of the ACS "Create and manage access tokens" quickstart (Python)."""
from datetime import timedelta

from azure.core.exceptions import ClientAuthenticationError, HttpResponseError, ResourceNotFoundError
from azure.communication.identity import CommunicationTokenScope, CommunicationUserIdentifier
from azure.communication.chat import CommunicationTokenCredential

from _parley import (chat_client, done, expires_in_minutes, identity_client, jwt_claims, raises, resource_id, step)

client = identity_client()

# create_user
user = client.create_user()
assert isinstance(user, CommunicationUserIdentifier), f"create_user returned {user!r}"
user_id = user.properties["id"]
assert user_id.startswith("8:acs:") and resource_id(user_id), f"unexpected user id {user_id!r}"
assert user.raw_id == user_id, f"raw_id {user.raw_id!r} != id {user_id!r}"
step(f"create_user -> {user_id}")

# get_token without token_expires_in: the default lifetime is 24 h
token = client.get_token(user, scopes=[CommunicationTokenScope.CHAT])
assert token.token.count(".") == 2, "a token is a three-segment JWT"
minutes = expires_in_minutes(token)
assert 1435 <= minutes <= 1441, f"default lifetime should be 24 h, expiresOn is {minutes:.1f} min away"
claims = jwt_claims(token.token)
assert isinstance(claims.get("exp"), int), f"exp must be an integer claim: {claims}"
assert claims.get("skypeid") == user_id[len("8:"):], f"skypeid claim {claims.get('skypeid')!r} does not name {user_id}"
step("get_token(user, scopes=[CHAT]) -> 24 h token")

# get_token with token_expires_in
token_1h = client.get_token(user, [CommunicationTokenScope.CHAT], token_expires_in=timedelta(hours=1))
minutes = expires_in_minutes(token_1h)
assert 58 <= minutes <= 61, f"token_expires_in=1h gave a token expiring in {minutes:.1f} min"
step("get_token(..., token_expires_in=timedelta(hours=1)) -> 1 h token")

# create_user_and_token, with and without token_expires_in, with both scope spellings
created_user, created_token = client.create_user_and_token(
    scopes=[CommunicationTokenScope.CHAT], token_expires_in=timedelta(hours=1))
assert created_user.properties["id"].startswith("8:acs:"), created_user.properties
assert created_user.properties["id"] != user_id, "create_user_and_token made a new user"
minutes = expires_in_minutes(created_token)
assert 58 <= minutes <= 61, f"create_user_and_token(token_expires_in=1h) expires in {minutes:.1f} min"
step("create_user_and_token(scopes=[CHAT], token_expires_in=1h)")

other_user, other_token = client.create_user_and_token(["chat", "voip"])
assert 1435 <= expires_in_minutes(other_token) <= 1441, "default lifetime is 24 h"
step("create_user_and_token(['chat', 'voip']) with the default lifetime")

# The boundaries 60 and 1440 minutes are accepted, anything outside is a 400.
client.get_token(user, ["chat"], token_expires_in=timedelta(minutes=60))
client.get_token(user, ["chat"], token_expires_in=timedelta(minutes=1440))
for bad in (timedelta(minutes=59), timedelta(minutes=30), timedelta(minutes=1441), timedelta(hours=25)):
    error = raises(HttpResponseError, lambda: client.get_token(user, ["chat"], token_expires_in=bad), status=400,
                   what=f"get_token(token_expires_in={bad})")
    assert "expiresInMinutes" in str(error), f"the 400 should name expiresInMinutes: {error}"
    raises(HttpResponseError, lambda: client.create_user_and_token(["chat"], token_expires_in=bad), status=400,
           what=f"create_user_and_token(token_expires_in={bad})")
step("token_expires_in outside 60-1440 minutes -> HttpResponseError 400; 60 and 1440 are accepted")

# The token works for chat (the credential parses it and the server accepts it).
chat = chat_client(created_token.token)
thread_id = chat.create_chat_thread("identity check").chat_thread.id
step("the issued token authenticates a chat call")

# revoke_tokens: every token issued before is dead; a token issued afterwards works.
client.revoke_tokens(created_user)
raises(ClientAuthenticationError, lambda: chat.get_chat_thread_client(thread_id).get_properties(),
       what="get_properties with a revoked token")
raises(ClientAuthenticationError, lambda: list(chat.list_chat_threads()), what="list_chat_threads with a revoked token")
fresh = client.get_token(created_user, [CommunicationTokenScope.CHAT])
props = chat_client(fresh.token).get_chat_thread_client(thread_id).get_properties()
assert props.topic == "identity check", props.topic
step("revoke_tokens: the old token gets ClientAuthenticationError, a new one works")

# delete_user: its tokens stop working and it cannot get new ones.
client.delete_user(created_user)
raises(ClientAuthenticationError, lambda: chat_client(fresh.token).get_chat_thread_client(thread_id).get_properties(),
       what="chat call by a deleted user")
raises(ResourceNotFoundError, lambda: client.get_token(created_user, ["chat"]), what="get_token for a deleted user")
client.delete_user(user)
step("delete_user: tokens rejected (401), get_token -> ResourceNotFoundError")

# CommunicationTokenCredential parses what the identity client issued.
credential = CommunicationTokenCredential(other_token.token)
access = credential.get_token()
assert access.token == other_token.token
assert access.expires_on == jwt_claims(other_token.token)["exp"], "the credential reads exp from the payload"
step("CommunicationTokenCredential(token).get_token() reads exp")

done()
