// GET /api/jobs/{id}: a background job's state, 404 {"error":"no job <id>"} when unknown.
// (targets/src/app/jobs.rs)
import { error, json, notAllowed } from "../../../../lib/http.js";
import { DISABLED_MESSAGE, describe, enabled } from "../../../../lib/jobs.js";

export const dynamic = "force-dynamic";
export const runtime = "nodejs";

export async function GET(_request, { params }) {
  const { id } = await params;
  if (!enabled()) return error(501, DISABLED_MESSAGE);
  const job = describe(id);
  return job ? json(200, job) : error(404, `no job ${id}`);
}

export { notAllowed as POST, notAllowed as PUT, notAllowed as PATCH, notAllowed as DELETE };
