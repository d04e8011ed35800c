#!/usr/bin/env python3
"""A core-bank adapter written from docs/connector-openapi.yaml alone, with Python's standard
library only. It proves that a bank's integration team can serve ofpdp in any language: the
sandbox tests point the DP at it (--bank-url) and run connector-test and conformance against it.

Usage: adapter.py DATA.json [--test-inserts]   (prints "listening on http://127.0.0.1:PORT" once ready)

--test-inserts offers the contract's test-only insert operation (and says test_inserts in the
health answer), so that connector-test checks a walk under concurrent inserts. Never in production.

DATA.json holds customers (with a PBKDF2 password hash) and accounts; transactions are generated
at start, one or two a day over the last 400 Malaysian days, so the history always looks recent.
"""
import datetime as dt
import hashlib
import hmac
import json
import re
import sys
import threading
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, unquote, urlparse

MYT = dt.timezone(dt.timedelta(hours=8))
REF = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
TXID = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")
TRACE = re.compile(r"^00-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$")
FRACTION = re.compile(r"\.(\d{6})\d+")


def parse_time(s):
    """RFC 3339 date-time; Python keeps microseconds, so longer fractions are cut (bounds of whole seconds stay exact)."""
    return dt.datetime.fromisoformat(FRACTION.sub(r".\1", s.replace("Z", "+00:00")))


