/** Participants: list (skip paging), add (partial failures reported per participant), remove. */
import { DomainError } from "../domain/errors.js";
import type { ChatService } from "../chat/chatService.js";
import { identifier, object, participants } from "./bodies.js";
import { offsetPage, readPageState } from "./paging.js";
import { threadIds } from "./params.js";
import type { Pipeline } from "./pipeline.js";
import * as render from "./render.js";

export function participantRoutes(pipeline: Pipeline, chat: ChatService): void {
  pipeline.userToken({
    method: "GET",
    url: "/chat/threads/:threadId/participants",
    ids: threadIds,
    handle: async ({ caller, ids: { threadId }, query, rawUrl, apiVersion }) => {
      const state = readPageState(query, { skip: true });
      if (state instanceof DomainError) return state;
      const rows = await chat.listParticipants(caller, threadId, state.skip ?? 0, state.size + 1);
      if (rows instanceof DomainError) return rows;
      return { status: 200, body: offsetPage(rows, state, render.participant, { rawUrl, apiVersion }) };
    },
  });

  pipeline.userToken({
    method: "POST",
    url: "/chat/threads/:threadId/participants/::add",
    body: (json) => {
      const body = object(json);
      return body instanceof DomainError ? body : participants(body, "participants", true);
    },
    ids: threadIds,
    handle: async ({ caller, ids: { threadId }, body }) => {
      const invalid = await chat.addParticipants(caller, threadId, body);
      if (invalid instanceof DomainError) return invalid;
      return { status: 201, body: invalid.length > 0 ? { invalidParticipants: invalid } : {} };
    },
  });

  pipeline.userToken({
    method: "POST",
    url: "/chat/threads/:threadId/participants/::remove",
    body: (json) => identifier(json, "participantCommunicationIdentifier"),
    ids: threadIds,
    handle: async ({ caller, ids: { threadId }, body }) => {
      const removed = await chat.removeParticipant(caller, threadId, body);
      return removed instanceof DomainError ? removed : { status: 204 };
    },
  });
}
