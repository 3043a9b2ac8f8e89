#!/usr/bin/python3
"""Writes the real-exports corpus (issue 12) into test/fixtures/exports/.

Every file is produced the way the analyst's tool produces it: the CSVs byte for
byte as 1C / Excel / Google Sheets write them (encodings, BOMs, separators,
values "as displayed"), the workbooks by the real producers (XlsxWriter,
openpyxl, LibreOffice headless). Next to each fixture, expected/<name>.json
states what a correct connector must serve: the header row (1-based line or
sheet row), the rows it skips above and below, the encoding and dialect, the
column types and the exact typed rows as /data would send them (numbers as
JSON numbers, dates "Y-m-d", datetimes "Y-m-d H:i:s", empty cells null).

Run with the Debian interpreter (the packages are python3-openpyxl and
python3-xlsxwriter; LibreOffice is libreoffice-calc-nogui):
    /usr/bin/python3 scripts/make-export-fixtures.py
Deterministic: run twice, same bytes (zip timestamps and document dates are
pinned; see normalize_zip). The one exception is libreoffice-sales.xls (a
binary OLE file LibreOffice stamps itself); it is only a "clear error" case.

The "late cp1251" file (1 MiB of ASCII before the first Cyrillic byte) is not
committed: test/fixtures/exports/late-cp1251.ts builds it at test time, and
expected/late-cp1251.csv.json describes it. `--late` also writes it here
(git-ignored) to compare with the TypeScript builder. `--big ROWS` writes only
the large throughput workbook big-ROWS.xlsx (git-ignored; 200000 rows = 10.9 MB).
"""

import datetime as dt
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import zipfile

import openpyxl
import xlsxwriter

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "test", "fixtures", "exports")
EXPECTED = os.path.join(OUT, "expected")
SRC = os.path.join(OUT, "src")
FIXED = dt.datetime(2024, 2, 1, 9, 0, 0)
NBSP = "\u00a0"
NNBSP = "\u202f"


def write_bytes(name, data):
    with open(os.path.join(OUT, name), "wb") as f:
        f.write(data)


def expect(name, **fields):
    doc = {"file": name}
    doc.update(fields)
    with open(os.path.join(EXPECTED, name + ".json"), "w", encoding="utf-8") as f:
        json.dump(doc, f, ensure_ascii=False, indent=1)
        f.write("\n")


def csv_lines(lines, sep, newline, encoding, bom=b"", final_newline=True):
    text = newline.join(sep.join(cells) if isinstance(cells, list) else cells for cells in lines)
    if final_newline:
        text += newline
    return bom + text.encode(encoding)


def cols(*pairs):
    return [{"name": n, "type": t} for n, t in pairs]


# ---------------------------------------------------------------- CSV exports

def one_c_report():
    """1C:Enterprise "Save as CSV" of a report (SpreadsheetDocument): cp1251,
    ';', CRLF, title and period lines padded to the table's width, an empty
    line, the header on line 4, amounts with U+00A0 thousands and a decimal
    comma, article codes with leading zeros, a totals row."""
    name = "1c-sales-report.csv"
    rows = [
        ["09.01.2024", "00123", "Стул офисный", "5", f"12{NBSP}500,50"],
        ["15.01.2024", "00456", "Стол письменный", "2", f"31{NBSP}000,00"],
        ["22.01.2024", "01789", "Кресло «Директор»", "1", f"45{NBSP}990,90"],
        ["31.01.2024", "00042", "Лампа настольная", "6", f"7{NBSP}200,00"],
    ]
    lines = [
        ["Отчет о продажах", "", "", "", ""],
        ["Период: 01.01.2024 - 31.01.2024", "", "", "", ""],
        "",
        ["Дата", "Артикул", "Номенклатура", "Количество", "Сумма"],
        *rows,
        ["Итого", "", "", "14", f"96{NBSP}691,40"],
    ]
    write_bytes(name, csv_lines(lines, ";", "\r\n", "cp1251"))
    expect(
        name,
        producer="1C:Enterprise 8 report saved as CSV (byte layout reproduced)",
        format="csv", encoding="windows-1251", bom=False, delimiter=";", newline="\r\n",
        headerRow=4,
        skippedRows=[{"line": 1, "reason": "title"}, {"line": 2, "reason": "title"}, {"line": 3, "reason": "empty"}],
        footerRows=[{"line": 9, "reason": "total", "firstCell": "Итого"}],
        columns=cols(("Дата", "date"), ("Артикул", "string"), ("Номенклатура", "string"),
                     ("Количество", "int"), ("Сумма", "double")),
        rows=[
            ["2024-01-09", "00123", "Стул офисный", 5, 12500.5],
            ["2024-01-15", "00456", "Стол письменный", 2, 31000],
            ["2024-01-22", "01789", "Кресло «Директор»", 1, 45990.9],
            ["2024-01-31", "00042", "Лампа настольная", 6, 7200],
        ],
        exercises=["cp1251 without BOM", "title lines padded with ';' above the header",
                   "empty line", "header on line 4", "U+00A0 thousands + decimal comma",
                   "dd.mm.yyyy dates", "leading zeros kept (string column)", "totals row Итого dropped"],
    )


