"""Errors as the Python SDK surfaces them: unknown thread -> ResourceNotFoundError, bad tokens ->
ClientAuthenticationError, non-members -> HttpResponseError 403, and the error body is readable.

Optional: PARLEY_EXPIRED_TOKEN, a correctly signed token whose exp has passed (the Node test issues one).
"""
import base64
import json
import os
import uuid

from azure.core.exceptions import ClientAuthenticationError, HttpResponseError, ResourceNotFoundError

from _parley import chat_client, done, identity_client, jwt_claims, new_user, raises, step

identity = identity_client()
alice, bob, carol = new_user(identity), new_user(identity), new_user(identity)
thread_id = alice.chat.create_chat_thread(
    "Private", thread_participants=[alice.participant("Alice"), bob.participant("Bob")]).chat_thread.id
message_id = alice.thread(thread_id).send_message("secret").id

# Unknown thread -> ResourceNotFoundError (404) on reads and writes
unknown = alice.thread(f"19:{uuid.uuid4().hex}@thread.v2")
error = raises(ResourceNotFoundError, unknown.get_properties, status=404, what="get_properties of an unknown thread")
assert error.error is not None and error.error.code, f"the 404 carries an error code: {error!r}"
assert error.error.message, "the 404 carries an error message"
raises(ResourceNotFoundError, lambda: unknown.send_message("anyone?"), status=404, what="send_message to an unknown thread")
raises(ResourceNotFoundError, lambda: list(unknown.list_messages()), status=404, what="list_messages of an unknown thread")
raises(ResourceNotFoundError, lambda: unknown.update_topic("x"), status=404, what="update_topic of an unknown thread")
raises(ResourceNotFoundError, lambda: alice.thread(thread_id).get_message("1234567890123"), status=404,
       what="get_message of an unknown message")
step(f"unknown thread -> ResourceNotFoundError (code {error.error.code!r})")


def b64(data):
    """Standard base64 without padding: what Python's token parser reads (it decodes segment 2 that way)."""
    return base64.b64encode(data).decode().rstrip("=")


def b64url(data):
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


# Bad tokens -> ClientAuthenticationError (401). Each parses in the Python credential, so the server decides.
header, payload, signature = alice.token.split(".")
bobs_payload = bob.token.split(".")[1]
flipped = signature[:-4] + ("AAAA" if signature[-4:] != "AAAA" else "BBBB")
claims = jwt_claims(alice.token)
longer = dict(claims, exp=claims["exp"] + 3600)
encoded_longer = b64url(json.dumps(longer).encode())
forged = {
    "tampered signature": f"{header}.{payload}.{flipped}",
    "another user's claims under alice's signature": f"{header}.{bobs_payload}.{signature}",
    "extended exp, old signature": f"{header}.{encoded_longer}.{signature}",
    "alg none, no signature": f"{b64url(json.dumps({'alg': 'none', 'typ': 'JWT'}).encode())}.{payload}.",
    "garbage with an exp": f"abc.{b64(json.dumps({'exp': claims['exp']}).encode())}.def",
}
if os.environ.get("PARLEY_EXPIRED_TOKEN"):
    forged["expired (correctly signed)"] = os.environ["PARLEY_EXPIRED_TOKEN"]
for label, token in forged.items():
    client = chat_client(token)  # parsing happens here: all of these are well-formed for the SDK
    error = raises(ClientAuthenticationError, lambda: list(client.list_chat_threads()), status=401, what=f"{label}: list_chat_threads")
    assert error.error is not None and error.error.code, f"{label}: the 401 carries an error code: {error!r}"
    raises(ClientAuthenticationError, lambda: client.get_chat_thread_client(thread_id).get_properties(), status=401,
           what=f"{label}: get_properties")
    raises(ClientAuthenticationError, lambda: client.create_chat_thread("nope"), status=401, what=f"{label}: create_chat_thread")
    step(f"{label} -> ClientAuthenticationError ({error.error.code})")

# A token that the Python credential itself refuses (two segments): the SDK raises before any request.
try:
    chat_client(f"{header}.{payload}")
    raise AssertionError("a two-segment token should be refused by CommunicationTokenCredential")
except ValueError as refused:
    assert "not formatted correctly" in str(refused), refused
step("a two-segment token is refused client-side (ValueError), as documented")

# Non-member -> HttpResponseError 403 for every thread operation
outsider = carol.thread(thread_id)
calls = {
    "get_properties": outsider.get_properties,
    "update_topic": lambda: outsider.update_topic("mine now"),
    "send_message": lambda: outsider.send_message("hi"),
    "get_message": lambda: outsider.get_message(message_id),
    "list_messages": lambda: list(outsider.list_messages()),
    "update_message": lambda: outsider.update_message(message_id, content="x"),
    "delete_message": lambda: outsider.delete_message(message_id),
    "list_participants": lambda: list(outsider.list_participants()),
    "add_participants": lambda: outsider.add_participants([carol.participant()]),
    "remove_participant": lambda: outsider.remove_participant(bob.identifier),
    "send_typing_notification": lambda: outsider.send_typing_notification(sender_display_name="Carol"),
    "send_read_receipt": lambda: outsider.send_read_receipt(message_id),
    "list_read_receipts": lambda: list(outsider.list_read_receipts()),
    "delete_chat_thread": lambda: carol.chat.delete_chat_thread(thread_id),
}
for name, call in calls.items():
    error = raises(HttpResponseError, call, status=403, what=f"non-member {name}")
    assert not isinstance(error, (ResourceNotFoundError, ClientAuthenticationError)), type(error)
assert [p.identifier.properties["id"] for p in alice.thread(thread_id).list_participants()] == [alice.id, bob.id], \
    "the refused calls changed nothing"
assert alice.thread(thread_id).get_properties().topic == "Private"
step(f"non-member -> HttpResponseError 403 on all {len(calls)} thread operations")

# The thread is not listed for the outsider.
assert thread_id not in [t.id for t in carol.chat.list_chat_threads()]
step("the outsider does not list the thread")

done()
