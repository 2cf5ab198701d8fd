// Every other path ("/" included): the Rust router's answers, as JSON rather than Next.js's HTML 404 page.
// 405 for a known path with another method (`/api/jobs` itself is one), 404 otherwise.
import { error, pathOf } from "../../lib/http.js";

export const dynamic = "force-dynamic";
export const runtime = "nodejs";

const ROUTES = [
  "/api/health",
  "/api/blogs",
  "/api/report",
  "/api/events",
  "/api/chat",
  "/api/limited",
  "/api/jobs",
];
const JOBS_PREFIX = "/api/jobs/";

function fallback(request) {
  const path = pathOf(request);
  if (request.method === "GET" && path.startsWith(JOBS_PREFIX)) {
    return error(404, `no job ${path.slice(JOBS_PREFIX.length)}`);
  }
  if (ROUTES.includes(path) || path.startsWith(JOBS_PREFIX)) {
    return error(405, `${request.method} is not allowed on ${path}`);
  }
  return error(404, `no route for ${path}`);
}

export { fallback as GET, fallback as POST, fallback as PUT, fallback as PATCH, fallback as DELETE };