def excel_en_utf8():
    """Excel (en-US) "CSV UTF-8 (Comma delimited)": BOM, ',', CRLF, values as
    displayed: currency, thousands, accounting negatives, percent, m/d/yyyy."""
    name = "excel-en-utf8.csv"
    lines = [
        ["Order", "Date", "Customer", "Amount", "Units", "Balance", "Discount"],
        ["1001", "1/31/2024", '"Acme, Inc."', '"$1,234.50"', '"1,234.56"', '"(1,234.50)"', "12%"],
        ["1002", "2/14/2024", "Globex", "$980.00", "17.5", "250.00", "0%"],
        ["1003", "3/5/2024", '"Initech ""East"""', '"$12,000.00"', '"2,000.00"', "(75.25)", "7.50%"],
        ["1004", "12/1/2024", "Umbrella", "$0.99", "1", "", "100%"],
    ]
    write_bytes(name, csv_lines(lines, ",", "\r\n", "utf-8", bom=b"\xef\xbb\xbf"))
    expect(
        name,
        producer="Excel for Windows (en-US), Save As \"CSV UTF-8 (Comma delimited)\" (byte layout reproduced)",
        format="csv", encoding="utf-8", bom=True, delimiter=",", newline="\r\n",
        headerRow=1, skippedRows=[], footerRows=[],
        columns=cols(("Order", "int"), ("Date", "date"), ("Customer", "string"), ("Amount", "double"),
                     ("Units", "double"), ("Balance", "double"), ("Discount", "double")),
        rows=[
            [1001, "2024-01-31", "Acme, Inc.", 1234.5, 1234.56, -1234.5, 0.12],
            [1002, "2024-02-14", "Globex", 980, 17.5, 250, 0],
            [1003, "2024-03-05", 'Initech "East"', 12000, 2000, -75.25, 0.075],
            [1004, "2024-12-01", "Umbrella", 0.99, 1, None, 1],
        ],
        notes="Percent is served as the cell's value (12% -> 0.12), as Excel stores it. "
              "Dates are month-first: en-US Excel writes m/d/yyyy and 1/31 and 2/14 prove the order for the column.",
        exercises=["UTF-8 BOM", "$ prefix with ',' thousands", "quoted thousands", "accounting negative (1,234.50)",
                   "percent", "m/d/yyyy without leading zeros", "quoted comma and doubled quotes", "empty -> null"],
    )


GERMAN = [
    ("Bürostuhl", "31.01.2024", 2, 149.90, 299.80),
    ("Schreibtisch Eiche", "15.01.2024", 1, 1234.56, 1234.56),
    ("Aktenschrank groß", "08.01.2024", 3, 89.00, 267.00),
    ("Drucker für Büro", "22.01.2024", 1, 2349.00, 2349.00),
    ("Kühlschrank", "29.01.2024", 1, 412.50, 412.50),
    ("Maßband, 5 m", "03.01.2024", 10, 4.99, 49.90),
]


def de_num(x):
    s = f"{x:,.2f}"  # 1,234.56
    return s.replace(",", "X").replace(".", ",").replace("X", ".")


