"""ChatClient: create_chat_thread (participants, idempotency, invalid participants), get_chat_thread_client,
list_chat_threads with paging and start_time, get_properties, update_topic, delete_chat_thread."""
import uuid
from datetime import timedelta

from azure.core.exceptions import ResourceNotFoundError
from azure.communication.chat import (ChatMessageType, ChatParticipant, ChatThreadClient, ChatThreadProperties,
                                      CommunicationUserIdentifier, CreateChatThreadResult)

from _parley import (Wire, done, ghost_id, identity_client, new_user, now, pages, participant_ids, raises, step,
                     wait_for_clock_tick)

identity = identity_client()
alice, bob, carol = new_user(identity), new_user(identity), new_user(identity)

# create_chat_thread with participants (display names, share_history_time)
started = now()
history_from = started - timedelta(days=1)
result = alice.chat.create_chat_thread(
    "Lunch",
    thread_participants=[alice.participant("Alice"), bob.participant("Bob", share_history_time=history_from)],
)
assert isinstance(result, CreateChatThreadResult), result
thread = result.chat_thread
assert isinstance(thread, ChatThreadProperties), thread
assert thread.id.startswith("19:") and thread.id.endswith("@thread.v2"), f"thread id {thread.id!r}"
assert thread.topic == "Lunch", thread.topic
assert thread.created_by.properties["id"] == alice.id, f"created_by {thread.created_by.properties}"
assert abs((thread.created_on - started).total_seconds()) < 10, f"created_on {thread.created_on} is not about now ({started})"
assert result.errors is None, f"no participant failed, yet errors = {result.errors}"
step(f"create_chat_thread('Lunch', thread_participants=[Alice, Bob]) -> {thread.id}")

