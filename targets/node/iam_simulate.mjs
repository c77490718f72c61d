// The node side of rolecall.targets.iam_simulate: decide authorization requests with
// @cloud-copilot/iam-simulate, one JSON request per line on stdin, one JSON answer per line on
// stdout (the principal "anonymous" is an unsigned request; answers {"decision": "Allowed" | "ImplicitlyDenied" | "ExplicitlyDenied"} or
// {"error": message}). Run with its working folder holding node_modules (the rolecall cache
// folder), so that the package resolves there: iam-simulate is AGPL and never vendored.
import { createInterface } from 'node:readline'
import { anonymousPrincipal, runSimulation } from '@cloud-copilot/iam-simulate'

function simulation(c) {
  const sim = {
    request: {
      principal: c.principal === 'anonymous' ? anonymousPrincipal : c.principal,
      action: c.action,
      resource: { resource: c.resource, accountId: c.resourceAccount },
      contextVariables: c.context
    },
    identityPolicies: c.identity.map((policy, i) => ({ name: `identity${i}`, policy })),
    serviceControlPolicies: [],
    resourceControlPolicies: []
  }
  if (c.resourcePolicy) sim.resourcePolicy = c.resourcePolicy
  if (c.boundary) sim.permissionBoundaryPolicies = [{ name: 'boundary', policy: c.boundary }]
  if (c.sessionPolicy) sim.sessionPolicy = c.sessionPolicy
  return sim
}

const lines = createInterface({ input: process.stdin, crlfDelay: Infinity })
for await (const line of lines) {
  if (!line.trim()) continue
  let answer
  try {
    const res = await runSimulation(simulation(JSON.parse(line)), {})
    answer = res.resultType === 'error' ? { error: res.errors.message } : { decision: res.overallResult }
  } catch (e) {
    answer = { error: `${e && e.name}: ${e && e.message}` }
  }
  process.stdout.write(JSON.stringify(answer) + '\n')
}
