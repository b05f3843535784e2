/** Identity API: users and their access tokens, authenticated with the access key. */
import { DomainError } from "../domain/errors.js";
import type { IdentityService, IssuedToken } from "../identity/identityService.js";
import { collect, object, optionalInteger, optionalStringArray, requiredString } from "./bodies.js";
import { userIds } from "./params.js";
import type { Pipeline } from "./pipeline.js";

const accessToken = (t: IssuedToken) => ({ token: t.token, expiresOn: t.expiresOn.toISOString() });

export function identityRoutes(pipeline: Pipeline, identity: IdentityService): void {
  pipeline.accessKey({
    method: "POST",
    url: "/identities",
    body: (json) => {
      if (json === undefined) return {};
      const body = object(json);
      if (body instanceof DomainError) return body;
      const fields = collect(optionalStringArray(body, "createTokenWithScopes"), optionalInteger(body, "expiresInMinutes"));
      if (fields instanceof DomainError) return fields;
      const [scopes, expiresInMinutes] = fields;
      return { ...(scopes && { scopes }), ...(expiresInMinutes !== undefined && { expiresInMinutes }) };
    },
    handle: async ({ body }) => {
      const created = await identity.createUser(body);
      if (created instanceof DomainError) return created;
      return {
        status: 201,
        body: { identity: { id: created.userId }, ...(created.token && { accessToken: accessToken(created.token) }) },
      };
    },
  });

  pipeline.accessKey({
    method: "POST",
    url: "/identities/:id/::issueAccessToken",
    body: (json) => {
      const body = object(json);
      if (body instanceof DomainError) return body;
      const fields = collect(optionalStringArray(body, "scopes"), optionalInteger(body, "expiresInMinutes"));
      if (fields instanceof DomainError) return fields;
      const [scopes, expiresInMinutes] = fields;
      if (!scopes) return requiredString({}, "scopes") as DomainError;
      return { scopes, expiresInMinutes };
    },
    ids: userIds,
    handle: async ({ ids: { userId }, body }) => {
      const issued = await identity.issueToken(userId, body.scopes, body.expiresInMinutes);
      return issued instanceof DomainError ? issued : { status: 200, body: accessToken(issued) };
    },
  });

  pipeline.accessKey({
    method: "POST",
    url: "/identities/:id/::revokeAccessTokens",
    ids: userIds,
    handle: async ({ ids: { userId } }) => {
      const revoked = await identity.revokeTokens(userId);
      return revoked instanceof DomainError ? revoked : { status: 204 };
    },
  });

  pipeline.accessKey({
    method: "DELETE",
    url: "/identities/:id",
    ids: userIds,
    handle: async ({ ids: { userId } }) => {
      const deleted = await identity.deleteUser(userId);
      return deleted instanceof DomainError ? deleted : { status: 204 };
    },
  });
}
