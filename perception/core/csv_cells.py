"""Formula-injection protection for CSV files that people open in spreadsheets.

A spreadsheet runs a cell that starts with = + - @ (or a tab or carriage return before one) as a
formula. `neutralise` prefixes such text with a single quote, which spreadsheets show as text;
a text that already starts with a quote gets one more, so the escape can always be undone.
`restore` (used by the importer) removes exactly one leading quote when it is followed by one of
those characters or by another quote, so export -> import gives back the same value.
Only text from people (names, comments, respondent ids, team names) goes through here:
numbers and dates written by the app never start with a formula character, except negative
numbers, which spreadsheets read as numbers.
"""

import csv
import io

FORMULA_START = frozenset("=+-@\t\r")
QUOTE = "'"


def neutralise(text):
    """`text` made safe to open in a spreadsheet (None -> "")."""
    if not text:
        return ""
    if text[0] in FORMULA_START or text[0] == QUOTE:
        return QUOTE + text
    return text


def restore(text):
    """Undo `neutralise`: drop one leading quote before a formula character or a quote."""
    if len(text) >= 2 and text[0] == QUOTE and (text[1] in FORMULA_START or text[1] == QUOTE):
        return text[1:]
    return text


def csv_chunks(rows, lines_per_chunk=200):
    """CSV text in chunks of about `lines_per_chunk` lines (CRLF line ends, as RFC 4180), for a
    streamed download or file: nothing holds more than one chunk."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    for count, row in enumerate(rows, start=1):
        writer.writerow(row)
        if count % lines_per_chunk == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    if buffer.getvalue():
        yield buffer.getvalue()
