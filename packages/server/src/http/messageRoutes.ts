/** Chat messages: send, get, list (newest first), update, delete. */
import { USER_MESSAGE_TYPES } from "@parley/protocol";
import { DomainError } from "../domain/errors.js";
import type { ChatService } from "../chat/chatService.js";
import { collect, object, optionalMetadata, optionalString, requiredString } from "./bodies.js";
import { keysetPage, readPageState } from "./paging.js";
import { messageIds, threadIds } from "./params.js";
import type { Pipeline } from "./pipeline.js";
import * as render from "./render.js";

export function messageRoutes(pipeline: Pipeline, chat: ChatService): void {
  pipeline.userToken({
    method: "POST",
    url: "/chat/threads/:threadId/messages",
    body: (json) => {
      const body = object(json);
      if (body instanceof DomainError) return body;
      const fields = collect(requiredString(body, "content"), optionalString(body, "type"), optionalString(body, "senderDisplayName"), optionalMetadata(body));
      if (fields instanceof DomainError) return fields;
      const [content, type = "text", senderDisplayName, metadata] = fields;
      const lower = type.toLowerCase();
      if (!(USER_MESSAGE_TYPES as readonly string[]).includes(lower)) {
        return new DomainError("InvalidRequestBody", `type must be one of ${USER_MESSAGE_TYPES.join(", ")}.`, "type");
      }
      return { content, type: lower as "text" | "html", ...(senderDisplayName !== undefined && { senderDisplayName }), ...(metadata && { metadata }) };
    },
    ids: threadIds,
    handle: async ({ caller, ids: { threadId }, body, origin, rawUrl }) => {
      const sent = await chat.sendMessage(caller, threadId, body);
      if (sent instanceof DomainError) return sent;
      return { status: 201, headers: { location: `${origin}${rawUrl.split("?", 1)[0]}/${sent.id}` }, body: { id: sent.id } };
    },
  });

  pipeline.userToken({
    method: "GET",
    url: "/chat/threads/:threadId/messages",
    ids: threadIds,
    handle: async ({ caller, ids: { threadId }, query, rawUrl, apiVersion }) => {
      const state = readPageState(query, { startTime: true });
      if (state instanceof DomainError) return state;
      const rows = await chat.listMessages(caller, threadId, {
        limit: state.size + 1,
        ...(state.before !== undefined && { beforeSequenceId: state.before }),
        ...(state.startTime !== undefined && { startTime: state.startTime }),
      });
      if (rows instanceof DomainError) return rows;
      return { status: 200, body: keysetPage(rows, state, (m) => m.sequenceId, render.message, { rawUrl, apiVersion }) };
    },
  });

  pipeline.userToken({
    method: "GET",
    url: "/chat/threads/:threadId/messages/:messageId",
    ids: messageIds,
    handle: async ({ caller, ids: { threadId, messageId } }) => {
      const found = await chat.getMessage(caller, threadId, messageId);
      return found instanceof DomainError ? found : { status: 200, body: render.message(found) };
    },
  });

  pipeline.userToken({
    method: "PATCH",
    url: "/chat/threads/:threadId/messages/:messageId",
    body: (json) => {
      const body = object(json);
      if (body instanceof DomainError) return body;
      const fields = collect(optionalString(body, "content"), optionalMetadata(body));
      if (fields instanceof DomainError) return fields;
      const [content, metadata] = fields;
      return { ...(content !== undefined && { content }), ...(metadata && { metadata }) };
    },
    ids: messageIds,
    handle: async ({ caller, ids: { threadId, messageId }, body }) => {
      const updated = await chat.updateMessage(caller, threadId, messageId, body);
      return updated instanceof DomainError ? updated : { status: 204 };
    },
  });

  pipeline.userToken({
    method: "DELETE",
    url: "/chat/threads/:threadId/messages/:messageId",
    ids: messageIds,
    handle: async ({ caller, ids: { threadId, messageId } }) => {
      const deleted = await chat.deleteMessage(caller, threadId, messageId);
      return deleted instanceof DomainError ? deleted : { status: 204 };
    },
  });
}
