"""ChatThreadClient: send_typing_notification, send_read_receipt, list_read_receipts (paging and skip)."""
from azure.core.exceptions import HttpResponseError
from azure.communication.chat import ChatMessageReadReceipt

from _parley import Wire, done, identity_client, new_user, now, pages, raises, step

identity = identity_client()
alice, bob, carol = new_user(identity), new_user(identity), new_user(identity)
thread_id = alice.chat.create_chat_thread(
    "Receipts", thread_participants=[alice.participant("Alice"), bob.participant("Bob"), carol.participant("Carol")]
).chat_thread.id
mine, bobs, carols = alice.thread(thread_id), bob.thread(thread_id), carol.thread(thread_id)

# send_typing_notification: with and without a display name; Python does not throttle, every call is sent
wire = Wire()
assert bobs.send_typing_notification(sender_display_name="Bob", raw_response_hook=wire) is None
assert bobs.send_typing_notification(raw_response_hook=wire) is None
assert bobs.send_typing_notification(raw_response_hook=wire) is None
assert [e["status"] for e in wire.exchanges] == [200, 200, 200], wire.exchanges
step("send_typing_notification(sender_display_name='Bob') and without a name, 3 requests, each 200")

# send_read_receipt / list_read_receipts
m1 = mine.send_message("one").id
m2 = mine.send_message("two").id
m3 = mine.send_message("three").id
before = now()
mine.send_read_receipt(m3)
bobs.send_read_receipt(m1)
carols.send_read_receipt(m2)
mine.send_read_receipt(m1)  # older than alice's last receipt: her horizon stays at m3
receipts = list(mine.list_read_receipts())
assert all(isinstance(r, ChatMessageReadReceipt) for r in receipts)
by_sender = {r.sender.properties["id"]: r for r in receipts}
assert sorted(by_sender) == sorted([alice.id, bob.id, carol.id]), f"receipt senders {sorted(by_sender)}"
assert len(receipts) == 3, f"one receipt per member, got {len(receipts)}"
assert by_sender[alice.id].chat_message_id == m3, by_sender[alice.id].chat_message_id
assert by_sender[bob.id].chat_message_id == m1, by_sender[bob.id].chat_message_id
assert by_sender[carol.id].chat_message_id == m2, by_sender[carol.id].chat_message_id
assert all(abs((r.read_on - before).total_seconds()) < 10 for r in receipts), [r.read_on for r in receipts]
step("send_read_receipt by three members; list_read_receipts returns each member's latest")

# list_read_receipts(results_per_page=1) pages, and skip
walked = pages(bobs.list_read_receipts(results_per_page=1))
assert [len(p) for p in walked] == [1, 1, 1], [len(p) for p in walked]
walked_ids = [p[0].sender.properties["id"] for p in walked]
assert sorted(walked_ids) == sorted(by_sender) and len(set(walked_ids)) == 3, walked_ids
skipped = pages(bobs.list_read_receipts(results_per_page=1, skip=1))
assert [p[0].sender.properties["id"] for p in skipped] == walked_ids[1:], (skipped, walked_ids)
assert [r.sender.properties["id"] for r in bobs.list_read_receipts(skip=2)] == walked_ids[2:]
assert list(bobs.list_read_receipts(skip=3)) == []
step("list_read_receipts(results_per_page=1).by_page() and skip=1/2/3")

# A receipt for a message that does not exist is refused.
error = raises(HttpResponseError, lambda: mine.send_read_receipt("999"), what="send_read_receipt of an unknown message")
assert error.status_code in (400, 404), f"unknown message id should be 400/404, got {error.status_code}"
step(f"send_read_receipt(unknown id) -> HTTP {error.status_code}")

done()
