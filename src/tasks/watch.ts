/**
 * What this daemon does when replicated task records change (a local write or a fact from
 * another member): reputation learns what each op says about its author (`judge.ts`) and
 * which dissenters were outvoted, the coordinator and the executor see the new records
 * (a cancel stops a run here), and watchers get `task:updated`.
 */
import type { ReputationBook } from '../reputation/index.js'
import { dissenters } from '../state/crdt/index.js'
import type { Op, TaskResultBody } from '../state/ops/index.js'
import type { TaskChange } from '../state/store/index.js'
import type { Coordinator } from './coordinator.js'
import type { Executor } from './executor.js'
import { judgeTaskOps } from './judge.js'
import { isNews, taskUpdated } from './projection.js'

export interface RecordWatchInit {
  selfId: string
  reputation: Pick<ReputationBook, 'outcome' | 'behaviour'>
  coordinator: Pick<Coordinator, 'observe' | 'explain'>
  executor: Pick<Executor, 'cancel'>
  /** `task:updated` events go here; `wanted()` false skips them */
  emit: (type: string, data: unknown) => void
  wanted: () => boolean
  /** a line in the daemon's log (forgeries are reported there) */
  line?: (text: string) => void
}

export class RecordWatch {
  constructor (private readonly init: RecordWatchInit) {}

  /** the store's `onTasks`: records a durable write changed, and the ops it applied */
  onTasks (changes: TaskChange[], ops: Op[]): void {
    const { selfId, reputation, coordinator, executor } = this.init
    const records = new Map(changes.map(c => [c.after.taskId, c.after]))
    // reputation: what each op says about its author (see judge.ts)
    const judged = new Set<string>()
    for (const op of ops) if (op.kind === 'task:result') judged.add(`${(op.body as TaskResultBody).taskId}\n${op.author}`)
    for (const verdict of judgeTaskOps(ops, records, selfId)) {
      if ('outcome' in verdict) {
        reputation.outcome(verdict.peer, verdict.outcome)
        continue
      }
      reputation.behaviour(verdict.peer, 'protocol-violation')
      this.init.line?.(`protocol violation by ${verdict.peer} on task ${verdict.taskId}: ${verdict.violation}`)
    }
    for (const { before, after } of changes) {
      coordinator.observe(after)
      if (after.cancelled && before?.cancelled !== true) executor.cancel(after.taskId)
      if (after.state === 'succeeded' && before?.state !== 'succeeded') {
        // dissenters whose result came before the vote was decided
        for (const peer of dissenters(after)) {
          if (peer !== selfId && !judged.has(`${after.taskId}\n${peer}`)) reputation.outcome(peer, 'outvoted')
        }
      }
      if (this.init.wanted() && isNews(before, after)) {
        this.init.emit('task:updated', taskUpdated(after, coordinator.explain(after.taskId)?.waiting))
      }
    }
  }
}
