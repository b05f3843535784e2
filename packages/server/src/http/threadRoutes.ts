/** Chat threads: create, get, update, delete, list. */
import { DomainError } from "../domain/errors.js";
import type { ChatService } from "../chat/chatService.js";
import { collect, object, optionalMetadata, optionalRetentionPolicy, optionalString, participants, requiredString } from "./bodies.js";
import { keysetPage, readPageState } from "./paging.js";
import { threadIds } from "./params.js";
import type { Pipeline } from "./pipeline.js";
import * as render from "./render.js";

export function threadRoutes(pipeline: Pipeline, chat: ChatService): void {
  pipeline.userToken({
    method: "POST",
    url: "/chat/threads",
    body: (json) => {
      const body = object(json);
      if (body instanceof DomainError) return body;
      const fields = collect(requiredString(body, "topic"), participants(body), optionalMetadata(body), optionalRetentionPolicy(body));
      if (fields instanceof DomainError) return fields;
      const [topic, members, metadata, retentionPolicy] = fields;
      return { topic, participants: members, ...(metadata && { metadata }), ...(retentionPolicy && { retentionPolicy }) };
    },
    handle: async ({ caller, body, headerValue, origin }) => {
      const idempotencyKey = headerValue("repeatability-request-id");
      const created = await chat.createThread(caller, { ...body, ...(idempotencyKey && { idempotencyKey }) });
      if (created instanceof DomainError) return created;
      return {
        status: 201,
        headers: { location: `${origin}/chat/threads/${encodeURIComponent(created.thread.id)}` },
        body: {
          chatThread: render.threadProperties(created.thread),
          ...(created.invalidParticipants.length > 0 && { invalidParticipants: created.invalidParticipants }),
        },
      };
    },
  });

  pipeline.userToken({
    method: "GET",
    url: "/chat/threads",
    handle: async ({ caller, query, rawUrl, apiVersion }) => {
      const state = readPageState(query, { startTime: true });
      if (state instanceof DomainError) return state;
      const rows = await chat.listThreads(caller, {
        limit: state.size + 1,
        ...(state.before !== undefined && { beforeOrder: state.before }),
        ...(state.startTime !== undefined && { startTime: state.startTime }),
      });
      if (rows instanceof DomainError) return rows;
      return { status: 200, body: keysetPage(rows, state, (t) => t.order, render.threadItem, { rawUrl, apiVersion }) };
    },
  });

  pipeline.userToken({
    method: "GET",
    url: "/chat/threads/:threadId",
    ids: threadIds,
    handle: async ({ caller, ids: { threadId } }) => {
      const thread = await chat.getThread(caller, threadId);
      return thread instanceof DomainError ? thread : { status: 200, body: render.threadProperties(thread) };
    },
  });

  pipeline.userToken({
    method: "PATCH",
    url: "/chat/threads/:threadId",
    body: (json) => {
      const body = object(json);
      if (body instanceof DomainError) return body;
      const fields = collect(optionalString(body, "topic"), optionalMetadata(body), optionalRetentionPolicy(body));
      if (fields instanceof DomainError) return fields;
      const [topic, metadata, retentionPolicy] = fields;
      return { ...(topic !== undefined && { topic }), ...(metadata && { metadata }), ...(retentionPolicy !== undefined && { retentionPolicy }) };
    },
    ids: threadIds,
    handle: async ({ caller, ids: { threadId }, body }) => {
      const updated = await chat.updateThread(caller, threadId, body);
      return updated instanceof DomainError ? updated : { status: 204 };
    },
  });

  pipeline.userToken({
    method: "DELETE",
    url: "/chat/threads/:threadId",
    ids: threadIds,
    handle: async ({ caller, ids: { threadId } }) => {
      const deleted = await chat.deleteThread(caller, threadId);
      return deleted instanceof DomainError ? deleted : { status: 204 };
    },
  });
}
