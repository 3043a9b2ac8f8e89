// The readers of the portal's answers, on the documented example answers
// (test/fixtures/portal-docs/, each copied from its page) and on the other
// shapes that portals of another generation send.
import { describe, expect, it } from "vitest";
import {
  datasetFields,
  fieldNames,
  idOf,
  itemOf,
  itemsOf,
  requiredFieldNames,
  sameValue,
  settingValues,
  sourceOf,
} from "../../src/register/answers";
import connectorFields from "../fixtures/portal-docs/biconnector.connector.fields.json";
import connectorList from "../fixtures/portal-docs/biconnector.connector.list.json";
import datasetGet from "../fixtures/portal-docs/biconnector.dataset.get.json";
import datasetList from "../fixtures/portal-docs/biconnector.dataset.list.json";
import sourceGet from "../fixtures/portal-docs/biconnector.source.get.json";

const result = (f: { response: { body: { result: unknown } } | null }) => structuredClone(f.response!.body.result);

describe("connector.fields", () => {
  it("reads the documented array: the names are the titles", () => {
    const names = fieldNames(result(connectorFields));
    expect([...names!]).toEqual(
      expect.arrayContaining(["title", "logo", "urlCheck", "urlData", "urlTableList", "urlTableDescription", "settings"]),
    );
    expect(names!.has("0")).toBe(false);
    expect([...requiredFieldNames(result(connectorFields))].sort()).toEqual([
      "logo",
      "settings",
      "title",
      "urlCheck",
      "urlData",
      "urlTableDescription",
      "urlTableList",
    ]);
  });

  it.each([
    ["a keyed object", { fields: { title: { type: "string" }, logo: { type: "string" } } }, ["title", "logo"]],
    ["a bare array of names", ["title", "logo"], ["title", "logo"]],
    ["nothing", {}, null],
    ["an empty list", { fields: [] }, null],
  ])("reads %s", (_, answer, names) => {
    const got = fieldNames(answer);
    expect(got === null ? null : [...got]).toEqual(names);
  });
});

describe("ids", () => {
  it.each([
    [7, 7],
    ["11", 11],
    [" 9 ", 9],
    [{ id: "4" }, 4],
    [{ ID: 5 }, 5],
    ["x1", NaN],
    [null, NaN],
    ["", NaN],
  ])("idOf(%j) = %d", (value, id) => {
    expect(idOf(value)).toBe(id);
  });

  it("reads the documented list examples' ids: integers (current pages) and numeric strings (older pages)", () => {
    const older = (f: { variants?: Record<string, { response?: { body: { result: unknown } } | null }> }) =>
      structuredClone(f.variants!["5988ed13"].response!.body.result);
    expect(itemsOf(result(connectorList)).map((c) => c.id)).toEqual([11, 9]);
    expect(itemsOf(older(connectorList)).map((c) => c.id)).toEqual(["11", "9"]);
    expect(itemsOf(older(connectorList)).map(idOf)).toEqual([11, 9]);
    expect(itemsOf(result(datasetList)).map(idOf)).toEqual([9, 6, 5]);
  });
});

describe("get answers", () => {
  it("source.get: {item: {connection, connectorId, settings: [{code, value}]}} flattened", () => {
    const source = sourceOf(itemOf(result(sourceGet))!);
    expect(source).toMatchObject({ id: 6, title: "Rest source SQL", active: true, connectorId: 1 });
    expect(settingValues(source.settings)).toEqual({ token: "a1b2c3d4e5" });
  });

  it("dataset.get: the fields of {item: {fields}}", () => {
    expect(datasetFields(itemOf(result(datasetGet))).map((f) => [f.id, f.name, f.type])).toEqual([
      [224, "ID", "int"],
      [225, "NAME", "string"],
      [226, "SURNAME", "string"],
      [227, "SCORE", "double"],
      [228, "DATA", "date"],
      [229, "TIME", "datetime"],
    ]);
  });

  it("settings as a keyed object, and none", () => {
    expect(settingValues({ token: "t", n: 5 })).toEqual({ token: "t", n: "5" });
    expect(settingValues(undefined)).toBeNull();
  });
});

describe("sameValue: only what we send is compared", () => {
  it.each([
    ["a number written as a string", "100", 100, true],
    ["another number", "101", 100, false],
    ["Y for true", "Y", true, true],
    ["N for true", "N", true, false],
    [
      "settings with the portal's ids, keys in another order",
      [{ type: "STRING", id: 3, code: "token", name: "T" }],
      [{ code: "token", name: "T", type: "STRING" }],
      true,
    ],
    [
      "settings in another order",
      [
        { code: "b", name: "B", type: "STRING" },
        { code: "a", name: "A", type: "STRING" },
      ],
      [
        { code: "a", name: "A", type: "STRING" },
        { code: "b", name: "B", type: "STRING" },
      ],
      false,
    ],
    [
      "a missing setting",
      [{ code: "token", name: "T", type: "STRING" }],
      [
        { code: "token", name: "T", type: "STRING" },
        { code: "d", name: "D", type: "STRING" },
      ],
      false,
    ],
    ["an empty number", "", 0, false],
  ])("%s", (_, current, desired, same) => {
    expect(sameValue(current, desired)).toBe(same);
  });
});