def excel_de_cp1252():
    """Excel (de-DE) "CSV (Trennzeichen-getrennt)": cp1252, ';', CRLF, '1.234,56 €',
    dd.mm.yyyy, umlauts and ß (which cp1251 would turn into Cyrillic), a Gesamt row."""
    name = "excel-de-cp1252.csv"
    lines = [["Artikel", "Datum", "Menge", "Einzelpreis", "Betrag"]]
    for art, d, q, p, b in GERMAN:
        cell = f'"{art}"' if ";" in art else art
        lines.append([cell, d, str(q), f"{de_num(p)} €", f"{de_num(b)} €"])
    total_q = sum(r[2] for r in GERMAN)
    total_b = round(sum(r[4] for r in GERMAN), 2)
    lines.append(["Gesamt", "", str(total_q), "", f"{de_num(total_b)} €"])
    write_bytes(name, csv_lines(lines, ";", "\r\n", "cp1252"))
    iso = lambda d: f"{d[6:]}-{d[3:5]}-{d[:2]}"
    expect(
        name,
        producer="Excel for Windows (de-DE), Save As \"CSV (Trennzeichen-getrennt)\" (byte layout reproduced)",
        format="csv", encoding="windows-1252", bom=False, delimiter=";", newline="\r\n",
        headerRow=1, skippedRows=[],
        footerRows=[{"line": len(lines), "reason": "total", "firstCell": "Gesamt"}],
        columns=cols(("Artikel", "string"), ("Datum", "date"), ("Menge", "int"),
                     ("Einzelpreis", "double"), ("Betrag", "double")),
        rows=[[a, iso(d), q, p, b] for a, d, q, p, b in GERMAN],
        exercises=["cp1252 (ü ß = 0xFC 0xDF; cp1251 would read ь Я)", "'.' thousands, ',' decimal",
                   "€ after the number", "dd.mm.yyyy", "totals row Gesamt dropped"],
    )


RUSSIAN = [
    ("Ноутбук", "31.01.2024", 2, 61234.56, 122469.12),
    ("Монитор 27\"", "15.01.2024", 3, 18990.00, 56970.00),
    ("Клавиатура", "09.01.2024", 10, 1234.56, 12345.60),
    ("Мышь беспроводная", "22.01.2024", 12, 899.90, 10798.80),
]


def ru_num(x, sep):
    s = f"{x:,.2f}"
    return s.replace(",", sep).replace(".", ",")


def excel_ru():
    """Russian Excel, two saves of one sheet with a ruble currency format.
    - "CSV UTF-8": BOM, ';', U+00A0 thousands, '₽' after the number.
    - "CSV (разделители - запятые)": cp1251, ';'. ₽ (U+20BD) has no cp1251
      byte, so this save uses the older 'руб.' format, and the total has 'р.'."""
    total_q = sum(r[2] for r in RUSSIAN)
    total = round(sum(r[4] for r in RUSSIAN), 2)
    iso = lambda d: f"{d[6:]}-{d[3:5]}-{d[:2]}"
    q = lambda s: '"' + s.replace('"', '""') + '"' if '"' in s or ";" in s else s
    typed = [[t, iso(d), n, p, s] for t, d, n, p, s in RUSSIAN]
    columns = cols(("Товар", "string"), ("Дата", "date"), ("Количество", "int"), ("Цена", "double"), ("Сумма", "double"))

    name = "excel-ru-utf8.csv"
    lines = [["Товар", "Дата", "Количество", "Цена", "Сумма"]]
    for t, d, n, p, s in RUSSIAN:
        lines.append([q(t), d, str(n), f"{ru_num(p, NBSP)} ₽", f"{ru_num(s, NBSP)} ₽"])
    lines.append(["Всего", "", str(total_q), "", f"{ru_num(total, NBSP)} ₽"])
    write_bytes(name, csv_lines(lines, ";", "\r\n", "utf-8", bom=b"\xef\xbb\xbf"))
    expect(name, producer="Excel for Windows (ru-RU), Save As \"CSV UTF-8\" (byte layout reproduced)",
           format="csv", encoding="utf-8", bom=True, delimiter=";", newline="\r\n", headerRow=1, skippedRows=[],
           footerRows=[{"line": len(lines), "reason": "total", "firstCell": "Всего"}],
           columns=columns, rows=typed,
           exercises=["U+00A0 thousands", "₽ after the number", "quoted cell with doubled quote", "Всего dropped"])

    name = "excel-ru-cp1251.csv"
    lines = [["Товар", "Дата", "Количество", "Цена", "Сумма"]]
    for t, d, n, p, s in RUSSIAN:
        lines.append([q(t), d, str(n), f"{ru_num(p, ' ')} руб.", f"{ru_num(s, ' ')} руб."])
    lines.append(["Всего", "", str(total_q), "", f"{ru_num(total, ' ')} р."])
    write_bytes(name, csv_lines(lines, ";", "\r\n", "cp1251"))
    expect(name, producer="Excel for Windows (ru-RU), Save As \"CSV (разделители - запятые)\" (byte layout reproduced)",
           format="csv", encoding="windows-1251", bom=False, delimiter=";", newline="\r\n", headerRow=1,
           skippedRows=[], footerRows=[{"line": len(lines), "reason": "total", "firstCell": "Всего"}],
           columns=columns, rows=typed,
           exercises=["cp1251", "space thousands", "'руб.' and 'р.' suffixes", "Всего dropped"])


