"""The async clients (azure.communication.identity.aio, azure.communication.chat.aio over aiohttp): the core
flow with `async with` and `async for`.

TLS: azure-core's aiohttp transport does not read REQUESTS_CA_BUNDLE. Worse, with Debian's aiohttp 3.8.4 its
default (connection_verify=True -> aiohttp ssl=True) turns certificate checks OFF. So every async client here is
given connection_verify=<dev CA path>, which makes azure-core build a verifying SSL context, and the scenario
checks that verification is really on by failing against the wrong CA bundle.
"""
import asyncio
import uuid
from datetime import timedelta

from azure.core.exceptions import (ClientAuthenticationError, HttpResponseError, ResourceNotFoundError,
                                   ServiceRequestError)
from azure.communication.identity import CommunicationTokenScope
from azure.communication.identity.aio import CommunicationIdentityClient
from azure.communication.chat import ChatMessageType, ChatParticipant, CommunicationUserIdentifier
from azure.communication.chat.aio import ChatClient, CommunicationTokenCredential

from _parley import CLIENT_OPTIONS, CONNECTION_STRING, ENDPOINT, done, env, ghost_id, now, step

CA = env("REQUESTS_CA_BUNDLE")
SYSTEM_BUNDLE = "/etc/ssl/certs/ca-certificates.crt"
TLS = {"connection_verify": CA, **CLIENT_OPTIONS}


async def expect(exc_type, awaitable_factory, status=None, what="call"):
    try:
        await awaitable_factory()
    except exc_type as error:
        assert status is None or error.status_code == status, f"{what}: expected HTTP {status}, got {error.status_code}: {error}"
        return error
    except Exception as error:
        raise AssertionError(f"{what}: expected {exc_type.__name__}, got {type(error).__name__}: {error}") from error
    raise AssertionError(f"{what}: expected {exc_type.__name__}, but it succeeded")


async def collect(pager):
    return [item async for item in pager]


async def collect_pages(pager):
    return [[item async for item in page] async for page in pager.by_page()]


async def thread_call(client, thread_id, method, *args):
    """One call on a short-lived ChatThreadClient, closed afterwards."""
    async with client.get_chat_thread_client(thread_id) as thread:
        return await getattr(thread, method)(*args)


def chat(token):
    return ChatClient(ENDPOINT, CommunicationTokenCredential(token), **TLS)