def money(minor, currency="MYR"):
    return {"amount": "%d.%02d" % (minor // 100, minor % 100), "currency": currency}


def password_hash(password, salt):
    return hashlib.pbkdf2_hmac("sha256", password.encode(), salt.encode(), 100_000).hex()


class Bank:
    def __init__(self, data):
        self.customers = {c["customer_ref"]: c for c in data["customers"]}
        self.accounts = {a["account_ref"]: a for a in data["accounts"]}
        self.transactions = {}
        today = dt.datetime.now(MYT).replace(hour=0, minute=0, second=0, microsecond=0)
        for ref, a in self.accounts.items():
            txs = []
            if a["status"] == "active":
                for day in range(1, 401):
                    d = today - dt.timedelta(days=day)
                    for n in range(1 + day % 2):
                        at = d + dt.timedelta(hours=9 + 4 * n, minutes=day % 60)
                        credit = (day + n) % 5 == 0
                        txs.append({
                            "id": "%s-%s-%03d" % (ref, d.strftime("%Y%m%d"), n + 1),
                            "date": at.isoformat(),
                            "credit_debit": "credit" if credit else "debit",
                            "amount": money(250000 if credit else 1000 + (day * 37 + n * 11) % 9000),
                            "transfer_method": "funds_transfer",
                            "transfer_submethod": "duitnow_transfer",
                            "description": "Salary" if credit else "DuitNow transfer",
                            "settled": True,
                        })
            txs.sort(key=lambda t: (parse_time(t["date"]), t["id"]), reverse=True)
            self.transactions[ref] = txs


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    bank = None

    def log_message(self, *args):  # no request lines: they would carry references
        pass

    def send(self, status, body, ctype="application/json"):
        raw = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(raw)))
        self.end_headers()
        self.wfile.write(raw)

    def problem(self, status, code, detail=""):
        body = {"code": code}
        if detail:
            body["detail"] = detail
        self.send(status, body, "application/problem+json")

    def headers_ok(self):
        try:
            uuid.UUID(self.headers.get("x-fapi-interaction-id", ""))
            deadline = int(self.headers.get("x-ofpdp-deadline-ms", ""))
        except ValueError:
            self.problem(400, "invalid_request", "x-fapi-interaction-id and x-ofpdp-deadline-ms are required")
            return False
        if not TRACE.match(self.headers.get("traceparent", "")) or not 0 <= deadline <= 60000:
            self.problem(400, "invalid_request", "traceparent and x-ofpdp-deadline-ms must be valid")
            return False
        return True

    test_inserts = False  # the test-only insert operation; on only with --test-inserts
    insert_lock = threading.Lock()

    def do_POST(self):
        length = int(self.headers.get("Content-Length", "0"))
        raw = self.rfile.read(min(length, 4096))
        if not self.headers_ok():
            return
        parts = [unquote(p) for p in urlparse(self.path).path.split("/")[1:]]
        if self.test_inserts and len(parts) == 5 and parts[:3] == ["v1", "test", "accounts"] and parts[4] == "transactions":
            return self.insert(parts[3], raw)
        if urlparse(self.path).path != "/v1/customers/authenticate":
            return self.problem(404, "invalid_request", "no such operation")
        try:
            creds = json.loads(raw)
            username, password = creds["username"], creds["password"]
            assert set(creds) == {"username", "password"} and username and password
        except Exception:
            return self.problem(400, "invalid_request", "body must be {username, password}")
        found = None
        for c in self.bank.customers.values():
            if hmac.compare_digest(c["username"], username.lower()):
                found = c
        # The same work for an unknown username as for a wrong password.
        salt = found["salt"] if found else "unknown-user-salt"
        want = found["password_pbkdf2"] if found else "0" * 64
        if not hmac.compare_digest(password_hash(password, salt), want) or not found:
            return self.problem(401, "invalid_credentials")
        self.send(200, self.customer(found))

    def insert(self, ref, raw):
        if ref not in self.bank.transactions:
            return self.problem(404, "not_found")
        try:
            t = json.loads(raw)
            at = parse_time(t["date"])
            assert TXID.match(t["id"]) and t["credit_debit"] in ("credit", "debit")
        except Exception:
            return self.problem(400, "invalid_request", "a Transaction of the contract")
        with self.insert_lock:  # copy on write: a page in progress keeps the list it started with
            txs = [x for x in self.bank.transactions[ref] if x["id"] != t["id"]] + [t]
            txs.sort(key=lambda x: (parse_time(x["date"]), x["id"]), reverse=True)
            self.bank.transactions[ref] = txs
        self.send_response(204)
        self.end_headers()

    @staticmethod
    def customer(c):
        out = {k: c[k] for k in ("customer_ref", "name", "id_type", "id_number")}
        if c.get("mobile_number"):
            out["mobile_number"] = c["mobile_number"]
        return out

    @staticmethod
    def account(a):
        return {k: v for k, v in a.items()}

    def do_GET(self):
        if not self.headers_ok():
            return
        url = urlparse(self.path)
        parts = [unquote(p) for p in url.path.split("/")[1:]]
        bank = self.bank
        if parts == ["v1", "health"]:
            return self.send(200, {"status": "ok", "test_inserts": True} if self.test_inserts else {"status": "ok"})
        if len(parts) < 3 or parts[0] != "v1" or not REF.match(parts[2]):
            return self.problem(404, "not_found")
        kind, ref, rest = parts[1], parts[2], parts[3:]
        if kind == "customers":
            c = bank.customers.get(ref)
            if c is None:
                return self.problem(404, "not_found")
            if rest == []:
                return self.send(200, self.customer(c))
            if rest == ["accounts"]:
                return self.send(200, {"accounts": [self.account(a) for a in bank.accounts.values() if a["customer_ref"] == ref]})
            return self.problem(404, "invalid_request", "no such operation")
        if kind != "accounts":
            return self.problem(404, "invalid_request", "no such operation")
        a = bank.accounts.get(ref)
        if a is None:
            return self.problem(404, "not_found")
        if rest == []:
            return self.send(200, self.account(a))
        if a["status"] in ("dormant", "blocked"):
            return self.problem(403, "account_" + a["status"])
        if a["status"] == "closed":
            return self.problem(403, "account_closed")
        if rest == ["balance"]:
            return self.send(200, self.balance(ref))
        if rest == ["transactions"]:
            return self.page(ref, parse_qs(url.query))
        return self.problem(404, "invalid_request", "no such operation")

    def balance(self, ref):
        total = 500000
        for t in self.bank.transactions[ref]:
            minor = int(t["amount"]["amount"].replace(".", ""))
            total += minor if t["credit_debit"] == "credit" else -minor
        return {"current": dict(money(abs(total)), indicator="credit" if total >= 0 else "debit"),
                "available": dict(money(abs(total)), indicator="credit" if total >= 0 else "debit"),
                "credit_lines_included": False}

    def page(self, ref, q):
        try:
            start, end = parse_time(q["from"][0]), parse_time(q["to"][0])
            limit = int(q["limit"][0])
            assert 1 <= limit <= 1000
            after = None
            if "cursor" in q:  # this adapter's own cursor: the last item's date and id
                date, tid = q["cursor"][0].split("~", 1)
                assert tid
                after = (parse_time(date), tid)
        except Exception:
            return self.problem(400, "invalid_request", "from, to, limit (1..1000), a cursor of this adapter")
        items = []
        more = False
        for t in self.bank.transactions[ref]:  # newest first: (date, id) descending
            at = parse_time(t["date"])
            if at > end or at < start:
                continue
            if after is not None and (at, t["id"]) >= after:
                continue
            if len(items) == limit:
                more = True
                break
            items.append(t)
        page = {"transactions": items, "more": more}
        if more:
            page["next_cursor"] = items[-1]["date"] + "~" + items[-1]["id"]
        self.send(200, page)


def main():
    with open(sys.argv[1]) as f:
        data = json.load(f)
    Handler.bank = Bank(data)
    Handler.test_inserts = "--test-inserts" in sys.argv[2:]
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    print("listening on http://127.0.0.1:%d" % server.server_address[1], flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
