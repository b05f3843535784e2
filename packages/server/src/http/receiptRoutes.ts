/** Read receipts and typing notifications. Both answer 200 with no body, as ACS does. */
import { DomainError } from "../domain/errors.js";
import type { ChatService } from "../chat/chatService.js";
import { object, optionalString, requiredString } from "./bodies.js";
import { offsetPage, readPageState } from "./paging.js";
import { threadIds } from "./params.js";
import type { Pipeline } from "./pipeline.js";
import * as render from "./render.js";

export function receiptRoutes(pipeline: Pipeline, chat: ChatService): void {
  pipeline.userToken({
    method: "POST",
    url: "/chat/threads/:threadId/readReceipts",
    body: (json) => {
      const body = object(json);
      return body instanceof DomainError ? body : requiredString(body, "chatMessageId");
    },
    ids: threadIds,
    handle: async ({ caller, ids: { threadId }, body }) => {
      const receipt = await chat.sendReadReceipt(caller, threadId, body);
      return receipt instanceof DomainError ? receipt : { status: 200 };
    },
  });

  pipeline.userToken({
    method: "GET",
    url: "/chat/threads/:threadId/readReceipts",
    ids: threadIds,
    handle: async ({ caller, ids: { threadId }, query, rawUrl, apiVersion }) => {
      const state = readPageState(query, { skip: true });
      if (state instanceof DomainError) return state;
      const rows = await chat.listReadReceipts(caller, threadId, state.skip ?? 0, state.size + 1);
      if (rows instanceof DomainError) return rows;
      return { status: 200, body: offsetPage(rows, state, render.readReceipt, { rawUrl, apiVersion }) };
    },
  });

  pipeline.userToken({
    method: "POST",
    url: "/chat/threads/:threadId/typing",
    // The body is optional (api-version 2021-03-07 sends none).
    body: (json) => {
      if (json === undefined) return undefined;
      const body = object(json);
      return body instanceof DomainError ? body : optionalString(body, "senderDisplayName");
    },
    ids: threadIds,
    handle: async ({ caller, ids: { threadId }, body }) => {
      const sent = await chat.sendTyping(caller, threadId, body);
      return sent instanceof DomainError ? sent : { status: 200 };
    },
  });
}