def google_sheets():
    """Google Sheets File > Share > Publish to web > CSV: UTF-8 without BOM,
    ',', CRLF between records but LF inside a quoted multi-line cell, no
    newline after the last record, values as displayed."""
    name = "google-sheets.csv"
    lines = [
        ["Name", "Date", "Amount", "Comment"],
        ["Ann", "1/31/2024", "1234.5", '"Called twice,\nwill pay Friday"'],
        ["Boris", "2/29/2024", "99", ""],
        ["Zoë", "3/15/2024", "-12.75", '"Quote: ""ok"""'],
        ["Ли Мин", "12/31/2024", "0", '"Line 1\nLine 2\nLine 3"'],
    ]
    write_bytes(name, csv_lines(lines, ",", "\r\n", "utf-8", final_newline=False))
    expect(name, producer="Google Sheets publish-to-web CSV (byte layout reproduced)",
           format="csv", encoding="utf-8", bom=False, delimiter=",", newline="\r\n", headerRow=1,
           skippedRows=[], footerRows=[],
           columns=cols(("Name", "string"), ("Date", "date"), ("Amount", "double"), ("Comment", "string")),
           rows=[
               ["Ann", "2024-01-31", 1234.5, "Called twice,\nwill pay Friday"],
               ["Boris", "2024-02-29", 99, None],
               ["Zoë", "2024-03-15", -12.75, 'Quote: "ok"'],
               ["Ли Мин", "2024-12-31", 0, "Line 1\nLine 2\nLine 3"],
           ],
           exercises=["UTF-8 no BOM", "CRLF records, LF inside quoted cells", "no final newline", "m/d/yyyy"])


def late_cp1251(write):
    """Described here, built by late-cp1251.ts at test time (just over 1 MiB)."""
    name = "late-cp1251.csv"
    data = late_cp1251_bytes()
    if write:
        write_bytes(name, data)
    n = (len(data.split(b"\r\n")) - 2)
    expect(name, producer="built by test/fixtures/exports/late-cp1251.ts (and this script with --late)",
           generatedAtTestTime=True, size=len(data), firstNonAsciiByteOffset=data.index(bytes([0xCC])),
           format="csv", encoding="windows-1251", bom=False, delimiter=";", newline="\r\n",
           headerRow=1, skippedRows=[], footerRows=[],
           columns=cols(("id", "int"), ("city", "string"), ("amount", "double")),
           rowCount=n,
           rowsAt={"0": [1, "Kazan", 1.5], str(n - 2): [n - 1, "Kazan", 1.5], str(n - 1): [n, "Москва", 2.25]},
           exercises=["first 1 MiB ASCII, Cyrillic after it: detection must look at the whole file"])


def late_cp1251_bytes():
    # Mirrors late-cp1251.ts exactly: header, ASCII rows until the file passes
    # 1 MiB, then one row with a cp1251 city.
    out = [b"id;city;amount\r\n"]
    size = len(out[0])
    i = 0
    while size <= 1024 * 1024:
        i += 1
        line = f"{i};Kazan;1,5\r\n".encode("ascii")
        out.append(line)
        size += len(line)
    out.append(f"{i + 1};Москва;2,25\r\n".encode("cp1251"))
    return b"".join(out)


# ---------------------------------------------------------------- workbooks

XW_ROWS = [
    # date, shipped at, sku, product, qty, price, paid, note, lead time
    (dt.date(2024, 1, 9), dt.datetime(2024, 1, 10, 14, 30, 0), "00123", "Office chair", 5, 2500.1, True, "first order", 1.5),
    (dt.date(2024, 1, 15), dt.datetime(2024, 1, 16, 9, 5, 59), "00456", "Desk & drawer <oak>", 2, 15500, False, None, 2),
    (dt.date(2024, 1, 22), dt.datetime(2024, 1, 23, 23, 59, 59), "01789", "Кресло «Директор»", 1, 45990.9, True, "", 0.25),
    (dt.date(2024, 1, 31), dt.datetime(2024, 2, 1, 0, 0, 1), "00042", "  Lamp (spaces kept)  ", 6, 1200, False, "paid\nlate", 10),
]


