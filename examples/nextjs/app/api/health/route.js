// GET /api/health: 200 {"status":"ok"}, no database. coldfront polls it for readiness.
import { json, notAllowed } from "../../../lib/http.js";

export const dynamic = "force-dynamic";
export const runtime = "nodejs";

export function GET() {
  return json(200, { status: "ok" });
}

export { notAllowed as POST, notAllowed as PUT, notAllowed as PATCH, notAllowed as DELETE };
