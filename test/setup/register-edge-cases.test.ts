// Registration edge cases against the local portal's REST
// methods (the documented shapes, scripts/local-portal/rest.ts) called in
// process: no Worker, no network.
import { describe, expect, it } from "vitest";
import { PortalRest } from "../../scripts/local-portal/rest";
import { DEFAULT_LOGO, type RegisterOptions, register, type WorkerApi } from "../../src/register/register";
import { Portal, PortalError } from "../../src/register/rest-client";

const worker: WorkerApi = {
  tables: async () => [{ code: "sales", title: "Sales" }],
  describe: async () => [{ code: "ID", name: "id", type: "int" }],
};

/** A Portal whose fetch is the local portal's REST handler; `edit` may change a call's params first. */
function clientOf(rest: PortalRest, edit: (method: string, p: Record<string, unknown>) => void = () => {}): Portal {
  const fetchFn = (async (input: string | URL | Request, init?: RequestInit) => {
    const method = /\/rest\/([\w.]+)\.json$/.exec(String(input))![1];
    const p = JSON.parse(String(init?.body ?? "{}")) as Record<string, unknown>;
    edit(method, p);
    try {
      return Response.json({ result: await rest.handle(method, p, async () => {}) });
    } catch (err) {
      const e = err as { code: string; description: string };
      return Response.json({ result: { error: { error: e.code, error_description: e.description } } });
    }
  }) as typeof fetch;
  return new Portal({ auth: { kind: "oauth", portal: "https://example.bitrix24.com", accessToken: "t" }, fetch: fetchFn, retryBaseMs: 1 });
}

const opts = (over: Partial<RegisterOptions> = {}): RegisterOptions => ({
  workerUrl: "https://w.example",
  token: "tok",
  title: "Files",
  logo: DEFAULT_LOGO,
  dateFormat: "DD.MM.YYYY",
  ...over,
});

describe("--prune", () => {
  it("never deletes the dataset a table was just matched to (by externalCode, after the prefix changed)", async () => {
    const rest = new PortalRest("current");
    await register(clientOf(rest), worker, opts());
    expect(rest.datasets.map((d) => d.name)).toEqual(["sales"]);
    const s = await register(clientOf(rest), worker, opts({ prefix: "x_", prune: true }));
    expect(s.lines.filter((l) => l.outcome === "deleted")).toEqual([]);
    expect(rest.datasets.map((d) => d.externalCode)).toEqual(["sales"]);
  });

  it("never deletes a dataset of another source, even when the list ignores its filter", async () => {
    const rest = new PortalRest("current");
    await register(clientOf(rest), worker, opts());
    const sourceId = rest.datasets[0].sourceId;
    rest.datasets.push({ id: 900, name: "someone_elses", externalCode: "x", sourceId: sourceId + 100, fields: [] });
    const s = await register(
      clientOf(rest, (method, p) => void (method.endsWith(".list") && delete p.filter)),
      worker,
      opts({ prune: true }),
    );
    expect(s.lines.filter((l) => l.outcome === "deleted")).toEqual([]);
    expect(rest.datasets.map((d) => d.name).sort()).toEqual(["sales", "someone_elses"]);
  });
});

describe("Portal.call", () => {
  it.each([
    ["an empty body", ""],
    ["null", "null"],
  ])("answers %s with HTTP 200 as a PortalError, not a TypeError", async (_, body) => {
    const p = new Portal({
      auth: { kind: "oauth", portal: "https://example.bitrix24.com", accessToken: "t" },
      fetch: (async () => new Response(body, { status: 200 })) as typeof fetch,
      retryBaseMs: 1,
    });
    const err = await p.call("app.info").catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PortalError);
    expect((err as PortalError).code).toBe("BAD_RESPONSE");
  });
});

describe("Portal.list", () => {
  it("asks for a stable order, so pages of a list the portal does not sort by itself neither skip nor repeat items", async () => {
    const ids = Array.from({ length: 60 }, (_, i) => i + 1);
    const fetchFn = (async (_input: string | URL | Request, init?: RequestInit) => {
      const p = JSON.parse(String(init?.body)) as { page: number; order?: Record<string, string> };
      // Without `order` the portal does not sort (connector-list.md): here each query comes back in its own order.
      const sorted = p.order?.id?.toUpperCase() === "ASC" ? ids : p.page % 2 ? [...ids].reverse() : ids;
      return Response.json({ result: sorted.slice((p.page - 1) * 50, p.page * 50).map((id) => ({ id })) });
    }) as typeof fetch;
    const portal = new Portal({ auth: { kind: "oauth", portal: "https://example.bitrix24.com", accessToken: "t" }, fetch: fetchFn });
    const got = (await portal.list("biconnector.table.list")).map((i) => i.id as number);
    expect(got.sort((a, b) => a - b)).toEqual(ids);
  });
});
