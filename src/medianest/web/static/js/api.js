// The one way pages talk to MediaNest's JSON API.
//
// Sends and reads JSON, echoes the CSRF cookie on unsafe methods, renews an expired access
// token once (POST /auth/refresh) and retries, and turns any failure into an ApiError whose
// message is the API's own, written for people.

const BASE = "/api/v1";
const UNSAFE = new Set(["POST", "PUT", "PATCH", "DELETE"]);

export class ApiError extends Error {
  constructor(status, error) {
    super(error.message || "Something went wrong. Try again in a moment.");
    this.name = "ApiError";
    this.status = status;
    this.code = error.code || "ERROR";
    this.details = Array.isArray(error.details) ? error.details : [];
    this.retryAfter = typeof error.retryAfter === "number" ? error.retryAfter : null;
  }
}

export function readCookie(name) {
  const prefix = `${name}=`;
  const found = document.cookie.split("; ").find((part) => part.startsWith(prefix));
  return found ? decodeURIComponent(found.slice(prefix.length)) : "";
}

async function send(method, path, body) {
  const headers = { Accept: "application/json" };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (UNSAFE.has(method)) {
    const csrf = readCookie("csrf_token");
    if (csrf) headers["X-CSRF-Token"] = csrf;
  }
  let response;
  try {
    response = await fetch(BASE + path, {
      method,
      headers,
      credentials: "same-origin",
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch {
    throw new ApiError(0, {
      code: "NETWORK_ERROR",
      message: "MediaNest cannot be reached. Check your internet connection and try again.",
    });
  }
  const payload = await response.json().catch(() => null);
  if (response.ok) return payload;
  const error = (payload && payload.error) || {
    code: `HTTP_${response.status}`,
    message: `Something went wrong (error ${response.status}). Try again in a moment.`,
  };
  if (error.retryAfter === undefined && response.headers.has("Retry-After")) {
    error.retryAfter = Number(response.headers.get("Retry-After")) || undefined;
  }
  throw new ApiError(response.status, error);
}

// Tabs and parallel calls that all find the token expired share one refresh.
let refreshing = null;

function refreshOnce() {
  refreshing ??= send("POST", "/auth/refresh").finally(() => {
    refreshing = null;
  });
  return refreshing;
}

async function call(method, path, body) {
  try {
    return await send(method, path, body);
  } catch (error) {
    if (!(error instanceof ApiError) || error.code !== "TOKEN_EXPIRED") throw error;
    await refreshOnce();
    return send(method, path, body);
  }
}

export async function api(method, path, body) {
  const payload = await call(method, path, body);
  return payload ? payload.data : null;
}

// A list with its paging: `meta` is `{page, pageSize, total, totalPages}`.
export async function apiPage(path) {
  const payload = await call("GET", path);
  return { items: payload.data, meta: payload.meta };
}
