"""Identity with HMAC over plain http: CommunicationIdentityClient("http://...", AzureKeyCredential(key)).

Python cuts the signed path out of the URL as url[len(host) + 8:], which assumes "https://", so over http the
string-to-sign carries the path without its leading "/" (e.g. "identities?api-version=2022-10-01"). Parley's
http listener accepts that form.

Needs PARLEY_HTTP_ENDPOINT (http://127.0.0.1:<port>/) and PARLEY_ACCESS_KEY.

`python3 hmac_http.py` uses the endpoints without their trailing "/", which identity 1.3.2 signs consistently.
`python3 hmac_http.py trailing-slash` passes the endpoints exactly as Parley prints them ("http://host:port/",
"https://host:port/"). identity 1.3.2 then signs the host as "host:port/" and cuts one more character off the
path (over http "dentities?api-version=...", over https "identities?api-version=..."), so only a server that
tolerates those forms accepts it.
"""
import base64
import sys

from azure.core.credentials import AzureKeyCredential
from azure.core.exceptions import ClientAuthenticationError, ResourceNotFoundError
from azure.communication.identity import CommunicationIdentityClient, CommunicationTokenScope

from _parley import CLIENT_OPTIONS, Wire, chat_client, done, env, expires_in_minutes, raises, step

HTTP_ENDPOINT = env("PARLEY_HTTP_ENDPOINT")
ACCESS_KEY = env("PARLEY_ACCESS_KEY")
assert HTTP_ENDPOINT.startswith("http://"), HTTP_ENDPOINT


if sys.argv[1:] == ["trailing-slash"]:
    for endpoint in (HTTP_ENDPOINT, env("PARLEY_ENDPOINT")):
        assert endpoint.endswith("/"), f"Parley prints its endpoints with a trailing slash: {endpoint!r}"
        client = CommunicationIdentityClient(endpoint, AzureKeyCredential(ACCESS_KEY), **CLIENT_OPTIONS)
        user = client.create_user()
        assert user.properties["id"].startswith("8:acs:"), user.properties
        step(f"create_user with AzureKeyCredential over {endpoint!r}")
    done()
    sys.exit(0)
assert not sys.argv[1:], f"unknown scenario {sys.argv[1:]}: use no argument or 'trailing-slash'"

for endpoint in (HTTP_ENDPOINT.rstrip("/"), env("PARLEY_ENDPOINT").rstrip("/")):
    client = CommunicationIdentityClient(endpoint, AzureKeyCredential(ACCESS_KEY), **CLIENT_OPTIONS)
    wire = Wire()
    user = client.create_user(raw_response_hook=wire)
    assert user.properties["id"].startswith("8:acs:"), user.properties
    assert wire.last["url"].startswith(endpoint + "/identities") and wire.last["status"] == 201, wire.last
    step(f"create_user over {endpoint!r} -> {user.properties['id']}")

# The rest of the identity API signs paths with an encoded user id in them; all work over http too.
client = CommunicationIdentityClient(HTTP_ENDPOINT.rstrip("/"), AzureKeyCredential(ACCESS_KEY), **CLIENT_OPTIONS)
user, token = client.create_user_and_token([CommunicationTokenScope.CHAT])
assert 1435 <= expires_in_minutes(token) <= 1441
again = client.get_token(user, [CommunicationTokenScope.CHAT])
thread = chat_client(again.token).create_chat_thread("made with a token from the http listener")
assert thread.chat_thread.topic == "made with a token from the http listener"
client.revoke_tokens(user)
client.delete_user(user)
raises(ResourceNotFoundError, lambda: client.get_token(user, ["chat"]), what="get_token for a deleted user over http")
step("create_user_and_token, get_token, revoke_tokens, delete_user over http (token works on the https chat API)")

# A wrong key is refused over http as well (so the http listener really checks the signature).
wrong_key = base64.b64encode(bytes(64)).decode()
wrong = CommunicationIdentityClient(HTTP_ENDPOINT.rstrip("/"), AzureKeyCredential(wrong_key), **CLIENT_OPTIONS)
raises(ClientAuthenticationError, wrong.create_user, status=401, what="create_user with the wrong key over http")
step("the wrong access key -> ClientAuthenticationError (401)")

done()