def xlsxwriter_report():
    """XlsxWriter: shared strings, a merged title row and an empty row above the
    header, built-in date format 14, a custom datetime format, numbers with
    custom formats that contain d/m/y/s only inside quotes/brackets (not dates),
    booleans, absent and formatted-empty cells, a totals row with cached SUMs."""
    name = "xlsxwriter-report.xlsx"
    path = os.path.join(OUT, name)
    wb = xlsxwriter.Workbook(path)
    wb.set_properties({"created": FIXED, "author": "fixtures"})
    ws = wb.add_worksheet("Report")
    title = wb.add_format({"bold": True, "align": "center"})
    date14 = wb.add_format({"num_format": 14})
    dtfmt = wb.add_format({"num_format": "yyyy-mm-dd hh:mm:ss"})
    money = wb.add_format({"num_format": '[$€-407] #,##0.00;[Red]-[$€-407] #,##0.00'})
    days = wb.add_format({"num_format": '0.0" days"'})
    boxed = wb.add_format({"border": 1})
    ws.merge_range("A1:I1", "Sales report — January 2024", title)
    header = ["Date", "Shipped at", "SKU", "Product", "Qty", "Price", "Paid", "Note", "Lead time"]
    ws.write_row(2, 0, header)
    for i, (d, s, sku, prod, q, p, paid, note, lead) in enumerate(XW_ROWS):
        r = 3 + i
        ws.write_datetime(r, 0, dt.datetime.combine(d, dt.time()), date14)
        ws.write_datetime(r, 1, s, dtfmt)
        ws.write_string(r, 2, sku)
        ws.write_string(r, 3, prod)
        ws.write_number(r, 4, q)
        ws.write_number(r, 5, p, money)
        ws.write_boolean(r, 6, paid)
        if note is None:
            pass  # absent cell: no <c> at all
        elif note == "":
            ws.write_blank(r, 7, None, boxed)  # <c r="H6" s=".."/>: formatted but empty
        else:
            ws.write_string(r, 7, note)
        ws.write_number(r, 8, lead, days)
    last = 3 + len(XW_ROWS)
    ws.write_string(last, 0, "Total")
    ws.write_formula(last, 4, f"=SUM(E4:E{last})", None, sum(r[4] for r in XW_ROWS))
    ws.write_formula(last, 5, f"=SUM(F4:F{last})", money, round(sum(r[5] for r in XW_ROWS), 2))
    wb.close()
    normalize_zip(path)
    rows = []
    for d, s, sku, prod, q, p, paid, note, lead in XW_ROWS:
        rows.append([d.isoformat(), s.strftime("%Y-%m-%d %H:%M:%S"), sku, prod, q, p, "true" if paid else "false", note or None, lead])
    expect(name, producer=f"XlsxWriter {xlsxwriter.__version__}", format="xlsx", sheet="Report",
           headerRow=3,
           skippedRows=[{"row": 1, "reason": "title", "merged": "A1:I1"}, {"row": 2, "reason": "empty"}],
           footerRows=[{"row": last + 1, "reason": "total", "firstCell": "Total"}],
           columns=cols(("Date", "date"), ("Shipped at", "datetime"), ("SKU", "string"), ("Product", "string"),
                        ("Qty", "int"), ("Price", "double"), ("Paid", "string"), ("Note", "string"),
                        ("Lead time", "double")),
           rows=rows,
           notes="Paid is a boolean column (t=\"b\"): served like JSON booleans, as the strings \"true\"/\"false\" in a string "
                 "column (the connector has no bool type). Product keeps its spaces "
                 "(xml:space=preserve). Lead time's format 0.0\" days\" and Price's [$€-407]...[Red] contain "
                 "d/y/s only inside quotes/brackets: numbers, not dates.",
           exercises=["sharedStrings", "merged title row + empty row above header", "built-in numFmt 14",
                      "custom datetime numFmt", "custom number numFmts with d/m/y/s in quotes/brackets",
                      "boolean t=b", "absent cell and formatted blank cell", "XML entities & < in strings",
                      "formula cells with cached values in a totals row", "datetime to the second (float rounding)"])


