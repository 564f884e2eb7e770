import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { ApiServer, ValueTooLargeError, ensureApiToken } from '../../../src/api/index.js'
import {
  MAX_TASK_INPUT_BYTES, checkTaskId, parseTaskListQuery, parseTaskSubmit, parseTaskSubmitMany
} from '../../../src/api/task-validate.js'
import type {
  TaskControl, TaskDoc, TaskExplainDoc, TaskLogsDoc, TaskStateName, TaskSubmit, TaskSummaryDoc, TaskVerifyDoc
} from '../../../src/model/docs.js'
import { NotFoundError } from '../../../src/errors.js'
import { PEER_A, PEER_B, StubControl, call, expectNotImplemented, named, pendingTaskDoc, type Reply } from './helpers.js'

/**
 * The stub control with a fake task system: it records each call and answers canned
 * documents; `hangLogs` makes `taskLogs` never answer (for the deadline).
 */
class TaskStubControl extends StubControl implements TaskControl {
  hangLogs = false

  doc (taskId: string, spec: TaskSubmit = { agent: 'echo' }): TaskDoc {
    return pendingTaskDoc(taskId, spec)
  }

  private known (taskId: string): TaskDoc {
    if (taskId.startsWith('missing')) throw new NotFoundError(`no task ${taskId}`)
    return this.doc(taskId)
  }

  async taskSubmit (spec: TaskSubmit): Promise<TaskDoc> {
    this.record('taskSubmit', spec)
    return this.doc('t1', spec)
  }

  async taskSubmitMany (specs: TaskSubmit[]): Promise<Array<{ taskId: string }>> {
    this.record('taskSubmitMany', specs)
    return specs.map((_, i) => ({ taskId: `t${i + 1}` }))
  }

  async taskList (filter: { state?: TaskStateName, limit?: number }): Promise<TaskSummaryDoc[]> {
    this.record('taskList', filter)
    const { input: _i, labels: _l, needs: _n, timeoutMs: _t, retries: _r, replicas: _p, coordinator: _c, adoptions: _a, cancelled: _x, cancelRequests: _cr, result: _res, results: _rs, leases: _ls, startedWall: _s, waiting: _w, ...summary } = this.doc('t1')
    return [summary]
  }

  async taskGet (taskId: string): Promise<TaskDoc> {
    this.record('taskGet', taskId)
    return this.known(taskId)
  }

  async taskCancel (taskId: string): Promise<TaskDoc> {
    this.record('taskCancel', taskId)
    return { ...this.known(taskId), state: 'cancelled', cancelled: true }
  }

  async taskExplain (taskId: string): Promise<TaskExplainDoc> {
    this.record('taskExplain', taskId)
    return { taskId: this.known(taskId).taskId, state: 'pending', lines: ['no peer has agent echo'], placement: null }
  }

  async taskLogs (taskId: string): Promise<TaskLogsDoc> {
    this.record('taskLogs', taskId)
    if (this.hangLogs) await new Promise(() => {})
    return { taskId: this.known(taskId).taskId, lines: ['starting', 'done'], truncated: false, source: PEER_B }
  }

  async taskVerify (taskId: string): Promise<TaskVerifyDoc> {
    this.record('taskVerify', taskId)
    return { taskId: this.known(taskId).taskId, ok: true, executor: PEER_B, receipt: { taskId, attempt: 1 } }
  }
}

