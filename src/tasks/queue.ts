/**
 * A queue with one FIFO lane per priority: `critical` before `high` before `normal`
 * before `low`, first come first served within a lane. Pure, no timers.
 */
import { TASK_PRIORITIES, type TaskPriority } from '../state/crdt/index.js'

export class LaneQueue<T extends { priority: TaskPriority }> {
  private readonly lanes = new Map<TaskPriority, T[]>(TASK_PRIORITIES.map(p => [p, []]))

  get size (): number {
    let n = 0
    for (const lane of this.lanes.values()) n += lane.length
    return n
  }

  push (item: T): void {
    (this.lanes.get(item.priority) as T[]).push(item)
  }

  /** puts `items` (taken earlier, in the order taken) back at the front of their lanes */
  pushFront (items: readonly T[]): void {
    for (const p of TASK_PRIORITIES) {
      const mine = items.filter(item => item.priority === p)
      if (mine.length > 0) (this.lanes.get(p) as T[]).unshift(...mine)
    }
  }

  /** the first item (in priority order) that `accept` takes, removed; `undefined` if none */
  take (accept: (item: T) => boolean = () => true): T | undefined {
    for (const lane of this.lanes.values()) {
      const i = lane.findIndex(accept)
      if (i >= 0) return lane.splice(i, 1)[0]
    }
    return undefined
  }

  /** removes the items `match` selects; returns them */
  remove (match: (item: T) => boolean): T[] {
    const out: T[] = []
    for (const [p, lane] of this.lanes) {
      const keep: T[] = []
      for (const item of lane) (match(item) ? out : keep).push(item)
      this.lanes.set(p, keep)
    }
    return out
  }

  /** every item, in the order `take` would return them */
  * [Symbol.iterator] (): Iterator<T> {
    for (const lane of this.lanes.values()) yield * lane
  }
}
