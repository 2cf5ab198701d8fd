// POST /api/report?work_ms=N[&async=1]: N ms of CPU, answered when done (200 with the
// report), or with async=1 queued as a background job (202 {"job": id}, Location
// /api/jobs/{id}). (targets/src/app/report.rs)
import { BadParam, boundedU64, error, flag, json, notAllowed } from "../../../lib/http.js";
import { DISABLED_MESSAGE, enabled, submit } from "../../../lib/jobs.js";
import { MAX_WORK_MS, burnCpu, report } from "../../../lib/work.js";

export const dynamic = "force-dynamic";
export const runtime = "nodejs";

export async function POST(request) {
  let workMs;
  try {
    workMs = boundedU64(request, "work_ms", null, MAX_WORK_MS);
  } catch (bad) {
    if (bad instanceof BadParam) return bad.toResponse();
    throw bad;
  }
  if (flag(request, "async")) {
    if (!enabled()) return error(501, DISABLED_MESSAGE);
    const id = submit(workMs);
    return json(202, { job: id }, { location: `/api/jobs/${id}` });
  }
  try {
    return json(200, report(workMs, await burnCpu(workMs)));
  } catch (err) {
    return error(500, `the work did not finish: ${err.message}`);
  }
}

export { notAllowed as GET, notAllowed as PUT, notAllowed as PATCH, notAllowed as DELETE };
