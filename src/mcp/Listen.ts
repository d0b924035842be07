/**
 * A thin decorator over the stdio wire transport (no framing of its own): it
 * sees each `subscriptions/listen` request on its way in, before the SDK's
 * listen router acknowledges it, so the connection's session starts watching
 * those resources first (no change after the ack is missed), and sees the
 * `notifications/cancelled` that ends one. It also reports when the wire closes.
 * Everything else passes through untouched and in order.
 */
import type { JSONRPCMessage, MessageExtraInfo, Transport } from "@modelcontextprotocol/server"
import { TransportDecorator } from "./TransportDecorator.ts"

type Id = string | number

export interface ListenHooks {
  /** A listen stream opened for these resource URIs; the ack waits for the returned promise. */
  readonly listen: (id: Id, uris: ReadonlyArray<string>) => Promise<void>
  readonly cancel: (id: Id) => void
  readonly closed: () => void
}

const resourceUris = (params: unknown): ReadonlyArray<string> => {
  const notifications = (params as { notifications?: { resourceSubscriptions?: unknown } } | undefined)?.notifications
  const uris = notifications?.resourceSubscriptions
  return Array.isArray(uris) ? uris.filter((u): u is string => typeof u === "string") : []
}

export class ListenAwareTransport extends TransportDecorator {
  /** Messages wait behind a listen being set up, to keep their order. */
  private pending: Promise<void> | undefined

  private readonly hooks: ListenHooks

  constructor(inner: Transport, hooks: ListenHooks) {
    super(inner)
    this.hooks = hooks
  }

  protected closed(): void {
    this.hooks.closed()
  }

  protected inbound(message: JSONRPCMessage, extra?: MessageExtraInfo): void {
    const m = message as { method?: unknown; id?: unknown; params?: { requestId?: unknown } }
    let first: (() => Promise<void>) | undefined
    if (m.method === "subscriptions/listen" && (typeof m.id === "string" || typeof m.id === "number")) {
      const id = m.id
      const uris = resourceUris(m.params)
      if (uris.length > 0) first = () => this.hooks.listen(id, uris)
    } else if (m.method === "notifications/cancelled" && m.id === undefined) {
      const id = m.params?.requestId
      if (typeof id === "string" || typeof id === "number") {
        if (this.pending === undefined) this.hooks.cancel(id)
        else first = () => Promise.resolve(this.hooks.cancel(id))
      }
    }
    if (first === undefined && this.pending === undefined) {
      this.onmessage?.(message, extra)
      return
    }
    const next = (this.pending ?? Promise.resolve())
      .then(first)
      .catch(() => undefined)
      .then(() => {
        this.onmessage?.(message, extra)
        if (this.pending === next) this.pending = undefined
      })
    this.pending = next
  }
}