def xlsxwriter_1900_dates():
    """The 1900 system's leap-year bug: serial 60 is the fictitious 1900-02-29,
    so dates before 1900-03-01 are one less than a naive day count."""
    name = "xlsxwriter-1900-dates.xlsx"
    path = os.path.join(OUT, name)
    wb = xlsxwriter.Workbook(path)
    wb.set_properties({"created": FIXED})
    ws = wb.add_worksheet()
    fmt = wb.add_format({"num_format": "dd.mm.yyyy"})
    ws.write_row(0, 0, ["Label", "Date", "Serial"])
    cases = [("first day", dt.date(1900, 1, 1), 1), ("before the bug", dt.date(1900, 2, 28), 59),
             ("after the bug", dt.date(1900, 3, 1), 61), ("epoch 1970", dt.date(1970, 1, 1), 25569),
             ("leap 2024", dt.date(2024, 2, 29), 45351), ("last day", dt.date(9999, 12, 31), 2958465)]
    for i, (label, d, serial) in enumerate(cases):
        ws.write_string(i + 1, 0, label)
        if d == dt.date(1900, 1, 1):
            # XlsxWriter takes datetime(1900, 1, 1) for "a time without a date"
            # and writes serial 0 (Excel shows 00.01.1900); the real serial is 1.
            ws.write_number(i + 1, 1, serial, fmt)
        else:
            ws.write_datetime(i + 1, 1, dt.datetime.combine(d, dt.time()), fmt)
        ws.write_number(i + 1, 2, serial)
    wb.close()
    normalize_zip(path)
    expect(name, producer=f"XlsxWriter {xlsxwriter.__version__}", format="xlsx", date1904=False, headerRow=1,
           skippedRows=[], footerRows=[],
           columns=cols(("Label", "string"), ("Date", "date"), ("Serial", "int")),
           rows=[[l, d.isoformat(), s] for l, d, s in cases],
           exercises=["custom date numFmt dd.mm.yyyy", "1900 leap-year bug (serial 60 skipped)", "year 9999"])


OP_ROWS = [
    ("Invoice 1", dt.date(2024, 1, 31), dt.datetime(2024, 1, 31, 18, 45, 0), 1234.5, 3),
    ("Счёт 2", dt.date(1904, 1, 1), dt.datetime(1904, 1, 2, 12, 0, 0), -0.5, 0),
    ("Invoice 3", dt.date(2000, 2, 29), dt.datetime(2000, 3, 1, 0, 0, 0), 1e-3, 42),
]


def openpyxl_workbooks():
    """openpyxl writes every string inline (<c t="inlineStr"><is><t>), no
    sharedStrings.xml at all. One workbook in the 1904 date system (Mac Excel
    2008 and older), one with iso_dates (t="d" cells holding ISO text)."""
    for name, epoch1904, iso in (("openpyxl-1904.xlsx", True, False), ("openpyxl-iso-dates.xlsx", False, True)):
        path = os.path.join(OUT, name)
        wb = openpyxl.Workbook()
        if epoch1904:
            wb.epoch = openpyxl.utils.datetime.CALENDAR_MAC_1904
        wb.iso_dates = iso
        wb.properties.created = FIXED
        wb.properties.modified = FIXED
        ws = wb.active
        ws.title = "Invoices"
        ws.append(["Name", "Date", "Posted at", "Amount", "Items"])
        for n, d, t, a, k in OP_ROWS:
            ws.append([n, d, t, a, k])
        for row in ws.iter_rows(min_row=2):
            row[1].number_format = "yyyy-mm-dd"
            row[2].number_format = "yyyy-mm-dd h:mm:ss"
        wb.save(path)
        normalize_zip(path)
        expect(name, producer=f"openpyxl {openpyxl.__version__}", format="xlsx", date1904=epoch1904,
               isoDateCells=iso, headerRow=1, skippedRows=[], footerRows=[],
               columns=cols(("Name", "string"), ("Date", "date"), ("Posted at", "datetime"), ("Amount", "double"),
                            ("Items", "int")),
               rows=[[n, d.isoformat(), t.strftime("%Y-%m-%d %H:%M:%S"), a, k] for n, d, t, a, k in OP_ROWS],
               exercises=["inline strings, no sharedStrings.xml"] +
                         (["1904 date system (workbookPr date1904=1)", "1904-01-01 is serial 0"] if epoch1904 else
                          ['t="d" ISO 8601 date cells'] if iso else []))


def two_sheets():
    name = "two-sheets.xlsx"
    path = os.path.join(OUT, name)
    wb = xlsxwriter.Workbook(path)
    wb.set_properties({"created": FIXED})
    s1 = wb.add_worksheet("Summary")
    s2 = wb.add_worksheet("Data")
    s1.write_row(0, 0, ["Region", "Total"])
    s1.write_row(1, 0, ["North", 300])
    s1.write_row(2, 0, ["South", 45.5])
    fmt = wb.add_format({"num_format": "d mmm yyyy"})
    s2.write_row(0, 0, ["Region", "Date", "Amount"])
    data = [("North", dt.date(2024, 1, 5), 100), ("North", dt.date(2024, 1, 6), 200), ("South", dt.date(2024, 1, 7), 45.5)]
    for i, (r, d, a) in enumerate(data):
        s2.write_string(i + 1, 0, r)
        s2.write_datetime(i + 1, 1, dt.datetime.combine(d, dt.time()), fmt)
        s2.write_number(i + 1, 2, a)
    wb.close()
    normalize_zip(path)
    expect(name, producer=f"XlsxWriter {xlsxwriter.__version__}", format="xlsx", sheet="Summary",
           headerRow=1, skippedRows=[], footerRows=[],
           columns=cols(("Region", "string"), ("Total", "double")),
           rows=[["North", 300], ["South", 45.5]],
           otherSheets={"Data": {"sidecar": {"sheet": "Data"}, "headerRow": 1,
                                 "columns": cols(("Region", "string"), ("Date", "date"), ("Amount", "double")),
                                 "rows": [[r, d.isoformat(), a] for r, d, a in data]}},
           exercises=["first sheet by default", "sidecar 'sheet' picks another", "custom date format 'd mmm yyyy'"])


