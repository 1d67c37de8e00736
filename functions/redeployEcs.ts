export const handler = async (event: unknown) => ({ ok: true, event });
