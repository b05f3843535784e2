"""Every token Parley issues must parse in the Python credential (azure-communication-chat 1.2.0 decodes the
payload with the *standard* base64 alphabet and ASCII only, so a '-' or '_' in the payload breaks it).

Issues tokens for PARLEY_FUZZ_USERS users (default 2000) with varied scopes and lifetimes, through the Python
identity client, and checks each with CommunicationTokenCredential(token).get_token().
"""
import base64
import json
import os
import random
from datetime import timedelta

from azure.communication.chat import CommunicationTokenCredential
from azure.communication.identity import CommunicationTokenScope

from _parley import chat_client, done, identity_client, jwt_claims, step

USERS = int(os.environ.get("PARLEY_FUZZ_USERS", "2000"))
SCOPE_SETS = [
    [CommunicationTokenScope.CHAT],
    [CommunicationTokenScope.VOIP],
    [CommunicationTokenScope.CHAT, CommunicationTokenScope.VOIP],
    ["chat.join"],
    ["chat.join.limited"],
    ["voip.join"],
    ["chat", "chat.join", "voip", "voip.join"],
]
rng = random.Random(4)
identity = identity_client()

checked = 0
failures = []


def check(token, where):
    """Parse the token as the Python SDK does and compare with a tolerant decode."""
    global checked
    try:
        access = CommunicationTokenCredential(token).get_token()
    except Exception as error:  # collect and report all, not just the first
        failures.append(f"{where}: {type(error).__name__}: {error} -- payload {token.split('.')[1]!r}")
        return
    claims = jwt_claims(token)
    strict = json.loads(base64.b64decode(token.split(".")[1] + "==").decode("ascii"))
    if strict != claims:
        failures.append(f"{where}: the SDK's decoding differs from base64url: {strict} vs {claims}")
    if access.token != token or access.expires_on != claims["exp"]:
        failures.append(f"{where}: get_token() gave expires_on {access.expires_on}, exp is {claims['exp']}")
    checked += 1


users = []
for i in range(USERS):
    scopes = SCOPE_SETS[i % len(SCOPE_SETS)]
    minutes = rng.choice([None, 60, 61, 90, 720, 1439, 1440, rng.randint(60, 1440)])
    expires = None if minutes is None else timedelta(minutes=minutes)
    user, token = identity.create_user_and_token(scopes=scopes, token_expires_in=expires)
    check(token.token, f"user {i} {user.properties['id']} scopes={scopes} minutes={minutes}")
    users.append(user)
    if i % 500 == 499:
        step(f"{i + 1} users created, {checked} tokens parsed")
step(f"create_user_and_token for {USERS} users: {checked} tokens parsed, {len(failures)} failures")

# More tokens for a sample of the users (get_token), including after a revocation.
for n, user in enumerate(rng.sample(users, min(200, len(users)))):
    if n % 50 == 0:
        identity.revoke_tokens(user)
    token = identity.get_token(user, rng.choice(SCOPE_SETS), token_expires_in=timedelta(minutes=rng.randint(60, 1440)))
    check(token.token, f"get_token #{n} for {user.properties['id']}")
step(f"get_token for 200 of them: {checked} tokens parsed in all")

assert not failures, f"{len(failures)} token(s) the Python SDK cannot parse:\n" + "\n".join(failures[:20])

# A sample of the chat-scoped tokens are accepted by the server as well.
for user in users[:len(SCOPE_SETS) * 20:len(SCOPE_SETS)]:
    token = identity.get_token(user, [CommunicationTokenScope.CHAT]).token
    assert list(chat_client(token).list_chat_threads()) == [], "a new user has no threads"
step("a sample of 20 freshly issued chat tokens authenticate list_chat_threads")

done()