# get_chat_thread_client + get_properties, as Bob
bobs = bob.chat.get_chat_thread_client(thread.id)
assert isinstance(bobs, ChatThreadClient) and bobs.thread_id == thread.id
props = bobs.get_properties()
assert (props.id, props.topic) == (thread.id, "Lunch"), (props.id, props.topic)
assert props.created_by.properties["id"] == alice.id
assert props.created_on == thread.created_on, (props.created_on, thread.created_on)
members = {p.identifier.properties["id"]: p for p in bobs.list_participants()}
assert set(members) == {alice.id, bob.id}, f"participants {sorted(members)}"
assert members[bob.id].display_name == "Bob", members[bob.id].display_name
assert members[bob.id].share_history_time == history_from.replace(microsecond=history_from.microsecond // 1000 * 1000), \
    f"share_history_time {members[bob.id].share_history_time} != {history_from}"
step("get_chat_thread_client(id).get_properties() and the participants as created")

# The history starts with the system messages, oldest last.
history = list(bobs.list_messages())
kinds = [m.type for m in reversed(history)]
assert kinds == [ChatMessageType.PARTICIPANT_ADDED, ChatMessageType.TOPIC_UPDATED], f"first messages: {kinds}"
added, topic = history[1], history[0]
assert sorted(participant_ids(added.content.participants)) == sorted([alice.id, bob.id]), added.content.participants
assert added.content.initiator.properties["id"] == alice.id, "participantAdded names its initiator"
assert topic.content.topic == "Lunch" and topic.sender is None, (topic.content.topic, topic.sender)
step("new thread history: participantAdded then topicUpdated")

# update_topic (by a member) -> a topicUpdated message
bobs.update_topic("Dinner")
assert alice.thread(thread.id).get_properties().topic == "Dinner"
topics = [m.content.topic for m in bobs.list_messages() if m.type == ChatMessageType.TOPIC_UPDATED]
assert topics == ["Dinner", "Lunch"], f"topicUpdated history {topics}"
step("update_topic('Dinner') -> get_properties().topic and a topicUpdated message")

# idempotency_token: the same token twice gives the same thread, once
token = str(uuid.uuid4())
first = alice.chat.create_chat_thread("Once", thread_participants=[bob.participant()], idempotency_token=token)
second = alice.chat.create_chat_thread("Once", thread_participants=[bob.participant()], idempotency_token=token)
assert second.chat_thread.id == first.chat_thread.id, f"{second.chat_thread.id} != {first.chat_thread.id}"
assert second.chat_thread.created_on == first.chat_thread.created_on
listed = [t.id for t in alice.chat.list_chat_threads()]
assert listed.count(first.chat_thread.id) == 1, "the retried create made one thread"
other = alice.chat.create_chat_thread("Twice", idempotency_token=str(uuid.uuid4()))
assert other.chat_thread.id != first.chat_thread.id, "a different idempotency token makes another thread"
step("create_chat_thread(idempotency_token=t) twice -> the same thread id")

# An invalid participant (a well-formed id that was never created) is reported, the rest join.
ghost = CommunicationUserIdentifier(ghost_id(alice.id))
wire = Wire()
partial = alice.chat.create_chat_thread(
    "Partial",
    thread_participants=[bob.participant("Bob"), ChatParticipant(identifier=ghost, display_name="Ghost")],
    raw_response_hook=wire,
)
assert wire.last["status"] == 201, wire.last
invalid = wire.last["body"].get("invalidParticipants")
assert [e.get("target") for e in invalid or []] == [ghost.properties["id"]], \
    f"the 201 should list the ghost in invalidParticipants: {wire.last['body']}"
# azure-communication-chat 1.2.0 reads `.errors` from an attribute its generated model does not have, so it is
# None whatever the server sends (and its converter would be handed [[participants]]). Accept that defect, but
# if a fixed SDK fills it in, it must name the ghost.
if partial.errors is not None:
    assert [p.identifier.properties["id"] for p, _ in partial.errors] == [ghost.properties["id"]], partial.errors
    step("  (this SDK fills CreateChatThreadResult.errors)")
joined = participant_ids(alice.thread(partial.chat_thread.id).list_participants())
assert sorted(joined) == sorted([alice.id, bob.id]), f"participants after a partial create: {joined}"
step("create_chat_thread with a never-created user: invalidParticipants names it, the others join")

# list_chat_threads(results_per_page=1, start_time=...) walks each thread exactly once.
walker = new_user(identity)
before = now()
wait_for_clock_tick()
mine = [walker.chat.create_chat_thread(f"t{i}").chat_thread.id for i in range(5)]
walked = pages(walker.chat.list_chat_threads(results_per_page=1, start_time=before))
assert all(len(page) == 1 for page in walked), f"page sizes {[len(p) for p in walked]}"
ids = [page[0].id for page in walked]
assert sorted(ids) == sorted(mine) and len(set(ids)) == len(ids), f"walked {ids}, created {mine}"
assert ids == list(reversed(mine)), f"threads should come newest first: {ids}"
assert all(page[0].topic == f"t{mine.index(page[0].id)}" for page in walked), [p[0].topic for p in walked]
assert all(page[0].last_message_received_on is not None for page in walked)
step("list_chat_threads(results_per_page=1, start_time=...).by_page() visits each of 5 threads once")

# Paging while new threads appear still visits each earlier thread once.
seen = []
for n, page in enumerate(walker.chat.list_chat_threads(results_per_page=2).by_page()):
    seen.extend(t.id for t in page)
    if n == 0:
        walker.chat.create_chat_thread("late")
assert [i for i in seen if i in mine] == list(reversed(mine)) and len(set(seen)) == len(seen), seen
step("list_chat_threads(results_per_page=2).by_page() with a thread created mid-walk: no repeats")

# start_time keeps threads with activity at or after it
wait_for_clock_tick()
cut = now()
wait_for_clock_tick()
walker.thread(mine[0]).send_message("revived")
recent = [t.id for t in walker.chat.list_chat_threads(start_time=cut)]
assert recent == [mine[0]], f"only the revived thread has activity after the cut: {recent}"
future = list(walker.chat.list_chat_threads(start_time=now() + timedelta(minutes=5)))
assert future == [], f"nothing is newer than the future: {[t.id for t in future]}"
step("list_chat_threads(start_time=...) keeps only threads active since then")

# delete_chat_thread: gone for every member
alice.chat.delete_chat_thread(thread.id)
raises(ResourceNotFoundError, bobs.get_properties, what="get_properties of a deleted thread")
raises(ResourceNotFoundError, lambda: bobs.send_message("anyone?"), what="send_message to a deleted thread")
deleted = [t for t in bob.chat.list_chat_threads() if t.id == thread.id]
assert len(deleted) <= 1 and all(t.deleted_on is not None for t in deleted), \
    "a deleted thread is either not listed or listed with deleted_on"
step("delete_chat_thread -> ResourceNotFoundError for members afterwards")

done()
