export const handler = async (e: { id: string }) => ({ seen: e.id });
