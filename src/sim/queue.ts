/**
 * The simulator's event queue: a binary min-heap on (time, class, seq). `seq` is the
 * insertion count, so events due at the same virtual ms run in the order they were
 * scheduled, and a run never depends on the heap's internal layout. `class` lets a
 * deferred batch run its timers before its messages, as Node's event loop does after a
 * stall (timers phase before the poll phase).
 */

export interface Scheduled<E> {
  at: number
  cls: number
  seq: number
  event: E
}

export class EventQueue<E> {
  private readonly heap: Array<Scheduled<E>> = []
  private seq = 0

  get size (): number {
    return this.heap.length
  }

  push (at: number, event: E, cls = 1): void {
    const item: Scheduled<E> = { at, cls, seq: this.seq++, event }
    const h = this.heap
    h.push(item)
    let i = h.length - 1
    while (i > 0) {
      const p = (i - 1) >> 1
      if (!before(item, h[p])) break
      h[i] = h[p]
      i = p
    }
    h[i] = item
  }

  peekTime (): number {
    return this.heap.length === 0 ? Infinity : this.heap[0].at
  }

  pop (): Scheduled<E> | undefined {
    const h = this.heap
    if (h.length === 0) return undefined
    const top = h[0]
    const last = h.pop() as Scheduled<E>
    if (h.length > 0) {
      let i = 0
      const n = h.length
      for (;;) {
        const l = 2 * i + 1
        if (l >= n) break
        const r = l + 1
        const c = r < n && before(h[r], h[l]) ? r : l
        if (!before(h[c], last)) break
        h[i] = h[c]
        i = c
      }
      h[i] = last
    }
    return top
  }
}

function before<E> (x: Scheduled<E>, y: Scheduled<E>): boolean {
  if (x.at !== y.at) return x.at < y.at
  if (x.cls !== y.cls) return x.cls < y.cls
  return x.seq < y.seq
}
