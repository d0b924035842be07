/**
 * What pub/sub subscriptions hold until they are read, capped so that no
 * publisher can make the server hold more: per subscription a number of
 * messages and of bytes (a message plus its channel name), and all together a
 * number of bytes. The oldest messages go first (past the shared cap, those of
 * the subscription holding the most); a message bigger than a buffer is not
 * kept at all. Every loss is counted for the subscription's next read.
 */
import type { PubSubSettings } from "../layers/Config.ts"
import type { Message } from "./PubSub.ts"
import { fromBuffer } from "./Values.ts"

export interface Incoming {
  readonly channel: string
  readonly pattern?: string
  readonly message: Buffer
}

interface Held extends Incoming {
  readonly receivedAt: number
  /** What it counts against the byte caps. */
  readonly bytes: number
}

/** One subscription's messages, and what it lost since its last read. */
export class Mailbox {
  readonly messages: Array<Held> = []
  bytes = 0
  dropped = 0
  droppedBytes = 0
}

const asMessage = ({ channel, pattern, receivedAt }: Held, bytes: Buffer): Message => {
  const { value, encoding } = fromBuffer(bytes)
  return { channel, ...(pattern === undefined ? {} : { pattern }), message: value, encoding, receivedAt }
}

export class Mailboxes {
  private readonly boxes = new Set<Mailbox>()
  private readonly caps: Pick<PubSubSettings, "bufferSize" | "bufferBytes" | "totalBytes">
  /** Bytes held by every mailbox together. */
  held = 0

  constructor(caps: Pick<PubSubSettings, "bufferSize" | "bufferBytes" | "totalBytes">) {
    this.caps = caps
  }

  open(): Mailbox {
    const box = new Mailbox()
    this.boxes.add(box)
    return box
  }

  /** Let go of a mailbox and all it holds. */
  close(box: Mailbox): void {
    if (!this.boxes.delete(box)) return
    this.held -= box.bytes
    box.messages.length = 0
    box.bytes = 0
  }

  /** Keep a message that just arrived, making room by dropping the oldest where a cap says so. */
  put(box: Mailbox, incoming: Incoming, receivedAt: number): void {
    const bytes =
      incoming.message.length + Buffer.byteLength(incoming.channel) + Buffer.byteLength(incoming.pattern ?? "")
    if (bytes > this.caps.bufferBytes || bytes > this.caps.totalBytes) {
      box.dropped++
      box.droppedBytes += bytes
      return
    }
    while (box.messages.length >= this.caps.bufferSize || box.bytes + bytes > this.caps.bufferBytes) {
      this.shift(box, true)
    }
    while (this.held + bytes > this.caps.totalBytes) {
      const fullest = this.fullest()
      if (fullest === undefined || fullest.messages.length === 0) break
      this.shift(fullest, true)
    }
    box.messages.push({ ...incoming, receivedAt, bytes })
    box.bytes += bytes
    this.held += bytes
  }

  /**
   * Messages for one read, oldest first: at most `maxCount`, their JSON within
   * `budget` bytes (a first message alone over it comes as its start, cut).
   */
  take(box: Mailbox, maxCount: number, budget: number): Array<Message> {
    const out: Array<Message> = []
    let used = 0
    while (out.length < maxCount && box.messages.length > 0) {
      const held = box.messages[0]!
      const full = asMessage(held, held.message)
      const size = Buffer.byteLength(JSON.stringify(full))
      if (used + size <= budget) {
        out.push(full)
        used += size
      } else if (out.length === 0) {
        out.push({
          ...asMessage(held, held.message.subarray(0, Math.floor(budget / 6))),
          truncated: true,
          length: held.message.length
        })
      } else break
      this.shift(box, false)
    }
    return out
  }

  /** What the mailbox lost since the last call (then counted from zero again). */
  losses(box: Mailbox): { readonly dropped: number; readonly droppedBytes: number } {
    const { dropped, droppedBytes } = box
    box.dropped = 0
    box.droppedBytes = 0
    return { dropped, droppedBytes }
  }

  private shift(box: Mailbox, lost: boolean): void {
    const held = box.messages.shift()!
    box.bytes -= held.bytes
    this.held -= held.bytes
    if (lost) {
      box.dropped++
      box.droppedBytes += held.bytes
    }
  }

  /** The mailbox holding the most bytes: it gives way when all of them together are full. */
  private fullest(): Mailbox | undefined {
    let out: Mailbox | undefined
    for (const box of this.boxes) if (out === undefined || box.bytes > out.bytes) out = box
    return out
  }
}
