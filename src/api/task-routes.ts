/**
 * The task routes of the local API (`paired submit`, `paired tasks`, `paired task ...`):
 * validation, then one call on the daemon's `TaskControl`. A daemon without a task system
 * answers 501 before any validation.
 */
import { NotImplementedError } from './errors.js'
import type { ApiControl, Reply, Route, RouteCall } from './route-types.js'
import {
  TASK_SUBMIT_MANY_MAX_BODY_BYTES, TASK_SUBMIT_MAX_BODY_BYTES, checkTaskId, parseNoQuery, parseTaskListQuery,
  parseTaskSubmit, parseTaskSubmitMany
} from './task-validate.js'
import type { TaskControl } from '../model/docs.js'
import { onlyFields } from './validate.js'

const json = (value: unknown): Reply => ({ kind: 'json', value })

const TASK_METHODS = [
  'taskSubmit', 'taskSubmitMany', 'taskList', 'taskGet', 'taskCancel', 'taskExplain', 'taskLogs', 'taskVerify'
] as const satisfies ReadonlyArray<keyof TaskControl>

/** the control's task system, or `NotImplementedError` when it has none */
export function tasksOf (control: ApiControl): TaskControl {
  for (const method of TASK_METHODS) {
    if (typeof control[method] !== 'function') throw new NotImplementedError('this daemon has no task system')
  }
  return control as TaskControl
}

/** `promise`, or the signal's reason once it aborts (the server turns a deadline into a 504) */
async function untilAborted<T> (promise: Promise<T>, signal: AbortSignal): Promise<T> {
  signal.throwIfAborted()
  let onAbort = (): void => {}
  const aborted = new Promise<never>((_resolve, reject) => {
    onAbort = () => { reject(signal.reason) }
    signal.addEventListener('abort', onAbort, { once: true })
  })
  try {
    return await Promise.race([promise, aborted])
  } finally {
    signal.removeEventListener('abort', onAbort)
  }
}

/** a route on one task: `tasks/:id[/action]`, its id checked, no query parameters */
function oneTask (c: RouteCall): { tasks: TaskControl, taskId: string } {
  const tasks = tasksOf(c.control)
  parseNoQuery(c.query)
  return { tasks, taskId: checkTaskId(c.params.id) }
}

/** the `tasks*` routes under `prefix` (`/api/v1`); the fixed paths come before `tasks/:id` */
export function taskRoutes (prefix: string): Route[] {
  return [
    {
      method: 'POST',
      path: `${prefix}/tasks/submit`,
      maxBody: TASK_SUBMIT_MAX_BODY_BYTES,
      handle: async c => {
        const tasks = tasksOf(c.control)
        return json(await tasks.taskSubmit(parseTaskSubmit(c.body)))
      }
    },
    {
      method: 'POST',
      path: `${prefix}/tasks/submit-many`,
      maxBody: TASK_SUBMIT_MANY_MAX_BODY_BYTES,
      handle: async c => {
        const tasks = tasksOf(c.control)
        const ids = await tasks.taskSubmitMany(parseTaskSubmitMany(c.body))
        return json({ tasks: ids.map(({ taskId }) => ({ taskId })) })
      }
    },
    {
      method: 'GET',
      path: `${prefix}/tasks`,
      handle: async c => {
        const tasks = tasksOf(c.control)
        return json(await tasks.taskList(parseTaskListQuery(c.query)))
      }
    },
    {
      method: 'GET',
      path: `${prefix}/tasks/:id`,
      handle: async c => {
        const { tasks, taskId } = oneTask(c)
        return json(await tasks.taskGet(taskId))
      }
    },
    {
      method: 'POST',
      path: `${prefix}/tasks/:id/cancel`,
      handle: async c => {
        const { tasks, taskId } = oneTask(c)
        onlyFields(c.body, [])
        return json(await tasks.taskCancel(taskId))
      }
    },
    {
      method: 'GET',
      path: `${prefix}/tasks/:id/explain`,
      handle: async c => {
        const { tasks, taskId } = oneTask(c)
        return json(await tasks.taskExplain(taskId))
      }
    },
    {
      method: 'GET',
      path: `${prefix}/tasks/:id/logs`,
      // the lines may come from the executor, over the network
      long: true,
      handle: async c => {
        const { tasks, taskId } = oneTask(c)
        return json(await untilAborted(tasks.taskLogs(taskId), c.signal))
      }
    },
    {
      method: 'GET',
      path: `${prefix}/tasks/:id/verify`,
      handle: async c => {
        const { tasks, taskId } = oneTask(c)
        return json(await tasks.taskVerify(taskId))
      }
    }
  ]
}