async def main():
    # Verification is real: the same client against the system bundle (no dev CA) cannot connect.
    async with CommunicationIdentityClient.from_connection_string(CONNECTION_STRING, connection_verify=SYSTEM_BUNDLE) as wrong:
        error = await expect(ServiceRequestError, wrong.create_user, what="create_user trusting only the system CAs")
        assert "CERTIFICATE_VERIFY_FAILED" in str(error) or "certificate" in str(error).lower(), error
    step("async identity client with connection_verify=<system bundle> fails certificate verification")

    async with CommunicationIdentityClient.from_connection_string(CONNECTION_STRING, **TLS) as identity:
        user = await identity.create_user()
        assert user.properties["id"].startswith("8:acs:"), user.properties
        token = await identity.get_token(user, [CommunicationTokenScope.CHAT], token_expires_in=timedelta(hours=1))
        alice_id, alice_token = user, token.token
        bob_id, bob_token = await identity.create_user_and_token([CommunicationTokenScope.CHAT])
        carol_id, carol_token = await identity.create_user_and_token(
            scopes=[CommunicationTokenScope.CHAT], token_expires_in=timedelta(hours=2))
        await expect(HttpResponseError, lambda: identity.get_token(user, ["chat"], token_expires_in=timedelta(minutes=10)),
                     status=400, what="get_token(token_expires_in=10 min)")
        step("aio identity: create_user, get_token, create_user_and_token, 400 for a 10-minute lifetime")

        async with chat(alice_token) as alice, chat(bob_token.token) as bob, chat(carol_token.token) as carol:
            started = now()
            created = await alice.create_chat_thread(
                "Async", thread_participants=[ChatParticipant(identifier=alice_id, display_name="Alice"),
                                              ChatParticipant(identifier=bob_id, display_name="Bob")],
                idempotency_token=str(uuid.uuid4()))
            thread_id = created.chat_thread.id
            assert created.chat_thread.topic == "Async" and created.chat_thread.created_by.properties["id"] == alice_id.properties["id"]
            step(f"aio create_chat_thread -> {thread_id}")

            async with alice.get_chat_thread_client(thread_id) as mine, bob.get_chat_thread_client(thread_id) as bobs:
                assert (await bobs.get_properties()).topic == "Async"
                await mine.update_topic("Async renamed")
                assert (await bobs.get_properties()).topic == "Async renamed"

                sent = await mine.send_message("hello", sender_display_name="Alice", metadata={"hasAttachment": "true"})
                html = await bobs.send_message("<p>hi</p>", chat_message_type=ChatMessageType.HTML)
                got = await bobs.get_message(sent.id)
                assert (got.content.message, got.sender_display_name, got.metadata) == ("hello", "Alice", {"hasAttachment": "true"})
                assert (await mine.get_message(html.id)).type == ChatMessageType.HTML
                await mine.update_message(sent.id, content="hello, edited")
                await bobs.delete_message(html.id)
                step("aio get_properties, update_topic, send_message (text/html), get_message, update/delete_message")

                history = await collect(bobs.list_messages())
                kinds = [m.type for m in reversed(history)]
                assert kinds == [ChatMessageType.PARTICIPANT_ADDED, ChatMessageType.TOPIC_UPDATED, ChatMessageType.TOPIC_UPDATED,
                                 ChatMessageType.TEXT, ChatMessageType.HTML], kinds
                by_id = {m.id: m for m in history}
                assert by_id[sent.id].edited_on is not None and by_id[html.id].deleted_on is not None
                paged = await collect_pages(bobs.list_messages(results_per_page=1, start_time=started - timedelta(seconds=5)))
                assert [p[0].id for p in paged] == [m.id for m in history] and all(len(p) == 1 for p in paged), paged
                step("aio list_messages with `async for` and by_page(): system, edited and deleted messages")

                ghost = ChatParticipant(identifier=CommunicationUserIdentifier(ghost_id(alice_id.properties["id"])))
                failures = await mine.add_participants([ChatParticipant(identifier=carol_id, display_name="Carol"), ghost])
                assert len(failures) == 1 and failures[0][0] is ghost, failures
                assert failures[0][1].target == ghost.identifier.properties["id"], vars(failures[0][1])
                names = [[p.display_name for p in page] async for page in _pages_of(mine.list_participants(results_per_page=1))]
                assert names == [["Alice"], ["Bob"], ["Carol"]], names
                assert [p.display_name for p in await collect(mine.list_participants(skip=2))] == ["Carol"]
                await mine.remove_participant(carol_id)
                await expect(HttpResponseError, lambda: thread_call(carol, thread_id, "get_properties"), status=403,
                             what="removed member get_properties")
                step("aio add_participants (with a failure pair), list_participants by_page/skip, remove_participant")

                await bobs.send_typing_notification(sender_display_name="Bob")
                await bobs.send_read_receipt(sent.id)
                await mine.send_read_receipt(sent.id)
                receipts = await collect_pages(mine.list_read_receipts(results_per_page=1))
                assert [len(p) for p in receipts] == [1, 1], receipts
                assert sorted(p[0].sender.properties["id"] for p in receipts) == sorted(
                    [alice_id.properties["id"], bob_id.properties["id"]])
                assert len(await collect(mine.list_read_receipts(skip=1))) == 1
                step("aio send_typing_notification, send_read_receipt, list_read_receipts(results_per_page=1, skip=1)")

                threads = await collect_pages(alice.list_chat_threads(results_per_page=1, start_time=started - timedelta(seconds=5)))
                assert [p[0].id for p in threads] == [thread_id], threads
                await expect(ResourceNotFoundError, lambda: thread_call(alice, f"19:{uuid.uuid4().hex}@thread.v2", "get_properties"),
                             status=404, what="unknown thread")
                step("aio list_chat_threads by_page; unknown thread -> ResourceNotFoundError")

                await identity.revoke_tokens(bob_id)
                await expect(ClientAuthenticationError, bobs.get_properties, status=401, what="revoked token")
                step("aio revoke_tokens -> ClientAuthenticationError")

            await alice.delete_chat_thread(thread_id)
            await expect(ResourceNotFoundError, lambda: thread_call(alice, thread_id, "get_properties"), status=404,
                         what="deleted thread")
            step("aio delete_chat_thread")

        await identity.delete_user(carol_id)
        async with chat(carol_token.token) as carol:
            await expect(ClientAuthenticationError, lambda: collect(carol.list_chat_threads()), status=401, what="deleted user")
        step("aio delete_user -> its token gets ClientAuthenticationError")


async def _pages_of(pager):
    async for page in pager.by_page():
        yield [item async for item in page]


asyncio.run(main())
done()
