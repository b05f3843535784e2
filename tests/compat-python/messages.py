"""ChatThreadClient messages: send_message (text, html, sender_display_name, metadata), get_message,
list_messages (paging, start_time, system messages, edited and deleted state), update_message, delete_message."""
from datetime import timedelta

from azure.core.exceptions import HttpResponseError, ResourceNotFoundError
from azure.communication.chat import ChatMessage, ChatMessageType, SendChatMessageResult

from _parley import done, identity_client, new_user, now, pages, participant_ids, raises, step, wait_for_clock_tick

identity = identity_client()
alice, bob, carol = new_user(identity), new_user(identity), new_user(identity)
started = now()
thread_id = alice.chat.create_chat_thread(
    "Messages", thread_participants=[alice.participant("Alice"), bob.participant("Bob")]).chat_thread.id
mine, bobs = alice.thread(thread_id), bob.thread(thread_id)

# send_message: text with display name and metadata
sent = mine.send_message("Hello Bob", sender_display_name="Alice", metadata={"hasAttachment": "true", "fileId": "42"})
assert isinstance(sent, SendChatMessageResult) and sent.id, f"send_message returned {sent!r}"
got = bobs.get_message(sent.id)
assert isinstance(got, ChatMessage)
assert got.id == sent.id and got.type == ChatMessageType.TEXT, (got.id, got.type)
assert got.content.message == "Hello Bob", got.content.message
assert got.sender_display_name == "Alice", got.sender_display_name
assert got.metadata == {"hasAttachment": "true", "fileId": "42"}, got.metadata
assert got.sender.properties["id"] == alice.id, got.sender.properties
assert got.sequence_id == "3", f"after participantAdded (1) and topicUpdated (2) comes 3, got {got.sequence_id}"
assert got.version == got.id, (got.version, got.id)
assert abs((got.created_on - started).total_seconds()) < 10, got.created_on
assert got.edited_on is None and got.deleted_on is None, (got.edited_on, got.deleted_on)
step("send_message(text, sender_display_name, metadata) / get_message")

# send_message: html via chat_message_type, as an enum and as a string
html = mine.send_message("<b>bold</b>", chat_message_type=ChatMessageType.HTML)
html2 = bobs.send_message("<i>it</i>", chat_message_type="html", sender_display_name="Bob")
for result, content, sender in ((html, "<b>bold</b>", alice), (html2, "<i>it</i>", bob)):
    message = mine.get_message(result.id)
    assert message.type == ChatMessageType.HTML and message.content.message == content, (message.type, message.content.message)
    assert message.sender.properties["id"] == sender.id
step("send_message(chat_message_type=HTML / 'html')")

# Non-ASCII round-trips: Python sends \\u escapes, the server answers UTF-8.
unicode_text = 'héllo 🌍 日本語 <b>"x"</b>\nsecond line'
uni = bobs.send_message(unicode_text, sender_display_name="Zoë ☕", metadata={"clé": "välue 🌍"})
uni_got = mine.get_message(uni.id)
assert (uni_got.content.message, uni_got.sender_display_name, uni_got.metadata) == (unicode_text, "Zoë ☕", {"clé": "välue 🌍"}), \
    (uni_got.content.message, uni_got.sender_display_name, uni_got.metadata)
step("non-ASCII content, display name and metadata round-trip")
text_default = mine.send_message("plain")
assert mine.get_message(text_default.id).type == ChatMessageType.TEXT
assert int(html.id) > int(sent.id), "message ids increase"
step("send_message() defaults to TEXT")

# update_message: content and metadata; edited_on is set and the version moves on
mine.update_message(sent.id, content="Hello again, Bob", metadata={"hasAttachment": "false"})
edited = bobs.get_message(sent.id)
assert edited.content.message == "Hello again, Bob", edited.content.message
assert edited.metadata == {"hasAttachment": "false"}, edited.metadata
assert edited.edited_on is not None and edited.deleted_on is None, (edited.edited_on, edited.deleted_on)
assert int(edited.version) > int(edited.id), f"version {edited.version} should be newer than id {edited.id}"
raises(HttpResponseError, lambda: bobs.update_message(sent.id, content="hijacked"), status=403,
       what="update_message of someone else's message")
