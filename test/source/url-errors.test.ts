// URL tables whose server answers a broken redirect, and addresses that carry
// credentials (`user:pass@`): every failure is a JSON error with a stable code,
// and no message ever shows the credentials (messages reach portal users).
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { redirectTarget, shownUrl } from "../../src/source/url";
import { errorOf, post, table } from "../helpers";

const helper = (env as unknown as { HELPER_ORIGIN: string }).HELPER_ORIGIN;

describe("a redirect whose Location is no address", () => {
  it("a malformed Location is 502 URL_UNAVAILABLE saying so, not 500 INTERNAL", async () => {
    for (const path of ["/data", "/table_description"]) {
      const err = await errorOf(await post(path, { table: "remote_bad_location" }));
      expect(err).toEqual({
        status: 502,
        code: "URL_UNAVAILABLE",
        message: `Table "remote_bad_location": ${helper}/redirect/http%3A%2F%2F127.0.0.1%253A18082%2Fs.csv redirects to "http://127.0.0.1%3A18082/s.csv", which is not a valid address. Check the server that publishes the file.`,
      });
    }
  });

  it("an empty Location is 502 URL_UNAVAILABLE, never followed to <base>/null", async () => {
    const err = await errorOf(await post("/data", { table: "remote_empty_location" }));
    expect(err).toEqual({
      status: 502,
      code: "URL_UNAVAILABLE",
      message: `Table "remote_empty_location": ${helper}/redirect/ answered a redirect without a Location to follow. Check the server that publishes the file.`,
    });
  });

  it("redirectTarget throws AppErrors only", () => {
    const from = new URL("https://files.example.com/a.csv");
    expect(() => redirectTarget(from, "http://exa mple%3A1/x", "t")).toThrow(expect.objectContaining({ code: "URL_UNAVAILABLE" }));
    expect(() => redirectTarget(from, "", "t")).toThrow(expect.objectContaining({ code: "URL_UNAVAILABLE" }));
    expect(() => redirectTarget(from, "   ", "t")).toThrow(expect.objectContaining({ code: "URL_UNAVAILABLE" }));
    expect(() => redirectTarget(from, null, "t")).toThrow(expect.objectContaining({ code: "URL_UNAVAILABLE" }));
    expect(redirectTarget(from, "/b.csv", "t").href).toBe("https://files.example.com/b.csv");
  });
});

describe("credentials in a URL table's address are never shown", () => {
  it("shownUrl drops them from addresses and from text quoting addresses", () => {
    expect(shownUrl(new URL("https://a:b@x.example/p?q=1"))).toBe("https://x.example/p?q=1");
    expect(shownUrl("https://a:b@x.example/p")).toBe("https://x.example/p");
    expect(shownUrl("fetch of http://me:pw@h.example:8/x failed; then https://z@w.example/")).toBe(
      "fetch of http://h.example:8/x failed; then https://w.example/",
    );
    expect(shownUrl("no address here: a@b")).toBe("no address here: a@b");
  });

  const host = new URL(helper).host;

  it("an HTTP error names the address without them", async () => {
    const err = await errorOf(await post("/data", { table: "remote_creds_500" }));
    expect(err).toEqual({
      status: 502,
      code: "URL_UNAVAILABLE",
      message: `Table "remote_creds_500": http://${host}/status/500 answered HTTP 500. Check that the file is still published at that address.`,
    });
  });

  it("a redirect to an address with credentials: neither shown", async () => {
    const err = await errorOf(await post("/data", { table: "remote_creds_redirect" }));
    expect(err.code).toBe("URL_UNAVAILABLE");
    expect(err.status).toBe(502);
    expect(err.message).not.toMatch(/pa55word|u:|@/);
  });

  it("an address with credentials that serves the file: rows, or an error without them", async () => {
    const res = await post("/data", { table: "remote_creds_ok" });
    if (res.status === 200) {
      expect((await table(res)).length).toBeGreaterThan(1);
      return;
    }
    const err = await errorOf(res);
    expect(err.code).toBe("URL_UNAVAILABLE");
    expect(err.message).not.toMatch(/s3cret|user:|@/);
  });

  it("redirectTarget's https→http refusal hides them too", () => {
    const from = new URL("https://me:hidden@files.example.com/a.csv");
    expect(() => redirectTarget(from, "http://me:hidden@other.example.com/b.csv", "t")).toThrow(
      expect.objectContaining({ message: expect.not.stringContaining("hidden") }),
    );
  });
});
