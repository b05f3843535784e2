"""The two ACS Python quickstarts ("Create and manage access tokens" and "Add Chat to your App"), as written,
with only the connection string and endpoint taken from the environment, plus checks of what they print.

Trust comes only from REQUESTS_CA_BUNDLE: run without it, the first call fails with CERTIFICATE_VERIFY_FAILED.
The quickstarts use naive datetime.utcnow() values; they are kept, as users copy them.
"""
import os
from datetime import datetime, timedelta

from azure.communication.identity import CommunicationIdentityClient, CommunicationTokenScope
from azure.communication.chat import ChatClient, ChatMessageType, ChatParticipant, CommunicationTokenCredential

from _parley import done, step

connection_string = os.environ["PARLEY_CONNECTION_STRING"]
endpoint = os.environ["PARLEY_ENDPOINT"]

# ---- Quickstart: Create and manage access tokens -----------------------------------------------------------
client = CommunicationIdentityClient.from_connection_string(connection_string)

identity = client.create_user()
print("\nCreated an identity with ID: " + identity.properties["id"])
assert identity.properties["id"].startswith("8:acs:")

token_result = client.get_token(identity, [CommunicationTokenScope.CHAT])
# The quickstart prints token_result.expires_on.strftime(...): with identity 1.3.2 expires_on is the raw
# ISO-8601 string of the response (against Azure too), so it is parsed first here.
expires_on = datetime.fromisoformat(token_result.expires_on.replace("Z", "+00:00")).strftime("%d/%m/%y %I:%M %S %p")
print("\nIssued an access token with 'chat' scope that expires at " + expires_on + ":")
assert token_result.token.count(".") == 2

token_expires_in = timedelta(hours=1)
token_result = client.get_token(identity, [CommunicationTokenScope.CHAT], token_expires_in=token_expires_in)
print("\nIssued an access token with 'chat' scope and custom expiration that expires at " + token_result.expires_on)

identity_token_result = client.create_user_and_token([CommunicationTokenScope.CHAT])
identity2, token2 = identity_token_result
print("\nCreated an identity with ID: " + identity2.properties["id"])
print("\nIssued an access token with 'chat' scope that expires at " + token2.expires_on)

identity_token_result = client.create_user_and_token([CommunicationTokenScope.CHAT], token_expires_in=token_expires_in)
identity3, token3 = identity_token_result

client.revoke_tokens(identity3)
print("\nSuccessfully revoked all access tokens for identity with ID: " + identity3.properties["id"])
client.delete_user(identity3)
print("\nDeleted the identity with ID: " + identity3.properties["id"])
step("identity quickstart: create_user, get_token (with and without expiry), create_user_and_token, revoke_tokens, delete_user")

# ---- Quickstart: Add Chat to your App ------------------------------------------------------------------------
user, access = client.create_user_and_token([CommunicationTokenScope.CHAT])
chat_client = ChatClient(endpoint, CommunicationTokenCredential(access.token))

topic = "test topic"
create_chat_thread_result = chat_client.create_chat_thread(topic)
chat_thread_client = chat_client.get_chat_thread_client(create_chat_thread_result.chat_thread.id)
thread_id = create_chat_thread_result.chat_thread.id
assert create_chat_thread_result.chat_thread.topic == topic

start_time = datetime.utcnow() - timedelta(days=2)
listed = []
chat_threads = chat_client.list_chat_threads(results_per_page=5, start_time=start_time)
for chat_thread_item_page in chat_threads.by_page():
    for chat_thread_item in chat_thread_item_page:
        print(chat_thread_item)
        print("Chat Thread Id: ", chat_thread_item.id)
        listed.append(chat_thread_item.id)
assert listed == [thread_id], f"list_chat_threads returned {listed}"
step("chat quickstart: create_chat_thread, get_chat_thread_client, list_chat_threads(results_per_page=5, start_time)")

content = "Please take a look at the attachment"
sender_display_name = "sender name"
metadata = {"hasAttachment": "true", "attachmentUrl": "https://contoso.com/files/attachment.docx"}
# specify chat message type with pre-built enumerations
send_message_result_w_enum = chat_thread_client.send_message(
    content=content, sender_display_name=sender_display_name, chat_message_type=ChatMessageType.TEXT, metadata=metadata)
print("Message sent: id: ", send_message_result_w_enum.id)
# specify chat message type as string
send_message_result_w_str = chat_thread_client.send_message(
    content=content, sender_display_name=sender_display_name, chat_message_type="text", metadata=metadata)
print("Message sent: id: ", send_message_result_w_str.id)
# default chat message type is text
send_message_result_default = chat_thread_client.send_message(content=content, sender_display_name=sender_display_name)
print("Message sent: id: ", send_message_result_default.id)

start_time = datetime.utcnow() - timedelta(days=1)
received = []
chat_messages = chat_thread_client.list_messages(results_per_page=1, start_time=start_time)
for chat_message_page in chat_messages.by_page():
    for chat_message in chat_message_page:
        print("ChatMessage: Id=", chat_message.id, "; Content=", chat_message.content.message)
        received.append(chat_message)
texts = [m for m in received if m.type == ChatMessageType.TEXT]
assert [m.id for m in texts] == [send_message_result_default.id, send_message_result_w_str.id, send_message_result_w_enum.id], \
    [m.id for m in texts]
assert all(m.content.message == content and m.sender_display_name == sender_display_name for m in texts)
assert texts[-1].metadata == metadata, texts[-1].metadata
assert {m.type for m in received} == {ChatMessageType.TEXT, ChatMessageType.TOPIC_UPDATED, ChatMessageType.PARTICIPANT_ADDED}
step("chat quickstart: send_message (enum, string, default type) and list_messages(results_per_page=1, start_time)")

chat_thread_client.send_read_receipt(message_id=send_message_result_w_enum.id)
receipts = []
read_receipts = chat_thread_client.list_read_receipts()
for read_receipt_page in read_receipts.by_page():
    for read_receipt in read_receipt_page:
        print(read_receipt)
        receipts.append(read_receipt)
assert [(r.sender.properties["id"], r.chat_message_id) for r in receipts] == [(user.properties["id"], send_message_result_w_enum.id)]
step("chat quickstart: send_read_receipt(message_id=...) and list_read_receipts()")

new_users = [client.create_user() for i in range(2)]
participants = []
for _user in new_users:
    chat_thread_participant = ChatParticipant(
        identifier=_user, display_name="Fred Flinstone", share_history_time=datetime.utcnow())
    participants.append(chat_thread_participant)
response = chat_thread_client.add_participants(participants)


def decide_to_retry(error, **kwargs):
    """Insert some custom logic to decide if retry is applicable based on error"""
    return True


# verify if all users has been successfully added or not
# in case of partial failures, you can retry to add all the failed participants
retry = [p for p, e in response if decide_to_retry(e)]
if retry:
    chat_thread_client.add_participants(retry)
assert response == [] and retry == [], f"add_participants failed for {response}"

members = []
chat_thread_participants = chat_thread_client.list_participants()
for chat_thread_participant_page in chat_thread_participants.by_page():
    for chat_thread_participant in chat_thread_participant_page:
        print("ChatParticipant: ", chat_thread_participant)
        members.append(chat_thread_participant)
assert sorted(p.identifier.properties["id"] for p in members) == sorted(
    [user.properties["id"]] + [u.properties["id"] for u in new_users])
assert [p.display_name for p in members if p.identifier.properties["id"] != user.properties["id"]] == ["Fred Flinstone"] * 2
step("chat quickstart: add_participants (share_history_time=utcnow()) with its retry idiom, list_participants")

done()
