import { describe, expect, it } from "vitest";
import { post, put, table } from "./helpers";

describe("smoke", () => {
  it("serves a csv", async () => {
    await put("sales.csv", "id,name,amount,day\n1,\"Smith, J\",10.50,2024-01-31\n2,Ann,,31.01.2024\n");
    const list = await post("/table_list");
    expect(await list.json()).toContainEqual({ code: "sales", title: "sales" });
    const desc = await post("/table_description", { table: "sales" });
    expect(await desc.json()).toEqual([
      { code: "ID", name: "id", type: "int" },
      { code: "NAME", name: "name", type: "string" },
      { code: "AMOUNT", name: "amount", type: "double" },
      { code: "DAY", name: "day", type: "date" },
    ]);
    const data = await post("/data", { table: "sales", limit: 0 });
    expect(await table(data)).toEqual([
      ["ID", "NAME", "AMOUNT", "DAY"],
      [1, "Smith, J", 10.5, "2024-01-31"],
      [2, "Ann", null, "2024-01-31"],
    ]);
  });
});