def xlsm():
    """A real macro-enabled workbook: XlsxWriter with the vbaProject.bin from
    XlsxWriter's own examples (src/vbaProject.bin, BSD-2-Clause)."""
    name = "xlsxwriter-macro.xlsm"
    path = os.path.join(OUT, name)
    wb = xlsxwriter.Workbook(path)
    wb.set_properties({"created": FIXED})
    ws = wb.add_worksheet()
    wb.add_vba_project(os.path.join(SRC, "vbaProject.bin"))
    ws.write_row(0, 0, ["Code", "Qty"])
    ws.write_row(1, 0, ["A-1", 3])
    ws.write_row(2, 0, ["B-2", 4])
    wb.close()
    normalize_zip(path)
    expect(name, producer=f"XlsxWriter {xlsxwriter.__version__} with xl/vbaProject.bin", format="xlsm",
           headerRow=1, skippedRows=[], footerRows=[],
           columns=cols(("Code", "string"), ("Qty", "int")), rows=[["A-1", 3], ["B-2", 4]],
           exercises=["macroEnabled content type", "vbaProject.bin ignored, never executed"])


LO_CSV = (
    "Region,Day,Amount,Units\n"
    "North,2024-01-05,100.25,3\n"
    "South,2024-01-06,-7.5,12\n"
    "East,2024-02-29,0,0\n"
)


def libreoffice():
    """LibreOffice Calc headless: a plain CSV imported (ISO dates detected as
    dates) and saved as xlsx, xlsm, ods and xls."""
    soffice = shutil.which("soffice")
    if not soffice:
        sys.exit("soffice not found: apt-get install -y libreoffice-calc-nogui")
    tmp = tempfile.mkdtemp(prefix="lo-fixtures-")
    src = os.path.join(tmp, "libreoffice-sales.csv")
    with open(src, "w", encoding="utf-8", newline="") as f:
        f.write(LO_CSV)
    profile = "file://" + os.path.join(tmp, "profile")
    # CSV filter options: separator 44 ',', quote 34, charset 76 UTF-8, start row 1,
    # no column formats, language 1033 (en-US), quoted-as-text false, detect special numbers true.
    infilter = "CSV:44,34,76,1,,1033,false,true"
    targets = [("xlsx", "xlsx:Calc MS Excel 2007 XML"), ("xlsm", "xlsm:Calc MS Excel 2007 VBA XML"),
               ("ods", "ods"), ("xls", "xls:MS Excel 97")]
    for ext, conv in targets:
        subprocess.run([soffice, f"-env:UserInstallation={profile}", "--headless", f"--infilter={infilter}",
                        "--convert-to", conv, "--outdir", tmp, src], check=True, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL, timeout=180)
        out = os.path.join(tmp, "libreoffice-sales." + ext)
        dest = os.path.join(OUT, "libreoffice-sales." + ext)
        shutil.copyfile(out, dest)
        if ext != "xls":
            normalize_zip(dest)
    shutil.rmtree(tmp, ignore_errors=True)
    ver = subprocess.run([soffice, "--version"], capture_output=True, text=True).stdout.strip()
    table = dict(headerRow=1, skippedRows=[], footerRows=[],
                 columns=cols(("Region", "string"), ("Day", "date"), ("Amount", "double"), ("Units", "int")),
                 rows=[["North", "2024-01-05", 100.25, 3], ["South", "2024-01-06", -7.5, 12], ["East", "2024-02-29", 0, 0]])
    expect("libreoffice-sales.xlsx", producer=ver, format="xlsx", **table,
           exercises=["LibreOffice's xlsx dialect (shared strings, its own numFmt ids, docProps/app.xml)"])
    expect("libreoffice-sales.xlsm", producer=ver, format="xlsm", **table,
           exercises=["macroEnabled content type without a VBA project"])
    for ext, what in (("ods", "OpenDocument spreadsheet"), ("xls", "Excel 97-2003 binary workbook (OLE2/BIFF8)")):
        expect("libreoffice-sales." + ext, producer=ver, format=ext, refuse=True,
               detectedAs=what, errorMessageMustSay=f"this is an {what}; save it as .xlsx (Excel Workbook) or .csv and upload that",
               exercises=["clear error naming the format and how to convert"])


