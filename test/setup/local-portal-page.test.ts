// The local portal's own page (GET /frame, the tests' page): what it takes
// from its query string must not become script on the portal's origin.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LocalPortal } from "../../scripts/local-portal/portal";

let portal: LocalPortal;
beforeAll(async () => {
  portal = new LocalPortal();
  await portal.start();
});
afterAll(() => portal.stop());

describe("GET /frame", () => {
  it.each([
    ["app", "javascript:parent.alert(document.domain)"],
    ["install", "javascript:parent.alert(document.domain)"],
    ["app", "data:text/html,<script>alert(1)</script>"],
  ])("refuses a %s address that is not http(s): the form would run it in the portal's origin", async (name, value) => {
    const q = new URLSearchParams({ app: "http://127.0.0.1:1/app", [name]: value });
    const res = await fetch(`${portal.origin}/frame?${q}`);
    expect(res.status).toBe(400);
    expect(await res.text()).not.toContain("javascript:");
  });

  it("still frames an http(s) app", async () => {
    const res = await fetch(`${portal.origin}/frame?app=${encodeURIComponent("http://127.0.0.1:1/app")}`);
    expect(res.status).toBe(200);
  });
});
