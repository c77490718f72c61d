// The node side of benchmarks/reference_vs_iam_simulate.py: decide every case of a JSON file with
// @cloud-copilot/iam-simulate and print one JSON document (decisions and timings).
//
//   node iam_simulate_bench.mjs CASES.json REPEATS
//
// Times only the decision loops (hrtime around each pass over the cases, after one untimed
// warm-up pass), never process start or module loading. Three public entry points:
//   runSimulation       the policies as JSON documents (validated and loaded on every call)
//   runSimulation/pre   the policies validated once up front (ValidatedPolicy), loaded per call
//   runUnsafeSimulation no validation, policies loaded per call (given the ValidatedPolicy objects)
import { readFileSync } from 'node:fs'
import { runSimulation, runUnsafeSimulation } from '@cloud-copilot/iam-simulate'
import {
  createValidatedPolicy,
  validateIdentityPolicy,
  validateResourcePolicy
} from '@cloud-copilot/iam-policy'

const [casesPath, repeatsArg] = process.argv.slice(2)
const cases = JSON.parse(readFileSync(casesPath, 'utf8'))
const repeats = Number(repeatsArg || 5)

function simulation(c, pre) {
  const identity = (p, i) => ({
    name: `identity${i}`,
    policy: pre ? createValidatedPolicy(p, validateIdentityPolicy) : p
  })
  const sim = {
    request: {
      principal: c.principal,
      action: c.action,
      resource: { resource: c.resource, accountId: c.resourceAccount },
      contextVariables: c.context
    },
    identityPolicies: c.identity.map(identity),
    serviceControlPolicies: [],
    resourceControlPolicies: []
  }
  if (c.resourcePolicy) {
    sim.resourcePolicy = pre
      ? createValidatedPolicy(c.resourcePolicy, validateResourcePolicy, { name: 'resource' })
      : c.resourcePolicy
  }
  if (c.boundary) {
    sim.permissionBoundaryPolicies = [
      { name: 'boundary', policy: pre ? createValidatedPolicy(c.boundary, validateIdentityPolicy) : c.boundary }
    ]
  }
  return sim
}

const raw = cases.map((c) => simulation(c, false))
const pre = cases.map((c) => simulation(c, true))

async function timeLoop(sims, fn) {
  await fn(sims) // warm-up: iam-data's service files, JIT
  const passes = []
  for (let r = 0; r < repeats; r++) {
    const t0 = process.hrtime.bigint()
    await fn(sims)
    passes.push(Number(process.hrtime.bigint() - t0) / 1e9)
  }
  return passes
}

const decisions = []
const errors = []
const viaSimulation = async (sims) => {
  for (const s of sims) await runSimulation(s, {})
}
const viaUnsafe = async (sims) => {
  for (const s of sims) runUnsafeSimulation(s, {})
}

for (let i = 0; i < raw.length; i++) {
  const res = await runSimulation(raw[i], {})
  if (res.resultType === 'error') {
    decisions.push('error')
    errors.push({ index: i, message: res.errors.message })
  } else {
    decisions.push(res.overallResult)
  }
}

const timings = {
  runSimulation: await timeLoop(raw, viaSimulation),
  'runSimulation/pre': await timeLoop(pre, viaSimulation),
  // runUnsafeSimulation loads a plain resource policy without a name and then fails reading it
  // (TypeError in CoreSimulatorEngine, 0.1.173): give it the named ValidatedPolicy objects.
  runUnsafeSimulation: await timeLoop(pre, viaUnsafe)
}
const version = JSON.parse(
  readFileSync(new URL('./node_modules/@cloud-copilot/iam-simulate/package.json', import.meta.url), 'utf8')
).version
process.stdout.write(
  JSON.stringify({ version, node: process.version, decisions, errors: errors.slice(0, 20), timings }) + '\n'
)