def workbook_named_csv():
    """An .xlsx saved under a .csv name (what happens when someone renames a
    file to get past an upload form)."""
    name = "workbook-named.csv"
    shutil.copyfile(os.path.join(OUT, "xlsxwriter-report.xlsx"), os.path.join(OUT, name))
    expect(name, producer="copy of xlsxwriter-report.xlsx", format="csv", refuse=True,
           detectedAs="Excel workbook (zip with [Content_Types].xml and xl/workbook.xml)",
           errorMessageMustSay="this is an Excel workbook; upload it as .xlsx",
           exercises=["zip magic PK\\x03\\x04 under a .csv key: refused, not a one-column table of zip bytes"])


# ---------------------------------------------------------------- determinism

ZIP_TIME = (1980, 1, 1, 0, 0, 0)
DOC_DATE = re.compile(rb"(<(dcterms:created|dcterms:modified|meta:creation-date|dc:date)[^>]*>)[^<]*(</)")


def normalize_zip(path):
    """Rewrite a zip with fixed entry timestamps and pinned document dates,
    keeping entry order and each entry's compression (an .ods must keep its
    stored 'mimetype' first)."""
    with zipfile.ZipFile(path) as z:
        entries = [(info, z.read(info.filename)) for info in z.infolist()]
    tmp = path + ".tmp"
    with zipfile.ZipFile(tmp, "w") as z:
        for info, data in entries:
            if info.filename in ("docProps/core.xml", "meta.xml"):
                data = DOC_DATE.sub(rb"\g<1>2024-02-01T09:00:00Z\g<3>", data)
            if info.filename == "meta.xml":
                data = re.sub(rb"<meta:editing-duration>[^<]*</meta:editing-duration>", b"", data)
                data = re.sub(rb"<meta:generator>[^<]*</meta:generator>", b"", data)
            zi = zipfile.ZipInfo(info.filename, date_time=ZIP_TIME)
            zi.compress_type = info.compress_type
            zi.external_attr = 0o644 << 16
            z.writestr(zi, data, compresslevel=6 if info.compress_type == zipfile.ZIP_DEFLATED else None)
    os.replace(tmp, path)


def big_sheet(rows):
    """The throughput/memory workbook (not committed): XlsxWriter, one sheet of
    `rows` rows x 7 columns, shared strings with ~5,800 repeating values and a
    unique comment per row. 200,000 rows = 10.9 MB, sheet1.xml 55 MB inflated."""
    import random
    path = os.path.join(OUT, f"big-{rows}.xlsx")
    wb = xlsxwriter.Workbook(path)
    wb.set_properties({"created": FIXED})
    ws = wb.add_worksheet("Data")
    df = wb.add_format({"num_format": 14})
    mf = wb.add_format({"num_format": "#,##0.00"})
    ws.write_row(0, 0, ["id", "date", "customer", "product", "qty", "amount", "comment"])
    rnd = random.Random(1)
    custs = [f"Customer {i}" for i in range(5000)]
    prods = [f"Товар {i}" for i in range(800)]
    base = dt.datetime(2020, 1, 1)
    for r in range(1, rows + 1):
        ws.write_number(r, 0, r)
        ws.write_datetime(r, 1, base + dt.timedelta(days=r % 1500), df)
        ws.write_string(r, 2, custs[rnd.randrange(5000)])
        ws.write_string(r, 3, prods[rnd.randrange(800)])
        ws.write_number(r, 4, rnd.randrange(1, 100))
        ws.write_number(r, 5, round(rnd.random() * 10000, 2), mf)
        ws.write_string(r, 6, f"note {r} {rnd.randrange(10**9)}")
    wb.close()
    normalize_zip(path)
    print(path)


def main():
    if "--big" in sys.argv:
        big_sheet(int(sys.argv[sys.argv.index("--big") + 1]))
        return
    os.makedirs(EXPECTED, exist_ok=True)
    late = "--late" in sys.argv
    one_c_report()
    excel_en_utf8()
    excel_de_cp1252()
    excel_ru()
    google_sheets()
    late_cp1251(late)
    xlsxwriter_report()
    xlsxwriter_1900_dates()
    openpyxl_workbooks()
    two_sheets()
    xlsm()
    libreoffice()
    workbook_named_csv()


if __name__ == "__main__":
    main()
