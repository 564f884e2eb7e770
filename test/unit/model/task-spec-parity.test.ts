/**
 * One definition of the task spec: the API validator (what `paired submit` and
 * `POST tasks/submit` accept) and the op validator (what a replica accepts in a
 * `task:create`) give the same verdict on every spec, good or bad, at and past each limit.
 * The API's defaults (input null, priority normal, null for "not given") are applied
 * before the op validator sees the spec, as the daemon does.
 */
import { describe, expect, it } from 'vitest'
import { parseTaskSubmit } from '../../../src/api/task-validate.js'
import { MAX_TASK_INPUT_BYTES, MAX_TASK_MEM_MB, submitDefaults } from '../../../src/model/task.js'
import { taskDrafts, validateOp } from '../../../src/state/ops/index.js'

const AUTHOR = '12D3KooWParityAuthor'
const labels = (n: number): Record<string, string> => Object.fromEntries(Array.from({ length: n }, (_, i) => [`k${i}`, 'v']))
const nested = (depth: number): unknown => depth === 0 ? 1 : [nested(depth - 1)]
/** a JSON string input whose JSON is exactly `bytes` bytes */
const inputOf = (bytes: number): string => 'x'.repeat(bytes - 2)

type Case = [name: string, spec: unknown, ok: boolean]

const CASES: Case[] = [
  ['the smallest spec', { agent: 'echo' }, true],
  ['every field', { agent: 'build.v2_x-y', input: { files: ['a'] }, priority: 'critical', labels: { os: 'linux', gpu: '' }, needs: { cores: 0, memMb: 512 }, timeoutMs: 1000, retries: 0, replicas: 3 }, true],
  ['priority critical', { agent: 'a', priority: 'critical' }, true],
  ['priority low', { agent: 'a', priority: 'low' }, true],
  ['input undefined (the default: null)', { agent: 'a', input: undefined }, true],
  ['input null', { agent: 'a', input: null }, true],
  ['null for an optional field is "not given"', { agent: 'a', priority: null, labels: null, needs: null, timeoutMs: null, retries: null, replicas: null }, true],
  ['32 labels', { agent: 'a', labels: labels(32) }, true],
  ['33 labels', { agent: 'a', labels: labels(33) }, false],
  ['a label key of 64 characters', { agent: 'a', labels: { ['k'.repeat(64)]: 'v' } }, true],
  ['a label key of 65 characters', { agent: 'a', labels: { ['k'.repeat(65)]: 'v' } }, false],
  ['an empty label key', { agent: 'a', labels: { '': 'v' } }, false],
  ['a label value of 256 characters', { agent: 'a', labels: { k: 'v'.repeat(256) } }, true],
  ['a label value of 257 characters', { agent: 'a', labels: { k: 'v'.repeat(257) } }, false],
  ['a label value of 128 emoji (256 UTF-16 units)', { agent: 'a', labels: { k: '😀'.repeat(128) } }, true],
  ['a label value of 129 emoji (258 UTF-16 units)', { agent: 'a', labels: { k: '😀'.repeat(129) } }, false],
  ['a label that is not a string', { agent: 'a', labels: { os: 1 } }, false],
  ['labels as an array', { agent: 'a', labels: ['x'] }, false],
  ['retries 20', { agent: 'a', retries: 20 }, true],
  ['retries 21', { agent: 'a', retries: 21 }, false],
  ['retries -1', { agent: 'a', retries: -1 }, false],
  ['retries 1.5', { agent: 'a', retries: 1.5 }, false],
  ['replicas 7', { agent: 'a', replicas: 7 }, true],
  ['replicas 8', { agent: 'a', replicas: 8 }, false],
  ['replicas 0', { agent: 'a', replicas: 0 }, false],
  ['timeout 1 ms', { agent: 'a', timeoutMs: 1 }, true],
  ['timeout one day', { agent: 'a', timeoutMs: 86_400_000 }, true],
  ['timeout one day + 1 ms', { agent: 'a', timeoutMs: 86_400_001 }, false],
  ['timeout 0', { agent: 'a', timeoutMs: 0 }, false],
  ['timeout as text', { agent: 'a', timeoutMs: '30s' }, false],
  ['cores 4096', { agent: 'a', needs: { cores: 4096 } }, true],
  ['cores 4097', { agent: 'a', needs: { cores: 4097 } }, false],
  ['cores -1', { agent: 'a', needs: { cores: -1 } }, false],
  ['memory at its limit', { agent: 'a', needs: { memMb: MAX_TASK_MEM_MB } }, true],
  ['memory over its limit', { agent: 'a', needs: { memMb: MAX_TASK_MEM_MB + 1 } }, false],
  ['memory 1.5 MB', { agent: 'a', needs: { memMb: 1.5 } }, false],
  ['an unknown need', { agent: 'a', needs: { gpus: 1 } }, false],
  ['needs that are not an object', { agent: 'a', needs: 4 }, false],
  ['an unknown field', { agent: 'a', shell: true }, false],
  ['a missing agent', { input: 1 }, false],
  ['an agent of 64 characters', { agent: 'a'.repeat(64) }, true],
  ['an agent of 65 characters', { agent: 'a'.repeat(65) }, false],
  ['an agent in capitals', { agent: 'Build' }, false],
  ['an agent starting with a dash', { agent: '-x' }, false],
  ['an agent that is a number', { agent: 7 }, false],
  ['a bad priority', { agent: 'a', priority: 'urgent' }, false],
  ['an input of exactly 1 MiB', { agent: 'a', input: inputOf(MAX_TASK_INPUT_BYTES) }, true],
  ['an input of 1 MiB + 1 byte', { agent: 'a', input: inputOf(MAX_TASK_INPUT_BYTES + 1) }, false],
  ['an input that is not JSON (NaN)', { agent: 'a', input: { n: Number.NaN } }, false],
  ['an input nested 62 deep (the deepest an op carries)', { agent: 'a', input: nested(62) }, true],
  ['an input nested 63 deep (too deep inside an op)', { agent: 'a', input: nested(63) }, false],
  ['an input nested 70 deep', { agent: 'a', input: nested(70) }, false],
  ['a spec that is not an object', 'echo', false]
]

function apiVerdict (spec: unknown): boolean {
  try {
    parseTaskSubmit(spec)
    return true
  } catch {
    return false
  }
}

/** both ways into the op validator: a replica's `validateOp` and a local draft */
function opVerdicts (spec: unknown): { replica: boolean, draft: boolean } {
  const body = { taskId: 't1', spec: submitDefaults(spec) }
  let replica = true
  let draft = true
  try {
    validateOp({ author: AUTHOR, seq: 1, hlc: { wall: 1, logical: 0, node: AUTHOR }, kind: 'task:create', body })
  } catch {
    replica = false
  }
  try {
    taskDrafts.create('t1', body.spec as never)
  } catch {
    draft = false
  }
  return { replica, draft }
}

describe('the task spec: one verdict at every edge', () => {
  it('covers at least 50 specs', () => {
    expect(CASES.length).toBeGreaterThanOrEqual(50)
    expect(new Set(CASES.map(c => c[0])).size).toBe(CASES.length)
  })

  it.each(CASES)('%s', (_name, spec, ok) => {
    expect({ api: apiVerdict(spec), ...opVerdicts(spec) }).toEqual({ api: ok, replica: ok, draft: ok })
  })
})
