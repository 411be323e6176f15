-- Argo CD health check for teamssync.io/TeamsTenantSync.
--
-- Install it as resource.customizations.health.teamssync.io_TeamsTenantSync in the argocd-cm
-- ConfigMap (docs/gitops.md). Argo CD runs it in Lua 5.1 with the resource as the global `obj`,
-- and opens only the base, table and package libraries and a safe os, so nothing here uses
-- string.* or math.*. Tested against the operator's own statuses by tests/argocd_health.rs.

local function health(status, message)
  return { status = status, message = message or "" }
end

local function find(conditions, type_name)
  for _, condition in ipairs(conditions or {}) do
    if condition.type == type_name then
      return condition
    end
  end
  return nil
end

local status = obj.status
local conditions = status and status.conditions
local generation = obj.metadata and obj.metadata.generation
local ready = find(conditions, "Ready")
local reconciling = find(conditions, "Reconciling")

-- Suspension is the user's choice: say so at once, before the operator has even seen it.
if obj.spec ~= nil and obj.spec.suspend == true then
  if ready ~= nil and ready.reason == "Suspended" and ready.message ~= nil and ready.message ~= "" then
    return health("Suspended", ready.message)
  end
  return health("Suspended", "spec.suspend is true: nothing is synced until it is set to false")
end

-- A sync running for this generation says how far it is. It is checked before observedGeneration
-- because a running sync (the first one especially) has not written observedGeneration yet.
local syncing = reconciling ~= nil and reconciling.status == "True"
if syncing and generation ~= nil and reconciling.observedGeneration == generation then
  return health("Progressing", reconciling.message)
end

-- Until observedGeneration catches up, the conditions describe an older spec (kstatus's rule).
if status == nil or status.observedGeneration == nil
    or (generation ~= nil and status.observedGeneration < generation) then
  if generation == nil then
    return health("Progressing", "waiting for the operator to observe this resource")
  end
  return health("Progressing", "waiting for the operator to observe generation " .. generation)
end

-- Converging on its own: a sync is running, or Teams is still activating assignments.
if syncing then
  return health("Progressing", reconciling.message)
end

if ready == nil then
  return health("Progressing", "no Ready condition yet")
end
if ready.status == "True" then
  return health("Healthy", ready.message)
end
if ready.status == "False" then
  -- Ready=False while the first sync runs needs no one.
  if ready.reason == "Syncing" then
    return health("Progressing", ready.message)
  end
  -- Written by operators before spec.readiness, which made a suspended resource Ready=False.
  if ready.reason == "Suspended" then
    return health("Suspended", ready.message)
  end
  -- Everything else needs a person (a fix, a Secret, more failed users than
  -- spec.readiness.maxFailedUsers tolerates, an activation past maxActivationTime) or waits on
  -- a retry.
  return health("Degraded", ready.message)
end
-- Ready=Unknown is not written by the operator; treat it as not decided yet.
return health("Progressing", ready.message)
