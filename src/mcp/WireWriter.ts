/**
 * Ordered writes to stdout that respect backpressure. Messages sent in one turn
 * of the event loop leave in one `write` at its end (a pipe write is a system
 * call: one per batch instead of one per message), each batch no bigger than the
 * room left under the stream's high-water mark (or one message), and nothing more
 * is written while the stream is over it, so a slow reader holds back the senders
 * instead of growing an unbounded buffer.
 */
import type { Writable } from "node:stream"

interface Waiter {
  readonly resolve: () => void
  readonly reject: (error: Error) => void
}

/** A message waiting to be written; `waiter` when its sender awaits it. */
interface Pending {
  readonly text: string
  readonly waiter: Waiter | undefined
}

export class WireWriter {
  private queue: Array<Pending> = []
  private scheduled = false
  private waitingForDrain = false
  /** The senders of the batch whose write crossed the high-water mark: they wait for `drain`. */
  private crossed: Array<Waiter> = []
  private unflushed = 0
  private failure: Error | undefined
  private flushWaiters: Array<() => void> = []

  private readonly output: Writable

  constructor(output: Writable) {
    this.output = output
  }

  /** Resolves once the text is written, or queued by the stream under its high-water mark. */
  write(text: string): Promise<void> {
    if (this.failure !== undefined) return Promise.reject(this.failure)
    return new Promise((resolve, reject) => this.enqueue(text, { resolve, reject }))
  }

  /** The same without a promise, for a sender that does not wait (a failure is the stream's to report). */
  post(text: string): void {
    if (this.failure === undefined) this.enqueue(text, undefined)
  }

  /** Resolves when every accepted message has been handed to the OS (or the writer failed). */
  flushed(): Promise<void> {
    if (this.isFlushed()) return Promise.resolve()
    return new Promise((resolve) => this.flushWaiters.push(resolve))
  }

  /** Writes what is queued now instead of at the end of the turn (as far as backpressure allows). */
  flushNow(): void {
    if (this.failure === undefined) this.pump()
  }

  /** Rejects everything queued and every later write with `error`. */
  fail(error: Error): void {
    if (this.failure !== undefined) return
    this.failure = error
    const waiters = [...this.crossed, ...this.queue.flatMap((p) => (p.waiter === undefined ? [] : [p.waiter]))]
    this.queue = []
    this.crossed = []
    for (const w of waiters) w.reject(error)
    this.notifyFlushed()
  }

  private enqueue(text: string, waiter: Waiter | undefined): void {
    this.queue.push({ text, waiter })
    if (this.scheduled) return
    this.scheduled = true
    setImmediate(this.flush)
  }

  private isFlushed(): boolean {
    return this.failure !== undefined || (this.queue.length === 0 && !this.waitingForDrain && this.unflushed === 0)
  }

  private readonly flush = (): void => {
    this.scheduled = false
    this.pump()
  }

  private pump(): void {
    while (!this.waitingForDrain && this.failure === undefined && this.queue.length > 0) {
      if (this.output.writableNeedDrain) {
        this.awaitDrain([])
        return
      }
      const room = this.output.writableHighWaterMark - this.output.writableLength
      let n = 0
      let size = 0
      while (n < this.queue.length && (n === 0 || size + this.queue[n]!.text.length <= room)) {
        size += this.queue[n]!.text.length
        n++
      }
      const batch = this.queue.splice(0, n)
      const text = n === 1 ? batch[0]!.text : batch.map((p) => p.text).join("")
      this.unflushed++
      const belowMark = this.output.write(text, () => {
        this.unflushed--
        this.notifyFlushed()
      })
      const waiters = batch.flatMap((p) => (p.waiter === undefined ? [] : [p.waiter]))
      if (belowMark) for (const w of waiters) w.resolve()
      else this.awaitDrain(waiters)
    }
    this.notifyFlushed()
  }

  private awaitDrain(crossed: Array<Waiter>): void {
    this.waitingForDrain = true
    this.crossed = crossed
    this.output.once("drain", () => {
      if (this.failure !== undefined) return
      this.waitingForDrain = false
      const released = this.crossed
      this.crossed = []
      for (const w of released) w.resolve()
      this.pump()
    })
  }

  private notifyFlushed(): void {
    if (!this.isFlushed()) return
    const waiters = this.flushWaiters
    this.flushWaiters = []
    for (const w of waiters) w()
  }
}
