/**
 * What the HTTP listener serves besides `/mcp`, without a token: `GET /healthz` (the process
 * serves), `GET /readyz` (Redis answers a PING within the command timeout; memory mode always
 * ready; the body is the `health` tool's output), `GET /metrics` (Prometheus text), and with OAuth
 * the RFC 9728 protected-resource metadata.
 */
import type { IncomingMessage, ServerResponse } from "node:http"
import { Effect, Option } from "effect"
import * as Metrics from "../layers/Metrics.ts"
import { Admin } from "../services/Admin.ts"
import type { Services } from "../services/Stack.ts"
import { metadataPaths, protectedResourceMetadata } from "./auth/ResourceMetadata.ts"
import { send, sendJson } from "./HttpReply.ts"
import type { Runner } from "./Resources.ts"

export interface EndpointOptions {
  readonly run: Runner<Services>
  /** How long Redis has to answer the readiness PING. */
  readonly timeoutMs: number
  /** With OAuth: the issuer, and this server's resource identifier (else derived from the request). */
  readonly oauth: { readonly issuer: string; readonly resource: URL | undefined } | undefined
}

/** This server's `/mcp` URL as the client reached it (for metadata when no resource is configured). */
export const resourceFromRequest = (req: IncomingMessage): URL => {
  const forwarded = String(req.headers["x-forwarded-proto"] ?? "")
    .split(",")[0]!
    .trim()
  const scheme = forwarded === "https" ? "https" : "http"
  return new URL(`${scheme}://${req.headers.host ?? "localhost"}/mcp`)
}

const readiness = (timeoutMs: number) =>
  Effect.gen(function* () {
    const admin = yield* Admin
    const pinged = yield* admin.ping().pipe(Effect.timeoutOption(timeoutMs), Effect.option)
    const health = yield* admin.health.pipe(Effect.timeoutOption(timeoutMs))
    const ready = Option.isSome(health) && (health.value.mode === "memory" || Option.isSome(Option.flatten(pinged)))
    const body = Option.isSome(health)
      ? health.value
      : { state: "unresponsive", lastError: `Redis did not answer within ${timeoutMs} ms` }
    return { ready, body }
  })

/** Serves the request when it is one of these endpoints; false when it is not (the caller goes on). */
export const makeEndpoints = (options: EndpointOptions) => {
  const wellKnown = new Set(
    options.oauth === undefined
      ? []
      : metadataPaths(options.oauth.resource ?? new URL("http://localhost/mcp")).concat(
          "/.well-known/oauth-protected-resource"
        )
  )
  return async (req: IncomingMessage, res: ServerResponse, path: string): Promise<boolean> => {
    const known = path === "/healthz" || path === "/readyz" || path === "/metrics" || wellKnown.has(path)
    if (!known) return false
    if (req.method !== "GET" && req.method !== "HEAD") {
      sendJson(
        res,
        405,
        { error: "method_not_allowed", error_description: `${path} answers GET only` },
        { allow: "GET" }
      )
      return true
    }
    if (path === "/healthz") sendJson(res, 200, { status: "ok" })
    else if (path === "/readyz") {
      const { ready, body } = await options.run(readiness(options.timeoutMs))
      sendJson(res, ready ? 200 : 503, body)
    } else if (path === "/metrics") send(res, 200, Metrics.CONTENT_TYPE, await options.run(Metrics.render))
    else {
      const oauth = options.oauth!
      sendJson(
        res,
        200,
        protectedResourceMetadata({ resource: oauth.resource ?? resourceFromRequest(req), issuer: oauth.issuer })
      )
    }
    return true
  }
}
