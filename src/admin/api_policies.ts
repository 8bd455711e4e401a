// /api/policies[/vhost[/name]] and /api/operator-policies[/vhost[/name]]: list, show, set (PUT
// with pattern, definition, priority, apply-to) and clear, with RabbitMQ's rules: listing needs
// access to the vhost; a policy needs the policymaker tag (or administrator) and access to its
// vhost; an operator policy needs administrator. RabbitMQ's API HTML-escapes a policy's
// validation text ("&lt;&lt;\"x\"&gt;&gt; is not a valid maximum length") but not an operator
// policy's; Warren answers the same bytes.
import { byPriority, policyJson, type Policy, type PolicyKind } from "../broker/policies.ts";
import { clearPolicy, setPolicy } from "../broker/topology/policies.ts";
import { AmqpError } from "../protocol/errors.ts";
import type { Access } from "./api_auth.ts";
import { vhostsInScope } from "./api_auth.ts";
import { ApiError, badRequest, notFound } from "./api_errors.ts";
import { created, existingVhost, noContent, ok, param, type ApiRequest, type ApiResponse, type Route } from "./api_route.ts";

function list(req: ApiRequest, kind: PolicyKind, vhost: string | undefined): ApiResponse {
  if (vhost !== undefined) existingVhost(req);
  const policies: Policy[] = [];
  for (const v of vhostsInScope(req.ctx, req.principal, vhost)) policies.push(...v.policies.list(kind));
  return ok(policies.sort(byPriority).map(policyJson));
}

function show(kind: PolicyKind) {
  return (req: ApiRequest): ApiResponse => {
    const policy = existingVhost(req).policies.get(kind, param(req, "name"));
    if (policy === undefined) throw notFound();
    return ok(policyJson(policy));
  };
}

/** rabbit_mgmt_format:escape_html_tags. */
function escapeHtml(text: string): string {
  return text.replace(/[<>&]/g, (c) => (c === "<" ? "&lt;" : c === ">" ? "&gt;" : "&amp;"));
}

function put(kind: PolicyKind) {
  return async (req: ApiRequest): Promise<ApiResponse> => {
    const vhost = req.ctx.broker.vhost(param(req, "vhost"));
    if (vhost === undefined) throw new ApiError(404, "not_found", "vhost_not_found");
    const body = await req.body();
    try {
      return setPolicy(req.ctx.broker, vhost, kind, param(req, "name"), body) ? created : noContent;
    } catch (error) {
      if (!(error instanceof AmqpError)) throw error;
      throw badRequest(kind === "policy" ? escapeHtml(error.detail) : error.detail);
    }
  };
}

function remove(kind: PolicyKind) {
  return (req: ApiRequest): ApiResponse => {
    if (!clearPolicy(req.ctx.broker, existingVhost(req), kind, param(req, "name"))) throw notFound();
    return noContent;
  };
}

function routes(prefix: string, kind: PolicyKind, access: Access): Route[] {
  return [
    { method: "GET", path: prefix, access: "management", handle: (req) => list(req, kind, undefined) },
    { method: "GET", path: `${prefix}/:vhost`, access: "vhost", handle: (req) => list(req, kind, param(req, "vhost")) },
    { method: "GET", path: `${prefix}/:vhost/:name`, access, handle: show(kind) },
    { method: "PUT", path: `${prefix}/:vhost/:name`, access, handle: put(kind) },
    { method: "DELETE", path: `${prefix}/:vhost/:name`, access, handle: remove(kind) },
  ];
}

export const policyRoutes: Route[] = [...routes("/api/policies", "policy", "policymaker"), ...routes("/api/operator-policies", "operator_policy", "administrator")];