step("update_message(content, metadata) -> edited_on, new version; others get 403")

# delete_message: deleted_on is set, the message stays in the history
mine.delete_message(html.id)
deleted = mine.get_message(html.id)
assert deleted.deleted_on is not None, "deleted_on is set"
raises(HttpResponseError, lambda: bobs.delete_message(sent.id), status=403, what="delete_message of someone else's message")
step("delete_message -> deleted_on")

# Participant changes and a topic change add system messages.
mine.add_participants([carol.participant("Carol")])
mine.remove_participant(carol.identifier)
mine.update_topic("Messages (renamed)")

# list_messages: newest first; system messages; edited and deleted state visible
history = list(bobs.list_messages())
seq = [int(m.sequence_id) for m in history]
assert seq == sorted(seq, reverse=True) and seq[-1] == 1 and len(set(seq)) == len(seq), f"sequence ids {seq}"
by_id = {m.id: m for m in history}
kinds = [m.type for m in reversed(history)]
assert kinds == [ChatMessageType.PARTICIPANT_ADDED, ChatMessageType.TOPIC_UPDATED, ChatMessageType.TEXT,
                 ChatMessageType.HTML, ChatMessageType.HTML, ChatMessageType.TEXT, ChatMessageType.TEXT,
                 ChatMessageType.PARTICIPANT_ADDED,
                 ChatMessageType.PARTICIPANT_REMOVED, ChatMessageType.TOPIC_UPDATED], f"history types {kinds}"
assert by_id[sent.id].edited_on is not None and by_id[sent.id].content.message == "Hello again, Bob"
assert by_id[html.id].deleted_on is not None, "a deleted message is listed with deleted_on"
added, removed, renamed = history[2], history[1], history[0]
assert participant_ids(added.content.participants) == [carol.id], added.content.participants
assert added.content.participants[0].display_name == "Carol"
assert added.content.initiator.properties["id"] == alice.id
assert participant_ids(removed.content.participants) == [carol.id], removed.content.participants
assert removed.content.initiator.properties["id"] == alice.id
assert renamed.content.topic == "Messages (renamed)", renamed.content.topic
assert all(m.sender is None for m in (added, removed, renamed)), "system messages have no sender"
step("list_messages: newest first, TOPIC_UPDATED / PARTICIPANT_ADDED / PARTICIPANT_REMOVED, edited_on, deleted_on")

# list_messages(results_per_page=1).by_page() visits every message exactly once, newest first
walked = pages(bobs.list_messages(results_per_page=1))
assert all(len(page) == 1 for page in walked), [len(p) for p in walked]
assert [p[0].id for p in walked] == [m.id for m in history], "paging returns the same history"
walked3 = pages(bobs.list_messages(results_per_page=4))
assert [len(p) for p in walked3] == [4, 4, 2], [len(p) for p in walked3]
step(f"list_messages(results_per_page=1).by_page(): {len(walked)} pages of 1, each message once")

# ... also while new messages arrive
seen = []
for n, page in enumerate(bobs.list_messages(results_per_page=1).by_page()):
    seen.extend(m.id for m in page)
    if n % 3 == 0:
        mine.send_message(f"during {n}")
assert seen == [m.id for m in history], "messages sent during the walk are not returned, nothing repeats"
step("list_messages paging while new messages arrive: each older message once")

# list_messages(start_time=...) keeps messages created at or after it
wait_for_clock_tick()
cut = now()
wait_for_clock_tick()
late = [mine.send_message(f"late {i}").id for i in range(3)]
recent = pages(bobs.list_messages(results_per_page=1, start_time=cut))
assert [p[0].id for p in recent] == list(reversed(late)), f"start_time page walk: {[p[0].id for p in recent]} vs {late}"
assert list(bobs.list_messages(start_time=now() + timedelta(minutes=5))) == []
step("list_messages(results_per_page=1, start_time=...) returns only newer messages, once each")

# Unknown and system messages
raises(ResourceNotFoundError, lambda: mine.get_message("1234567890123"), what="get_message of an unknown id")
raises(HttpResponseError, lambda: mine.delete_message(renamed.id), status=403, what="delete_message of a system message")
step("get_message(unknown) -> ResourceNotFoundError; system messages cannot be deleted (403)")

done()