describe('task validation (pure)', () => {
  it('a minimal spec gets priority normal and input null; a full one passes as it is', () => {
    expect(parseTaskSubmit({ agent: 'echo' })).toEqual({ agent: 'echo', input: null, priority: 'normal' })
    const full = {
      agent: 'build.v2_x-y',
      input: { files: ['a', 'b'], n: 1 },
      priority: 'critical',
      labels: { os: 'linux', gpu: '' },
      needs: { cores: 0, memMb: 512 },
      timeoutMs: 86_400_000,
      retries: 0,
      replicas: 7
    }
    expect(parseTaskSubmit(full)).toEqual(full)
    expect(parseTaskSubmit({ agent: 'a', input: 'text', timeoutMs: 1, retries: 20, replicas: 1 }))
      .toEqual({ agent: 'a', input: 'text', priority: 'normal', timeoutMs: 1, retries: 20, replicas: 1 })
    // null for an optional field is "not given", but null is a real input
    expect(parseTaskSubmit({ agent: 'a', input: null, priority: null, labels: null })).toEqual({ agent: 'a', input: null, priority: 'normal' })
  })

  it('each problem is one InvalidArgumentError line naming the field', () => {
    const cases: Array<[unknown, RegExp]> = [
      [{}, /^agent is required$/],
      [{ agent: 'Build' }, /^agent must be 1 to 64 characters of a-z 0-9 \. _ -, starting with a letter or digit \(got "Build"\)$/],
      [{ agent: '-x' }, /^agent must be/],
      [{ agent: 'a'.repeat(65) }, /^agent must be/],
      [{ agent: 7 }, /^agent must be .*\(got 7\)$/],
      [{ agent: 'a', priority: 'urgent' }, /^priority must be one of critical, high, normal, low \(got "urgent"\)$/],
      [{ agent: 'a', labels: ['x'] }, /^labels must be an object of strings/],
      [{ agent: 'a', labels: { os: 1 } }, /^labels\.os must be a string \(got 1\)$/],
      [{ agent: 'a', labels: { '': 'x' } }, /^labels: a label name must be 1 to 64 characters/],
      [{ agent: 'a', labels: { k: 'v'.repeat(257) } }, /^labels\.k must be at most 256 characters/],
      [{ agent: 'a', labels: Object.fromEntries(Array.from({ length: 33 }, (_, i) => [`k${i}`, 'v'])) }, /^labels may hold at most 32 labels \(it holds 33\)$/],
      [{ agent: 'a', needs: 4 }, /^needs must be an object \{cores\?, memMb\?\}$/],
      [{ agent: 'a', needs: { cores: -1 } }, /^needs\.cores must be a whole number from 0 to 4096 \(got -1\)$/],
      [{ agent: 'a', needs: { memMb: 1.5 } }, /^needs\.memMb must be a whole number from 0 to/],
      [{ agent: 'a', needs: { gpus: 1 } }, /^needs: unknown field "gpus" \(expected cores, memMb\)$/],
      [{ agent: 'a', timeoutMs: 0 }, /^timeoutMs must be a whole number from 1 to 86400000 \(got 0\)$/],
      [{ agent: 'a', timeoutMs: 86_400_001 }, /^timeoutMs must be a whole number from 1 to 86400000/],
      [{ agent: 'a', timeoutMs: '30s' }, /^timeoutMs must be a whole number .*\(got "30s"\)$/],
      [{ agent: 'a', retries: 21 }, /^retries must be a whole number from 0 to 20 \(got 21\)$/],
      [{ agent: 'a', replicas: 0 }, /^replicas must be a whole number from 1 to 7 \(got 0\)$/],
      [{ agent: 'a', replicas: 8 }, /^replicas must be a whole number from 1 to 7/],
      [{ agent: 'a', executor: PEER_B }, /^unknown field "executor" \(expected agent, input, priority, labels, needs, timeoutMs, retries, replicas\)$/],
      [{ agent: 'a', input: 10n }, /^input must be a JSON value/]
    ]
    for (const [body, message] of cases) {
      let error: Error | undefined
      try { parseTaskSubmit(body) } catch (err) { error = err as Error }
      expect(error?.name, JSON.stringify(body, (_k, v: unknown) => typeof v === 'bigint' ? String(v) : v)).toBe('InvalidArgumentError')
      expect(error?.message).toMatch(message)
      expect(error?.message).not.toContain('\n')
    }
  })

  it('an input of 1 MiB of JSON is accepted; one byte more is a ValueTooLargeError', () => {
    const exact = 'x'.repeat(MAX_TASK_INPUT_BYTES - 2)
    expect(parseTaskSubmit({ agent: 'a', input: exact }).input).toBe(exact)
    expect(() => parseTaskSubmit({ agent: 'a', input: exact + 'x' })).toThrow(ValueTooLargeError)
    expect(() => parseTaskSubmit({ agent: 'a', input: exact + 'x' })).toThrow('input of 1048577 bytes is over the 1 MiB limit')
  })

  it('submit-many: 1 to 1,000 specs; an error names the index', () => {
    expect(parseTaskSubmitMany({ tasks: [{ agent: 'a' }, { agent: 'b', priority: 'low' }] })).toEqual([
      { agent: 'a', input: null, priority: 'normal' }, { agent: 'b', input: null, priority: 'low' }
    ])
    expect(() => parseTaskSubmitMany({})).toThrow(/^tasks is required$/)
    expect(() => parseTaskSubmitMany({ tasks: {} })).toThrow(/^tasks must be an array/)
    expect(() => parseTaskSubmitMany({ tasks: [] })).toThrow(/^tasks must hold 1 to 1000 task specs \(it holds 0\)$/)
    expect(() => parseTaskSubmitMany({ tasks: Array.from({ length: 1001 }, () => ({ agent: 'a' })) })).toThrow(/it holds 1001/)
    expect(() => parseTaskSubmitMany({ tasks: [{ agent: 'a' }, { agent: 'a', retries: -1 }] })).toThrow(/^tasks\[1\]\.retries must be a whole number/)
    expect(() => parseTaskSubmitMany({ tasks: [{ agent: 'a' }, 'b'] })).toThrow(/^tasks\[1\] must be an object/)
    expect(() => parseTaskSubmitMany({ tasks: [{ agent: 'a', foo: 1 }] })).toThrow(/^tasks\[0\]: unknown field "foo"/)
    expect(() => parseTaskSubmitMany({ tasks: [{ agent: 'a', input: 'x'.repeat(MAX_TASK_INPUT_BYTES) }] }))
      .toThrow('tasks[0].input of 1048578 bytes is over the 1 MiB limit')
    expect(() => parseTaskSubmitMany({ tasks: [], extra: 1 })).toThrow(/^unknown field "extra"/)
  })

  it('list queries and task ids', () => {
    expect(parseTaskListQuery(new URLSearchParams())).toEqual({ limit: 1000 })
    expect(parseTaskListQuery(new URLSearchParams('state=running&limit=10000'))).toEqual({ state: 'running', limit: 10_000 })
    expect(() => parseTaskListQuery(new URLSearchParams('state=done'))).toThrow(/^state must be one of pending, running, succeeded, failed, cancelled \(got "done"\)$/)
    for (const limit of ['0', '10001', '-1', '1.5', 'ten']) {
      expect(() => parseTaskListQuery(new URLSearchParams(`limit=${limit}`)), limit).toThrow(/^limit must be a whole number from 1 to 10000/)
    }
    expect(() => parseTaskListQuery(new URLSearchParams('agent=a'))).toThrow(/^unknown query parameter "agent"/)
    expect(() => parseTaskListQuery(new URLSearchParams('state=failed&state=running'))).toThrow(/^state must be given once$/)
    expect(checkTaskId('A-z_0.9')).toBe('A-z_0.9')
    expect(checkTaskId('x'.repeat(64))).toHaveLength(64)
    for (const id of ['', 'x'.repeat(65), 'a b', 'a/b', 'é']) expect(() => checkTaskId(id), id).toThrow(/^task id must be 1 to 64 characters/)
  })
})

