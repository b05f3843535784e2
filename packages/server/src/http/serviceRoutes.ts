/** Health and discovery endpoints. */
import type { Pipeline } from "./pipeline.js";

export interface ServiceRouteOptions {
  isReady: () => boolean;
  /** Told when a user asks for the real-time configuration (the Trouter emulation starts its cursor there). */
  onRealtimeConfig?: (userId: string) => Promise<void>;
}

export function serviceRoutes(pipeline: Pipeline, options: ServiceRouteOptions): void {
  pipeline.open({
    method: "GET",
    url: "/healthz",
    handle: async () =>
      options.isReady() ? { status: 200, body: { status: "ok" } } : { status: 503, body: { status: "shutting down" } },
  });

  // The official browser SDK asks here where to open its real-time connection: Parley's own
  // Trouter emulation (trouter/), on the origin the client used — same host, port and scheme as
  // the API, so HTTPS clients get https/wss and clients that opted into http get http/ws. No
  // trailing slashes: the SDK appends "/v4/a" and "/v3/registrations".
  // The SDK builds this URL as `${endpoint}/chat/config/…`, so an endpoint written with a trailing
  // slash (as connection strings and Parley's own endpoint.json have it) asks for `//chat/config/…`.
  for (const url of ["/chat/config/realTimeNotifications", "//chat/config/realTimeNotifications"]) {
    pipeline.userToken({
      method: "GET",
      url,
      handle: async ({ origin, caller }) => {
        await options.onRealtimeConfig?.(caller.userId);
        return {
          status: 200,
          body: { trouterServiceUrl: `${origin}/trouter`, registrarServiceUrl: `${origin}/registrar`, cloudType: "Public" },
        };
      },
    });
  }
}
