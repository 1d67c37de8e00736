// The AWS Organizations id given with `npx serverless deploy --param organizationId=o-…` (docs/organisation.md):
// its accounts may put events on this stack's default event bus (OrganizationEventBusPolicy in serverless.yml),
// where the workload accounts forward their ECS events. '' when not given: no bus policy.
const ORGANIZATION_ID = /^o-[a-z0-9]{10,32}$/;

module.exports.organizationId = async ({ resolveVariable }) => {
  const id = await resolveVariable('param:organizationId, ""');
  if (id === '' || ORGANIZATION_ID.test(id)) return id;
  const err = new Error(
    `--param organizationId: expected an organization id such as o-a1b2c3d4e5, not "${id}"`,
  );
  // serverless prints the stack: the message alone, not our call frames.
  err.stack = err.message;
  throw err;
};