describe('task routes', () => {
  let dir: string
  let server: ApiServer
  let control: TaskStubControl
  let auth: Record<string, string>
  const post = async (path: string, body: unknown): Promise<Reply> =>
    await call({ port: server.port }, 'POST', `/api/v1/${path}`, { headers: auth, body: typeof body === 'string' ? body : JSON.stringify(body) })
  const get = async (path: string): Promise<Reply> => await call({ port: server.port }, 'GET', `/api/v1/${path}`, { headers: auth })

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'paired-api-tasks-'))
    const token = await ensureApiToken(join(dir, 'api.token'))
    auth = { authorization: `Bearer ${token}` }
    control = new TaskStubControl()
    server = new ApiServer({ control, token, socketPath: join(dir, 'api.sock'), callTimeoutMs: 100 })
    await server.start()
  })
  afterAll(async () => {
    await server.stop()
    await rm(dir, { recursive: true, force: true })
  })
  beforeEach(() => {
    control.calls.length = 0
    control.hangLogs = false
  })

  it('submit: the checked spec with its defaults goes to taskSubmit; the answer is the TaskDoc', async () => {
    const r = await post('tasks/submit', { agent: 'echo', input: { text: 'hi' }, labels: { os: 'linux' }, timeoutMs: 30_000 })
    expect(r.status).toBe(200)
    expect(r.body).toMatchObject({ taskId: 't1', agent: 'echo', state: 'pending', input: { text: 'hi' }, labels: { os: 'linux' }, timeoutMs: 30_000 })
    expect(control.calls).toEqual([{
      method: 'taskSubmit',
      args: [{ agent: 'echo', input: { text: 'hi' }, priority: 'normal', labels: { os: 'linux' }, timeoutMs: 30_000 }]
    }])
  })

  it('submit: bad specs are 400s naming the field, and reach no control', async () => {
    const cases: Array<[unknown, RegExp]> = [
      [{}, /^agent is required$/],
      [{ agent: 'Echo' }, /^agent must be/],
      [{ agent: 'echo', priority: 'asap' }, /^priority must be one of/],
      [{ agent: 'echo', replicas: 9 }, /^replicas must be/],
      [{ agent: 'echo', needs: { cores: 'two' } }, /^needs\.cores must be/],
      [{ agent: 'echo', tags: [] }, /^unknown field "tags"/],
      ['[{"agent":"echo"}]', /^request body must be a JSON object/]
    ]
    for (const [body, message] of cases) {
      const r = await post('tasks/submit', body)
      expect(r.status, JSON.stringify(body)).toBe(400)
      expect(r.body.error.name).toBe('InvalidArgumentError')
      expect(r.body.error.message).toMatch(message)
    }
    expect(control.calls).toEqual([])
  })

  it('submit: an input of 1 MiB passes; more is a 413 ValueTooLargeError, far more a 413 PayloadTooLargeError', async () => {
    const exact = 'x'.repeat(MAX_TASK_INPUT_BYTES - 2)
    expect((await post('tasks/submit', { agent: 'echo', input: exact })).status).toBe(200)
    const over = await post('tasks/submit', { agent: 'echo', input: exact + 'x' })
    expect(over.status).toBe(413)
    expect(over.body).toEqual({ error: { name: 'ValueTooLargeError', message: 'input of 1048577 bytes is over the 1 MiB limit' } })
    const huge = await post('tasks/submit', { agent: 'echo', input: 'x'.repeat(2 * MAX_TASK_INPUT_BYTES) })
    expect(huge.status).toBe(413)
    expect(huge.body.error.name).toBe('PayloadTooLargeError')
    expect(control.calls).toHaveLength(1)
  })

  it('submit-many: one call with every spec; answers {tasks: [{taskId}]}; an error names the index', async () => {
    const r = await post('tasks/submit-many', { tasks: [{ agent: 'a' }, { agent: 'b', input: 2 }] })
    expect(r.status).toBe(200)
    expect(r.body).toEqual({ tasks: [{ taskId: 't1' }, { taskId: 't2' }] })
    expect(control.calls).toEqual([{ method: 'taskSubmitMany', args: [[{ agent: 'a', input: null, priority: 'normal' }, { agent: 'b', input: 2, priority: 'normal' }]] }])
    const bad = await post('tasks/submit-many', { tasks: [{ agent: 'a' }, { agent: 'a' }, { agent: 'a', timeoutMs: -5 }] })
    expect(bad.status).toBe(400)
    expect(bad.body.error.message).toMatch(/^tasks\[2\]\.timeoutMs must be a whole number/)
    expect((await post('tasks/submit-many', { tasks: [] })).status).toBe(400)
    // three inputs of nearly 1 MiB: over the default body limit, under submit-many's
    const input = 'x'.repeat(MAX_TASK_INPUT_BYTES - 100)
    expect((await post('tasks/submit-many', { tasks: [1, 2, 3].map(() => ({ agent: 'a', input })) })).status).toBe(200)
    expect(control.calls).toHaveLength(2)
  })

  it('list: state and limit go to taskList; bad ones are 400s', async () => {
    const all = await get('tasks')
    expect(all.status).toBe(200)
    expect(all.body).toEqual([{ taskId: 't1', agent: 'echo', state: 'pending', submitter: PEER_A, executor: null, priority: 'normal', attempt: 0, createdWall: 1_700_000_000_000 }])
    expect(control.calls.at(-1)).toEqual({ method: 'taskList', args: [{ limit: 1000 }] })
    expect((await get('tasks?state=failed&limit=5')).status).toBe(200)
    expect(control.calls.at(-1)).toEqual({ method: 'taskList', args: [{ state: 'failed', limit: 5 }] })
    const before = control.calls.length
    for (const [query, message] of [['state=done', /^state must be one of/], ['limit=0', /^limit must be/], ['sort=age', /^unknown query parameter "sort"/]] as const) {
      const r = await get(`tasks?${query}`)
      expect(r.status, query).toBe(400)
      expect(r.body.error.message).toMatch(message)
    }
    expect(control.calls).toHaveLength(before)
  })

  it('one task: get, cancel, explain, logs, verify', async () => {
    const got = await get('tasks/abc')
    expect(got.status).toBe(200)
    expect(got.body).toMatchObject({ taskId: 'abc', state: 'pending' })
    const cancelled = await post('tasks/abc/cancel', {})
    expect(cancelled.body).toMatchObject({ taskId: 'abc', state: 'cancelled', cancelled: true })
    expect((await get('tasks/abc/explain')).body).toEqual({ taskId: 'abc', state: 'pending', lines: ['no peer has agent echo'], placement: null })
    expect((await get('tasks/abc/logs')).body).toEqual({ taskId: 'abc', lines: ['starting', 'done'], truncated: false, source: PEER_B })
    expect((await get('tasks/abc/verify')).body).toEqual({ taskId: 'abc', ok: true, executor: PEER_B, receipt: { taskId: 'abc', attempt: 1 } })
    expect(control.calls.map(c => [c.method, c.args[0]])).toEqual([
      ['taskGet', 'abc'], ['taskCancel', 'abc'], ['taskExplain', 'abc'], ['taskLogs', 'abc'], ['taskVerify', 'abc']
    ])
  })

  it('bad task ids are 400s; an unknown one is a 404; cancel takes no fields', async () => {
    for (const path of ['tasks/a%20b', `tasks/${'x'.repeat(65)}/logs`, 'tasks/%C3%A9/verify', 'tasks/a%2Fb/cancel']) {
      const r = path.endsWith('/cancel') ? await post(path, {}) : await get(path)
      expect(r.status, path).toBe(400)
      expect(r.body.error.message, path).toMatch(/^task id must be 1 to 64 characters of A-Z a-z 0-9 \. _ -/)
    }
    expect(control.calls).toEqual([])
    const missing = await get('tasks/missing1')
    expect(missing.status).toBe(404)
    expect(missing.body).toEqual({ error: { name: 'NotFoundError', message: 'no task missing1' } })
    expect((await post('tasks/missing1/cancel', {})).status).toBe(404)
    const extra = await post('tasks/abc/cancel', { force: true })
    expect(extra.status).toBe(400)
    expect(extra.body.error.message).toMatch(/^unknown field "force"/)
    expect((await get('tasks/abc?verbose=1')).status).toBe(400)
  })

  it('methods are fixed, the token is needed, and errors of the task system keep their status', async () => {
    expect((await get('tasks/abc/cancel')).status).toBe(405)
    expect((await post('tasks/abc', {})).headers.allow).toBe('GET')
    expect((await post('tasks', {})).status).toBe(405)
    expect((await call({ port: server.port }, 'GET', '/api/v1/tasks')).status).toBe(401)
    control.fail = named('PermissionDeniedError', 'guests cannot submit tasks')
    const denied = await post('tasks/submit', { agent: 'echo' })
    expect(denied.status).toBe(403)
    expect(denied.body).toEqual({ error: { name: 'PermissionDeniedError', message: 'guests cannot submit tasks' } })
  })

  it('logs is a long call: past the deadline it is a 504', async () => {
    control.hangLogs = true
    const r = await get('tasks/abc/logs')
    expect(r.status).toBe(504)
    expect(r.body.error.name).toBe('TimeoutError')
  })
})

describe('task routes on a daemon without a task system', () => {
  it('answer 501 NotImplementedError, whatever the input', async () => {
    await expectNotImplemented([
      ['POST', '/api/v1/tasks/submit', '{"agent":"BAD"}'],
      ['POST', '/api/v1/tasks/submit-many', '{}'],
      ['GET', '/api/v1/tasks?state=nope', undefined],
      ['GET', '/api/v1/tasks/a%20b', undefined],
      ['POST', '/api/v1/tasks/t1/cancel', '{"x":1}'],
      ['GET', '/api/v1/tasks/t1/explain', undefined],
      ['GET', '/api/v1/tasks/t1/logs', undefined],
      ['GET', '/api/v1/tasks/t1/verify', undefined]
    ], 'this daemon has no task system')
  })
})
