"""ChatThreadClient participants: add_participants (success and failures), list_participants with by_page and
skip, remove_participant, share_history_time."""
from datetime import timedelta

from azure.core.exceptions import HttpResponseError
from azure.communication.chat import ChatError, ChatMessageType, ChatParticipant, CommunicationUserIdentifier

from _parley import (done, ghost_id, identity_client, new_user, now, pages, participant_ids, raises, step,
                     wait_for_clock_tick)

identity = identity_client()
alice, bob, carol, dave = (new_user(identity) for _ in range(4))
thread_id = alice.chat.create_chat_thread("Team", thread_participants=[alice.participant("Alice")]).chat_thread.id
mine = alice.thread(thread_id)

# add_participants: success returns an empty list
result = mine.add_participants([bob.participant("Bob"), carol.participant("Carol")])
assert result == [], f"add_participants returned {result!r} for valid users"
again = mine.add_participants([bob.participant("Robert")])
assert again == [], f"adding a member again returned {again!r}"
step("add_participants([Bob, Carol]) -> []; adding Bob again -> []")

# list_participants: results_per_page=1 by_page, and skip
walked = pages(mine.list_participants(results_per_page=1))
assert [len(p) for p in walked] == [1, 1, 1], f"page sizes {[len(p) for p in walked]}"
assert [p[0].display_name for p in walked] == ["Alice", "Bob", "Carol"], [p[0].display_name for p in walked]
assert [p[0].identifier.properties["id"] for p in walked] == [alice.id, bob.id, carol.id]
assert all(isinstance(p[0], ChatParticipant) for p in walked)
skipped = list(mine.list_participants(skip=1))
assert [p.display_name for p in skipped] == ["Bob", "Carol"], [p.display_name for p in skipped]
skipped_paged = pages(mine.list_participants(results_per_page=1, skip=2))
assert [[p.display_name for p in page] for page in skipped_paged] == [["Carol"]], skipped_paged
assert list(mine.list_participants(skip=3)) == []
added = [m for m in mine.list_messages() if m.type == ChatMessageType.PARTICIPANT_ADDED]
assert len(added) == 2, f"the duplicate add must not write a participantAdded message ({len(added)} found)"
assert [p.display_name for p in added[0].content.participants] == ["Bob", "Carol"]
step("list_participants(results_per_page=1).by_page() and skip=1/2/3")

# add_participants with a never-created user: a (participant, ChatError) pair for it, the others join
ghost = ChatParticipant(identifier=CommunicationUserIdentifier(ghost_id(alice.id)), display_name="Ghost")
failures = mine.add_participants([dave.participant("Dave"), ghost])
assert len(failures) == 1, f"expected one failure, got {failures!r}"
failed, error = failures[0]
assert failed is ghost, f"the failure should pair the ghost participant, got {failed.identifier.properties}"
assert isinstance(error, ChatError) and error.code and error.message, vars(error)
assert error.target == ghost.identifier.properties["id"], f"error target {error.target!r}"
assert dave.id in participant_ids(mine.list_participants()), "Dave joined alongside the failed ghost"
step(f"add_participants([Dave, ghost]) -> [(ghost, ChatError {error.code})], Dave joins")

# share_history_time: what a newcomer can see
history_thread = alice.chat.create_chat_thread("History", thread_participants=[alice.participant()]).chat_thread.id
history = alice.thread(history_thread)
early = history.send_message("before the cut").id
wait_for_clock_tick()
cut = now()
wait_for_clock_tick()
late = history.send_message("after the cut").id
assert history.add_participants([bob.participant("Bob", share_history_time=cut)]) == []
visible = [m.id for m in bob.thread(history_thread).list_messages()]
assert late in visible and early not in visible, f"with share_history_time Bob sees {visible}"
listed = {p.identifier.properties["id"]: p for p in history.list_participants()}
expected = cut.replace(microsecond=cut.microsecond // 1000 * 1000)
assert listed[bob.id].share_history_time == expected, f"{listed[bob.id].share_history_time} != {expected}"
step("share_history_time: the newcomer sees only messages after it; list_participants returns it")

# remove_participant: the removed user loses access and the history records it
mine.remove_participant(carol.identifier)
assert carol.id not in participant_ids(mine.list_participants())
raises(HttpResponseError, lambda: carol.thread(thread_id).get_properties(), status=403, what="get_properties after removal")
raises(HttpResponseError, lambda: carol.thread(thread_id).send_message("let me in"), status=403, what="send_message after removal")
assert thread_id not in [t.id for t in carol.chat.list_chat_threads()], "a removed user no longer lists the thread"
removed = [m for m in mine.list_messages() if m.type == ChatMessageType.PARTICIPANT_REMOVED]
assert len(removed) == 1 and participant_ids(removed[0].content.participants) == [carol.id], removed
step("remove_participant(Carol) -> 403 for Carol, a participantRemoved message")

# A member can leave by removing themselves; re-adding restores access.
bob.thread(thread_id).remove_participant(bob.identifier)
raises(HttpResponseError, lambda: bob.thread(thread_id).get_properties(), status=403, what="get_properties after leaving")
assert mine.add_participants([bob.participant("Bob"), carol.participant("Carol")]) == []
assert carol.thread(thread_id).get_properties().topic == "Team"
step("a member removes itself; re-adding restores access")

done()
