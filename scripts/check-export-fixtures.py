#!/usr/bin/python3
"""Cross-checks test/fixtures/exports/expected/*.json against the fixture bytes
with an independent, deliberately plain reader (Python csv + ElementTree) that
implements the rules of docs/design/xlsx-and-exports.md: the date-format rule,
1900 (leap-year bug) and 1904 serials rounded to the second, inline/shared
strings, t="b" and t="d" cells, and the people-written numbers of the CSVs
(currency, thousands, accounting negatives, percent).

It is not the connector and not a test of it: it proves the expected files say
what the bytes say. Run: /usr/bin/python3 scripts/check-export-fixtures.py
"""
import csv
import datetime as dt
import glob
import io
import json
import os
import re
import sys
import xml.etree.ElementTree as ET
import zipfile

DIR = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "test", "fixtures", "exports")
M = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"


def num(s):
    s = s.strip().replace("\u00a0", " ").replace("\u202f", " ")
    neg = s.startswith("(") and s.endswith(")")
    if neg:
        s = s[1:-1]
    pct = s.endswith("%")
    s = s.rstrip("%")
    s = re.sub(r"^\$|\s*(€|₽|руб\.|р\.)$", "", s).strip()
    if "," in s and "." in s:
        s = s.replace(".", "").replace(",", ".") if s.rfind(",") > s.rfind(".") else s.replace(",", "")
    elif "," in s:
        s = s.replace(",", "") if re.fullmatch(r"-?\d{1,3}(,\d{3})+", s) else s.replace(",", ".")
    v = float(s.replace(" ", ""))
    v = -v if neg else v
    if pct:
        v = round(v / 100, 10)
    return int(v) if v.is_integer() else v


def csv_date(s):
    if re.fullmatch(r"\d\d\.\d\d\.\d{4}", s):
        return f"{s[6:]}-{s[3:5]}-{s[:2]}"
    m, d, y = s.split("/")
    return f"{y}-{int(m):02d}-{int(d):02d}"


BUILTIN_DATE = set(range(14, 23)) | {45, 46, 47}


def is_date_format(code):
    c = re.sub(r'"[^"]*"', "", code)
    c = re.sub(r"\\.", "", c)
    c = re.sub(r"\[(?!h\]|m\]|s\])[^\]]*\]", "", c, flags=re.I)
    c = re.sub(r"[_*].", "", c).split(";")[0]
    return c.lower() != "general" and re.search(r"[dmyhs]", c, re.I) is not None


def from_serial(v, date1904):
    days = int(v // 1)
    secs = round((v - days) * 86400)
    if secs == 86400:
        days, secs = days + 1, 0
    if date1904:
        base = dt.datetime(1904, 1, 1)
    elif days >= 61:
        base = dt.datetime(1899, 12, 30)
    else:
        base = dt.datetime(1899, 12, 31)
    return base + dt.timedelta(days=days, seconds=secs)


def col_index(ref):
    n = 0
    for ch in re.match(r"[A-Z]+", ref).group():
        n = n * 26 + ord(ch) - 64
    return n - 1


def check_csv(x):
    raw = open(os.path.join(DIR, x["file"]), "rb").read()
    if x["bom"]:
        assert raw.startswith(b"\xef\xbb\xbf")
        raw = raw[3:]
    recs = list(csv.reader(io.StringIO(raw.decode(x["encoding"].replace("windows-", "cp")), newline=""),
                           delimiter=x["delimiter"]))
    header = recs[x["headerRow"] - 1]
    foot = {f["line"] for f in x["footerRows"]}  # these files have no multi-line cells before a footer
    rows = []
    for i, r in enumerate(recs[x["headerRow"]:], start=x["headerRow"] + 1):
        if i in foot:
            continue
        row = []
        for c, v in zip(x["columns"], r):
            row.append(None if v == "" else num(v) if c["type"] in ("int", "double")
                       else csv_date(v) if c["type"] == "date" else v)
        rows.append(row)
    return header, rows


def check_xlsx(x, sheet_name=None, table=None):
    table = table or x
    z = zipfile.ZipFile(os.path.join(DIR, x["file"]))
    wb = ET.fromstring(z.read("xl/workbook.xml"))
    pr = wb.find(M + "workbookPr")
    date1904 = pr is not None and pr.get("date1904") in ("1", "true")
    strings = []
    if "xl/sharedStrings.xml" in z.namelist():
        for si in ET.fromstring(z.read("xl/sharedStrings.xml")).findall(M + "si"):
            strings.append("".join(t.text or "" for t in si.iter(M + "t")))
    styles = ET.fromstring(z.read("xl/styles.xml"))
    formats = {int(n.get("numFmtId")): n.get("formatCode") for n in styles.iter(M + "numFmt")}
    xfs = [int(xf.get("numFmtId")) for xf in styles.find(M + "cellXfs").findall(M + "xf")]

    def dated(s):
        fid = xfs[int(s)] if s is not None else 0
        return fid in BUILTIN_DATE or (fid in formats and is_date_format(formats[fid]))

    names = [s.get("name") for s in wb.find(M + "sheets")]
    name = sheet_name or x.get("sheet") or names[0]
    sheet = ET.fromstring(z.read(f"xl/worksheets/sheet{names.index(name) + 1}.xml"))
    cells_by_row = {}
    for r in sheet.iter(M + "row"):
        cells = {}
        for c in r.findall(M + "c"):
            t, v = c.get("t"), c.find(M + "v")
            if t == "s":
                val = strings[int(v.text)]
            elif t == "inlineStr":
                val = "".join(tt.text or "" for tt in c.iter(M + "t"))
            elif t == "b":
                val = "true" if v.text == "1" else "false"  # served like JSON booleans
            elif t == "d":
                val = v.text.replace("T", " ")
            elif v is not None:
                f = float(v.text)
                val = from_serial(f, date1904) if dated(c.get("s")) else (int(f) if f.is_integer() else f)
            else:
                val = None
            cells[col_index(c.get("r"))] = val
        cells_by_row[int(r.get("r"))] = cells
    hr = table["headerRow"]
    foot = {f["row"] for f in table.get("footerRows", [])}
    cols = table["columns"]
    rows = []
    for rn in sorted(cells_by_row):
        if rn <= hr or rn in foot:
            continue
        out = []
        for i, c in enumerate(cols):
            v = cells_by_row[rn].get(i)
            if isinstance(v, dt.datetime):
                v = v.strftime("%Y-%m-%d") if c["type"] == "date" else v.strftime("%Y-%m-%d %H:%M:%S")
            elif isinstance(v, str) and c["type"] == "date":
                v = v[:10]
            out.append(None if v == "" else v)
        rows.append(out)
    return [cells_by_row[hr].get(i) for i in range(len(cols))], rows


def main():
    bad = 0
    for path in sorted(glob.glob(os.path.join(DIR, "expected", "*.json"))):
        x = json.load(open(path, encoding="utf-8"))
        if x.get("refuse") or x.get("generatedAtTestTime"):
            continue
        checks = [(x, None)]
        checks += [(t, name) for name, t in x.get("otherSheets", {}).items()]
        for table, sheet in checks:
            header, rows = check_csv(x) if x["format"] == "csv" else check_xlsx(x, sheet, table)
            ok = header == [c["name"] for c in table["columns"]] and rows == table["rows"]
            bad += not ok
            print(("ok  " if ok else "BAD ") + x["file"] + (f" [{sheet}]" if sheet else ""))
            if not ok:
                print("   header", header, "\n   rows  ", rows, "\n   expect", table["rows"])
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
