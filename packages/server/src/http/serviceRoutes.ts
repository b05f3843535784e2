/** Health and discovery endpoints. */
import type { Pipeline } from "./pipeline.js";

export function serviceRoutes(pipeline: Pipeline, options: { isReady: () => boolean }): void {
  pipeline.open({
    method: "GET",
    url: "/healthz",
    handle: async () =>
      options.isReady() ? { status: 200, body: { status: "ok" } } : { status: 503, body: { status: "shutting down" } },
  });

  // The browser SDK asks here where to open its real-time connection. Real events over these URLs
  // come with the Trouter emulation; until then the answer only has to satisfy the SDK's checks.
  pipeline.userToken({
    method: "GET",
    url: "/chat/config/realTimeNotifications",
    handle: async ({ origin }) => ({
      status: 200,
      body: { trouterServiceUrl: `${origin}/trouter`, registrarServiceUrl: `${origin}/registrar`, cloudType: "Public" },
    }),
  });
}
